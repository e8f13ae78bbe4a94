"""Admin commands: /status of the news sources."""

from __future__ import annotations

from telegram import Update

from handlers.context import Context
from handlers.render import esc, format_date
from handlers.replies import lang_of_update, reply_blocks, reply_text
from handlers.texts import text


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
        blocks.append("\n".join(lines))
    await reply_blocks(update, blocks)
