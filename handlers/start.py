"""/start and /help: welcome, register the chat, list the commands."""

from __future__ import annotations

from telegram import Update

from handlers.context import Context
from handlers.render import esc
from handlers.replies import lang_of_update, reply_blocks, reply_text
from handlers.texts import COMMANDS, text


async def register_chat(update: Update, context: Context) -> None:
    """Remember the chat, its type and language."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = lang_of_update(update)
    await context.bot_data.store.upsert_chat(chat.id, chat.type, lang, context.bot_data.tz.key)


async def cmd_start(update: Update, context: Context) -> None:
    """Welcome the user, say what the bot does, and register the chat."""
    await register_chat(update, context)
    await reply_text(update, text(lang_of_update(update), "welcome"))


async def cmd_help(update: Update, context: Context) -> None:
    """List every command with one line each."""
    lang = lang_of_update(update)
    user = update.effective_user
    is_admin = user is not None and user.id in context.bot_data.admins
    lines = [text(lang, "help_title")]
    for command in COMMANDS:
        if command.admin and not is_admin:
            continue
        usage = f"/{command.name}" + (f" {command.args}" if command.args else "")
        description = command.en if lang == "en" else command.zh
        lines.append(f"{esc(usage)} — {esc(description)}")
    await reply_blocks(update, lines)
