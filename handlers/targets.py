"""Which chat a command changes: the chat it was sent in, or a channel named from a private chat."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import ChatFullInfo, ChatMemberAdministrator, ChatMemberOwner, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers.context import Context
from handlers.render import esc
from handlers.replies import lang_of_update, reply_text
from handlers.texts import text
from news.models import Chat

logger = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
# Channels one user may manage through the bot (each check costs Telegram calls).
MAX_CHANNELS = 20
_USERNAME_RE = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_CHANNEL_ID_RE = re.compile(r"-\d{5,15}")
_USER_ID_RE = re.compile(r"\d{5,15}")


@dataclass(frozen=True, slots=True)
class Target:
    """The chat a command changes, and how to name it in replies ("" for the chat itself)."""

    chat_id: int
    label: str = ""
    thread_id: int | None = None

    @property
    def is_channel(self) -> bool:
        """Return whether the command was for a channel named in a private chat."""
        return bool(self.label)


async def may_change(update: Update, context: Context) -> bool:
    """Allow anyone in a private chat; in groups only the chat's admins (asked of Telegram)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        logger.warning("getChatMember failed in chat %s: %s", chat.id, exc)
        return False
    return member.status in ADMIN_STATUSES


async def ensure_chat(update: Update, context: Context) -> Chat | None:
    """Register the chat if new and return it."""
    chat = update.effective_chat
    if chat is None:
        return None
    store = context.bot_data.store
    known = await store.get_chat(chat.id)
    if known is not None:
        return known
    return await store.upsert_chat(
        chat.id, chat.type, lang_of_update(update), context.bot_data.tz.key
    )


def thread_of(update: Update) -> int | None:
    """Return the forum topic a command came from, so pushes go back to that topic."""
    message = update.effective_message
    if message is not None and message.is_topic_message:
        return message.message_thread_id
    return None


async def refuse_non_admin(update: Update, context: Context) -> bool:
    """Tell a group member who is not an admin that they may not; return True if refused."""
    if await may_change(update, context):
        return False
    await reply_text(update, esc(text(lang_of_update(update), "group_admins_only")))
    return True


def split_target(args: list[str], *, any_id: bool = False) -> tuple[str | None, list[str]]:
    """Take a leading @channel or -100… id off a command's arguments (any number with any_id).

    Only commands whose other arguments are never a bare number take one as a chat id.
    """
    if args:
        first = args[0]
        pattern_hit = _USERNAME_RE.fullmatch(first) or _CHANNEL_ID_RE.fullmatch(first)
        if pattern_hit or (any_id and _USER_ID_RE.fullmatch(first)):
            return first, args[1:]
    return None, args


async def resolve_target(update: Update, context: Context, ref: str | None) -> Target | None:
    """Return the chat a command changes after its checks; answer and return None if refused."""
    if ref is None:
        chat = await ensure_chat(update, context)
        if chat is None or await refuse_non_admin(update, context):
            return None
        return Target(chat.id, thread_id=thread_of(update))
    refusal, target = await check_channel(update, context, ref)
    if refusal:
        lang = lang_of_update(update)
        await reply_text(update, esc(text(lang, refusal, channel=ref, max=MAX_CHANNELS)))
        return None
    return target


async def check_channel(update: Update, context: Context, ref: str) -> tuple[str, Target | None]:
    """Check that a channel may be served for this user; return (refusal text key, target).

    The bot must be an administrator allowed to post there and the user one of its
    administrators (both asked of Telegram with getChatMember), from a private chat.
    """
    here, user = update.effective_chat, update.effective_user
    if here is None or user is None:
        return "channel_private_only", None
    if here.type != ChatType.PRIVATE:
        return "channel_private_only", None
    chat_ref: int | str = int(ref) if ref.lstrip("-").isdigit() else ref
    if isinstance(chat_ref, int) and chat_ref > 0:
        return "channel_is_user", None
    try:
        found = await context.bot.get_chat(chat_ref)
    except (BadRequest, Forbidden):
        return "channel_not_found", None
    except TelegramError as exc:
        logger.warning("getChat of %s failed: %s", ref, exc)
        return "channel_check_failed", None
    if found.type == ChatType.PRIVATE:
        return "channel_is_user", None
    if found.type != ChatType.CHANNEL:
        return "channel_is_group", None
    try:
        me = await context.bot.get_chat_member(found.id, context.bot.id)
        member = await context.bot.get_chat_member(found.id, user.id)
    except (BadRequest, Forbidden):
        return "channel_not_found", None
    except TelegramError as exc:
        logger.warning("getChatMember in channel %s failed: %s", found.id, exc)
        return "channel_check_failed", None
    if not bot_may_post(me):
        return "channel_bot_cannot_post", None
    if member.status not in ADMIN_STATUSES:
        return "channel_user_not_admin", None
    store = context.bot_data.store
    mine = await store.channels_of_user(user.id)
    if found.id not in {c.id for c in mine} and len(mine) >= MAX_CHANNELS:
        return "channels_cap", None
    await store.add_channel(
        found.id, channel_label(found), user.id, context.bot_data.tz.key, lang_of_update(update)
    )
    return "", Target(found.id, channel_label(found))


def bot_may_post(member: object) -> bool:
    """Return whether a ChatMember of the bot in a channel may post there."""
    if isinstance(member, ChatMemberOwner):
        return True
    return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)


def channel_label(chat: ChatFullInfo) -> str:
    """Return how a channel is named to its managers: @username, else its title."""
    return f"@{chat.username}" if chat.username else (chat.title or str(chat.id))
