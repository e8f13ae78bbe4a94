"""Telegram adapters: `register(app)` adds every handler, in order."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand
from telegram.ext import Application, CommandHandler

from handlers.admin import cmd_status
from handlers.context import BotData
from handlers.errors import on_error
from handlers.latest import cmd_latest
from handlers.start import cmd_help, cmd_start
from handlers.texts import COMMANDS

AnyApplication = Application[Any, Any, Any, Any, BotData, Any]


def register(app: AnyApplication) -> None:
    """Add every handler to the application, in the order they must be tried."""
    # Group 0: user commands.
    app.add_handler(CommandHandler("start", cmd_start), group=0)
    app.add_handler(CommandHandler("help", cmd_help), group=0)
    app.add_handler(CommandHandler("latest", cmd_latest), group=0)
    # Group 0: admin commands (each checks NEWSBOT_ADMINS itself so others get a clear answer).
    app.add_handler(CommandHandler("status", cmd_status), group=0)
    # Errors: log with the update, apologise once, keep running.
    app.add_error_handler(on_error)


def menu_commands(lang: str = "zh") -> list[BotCommand]:
    """Return the command menu published with setMyCommands (admin commands left out)."""
    return [BotCommand(c.name, c.en if lang == "en" else c.zh) for c in COMMANDS if not c.admin]
