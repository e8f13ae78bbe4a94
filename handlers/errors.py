"""on_error: log what failed with its update, tell the user once, keep running."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from handlers.context import Context
from handlers.render import esc
from handlers.texts import language_of, text

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the exception with the update and apologise to the user once."""
    error = context.error
    if isinstance(error, (NetworkError, TimedOut, RetryAfter)) and not isinstance(update, Update):
        # Polling hiccups: PTB retries on its own; a warning is enough.
        logger.warning("network trouble while polling: %s", error)
        return
    update_repr = update.to_dict() if isinstance(update, Update) else repr(update)
    logger.error("error while handling update %s", update_repr, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # the chat blocked us; an apology would fail the same way
    user = update.effective_user
    lang = language_of(user.language_code if user else None)
    try:
        await context.bot.send_message(
            update.effective_chat.id, esc(text(lang, "error")), parse_mode="HTML"
        )
    except Exception:
        logger.warning("could not tell chat %s about the error", update.effective_chat.id)
