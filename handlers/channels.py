"""Channels: /channels, commands posted in a channel, and the bot's own membership changing."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from handlers.context import Context
from handlers.render import esc
from handlers.replies import lang_of_update, reply_blocks, reply_text
from handlers.targets import bot_may_post
from handlers.texts import text

logger = logging.getLogger(__name__)


async def cmd_channels(update: Update, context: Context) -> None:
    """List the channels this user manages through the bot, with what each gets."""
    lang = lang_of_update(update)
    user = update.effective_user
    if user is None:
        return
    store = context.bot_data.store
    channels = await store.channels_of_user(user.id)
    if not channels:
        await reply_text(update, esc(text(lang, "channels_none")))
        return
    lines = [text(lang, "channels_title")]
    for channel in channels:
        subscriptions = store.subscriptions
        sub = await subscriptions.subscription(channel.id)
        digest = (
            text(lang, "channels_digest", time="、".join(sub.times), tz=sub.time_zone)
            if sub is not None and sub.active
            else text(lang, "channels_no_digest")
        )
        people = await subscriptions.followed_people(channel.id)
        words = await subscriptions.followed_keywords(channel.id)
        watches = await subscriptions.watches(channel.id)
        item = text(
            lang,
            "channels_item",
            channel=channel.title or channel.id,
            digest=digest,
            people=len(people),
            words=len(words),
            watches=len(watches),
        )
        if channel.blocked_at is not None:
            item += text(lang, "channels_stopped")
        lines.append("• " + esc(item))
    lines.append(esc(text(lang, "channels_hint")))
    await reply_blocks(update, lines)


async def on_channel_command(update: Update, context: Context) -> None:
    """Answer a command posted in a channel: channels are managed from a private chat."""
    post = update.channel_post
    if post is None:
        return
    chat = post.chat
    name = f"@{chat.username}" if chat.username else str(chat.id)
    known = await context.bot_data.store.get_chat(chat.id)
    lang = known.language if known else "zh"
    try:
        # Silent: the channel's readers get the hint without a ring.
        await post.reply_text(
            text(lang, "channel_command_here", channel=name, bot=context.bot.username),
            disable_notification=True,
            do_quote=False,
        )
    except TelegramError as exc:  # the bot may read the channel without the right to post
        logger.info("could not answer a command in channel %s: %s", chat.id, exc)


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Stop a chat's pushes when the bot is removed from it or may no longer post there."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    member = change.new_chat_member
    removed = member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    demoted = chat.type == ChatType.CHANNEL and not removed and not bot_may_post(member)
    if not removed and not demoted:
        return
    reason = "the bot was removed" if removed else "the bot may no longer post"
    queued = await context.bot_data.store.ledger.deactivate_chat(chat.id, reason)
    logger.info("chat %s: %s; its pushes stop (%d managers told)", chat.id, reason, queued)
