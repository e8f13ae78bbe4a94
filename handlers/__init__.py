"""Telegram adapters: `register(app)` adds every handler, in order."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    TypeHandler,
)

from handlers.admin import cb_broadcast, cmd_broadcast, cmd_stats, cmd_status
from handlers.charts import cb_chart, cmd_chart, cmd_trend
from handlers.context import BotData, Context
from handlers.error_handler import on_error
from handlers.inline import on_inline_query
from handlers.latest import cb_latest_page, cmd_latest
from handlers.search import cb_search_page, cmd_search
from handlers.speakers import cb_speaker_page, cmd_speaker, cmd_speakers
from handlers.start import cmd_help, cmd_start
from handlers.subscriptions import (
    cb_settings,
    cmd_digest_now,
    cmd_follow,
    cmd_following,
    cmd_keyword,
    cmd_settings,
    cmd_subscribe,
    cmd_unfollow,
    cmd_unkeyword,
    cmd_unsubscribe,
)
from handlers.summary import cb_summary, cmd_article, cmd_summary
from handlers.texts import COMMANDS
from handlers.user_limit import check_user_limit

AnyApplication = Application[Any, Any, Any, Any, BotData, Any]


def register(app: AnyApplication) -> None:
    """Add every handler to the application, in the order they must be tried."""
    # Group -1: the per-user limit, before any handler does any work; past it, nothing runs.
    app.add_handler(TypeHandler(Update, check_user_limit), group=-1)
    # Group 0: user commands.
    app.add_handler(CommandHandler("start", cmd_start), group=0)
    app.add_handler(CommandHandler("help", cmd_help), group=0)
    app.add_handler(CommandHandler("latest", cmd_latest), group=0)
    app.add_handler(CommandHandler("search", cmd_search), group=0)
    app.add_handler(CommandHandler("summary", cmd_summary), group=0)
    app.add_handler(CommandHandler("article", cmd_article), group=0)
    app.add_handler(CommandHandler("speaker", cmd_speaker), group=0)
    app.add_handler(CommandHandler("speakers", cmd_speakers), group=0)
    # Group 0: charts (PNG, drawn off the event loop, cached for a crawl interval).
    app.add_handler(CommandHandler("chart", cmd_chart), group=0)
    app.add_handler(CommandHandler("trend", cmd_trend), group=0)
    # Group 0: digests and follows (in groups, changes are for chat admins only).
    app.add_handler(CommandHandler("subscribe", cmd_subscribe), group=0)
    app.add_handler(CommandHandler("unsubscribe", cmd_unsubscribe), group=0)
    app.add_handler(CommandHandler("settings", cmd_settings), group=0)
    app.add_handler(CommandHandler("follow", cmd_follow), group=0)
    app.add_handler(CommandHandler("unfollow", cmd_unfollow), group=0)
    app.add_handler(CommandHandler("following", cmd_following), group=0)
    app.add_handler(CommandHandler("keyword", cmd_keyword), group=0)
    app.add_handler(CommandHandler("unkeyword", cmd_unkeyword), group=0)
    # Group 0: admin commands (each checks NEWSBOT_ADMINS itself so others get a clear answer).
    app.add_handler(CommandHandler("status", cmd_status), group=0)
    app.add_handler(CommandHandler("digest_now", cmd_digest_now), group=0)
    app.add_handler(CommandHandler("stats", cmd_stats), group=0)
    app.add_handler(CommandHandler("broadcast", cmd_broadcast), group=0)
    # Group 0: buttons. callback_data is "<action>:<args>"; each action has one handler, and
    # a stale or forged press is answered by it, never left spinning.
    app.add_handler(CallbackQueryHandler(cb_summary, pattern=r"^sum:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_latest_page, pattern=r"^lp:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_search_page, pattern=r"^sq:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_speaker_page, pattern=r"^spk:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_chart, pattern=r"^chart:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_settings, pattern=r"^set:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_broadcast, pattern=r"^bc:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_unknown), group=0)
    # Group 0: inline mode (`@bot 易炼红` in any chat; switched on with @BotFather's /setinline).
    app.add_handler(InlineQueryHandler(on_inline_query), group=0)
    # Errors: log with the update, apologise once, keep running.
    app.add_error_handler(on_error)


async def cb_unknown(update: Update, context: Context) -> None:
    """Answer a button press nobody recognises (an old keyboard, a forged payload)."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def menu_commands(lang: str = "zh") -> list[BotCommand]:
    """Return the command menu published with setMyCommands (admin commands left out)."""
    return [BotCommand(c.name, c.en if lang == "en" else c.zh) for c in COMMANDS if not c.admin]
