"""check_user_limit: the handler run before all others; it drops what a user asks past the limit."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import Context
from handlers.render import esc
from handlers.replies import lang_of_update
from handlers.texts import text

logger = logging.getLogger(__name__)


def counted(update: Update) -> bool:
    """Return whether an update is one the limit counts: a command, a button, an inline query."""
    if update.callback_query is not None or update.inline_query is not None:
        return True
    message = update.message or update.edited_message
    return bool(message and message.text and message.text.startswith("/"))


async def check_user_limit(update: Update, context: Context) -> None:
    """Stop an update from a user over their limit before any handler does any work.

    Past the limit the user is told once a minute in one line, and hears nothing else: no
    reply, no error. A button press is answered (so it stops spinning), without a text
    except the once-a-minute one; an inline query gets no answer.
    """
    limits = context.bot_data.user_limits
    user = update.effective_user
    # Admins are not limited: /status and /stats again and again is how trouble is followed.
    if user is None or user.id in context.bot_data.admins or not counted(update):
        return
    if limits.allow(user.id):
        return
    tell = limits.should_tell(user.id)
    lang = lang_of_update(update)
    notice = text(lang, "over_limit", per_minute=int(limits.per_minute))
    if tell:
        logger.info("user %s is over the limit of %g a minute", user.id, limits.per_minute)
    query = update.callback_query
    try:
        if query is not None:
            await query.answer(notice if tell else None)
        elif tell and update.effective_message is not None and update.inline_query is None:
            await update.effective_message.reply_html(esc(notice), do_quote=False)
    except TelegramError as exc:  # the notice is a courtesy: its failure is not an error
        logger.warning("could not tell user %s about the limit: %s", user.id, exc)
    raise ApplicationHandlerStop
