"""Digests, follows and watches: /subscribe, /settings, /quiet, /follow, /keyword, /watch, …

Each command changes the chat it is sent in, or, from a private chat, a channel named first
(`/subscribe @channel 08:00`) once handlers.targets has checked it may.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from handlers import source_choice
from handlers.admin import is_admin
from handlers.context import Context
from handlers.keyboards import parse_callback
from handlers.limits import MAX_FOLLOWS, MAX_KEYWORDS
from handlers.regions import CITIES, region_named, region_of
from handlers.render import check_callback_data, esc, format_date
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text, show_page
from handlers.speakers import resolve, suggestions
from handlers.targets import (
    ADMIN_STATUSES,
    Target,
    ensure_chat,
    may_change,
    resolve_target,
    split_target,
    thread_of,
)
from handlers.texts import text
from news.models import REGIONS, Chat, KeywordRule, Person, SourceConfig, Subscription
from news.nlp.keyword_rules import KeywordRuleError, parse_rule
from news.schedule import (
    MAX_DIGEST_TIMES,
    MAX_QUIET_MINUTES,
    join_times,
    next_due_of,
    parse_hhmm,
    parse_time_zone,
    quiet_span_minutes,
)

logger = logging.getLogger(__name__)

DEFAULT_TIME = "08:00"
TIME_PRESETS = ("07:00", "08:00", "12:00", "18:00", "21:00")
ZONE_PRESETS = ("Asia/Shanghai", "UTC", "Europe/Moscow", "Europe/London", "America/New_York")
QUIET_PRESETS = (("", ""), ("22:00", "07:00"), ("23:00", "07:00"), ("00:00", "08:00"))
DIGEST_ORDERS = ("channel", "region", "leader")
WEEKDAY_WORDS = ("工作日", "weekdays")
# The sources-by-region buttons' actions (handlers.source_choice's callback data).
SOURCE_ACTIONS = ("p", "r", "s", "R", "a", "b")
# Sources and regions one chat may watch: each is a push per new article.
MAX_WATCHES = 20
_QUIET_SPLIT_RE = re.compile(r"[\s\-–—~～至到]+")


# --- digests ---------------------------------------------------------------------------------


async def cmd_subscribe(update: Update, context: Context) -> None:
    """Subscribe the chat (or a channel) to digests at up to four local times a day."""
    lang = lang_of_update(update)
    ref, args = split_target(context.args or [], any_id=True)
    times: list[str] = []
    zone = context.bot_data.tz
    weekdays = False
    for arg in args:
        as_time = parse_hhmm(arg)
        if as_time:
            times.append(as_time)
        elif arg.lower() in WEEKDAY_WORDS:
            weekdays = True
        elif (as_zone := parse_time_zone(arg)) is not None:
            zone = as_zone
        else:
            await reply_text(update, esc(text(lang, "subscribe_usage")))
            return
    times = sorted(set(times)) or [DEFAULT_TIME]
    if len(times) > MAX_DIGEST_TIMES:
        await reply_text(
            update, esc(text(lang, "subscribe_too_many", n=len(times), max=MAX_DIGEST_TIMES))
        )
        return
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    store = context.bot_data.store
    due = next_due_of(datetime.now(UTC), times, zone, weekdays)
    await store.subscriptions.subscribe(
        target.chat_id, join_times(times), zone.key, due, target.thread_id, weekdays
    )
    await store.set_chat_time_zone(target.chat_id, zone.key)
    days = text(lang, "weekdays_only_note") if weekdays else ""
    await reply_text(
        update,
        esc(
            text(
                lang,
                "subscribed",
                where=text(lang, "channel_subject", channel=target.label)
                if target.is_channel
                else "",
                time="、".join(times),
                tz=zone.key,
                days=days,
                next=format_date(due, zone),
            )
        ),
    )


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """Stop the chat's (or a channel's) digests."""
    lang = lang_of_update(update)
    ref, args = split_target(context.args or [], any_id=True)
    if args:
        await reply_text(update, esc(text(lang, "unsubscribe_usage")))
        return
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    stopped = await context.bot_data.store.subscriptions.unsubscribe(target.chat_id)
    key = "unsubscribed" if stopped else "not_subscribed"
    await reply_text(update, esc(_where(lang, target) + text(lang, key)))


def _where(lang: str, target: Target) -> str:
    """Return the prefix naming a channel in a reply ("" for the chat itself)."""
    return text(lang, "for_channel", channel=target.label) if target.is_channel else ""


# --- /settings -------------------------------------------------------------------------------


def settings_text(
    lang: str,
    chat: Chat,
    sub: Subscription | None,
    titles: dict[str, str],
    label: str = "",
) -> str:
    """Render the settings card: the digest's settings (if subscribed), then the chat's own."""
    language = "中文" if chat.language == "zh" else "English"
    head = text(lang, "settings_title") + (
        " · " + esc(text(lang, "settings_channel", channel=label)) if label else ""
    )
    on, off = text(lang, "on"), text(lang, "off")
    quiet = (
        f"{chat.quiet_start}–{chat.quiet_end}"
        if chat.quiet_start and chat.quiet_end
        else text(lang, "quiet_none")
    )
    order = text(lang, f"order_{chat.digest_order}")
    if chat.digest_order == "region":
        order += text(lang, "order_city", city=chat.city or text(lang, "city_none"))
    own = text(
        lang,
        "settings_chat",
        language=language,
        quiet=quiet,
        silent=on if chat.silent else off,
        scope=text(lang, "scope_body" if chat.keyword_body else "scope_title"),
        order=order,
    )
    if sub is None or not sub.active:
        return head + "\n" + esc(text(lang, "settings_none")) + "\n" + esc(own)
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
        time="、".join(sub.times),
        tz=sub.time_zone,
        days=text(lang, "weekdays_only_note") if sub.weekdays_only else "",
        next=format_date(sub.next_due_at, zone),
        channels=channels,
        empty=text(lang, "empty_send" if sub.send_empty else "empty_skip"),
    )
    return head + "\n" + esc(body) + "\n" + esc(own)


def settings_keyboard(
    sub: Subscription | None,
    chat: Chat,
    sources: list[tuple[str, str]],
    lang: str = "zh",
    suffix: str = "",
) -> InlineKeyboardMarkup:
    """Return the buttons that change each setting (suffix ":<chat id>" for a channel)."""

    def button(label: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=check_callback_data(data + suffix))

    def mark(chosen: bool) -> str:
        return "✅" if chosen else "▫️"

    rows: list[list[InlineKeyboardButton]] = []
    if sub is not None and sub.active:
        rows.append(
            [
                button(("✅" if t in sub.times else "") + t, f"set:t:{t.replace(':', '')}")
                for t in TIME_PRESETS
            ]
        )
        rows.append(
            [
                button(("✅" if z == sub.time_zone else "") + z.split("/")[-1], f"set:z:{i}")
                for i, z in enumerate(ZONE_PRESETS)
            ]
        )
        if sources and not suffix:
            # The sources by region (handlers.source_choice); a channel's digest takes them all.
            rows.append([button(text(lang, "sources_by_region"), "set:p:x")])
        rows.append(
            [
                button("📭 " + mark(sub.send_empty), "set:e:x"),
                button(text(lang, "weekdays_button") + " " + mark(sub.weekdays_only), "set:w:x"),
            ]
        )
    rows.append(
        [
            button(
                mark(chat.digest_order == order) + text(lang, f"order_{order}_short"), f"set:o:{i}"
            )
            for i, order in enumerate(DIGEST_ORDERS)
        ]
    )
    if chat.digest_order == "region":
        cities = [
            button(("✅" if chat.city == city else "") + city, f"set:y:{i}")
            for i, city in enumerate(CITIES)
        ]
        cities.append(button(("✅" if not chat.city else "") + text(lang, "city_none"), "set:y:x"))
        rows.extend(cities[i : i + 5] for i in range(0, len(cities), 5))
    rows.append(
        [
            button(
                ("✅" if (chat.quiet_start, chat.quiet_end) == preset else "")
                + (
                    f"🌙{preset[0][:2]}–{preset[1][:2]}"
                    if preset[0]
                    else text(lang, "quiet_off_button")
                ),
                f"set:q:{i}",
            )
            for i, preset in enumerate(QUIET_PRESETS)
        ]
    )
    rows.append(
        [
            button(text(lang, "silent_button") + " " + mark(chat.silent), "set:m:x"),
            button(text(lang, "scope_button") + " " + mark(chat.keyword_body), "set:k:x"),
        ]
    )
    rows.append(
        [
            button(("✅" if chat.language == "zh" else "") + "中文", "set:l:zh"),
            button(("✅" if chat.language == "en" else "") + "English", "set:l:en"),
        ]
    )
    rows.append([button(text(lang, "settings_export_button"), "sexp")])  # handlers.settings_file
    return InlineKeyboardMarkup([r for r in rows if r])


async def send_settings(
    update: Update, context: Context, target: Target, view: str = "card", region: int = 0
) -> None:
    """Show (or refresh in place) a chat's settings card, region picker or one region."""
    store = context.bot_data.store
    chat = await store.get_chat(target.chat_id)
    if chat is None:
        chat = await ensure_chat(update, context)
        if chat is None:
            return
    sub = await store.subscriptions.subscription(target.chat_id)
    configured = context.bot_data.sources
    lang = (
        chat.language if update.callback_query and not target.is_channel else lang_of_update(update)
    )
    if view != "card" and sub is not None and sub.active:
        if view == "picker":
            body, keyboard = source_choice.picker_view(lang, sub.channels, configured)
        else:
            body, keyboard = source_choice.region_view(lang, sub.channels, configured, region)
        await show_page(update, body, keyboard)
        return
    sources = [(s.name, s.title) for s in configured]
    suffix = f":{target.chat_id}" if target.is_channel else ""
    await show_page(
        update,
        settings_text(lang, chat, sub, dict(sources), target.label),
        settings_keyboard(sub, chat, sources, lang, suffix),
    )


async def cmd_settings(update: Update, context: Context) -> None:
    """Show the chat's (or a channel's) settings with buttons to change them."""
    lang = lang_of_update(update)
    ref, args = split_target(context.args or [], any_id=True)
    if args:
        await reply_text(update, esc(text(lang, "settings_usage")))
        return
    if ref is None:
        chat = await ensure_chat(update, context)
        if chat is None:
            return
        await send_settings(update, context, Target(chat.id))
        return
    target = await resolve_target(update, context, ref)
    if target is not None:
        await send_settings(update, context, target)


async def button_target(update: Update, context: Context, chat_ref: str | None) -> Target | None:
    """Return the chat a settings button changes, if the user pressing it may change it."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    if chat_ref is None:
        return Target(chat.id) if await may_change(update, context) else None
    if chat.type != ChatType.PRIVATE or not chat_ref.lstrip("-").isdigit():
        return None
    channel_id = int(chat_ref)
    store = context.bot_data.store
    channel = await store.get_chat(channel_id)
    if channel is None or user.id not in await store.channel_managers(channel_id):
        return None
    try:  # still one of its administrators?
        member = await context.bot.get_chat_member(channel_id, user.id)
    except TelegramError as exc:  # Telegram cannot tell now: refuse the press
        logger.info("getChatMember for a settings press in %s failed: %s", channel_id, exc)
        return None
    if member.status not in ADMIN_STATUSES:
        return None
    return Target(channel_id, channel.title or str(channel_id))


async def cb_settings(update: Update, context: Context) -> None:
    """Change one setting from a /settings button."""
    lang = lang_of_update(update)
    query = update.callback_query
    data = query.data if query else None
    args = parse_callback(data, "set", 2) or parse_callback(data, "set", 3)
    if args is None:
        await answer_stale(update, text(lang, "stale"))
        return
    target = await button_target(update, context, args[2] if len(args) == 3 else None)
    if target is None:
        await answer_stale(
            update, text(lang, "not_allowed" if len(args) == 3 else "group_admins_only")
        )
        return
    what, value = args[0], args[1]
    if what in SOURCE_ACTIONS and not target.is_channel:
        await _choose_sources(update, context, target, what, value)
        return
    problem = await _apply_setting(context, target.chat_id, what, value)
    if problem:
        await answer_stale(update, text(lang, problem, max=MAX_DIGEST_TIMES))
        return
    await send_settings(update, context, target)


async def _apply_setting(context: Context, chat_id: int, what: str, value: str) -> str:
    """Apply one button's change; return a texts key for why not, or "" when done."""
    store = context.bot_data.store
    subscriptions = store.subscriptions
    chat_setting = {
        "m": "silent",
        "k": "keyword_body",
    }
    chat = await store.get_chat(chat_id)
    if chat is None:
        return "stale"
    if what == "l" and value in ("zh", "en"):
        await store.set_chat_language(chat_id, value)
        return ""
    if what in chat_setting:
        field = chat_setting[what]
        await store.set_chat_settings(chat_id, **{field: not getattr(chat, field)})
        return ""
    if what == "o" and value.isdigit() and int(value) < len(DIGEST_ORDERS):
        await store.set_chat_settings(chat_id, digest_order=DIGEST_ORDERS[int(value)])
        return ""
    if what == "y" and (value == "x" or (value.isdigit() and int(value) < len(CITIES))):
        await store.set_chat_settings(chat_id, city="" if value == "x" else CITIES[int(value)])
        return ""
    if what == "q" and value.isdigit() and int(value) < len(QUIET_PRESETS):
        start, end = QUIET_PRESETS[int(value)]
        await store.set_chat_settings(chat_id, quiet_start=start, quiet_end=end)
        return ""
    sub = await subscriptions.subscription(chat_id)
    if sub is None or not sub.active:
        return "stale"
    zone = parse_time_zone(sub.time_zone) or context.bot_data.tz
    now = datetime.now(UTC)
    if what == "t" and len(value) == 4 and parse_hhmm(f"{value[:2]}:{value[2:]}"):
        hhmm = f"{value[:2]}:{value[2:]}"
        times = set(sub.times) ^ {hhmm}
        if not times:
            return "times_keep_one"
        if len(times) > MAX_DIGEST_TIMES:
            return "times_at_most"
        # One time a day is keyed by local date in the ledger: moving it never sends a day twice.
        await subscriptions.update_subscription(
            chat_id,
            digest_time=join_times(sorted(times)),
            next_due_at=next_due_of(now, sorted(times), zone, sub.weekdays_only),
        )
    elif what == "z" and value.isdigit() and int(value) < len(ZONE_PRESETS):
        zone_name = ZONE_PRESETS[int(value)]
        preset = parse_time_zone(zone_name)
        assert preset is not None
        await subscriptions.update_subscription(
            chat_id,
            time_zone=zone_name,
            next_due_at=next_due_of(now, sub.times, preset, sub.weekdays_only),
        )
        await store.set_chat_time_zone(chat_id, zone_name)
    elif what == "e":
        await subscriptions.update_subscription(chat_id, send_empty=not sub.send_empty)
    elif what == "w":
        weekdays = not sub.weekdays_only
        await subscriptions.update_subscription(
            chat_id,
            weekdays_only=weekdays,
            next_due_at=next_due_of(now, sub.times, zone, weekdays),
        )
    else:
        return "stale"
    return ""


async def _choose_sources(
    update: Update, context: Context, target: Target, what: str, value: str
) -> None:
    """Handle the sources-by-region buttons of /settings (see handlers.source_choice)."""
    lang = lang_of_update(update)
    subscriptions = context.bot_data.store.subscriptions
    sub = await subscriptions.subscription(target.chat_id)
    if sub is None or not sub.active:
        await answer_stale(update, text(lang, "stale"))
        return
    sources = context.bot_data.sources
    by_name = {s.name: s for s in sources}
    if what == "b":
        await send_settings(update, context, target)
        return
    if what == "p":
        await send_settings(update, context, target, "picker")
        return
    if what == "a":
        await subscriptions.update_subscription(target.chat_id, channels=())
        await send_settings(update, context, target, "picker")
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
            await send_settings(update, context, target, "region", region)
            return
    channels = source_choice.toggled(sub.channels, sources, names)
    if channels is None:
        await answer_stale(update, text(lang, "keep_one_source"))
        return
    await subscriptions.update_subscription(target.chat_id, channels=channels)
    await send_settings(update, context, target, "region", region)


# --- quiet hours -----------------------------------------------------------------------------


async def cmd_quiet(update: Update, context: Context) -> None:
    """Set the hours (local) when alerts wait and then come as one message; /quiet off ends them."""
    lang = lang_of_update(update)
    ref, args = split_target(context.args or [], any_id=True)
    words = [w for w in _QUIET_SPLIT_RE.split(" ".join(args)) if w]
    if [w.lower() for w in words] in (["off"], ["关"], ["关闭"]):
        start = end = ""
    else:
        times = [parse_hhmm(w) for w in words]
        if len(times) > 2 and all(times):
            await reply_text(update, esc(text(lang, "quiet_one_range")))
            return
        if len(times) != 2 or not all(times):
            await reply_text(update, esc(text(lang, "quiet_usage")))
            return
        start, end = str(times[0]), str(times[1])
        if start == end:
            await reply_text(update, esc(text(lang, "quiet_same")))
            return
        span = quiet_span_minutes(start, end)
        if span > MAX_QUIET_MINUTES:
            await reply_text(
                update,
                esc(text(lang, "quiet_too_long", start=start, end=end, hours=round(span / 60))),
            )
            return
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    store = context.bot_data.store
    chat = await store.set_chat_settings(target.chat_id, quiet_start=start, quiet_end=end)
    where = _where(lang, target)
    if not start:
        await reply_text(update, esc(where + text(lang, "quiet_off")))
        return
    tz = chat.time_zone if chat else context.bot_data.tz.key
    await reply_text(update, esc(where + text(lang, "quiet_set", start=start, end=end, tz=tz)))


# --- follows of leaders ----------------------------------------------------------------------


async def _one_person(
    update: Update, context: Context, words: list[str], usage_key: str
) -> Person | None:
    """Resolve a /follow argument to one person, answering the user otherwise."""
    lang = lang_of_update(update)
    query = " ".join(words).strip()
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
    """Follow or stop following one leader, after the target's checks."""
    lang = lang_of_update(update)
    ref, words = split_target(context.args or [])
    usage = "follow_usage" if follow else "unfollow_usage"
    # The chat itself is checked first (a group member who may not hears so at once); a
    # channel after the name, which costs no call to Telegram.
    here = await resolve_target(update, context, None) if ref is None else None
    if ref is None and here is None:
        return
    person = await _one_person(update, context, words, usage)
    if person is None:
        return
    target = here or await resolve_target(update, context, ref)
    if target is None:
        return
    subscriptions = context.bot_data.store.subscriptions
    if follow:
        changed = await subscriptions.follow(
            target.chat_id, person.id, target.thread_id, cap=MAX_FOLLOWS
        )
        if changed is None:
            await reply_text(update, esc(text(lang, "follow_cap", cap=MAX_FOLLOWS)))
            return
        key = "followed" if changed else "already_followed"
    else:
        changed = await subscriptions.unfollow(target.chat_id, person.id)
        key = "unfollowed" if changed else "not_followed"
    await reply_text(update, esc(_where(lang, target) + text(lang, key, name=person.name)))


async def cmd_follow(update: Update, context: Context) -> None:
    """Follow a leader: a push when a new article has them speaking."""
    await _change_follow(update, context, follow=True)


async def cmd_unfollow(update: Update, context: Context) -> None:
    """Stop following a leader."""
    await _change_follow(update, context, follow=False)


# --- keyword rules ---------------------------------------------------------------------------


def _rule_words(rule: KeywordRule) -> tuple[str, str]:
    """Return a rule's words and its exclusions as shown in replies."""
    return "”“".join(rule.include), "”“".join(rule.exclude)


async def cmd_keyword(update: Update, context: Context) -> None:
    """Follow a keyword rule: every word in a new title (or body), none of the -words."""
    lang = lang_of_update(update)
    ref, words = split_target(context.args or [])
    try:
        rule = parse_rule(" ".join(words))
    except KeywordRuleError as exc:
        await reply_text(update, esc(text(lang, f"keyword_{exc.reason}")))
        return
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    store = context.bot_data.store
    added = await store.subscriptions.follow_keyword(
        target.chat_id, rule.text, target.thread_id, cap=MAX_KEYWORDS
    )
    if added is None:
        await reply_text(update, esc(text(lang, "keyword_cap", cap=MAX_KEYWORDS)))
        return
    chat = await store.get_chat(target.chat_id)
    include, exclude = _rule_words(rule)
    scope = text(lang, "scope_body" if chat and chat.keyword_body else "scope_title")
    but_not = text(lang, "keyword_but_not", words=exclude) if exclude else ""
    await reply_text(
        update,
        esc(
            _where(lang, target)
            + text(lang, "keyword_added", word=include, scope=scope, exclude=but_not)
        ),
    )


async def cmd_unkeyword(update: Update, context: Context) -> None:
    """Stop following a keyword rule."""
    lang = lang_of_update(update)
    ref, words = split_target(context.args or [])
    try:
        rule = parse_rule(" ".join(words))
    except KeywordRuleError:
        await reply_text(update, esc(text(lang, "unkeyword_usage")))
        return
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    removed = await context.bot_data.store.subscriptions.unfollow_keyword(target.chat_id, rule.text)
    key = "keyword_removed" if removed else "keyword_missing"
    await reply_text(update, esc(_where(lang, target) + text(lang, key, word=rule.text)))


# --- watches of a source or a region ---------------------------------------------------------


def watch_choices(sources: tuple[SourceConfig, ...]) -> str:
    """Return what may be watched: the regions with sources, then the sources' names."""
    present = {region_of(s) for s in sources}
    regions = [r for r in REGIONS if r in present]
    shown = [s.name for s in sources[:12]]
    more = "…" if len(sources) > len(shown) else ""
    return "、".join(regions) + "；" + "、".join(shown) + more


def find_watch(query: str, sources: tuple[SourceConfig, ...]) -> tuple[str, str, str] | None:
    """Return (kind, target, shown name) for a source's name or title or a region, or None."""
    region = region_named(query)
    if region is not None:
        return "region", region, region
    for source in sources:
        if query.lower() == source.name.lower() or query == source.title:
            return "source", source.name, source.title
    titled = [s for s in sources if query in s.title]
    if len(titled) == 1:
        return "source", titled[0].name, titled[0].title
    return None


async def _change_watch(update: Update, context: Context, *, watch: bool) -> None:
    """Watch or stop watching a source or a region, after the target's checks."""
    lang = lang_of_update(update)
    ref, words = split_target(context.args or [])
    sources = context.bot_data.sources
    query = " ".join(words).strip()
    choices = watch_choices(sources)
    if not query:
        key = "watch_usage" if watch else "unwatch_usage"
        await reply_text(update, esc(text(lang, key, choices=choices)))
        return
    found = find_watch(query, sources)
    if found is None:
        await reply_text(update, esc(text(lang, "watch_unknown", query=query, choices=choices)))
        return
    kind, name, shown = found
    target = await resolve_target(update, context, ref)
    if target is None:
        return
    subscriptions = context.bot_data.store.subscriptions
    where = _where(lang, target)
    if not watch:
        removed = await subscriptions.unwatch(target.chat_id, kind, name)
        key = "watch_removed" if removed else "watch_missing"
        await reply_text(update, esc(where + text(lang, key, target=shown)))
        return
    known = {(w.kind, w.target) for w in await subscriptions.watches(target.chat_id)}
    if (kind, name) not in known and len(known) >= MAX_WATCHES:
        await reply_text(update, esc(where + text(lang, "watch_cap", max=MAX_WATCHES)))
        return
    added = await subscriptions.watch(target.chat_id, kind, name, target.thread_id)
    key = "watch_added" if added else "watch_already"
    await reply_text(update, esc(where + text(lang, key, target=shown)))


async def cmd_watch(update: Update, context: Context) -> None:
    """Watch a source or a region: every new article of it is pushed."""
    await _change_watch(update, context, watch=True)


async def cmd_unwatch(update: Update, context: Context) -> None:
    """Stop watching a source or a region."""
    await _change_watch(update, context, watch=False)


# --- /following ------------------------------------------------------------------------------


async def cmd_following(update: Update, context: Context) -> None:
    """List the leaders, keyword rules and watches this chat (or a channel) follows."""
    lang = lang_of_update(update)
    ref, args = split_target(context.args or [])
    if args:
        await reply_text(update, esc(text(lang, "following_usage")))
        return
    if ref is None:
        chat = update.effective_chat
        if chat is None:
            return
        target = Target(chat.id)
    else:
        checked = await resolve_target(update, context, ref)
        if checked is None:
            return
        target = checked
    subscriptions = context.bot_data.store.subscriptions
    people = await subscriptions.followed_people(target.chat_id)
    words = await subscriptions.followed_keywords(target.chat_id)
    watches = await subscriptions.watches(target.chat_id)
    where = _where(lang, target)
    if not people and not words and not watches:
        await reply_text(update, esc(where + text(lang, "following_none")))
        return
    titles = {s.name: s.title for s in context.bot_data.sources}
    lines = [text(lang, "following_title") + (" · " + esc(target.label) if target.label else "")]
    if people:
        lines.append(esc(text(lang, "following_people", names="、".join(p.name for p in people))))
    if words:
        lines.append(esc(text(lang, "following_words", words="、".join(words))))
    if watches:
        shown = "、".join(titles.get(w.target, w.target) for w in watches)
        lines.append(esc(text(lang, "following_watches", targets=shown)))
    await reply_blocks(update, lines)


# --- admins ----------------------------------------------------------------------------------


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
    deliverer = context.bot_data.deliverer
    # An empty digest would say "sent" for a message the chat does not take (it has not asked
    # for empty digests): none is queued, and the reply says why. The tick runs either way, so
    # alerts that are due go out as they would.
    channels = sub.channels if sub else ()
    empty = not (sub is not None and sub.send_empty) and not await store.articles_between(
        since, now, channels, limit=1
    )
    key = "manual-" + now.strftime("%Y%m%dT%H%M%S.%f")
    if not empty:
        payload = {"since": since.isoformat(), "until": now.isoformat(), "manual": True}
        thread = sub.thread_id if sub else (thread_of(update) if not args else None)
        await store.ledger.add_manual_digest(target, key, payload, thread)
    if deliverer is not None:
        await deliverer.tick()
    if empty:
        zone = (parse_time_zone(sub.time_zone) if sub else None) or context.bot_data.tz
        shown = format_date(since, zone)
        await reply_text(update, esc(text(lang, "digest_now_empty", chat=target, since=shown)))
        return
    result = await store.ledger.delivery_status(target, "digest", key) or "unknown"
    await reply_text(update, esc(text(lang, "digest_now_done", chat=target, result=result)))
