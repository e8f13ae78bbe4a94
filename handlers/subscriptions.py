"""Daily digests and follows: /subscribe, /unsubscribe, /settings, /follow, /keyword, …"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from handlers import source_choice
from handlers.admin import is_admin
from handlers.context import Context
from handlers.keyboards import parse_callback
from handlers.limits import MAX_FOLLOWS, MAX_KEYWORDS
from handlers.render import check_callback_data, esc, format_date
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text, show_page
from handlers.speakers import resolve, suggestions
from handlers.texts import text
from news.models import Chat, Person, Subscription
from news.nlp.fold import search_form
from news.schedule import next_due, parse_hhmm, parse_time_zone

logger = logging.getLogger(__name__)

DEFAULT_TIME = "08:00"
TIME_PRESETS = ("07:00", "08:00", "12:00", "18:00", "21:00")
ZONE_PRESETS = ("Asia/Shanghai", "UTC", "Europe/Moscow", "Europe/London", "America/New_York")
MAX_KEYWORD_CHARS = 20
ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


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


async def cmd_subscribe(update: Update, context: Context) -> None:
    """Subscribe the chat to a daily digest at HH:MM local time (08:00 by default)."""
    lang = lang_of_update(update)
    args = context.args or []
    hhmm, zone = DEFAULT_TIME, context.bot_data.tz
    usage = esc(text(lang, "subscribe_usage"))
    if len(args) > 2:
        await reply_text(update, usage)
        return
    for arg in args:
        as_time = parse_hhmm(arg)
        as_zone = None if as_time else parse_time_zone(arg)
        if as_time:
            hhmm = as_time
        elif as_zone:
            zone = as_zone
        else:
            await reply_text(update, usage)
            return
    chat = await ensure_chat(update, context)
    if chat is None or await refuse_non_admin(update, context):
        return
    store = context.bot_data.store
    due = next_due(datetime.now(UTC), hhmm, zone)
    await store.subscriptions.subscribe(chat.id, hhmm, zone.key, due, thread_of(update))
    await store.set_chat_time_zone(chat.id, zone.key)
    await reply_text(
        update,
        esc(text(lang, "subscribed", time=hhmm, tz=zone.key, next=format_date(due, zone))),
    )


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """Stop the chat's daily digest."""
    lang = lang_of_update(update)
    chat = update.effective_chat
    if chat is None or await refuse_non_admin(update, context):
        return
    stopped = await context.bot_data.store.subscriptions.unsubscribe(chat.id)
    await reply_text(update, esc(text(lang, "unsubscribed" if stopped else "not_subscribed")))


def settings_text(lang: str, chat: Chat, sub: Subscription | None, titles: dict[str, str]) -> str:
    """Render the settings card."""
    language = "中文" if chat.language == "zh" else "English"
    if sub is None or not sub.active:
        return (
            text(lang, "settings_title")
            + "\n"
            + esc(text(lang, "settings_none", language=language))
        )
    zone = parse_time_zone(sub.time_zone) or parse_time_zone("UTC")
    assert zone is not None
    channels = (
        "、".join(titles.get(c, c) for c in sub.channels)
        if sub.channels
        else text(lang, "all_channels")
    )
    body = text(
        lang,
        "settings_body",
        time=sub.digest_time,
        tz=sub.time_zone,
        next=format_date(sub.next_due_at, zone),
        channels=channels,
        language=language,
        empty=text(lang, "empty_send" if sub.send_empty else "empty_skip"),
    )
    return text(lang, "settings_title") + "\n" + esc(body)


def settings_keyboard(
    lang: str, sub: Subscription | None, chat: Chat, sources: list[tuple[str, str]]
) -> InlineKeyboardMarkup:
    """Return the buttons that change each setting."""

    def button(label: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=check_callback_data(data))

    rows: list[list[InlineKeyboardButton]] = []
    if sub is not None and sub.active:
        rows.append(
            [
                button(("✅" if t == sub.digest_time else "") + t, f"set:t:{t.replace(':', '')}")
                for t in TIME_PRESETS
            ]
        )
        rows.append(
            [
                button(("✅" if z == sub.time_zone else "") + z.split("/")[-1], f"set:z:{i}")
                for i, z in enumerate(ZONE_PRESETS)
            ]
        )
        if sources:
            rows.append([button(text(lang, "sources_by_region"), "set:p:x")])
        rows.append([button("📭 " + ("✅" if sub.send_empty else "▫️"), "set:e:x")])
    rows.append(
        [
            button(("✅" if chat.language == "zh" else "") + "中文", "set:l:zh"),
            button(("✅" if chat.language == "en" else "") + "English", "set:l:en"),
        ]
    )
    return InlineKeyboardMarkup([r for r in rows if r])


async def send_settings(
    update: Update, context: Context, view: str = "card", region: int = 0
) -> None:
    """Show (or refresh in place) the chat's settings card, region picker or one region."""
    chat = await ensure_chat(update, context)
    if chat is None:
        return
    store = context.bot_data.store
    sub = await store.subscriptions.subscription(chat.id)
    configured = context.bot_data.sources
    lang = chat.language if update.callback_query else lang_of_update(update)
    if view != "card" and sub is not None and sub.active:
        if view == "picker":
            body, keyboard = source_choice.picker_view(lang, sub.channels, configured)
        else:
            body, keyboard = source_choice.region_view(lang, sub.channels, configured, region)
        await show_page(update, body, keyboard)
        return
    sources = [(s.name, s.title) for s in configured]
    await show_page(
        update,
        settings_text(lang, chat, sub, dict(sources)),
        settings_keyboard(lang, sub, chat, sources),
    )


async def cmd_settings(update: Update, context: Context) -> None:
    """Show the digest settings with buttons to change them."""
    await send_settings(update, context)


async def cb_settings(update: Update, context: Context) -> None:
    """Change one setting from a /settings button."""
    lang = lang_of_update(update)
    query = update.callback_query
    chat = update.effective_chat
    args = parse_callback(query.data if query else None, "set", 2)
    if args is None or chat is None:
        await answer_stale(update, text(lang, "stale"))
        return
    if not await may_change(update, context):
        await answer_stale(update, text(lang, "group_admins_only"))
        return
    store = context.bot_data.store
    subscriptions = store.subscriptions
    sub = await subscriptions.subscription(chat.id)
    what, value = args
    if what == "l" and value in ("zh", "en"):
        await ensure_chat(update, context)
        await store.set_chat_language(chat.id, value)
    elif sub is None or not sub.active:
        await answer_stale(update, text(lang, "stale"))
        return
    elif what == "t" and len(value) == 4 and parse_hhmm(f"{value[:2]}:{value[2:]}"):
        hhmm = f"{value[:2]}:{value[2:]}"
        zone = parse_time_zone(sub.time_zone) or context.bot_data.tz
        # The ledger is keyed by local date, so moving the time never sends a day twice.
        await subscriptions.update_subscription(
            chat.id, digest_time=hhmm, next_due_at=next_due(datetime.now(UTC), hhmm, zone)
        )
    elif what == "z" and value.isdigit() and int(value) < len(ZONE_PRESETS):
        zone_name = ZONE_PRESETS[int(value)]
        preset = parse_time_zone(zone_name)
        assert preset is not None
        await subscriptions.update_subscription(
            chat.id,
            time_zone=zone_name,
            next_due_at=next_due(datetime.now(UTC), sub.digest_time, preset),
        )
        await store.set_chat_time_zone(chat.id, zone_name)
    elif what == "e":
        await subscriptions.update_subscription(chat.id, send_empty=not sub.send_empty)
    elif what in ("p", "r", "s", "R", "a", "b"):
        await _choose_sources(update, context, sub, what, value)
        return
    else:
        await answer_stale(update, text(lang, "stale"))
        return
    await send_settings(update, context)


async def _choose_sources(
    update: Update, context: Context, sub: Subscription, what: str, value: str
) -> None:
    """Handle the sources-by-region buttons of /settings (see handlers.source_choice)."""
    chat = update.effective_chat
    assert chat is not None
    lang = lang_of_update(update)
    sources = context.bot_data.sources
    by_name = {s.name: s for s in sources}
    if what == "b":
        await send_settings(update, context)
        return
    if what == "p":
        await send_settings(update, context, "picker")
        return
    if what == "a":
        await context.bot_data.store.subscriptions.update_subscription(chat.id, channels=())
        await send_settings(update, context, "picker")
        return
    if what == "s":
        source = by_name.get(value)
        if source is None:  # a source since removed from the sources file
            await answer_stale(update, text(lang, "stale"))
            return
        names, region = [value], source_choice.REGIONS.index(source.region)
    else:
        index = source_choice.region_index(value)
        if index is None:
            await answer_stale(update, text(lang, "stale"))
            return
        region = index
        names = [s.name for s in sources if s.region == source_choice.REGIONS[index]]
        if what == "r" or not names:
            await send_settings(update, context, "region", region)
            return
    channels = source_choice.toggled(sub.channels, sources, names)
    if channels is None:
        await answer_stale(update, text(lang, "keep_one_source"))
        return
    await context.bot_data.store.subscriptions.update_subscription(chat.id, channels=channels)
    await send_settings(update, context, "region", region)


async def _one_person(update: Update, context: Context, usage_key: str) -> Person | None:
    """Resolve a /follow argument to one person, answering the user otherwise."""
    lang = lang_of_update(update)
    query = " ".join(context.args or []).strip()
    if not query or len(query) > 30:
        await reply_text(update, esc(text(lang, usage_key)))
        return None
    people, _by_title = await resolve(query, context)
    if len(people) == 1:
        return people[0]
    if len(people) > 1:
        names = "、".join(p.name for p in people[:6])
        await reply_text(update, esc(text(lang, "follow_ambiguous", query=query, names=names)))
        return None
    lines = [esc(text(lang, "speaker_not_found", query=query))]
    close = await suggestions(query, context)
    if close:
        lines.append(esc(text(lang, "speaker_suggest", names="、".join(close))))
    await reply_blocks(update, lines)
    return None


async def _change_follow(update: Update, context: Context, *, follow: bool) -> None:
    """Follow or stop following one leader, after the group-admin check."""
    lang = lang_of_update(update)
    chat = await ensure_chat(update, context)
    if chat is None or await refuse_non_admin(update, context):
        return
    person = await _one_person(update, context, "follow_usage" if follow else "unfollow_usage")
    if person is None:
        return
    subscriptions = context.bot_data.store.subscriptions
    if follow:
        changed = await subscriptions.follow(chat.id, person.id, thread_of(update), cap=MAX_FOLLOWS)
        if changed is None:
            await reply_text(update, esc(text(lang, "follow_cap", cap=MAX_FOLLOWS)))
            return
        key = "followed" if changed else "already_followed"
    else:
        changed = await subscriptions.unfollow(chat.id, person.id)
        key = "unfollowed" if changed else "not_followed"
    await reply_text(update, esc(text(lang, key, name=person.name)))


async def cmd_follow(update: Update, context: Context) -> None:
    """Follow a leader: a push when a new article has them speaking."""
    await _change_follow(update, context, follow=True)


async def cmd_unfollow(update: Update, context: Context) -> None:
    """Stop following a leader."""
    await _change_follow(update, context, follow=False)


def _keyword_arg(args: list[str]) -> str | None:
    word = search_form(" ".join(args).strip())
    if not word or len(word) > MAX_KEYWORD_CHARS or not any(ch.isalnum() for ch in word):
        return None
    return word


async def cmd_keyword(update: Update, context: Context) -> None:
    """Follow a word: a push when a new article's title contains it."""
    lang = lang_of_update(update)
    word = _keyword_arg(context.args or [])
    if word is None:
        await reply_text(update, esc(text(lang, "keyword_usage")))
        return
    chat = await ensure_chat(update, context)
    if chat is None or await refuse_non_admin(update, context):
        return
    added = await context.bot_data.store.subscriptions.follow_keyword(
        chat.id, word, thread_of(update), cap=MAX_KEYWORDS
    )
    key = "keyword_added" if added else "keyword_cap"
    await reply_text(update, esc(text(lang, key, word=word, cap=MAX_KEYWORDS)))


async def cmd_unkeyword(update: Update, context: Context) -> None:
    """Stop following a word."""
    lang = lang_of_update(update)
    word = _keyword_arg(context.args or [])
    if word is None:
        await reply_text(update, esc(text(lang, "unkeyword_usage")))
        return
    chat = update.effective_chat
    if chat is None or await refuse_non_admin(update, context):
        return
    removed = await context.bot_data.store.subscriptions.unfollow_keyword(chat.id, word)
    await reply_text(
        update, esc(text(lang, "keyword_removed" if removed else "keyword_missing", word=word))
    )


async def cmd_following(update: Update, context: Context) -> None:
    """List the leaders and words this chat follows."""
    lang = lang_of_update(update)
    chat = update.effective_chat
    if chat is None:
        return
    subscriptions = context.bot_data.store.subscriptions
    people = await subscriptions.followed_people(chat.id)
    words = await subscriptions.followed_keywords(chat.id)
    if not people and not words:
        await reply_text(update, esc(text(lang, "following_none")))
        return
    lines = [text(lang, "following_title")]
    if people:
        lines.append(esc(text(lang, "following_people", names="、".join(p.name for p in people))))
    if words:
        lines.append(esc(text(lang, "following_words", words="、".join(words))))
    await reply_blocks(update, lines)


async def cmd_digest_now(update: Update, context: Context) -> None:
    """Send a digest now through the ledger, to this chat or a given chat id (admins)."""
    lang = lang_of_update(update)
    if not is_admin(update, context):
        await reply_text(update, esc(text(lang, "admin_only")))
        return
    args = context.args or []
    chat = update.effective_chat
    if len(args) > 1 or (args and not args[0].lstrip("-").isdigit()) or chat is None:
        await reply_text(update, esc(text(lang, "digest_now_usage")))
        return
    target = int(args[0]) if args else chat.id
    if not args:
        await ensure_chat(update, context)
    store = context.bot_data.store
    sub = await store.subscriptions.subscription(target)
    now = datetime.now(UTC)
    since = (sub.since_at if sub and sub.since_at else None) or now - timedelta(hours=24)
    payload = {"since": since.isoformat(), "until": now.isoformat(), "manual": True}
    thread = sub.thread_id if sub else (thread_of(update) if not args else None)
    key = "manual-" + now.strftime("%Y%m%dT%H%M%S.%f")
    await store.ledger.add_manual_digest(target, key, payload, thread)
    deliverer = context.bot_data.deliverer
    if deliverer is not None:
        await deliverer.tick()
    result = await store.ledger.delivery_status(target, "digest", key) or "unknown"
    await reply_text(update, esc(text(lang, "digest_now_done", chat=target, result=result)))
