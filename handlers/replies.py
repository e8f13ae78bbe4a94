"""Send and edit HTML replies that Telegram always accepts."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

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
    sep: str = "\n",
) -> list[Message]:
    """Send HTML blocks as as few messages as fit; buttons go under the last one."""
    message = update.effective_message
    if message is None:
        return []
    chunks = split_html(blocks, sep=sep)
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


async def show_page(
    update: Update,
    html_text: str,
    reply_markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit the pressed message in place (or reply, for a command) with one page of results."""
    query = update.callback_query
    if query is None:
        await reply_blocks(update, [html_text], reply_markup=reply_markup)
        return
    try:
        await query.edit_message_text(
            html_text,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=reply_markup,
        )
    except BadRequest as exc:
        # A repeated press of the same button asks for the page already shown.
        if "not modified" not in str(exc).lower():
            raise
    await query.answer()


async def answer_stale(update: Update, message: str) -> None:
    """Answer a stale, repeated or forged button press with a short notice."""
    query = update.callback_query
    if query is not None:
        await query.answer(message, show_alert=False)
