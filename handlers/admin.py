"""Admin commands: /status of the news sources, /stats, /broadcast; sources' trouble told."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import Context
from handlers.jobs import job_deliver
from handlers.keyboards import parse_callback
from handlers.render import check_callback_data, esc, format_date
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text
from handlers.texts import TEXTS, text
from news.models import BackfillCursor

logger = logging.getLogger(__name__)


def is_admin(update: Update, context: Context) -> bool:
    """Return whether the user is listed in NEWSBOT_ADMINS."""
    user = update.effective_user
    return user is not None and user.id in context.bot_data.admins


async def cmd_status(update: Update, context: Context) -> None:
    """Show each source's last success, last error, failures in a row and article count."""
    lang = lang_of_update(update)
    if not is_admin(update, context):
        await reply_text(update, esc(text(lang, "admin_only")))
        return
    statuses = await context.bot_data.store.source_statuses()
    troubles = context.bot_data.store_troubles
    if not statuses and not troubles:
        await reply_text(update, esc(text(lang, "status_empty")))
        return
    tz = context.bot_data.tz
    never = text(lang, "never")
    backfills = {c.source: c for c in await context.bot_data.store.backfill_progress()}
    blocks = [text(lang, "status_title")]
    if troubles:
        # The cause is the same for every part that failed; say it once, naming the parts.
        cause = next(iter(troubles.values()))
        parts = "、".join(troubles)
        blocks.append(
            f"{esc(text(lang, 'status_store_trouble'))} {esc(cause[:300])} ({esc(parts)})"
        )
    for s in statuses:
        ok = format_date(s.last_success_at, tz) if s.last_success_at else never
        lines = [
            f"<b>{esc(s.title or s.name)}</b> (<code>{esc(s.name)}</code>, {esc(s.profile)})",
            f"✅ {esc(ok)} · 📰 {s.article_count}",
        ]
        if s.last_error_at:
            lines.append(
                f"⚠️ {esc(format_date(s.last_error_at, tz))} ×{s.consecutive_failures}"
                f" (Σ{s.error_count}): {esc(s.last_error[:300])}"
            )
        if s.name in backfills:
            lines.append(esc(backfill_line(backfills[s.name], lang)))
        blocks.append("\n".join(lines))
    await reply_blocks(update, blocks)


def backfill_line(cursor: BackfillCursor, lang: str) -> str:
    """Return one line on a source's backfill: its range, the day reached, share, articles."""
    fields = {"since": cursor.since, "until": cursor.until, "articles": cursor.articles}
    if cursor.done:
        return text(lang, "status_backfill_done", **fields)
    line = text(
        lang,
        "status_backfill",
        reached=cursor.reached or cursor.until,
        share=f"{cursor.share():.0%}",
        **fields,
    )
    if cursor.error:
        line += text(lang, "status_backfill_stopped", error=cursor.error[:200])
    return line


# A broadcast is sent as the admin wrote it (escaped): room left for Telegram's 4096 after
# escaping makes it longer.
MAX_BROADCAST_CHARS = 3000


async def cmd_stats(update: Update, context: Context) -> None:
    """Count chats, subscriptions, follows, today's deliveries, sources and the archive."""
    lang = lang_of_update(update)
    if not is_admin(update, context):
        await reply_text(update, esc(text(lang, "admin_only")))
        return
    store = context.bot_data.store
    tz = context.bot_data.tz
    day_start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    stats = await store.stats.bot_stats(day_start, await store.count_articles())
    states = " · ".join(
        f"{text(lang, 'state_' + state) if 'state_' + state in TEXTS['zh'] else state} {n}"
        for state, n in sorted(stats.deliveries_today.items())
    )
    lines = [
        text(lang, "stats_title"),
        esc(text(lang, "stats_chats", chats=stats.chats, blocked=stats.blocked_chats)),
        esc(text(lang, "stats_subs", subs=stats.subscriptions)),
        esc(text(lang, "stats_follows", people=stats.followed_people, words=stats.followed_words)),
        esc(
            text(lang, "stats_deliveries", states=states)
            if states
            else text(lang, "stats_no_deliveries")
        ),
        esc(text(lang, "stats_sources", ok=stats.sources_ok, failing=stats.sources_failing)),
        esc(
            text(
                lang,
                "stats_archive",
                articles=f"{stats.articles:,}",
                size=_size(stats.database_bytes),
            )
        ),
    ]
    await reply_text(update, "\n".join(lines))


def _size(count: int) -> str:
    """Return a byte count as people read it (kB, MB, GB)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


async def cmd_broadcast(update: Update, context: Context) -> None:
    """Show an admin's broadcast with the number it reaches, and a button to confirm it."""
    lang = lang_of_update(update)
    if not is_admin(update, context):
        await reply_text(update, esc(text(lang, "admin_only")))
        return
    message = update.effective_message
    user = update.effective_user
    body = ""
    if message is not None and message.text:
        # The text as typed, line breaks kept (context.args would join the words with spaces).
        body = message.text.partition(" ")[2].strip() if " " in message.text else ""
        if "\n" in message.text and not body:
            body = message.text.partition("\n")[2].strip()
    if not body or len(body) > MAX_BROADCAST_CHARS or user is None:
        await reply_text(update, esc(text(lang, "broadcast_usage", max=MAX_BROADCAST_CHARS)))
        return
    html = esc(body)
    broadcast_id, reach = await context.bot_data.store.ledger.add_broadcast(user.id, html)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text(lang, "broadcast_confirm"),
                    callback_data=check_callback_data(f"bc:go:{broadcast_id}"),
                ),
                InlineKeyboardButton(
                    text(lang, "broadcast_cancel"),
                    callback_data=check_callback_data(f"bc:no:{broadcast_id}"),
                ),
            ]
        ]
    )
    await reply_blocks(
        update, [text(lang, "broadcast_preview", n=reach), html], reply_markup=keyboard, sep="\n\n"
    )


async def cb_broadcast(update: Update, context: Context) -> None:
    """Queue a confirmed broadcast in the ledger (paced, resumed after a restart), or drop it."""
    lang = lang_of_update(update)
    query = update.callback_query
    args = parse_callback(query.data if query else None, "bc", 2)
    if query is None or args is None or args[0] not in ("go", "no") or not args[1].isdigit():
        await answer_stale(update, text(lang, "stale"))
        return
    if not is_admin(update, context):
        await answer_stale(update, text(lang, "admin_only"))
        return
    ledger = context.bot_data.store.ledger
    broadcast_id = int(args[1])
    if args[0] == "no":
        done = await ledger.cancel_broadcast(broadcast_id)
        key, count = ("broadcast_cancelled" if done else "broadcast_gone"), 0
    else:
        queued = await ledger.confirm_broadcast(broadcast_id)
        key, count = ("broadcast_queued", queued) if queued is not None else ("broadcast_gone", 0)
        if queued is not None:
            logger.info("broadcast %d queued for %d chats", broadcast_id, queued)
            if context.job_queue is not None:
                # Sent by the delivery tick (the sender's lease, the ledger); start one now.
                context.job_queue.run_once(job_deliver, 0.1, name=f"broadcast:{broadcast_id}")
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=None)
    await reply_text(update, esc(text(lang, key, n=count)))
