"""Telegram adapters: `register(app)` adds every handler, in order."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers.admin import cb_broadcast, cmd_broadcast, cmd_stats, cmd_status
from handlers.channels import cmd_channels, on_channel_command, on_my_chat_member
from handlers.charts import cb_chart, cmd_chart, cmd_trend
from handlers.context import BotData, Context
from handlers.error_handler import on_error
from handlers.export import cb_export
from handlers.inline import on_inline_query
from handlers.latest import cb_latest_page, cmd_latest
from handlers.metrics import timed
from handlers.said import cb_said_ask, cb_said_page, cmd_said, on_said_reply
from handlers.search import cb_search_page, cmd_search
from handlers.settings_file import cb_settings_export, cb_settings_import, on_settings_file
from handlers.speakers import cb_speaker_page, cmd_speaker, cmd_speakers
from handlers.start import cmd_help, cmd_start
from handlers.subscriptions import (
    cb_settings,
    cmd_digest_now,
    cmd_follow,
    cmd_following,
    cmd_keyword,
    cmd_quiet,
    cmd_settings,
    cmd_subscribe,
    cmd_unfollow,
    cmd_unkeyword,
    cmd_unsubscribe,
    cmd_unwatch,
    cmd_watch,
)
from handlers.summary import cb_summary, cmd_article, cmd_summary
from handlers.texts import COMMANDS
from handlers.user_limit import check_user_limit

AnyApplication = Application[Any, Any, Any, Any, BotData, Any]


def register(app: AnyApplication) -> None:
    """Add every handler to the application, in the order they must be tried."""
    # Group -2: every update counted by command or kind (newsbot_updates_total) before any
    # handler runs.
    app.add_handler(TypeHandler(object, count_update), group=-2)
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
    app.add_handler(CommandHandler("said", cmd_said), group=0)
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
    app.add_handler(CommandHandler("watch", cmd_watch), group=0)
    app.add_handler(CommandHandler("unwatch", cmd_unwatch), group=0)
    app.add_handler(CommandHandler("quiet", cmd_quiet), group=0)
    # Group 0: channels, managed from a private chat (`/subscribe @channel 08:00`); a command
    # posted in the channel itself is answered with how; the bot removed or demoted stops
    # that chat's pushes.
    app.add_handler(CommandHandler("channels", cmd_channels), group=0)
    app.add_handler(
        MessageHandler(filters.UpdateType.CHANNEL_POST & filters.COMMAND, on_channel_command),
        group=0,
    )
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=0)
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
    app.add_handler(CallbackQueryHandler(cb_said_page, pattern=r"^sd:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_said_ask, pattern=r"^sda:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_export, pattern=r"^exp:"), group=0)
    app.add_handler(CallbackQueryHandler(cb_settings_export, pattern=r"^sexp(:-?\d+)?$"), group=0)
    app.add_handler(CallbackQueryHandler(cb_settings_import, pattern=r"^simp(:-?\d+)?$"), group=0)
    app.add_handler(CallbackQueryHandler(cb_unknown), group=0)
    # Group 0: a reply to /speaker's 🔎 prompt (the words to find in that person's speeches).
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_said_reply), group=0
    )
    # Group 0: a file sent to the bot: a settings file exported by /settings, to import.
    app.add_handler(MessageHandler(filters.Document.ALL, on_settings_file), group=0)
    # Group 0: inline mode (`@bot 易炼红` in any chat; switched on with @BotFather's /setinline).
    app.add_handler(InlineQueryHandler(on_inline_query), group=0)
    # Errors: log with the update, apologise once, keep running.
    app.add_error_handler(on_error)
    # Every handler above timed under its callback's name (newsbot_handler_seconds).
    for group, group_handlers in app.handlers.items():
        if group >= 0:
            for handler in group_handlers:
                handler.callback = timed(handler.callback)


async def count_update(update: object, context: Context) -> None:
    """Count an update in this bot's metrics; the handlers of group 0 then answer it."""
    context.bot_data.metrics.count_update(update)


async def cb_unknown(update: Update, context: Context) -> None:
    """Answer a button press nobody recognises (an old keyboard, a forged payload)."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def menu_commands(lang: str = "zh") -> list[BotCommand]:
    """Return the command menu published with setMyCommands (admin commands left out)."""
    return [BotCommand(c.name, c.en if lang == "en" else c.zh) for c in COMMANDS if not c.admin]
