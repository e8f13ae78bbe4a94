"""on_error: log what failed with its update, tell the user once, keep running."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from handlers.context import Context
from handlers.render import esc
from handlers.texts import language_of, text
from storage import StoreUnavailable

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the exception with the update and apologise to the user once."""
    error = context.error
    if isinstance(error, (NetworkError, TimedOut, RetryAfter)) and not isinstance(update, Update):
        # Polling hiccups: PTB retries on its own; a warning is enough.
        logger.warning("network trouble while polling: %s", error)
        return
    if isinstance(error, RetryAfter):
        # The pacer waited and retried until it gave up: an apology would meet the same wait.
        logger.warning("could not answer an update, flood control: %s", error)
        return
    if isinstance(error, NetworkError | TimedOut) and not isinstance(error, BadRequest):
        # Telegram out of reach while answering: the link has logged the outage once, and an
        # apology could not get through either.
        logger.warning("could not answer an update, Telegram out of reach: %s", error)
        return
    key = "error"
    if isinstance(error, StoreUnavailable):
        logger.error("could not answer an update: %s", error)  # one line: the cause is known
        key = "error_store"
    else:
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
            update.effective_chat.id, esc(text(lang, key)), parse_mode="HTML"
        )
    except Exception:
        logger.warning("could not tell chat %s about the error", update.effective_chat.id)
