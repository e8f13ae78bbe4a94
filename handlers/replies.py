"""Send and edit HTML replies that Telegram always accepts."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode

from handlers.render import split_html
from handlers.texts import language_of

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def lang_of_update(update: Update) -> str:
    """Return the language to answer this update in."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def reply_blocks(
    update: Update,
    blocks: Sequence[str],
    *,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send HTML blocks as as few messages as fit; buttons go under the last one."""
    message = update.effective_message
    if message is None:
        return []
    chunks = split_html(blocks)
    sent: list[Message] = []
    for index, chunk in enumerate(chunks):
        is_last = index == len(chunks) - 1
        sent.append(
            await message.reply_html(
                chunk,
                link_preview_options=NO_PREVIEW,
                reply_markup=reply_markup if is_last else None,
                do_quote=False,
            )
        )
    return sent


async def reply_text(update: Update, html_text: str) -> None:
    """Send one short HTML reply."""
    await reply_blocks(update, [html_text])


def parse_mode() -> ParseMode:
    """Return the one parse mode every reply uses."""
    return ParseMode.HTML
