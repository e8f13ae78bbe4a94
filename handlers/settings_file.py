"""/settings as a file: a chat's (or channel's) settings, follows, rules and watches as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType

from handlers.context import Context
from handlers.keyboards import parse_callback
from handlers.regions import CITIES
from handlers.render import check_callback_data, esc
from handlers.replies import answer_stale, lang_of_update, reply_text
from handlers.subscriptions import DIGEST_ORDERS, MAX_WATCHES, button_target
from handlers.targets import Target, ensure_chat, thread_of
from handlers.texts import text
from news.models import REGIONS
from news.nlp.keyword_rules import KeywordRuleError, parse_rule
from news.schedule import (
    MAX_DIGEST_TIMES,
    MAX_QUIET_MINUTES,
    join_times,
    next_due_of,
    parse_hhmm,
    parse_time_zone,
    quiet_span_minutes,
    split_times,
)

# What marks a file as ours, and the newest layout this bot reads and writes. Version 1 held
# one digest time, the language, follows and plain words; version 2 holds every chat setting.
FORMAT = "newsbot-settings"
VERSION = 2
# A chat's settings take a few kilobytes; anything much larger is not one of ours.
MAX_BYTES = 64 * 1024
MAX_ITEMS = 500
EXPORT_DATA = "sexp"
IMPORT_DATA = "simp"
# The confirmation offers this many of the user's channels besides the chat itself.
MAX_CHANNEL_BUTTONS = 8
WATCH_KINDS = ("source", "region")


class BadSettingsFile(ValueError):
    """A file that cannot be imported: the message says why, for the one-line answer."""


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """A checked file: language, digest (or None), own settings (none from version 1), follows."""

    language: str
    digest: dict[str, Any] | None
    follows: tuple[str, ...]
    keywords: tuple[str, ...]
    own: dict[str, Any] = field(default_factory=dict)
    watches: tuple[tuple[str, str], ...] = ()


async def export_settings(chat_id: int, context: Context) -> dict[str, Any]:
    """Return a chat's settings, follows, keyword rules and watches as the file's JSON object."""
    store = context.bot_data.store
    subs = store.subscriptions
    chat = await store.get_chat(chat_id)
    sub = await subs.subscription(chat_id)
    digest = None
    if sub is not None and sub.active:
        digest = {
            "times": list(split_times(sub.digest_time)),
            "time_zone": sub.time_zone,
            "weekdays_only": sub.weekdays_only,
            "channels": list(sub.channels),
            "send_empty": sub.send_empty,
        }
    quiet = None
    if chat is not None and chat.quiet_start and chat.quiet_end:
        quiet = {"start": chat.quiet_start, "end": chat.quiet_end}
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "language": chat.language if chat is not None else "zh",
        "digest": digest,
        "quiet_hours": quiet,
        "silent": chat.silent if chat is not None else False,
        "keyword_body": chat.keyword_body if chat is not None else False,
        "digest_order": chat.digest_order if chat is not None else DIGEST_ORDERS[0],
        "city": chat.city if chat is not None else "",
        "follows": [p.name for p in await subs.followed_people(chat_id)],
        # Rules as stored, which is how /keyword reads them back: "营商环境 沈阳 -招聘".
        "keywords": await subs.followed_keywords(chat_id),
        "watches": [{"kind": w.kind, "target": w.target} for w in await subs.watches(chat_id)],
    }


def _strings(value: Any, field: str, lang: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise BadSettingsFile(malformed(lang, field))
    if not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value):
        raise BadSettingsFile(malformed(lang, field))
    return tuple(dict.fromkeys(value))


def _flag(data: dict[str, Any], key: str, field: str, lang: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise BadSettingsFile(malformed(lang, field))
    return value


def malformed(lang: str, detail: str) -> str:
    """Return the reason for a file whose field `detail` is wrong."""
    return text(lang, "settings_import_malformed", detail=detail)


def _read_digest(digest: Any, version: int, lang: str) -> dict[str, Any] | None:
    """Check the digest part: its times (one string in version 1), zone, days and sources."""
    if digest is None:
        return None
    if not isinstance(digest, dict):
        raise BadSettingsFile(malformed(lang, "digest"))
    # Version 1 held the stored form, which is "08:00,18:00" for a chat with two digests.
    raw = digest.get("time") if version == 1 else digest.get("times")
    if version == 1:
        raw = split_times(raw) if isinstance(raw, str) else None
    field_name = "digest.time" if version == 1 else "digest.times"
    if not isinstance(raw, list | tuple) or not 0 < len(raw) <= MAX_DIGEST_TIMES:
        raise BadSettingsFile(malformed(lang, field_name))
    times = [parse_hhmm(t) if isinstance(t, str) else None for t in raw]
    if not all(times):
        raise BadSettingsFile(malformed(lang, field_name))
    zone = digest.get("time_zone")
    if not isinstance(zone, str) or parse_time_zone(zone) is None:
        raise BadSettingsFile(malformed(lang, "digest.time_zone"))
    return {
        "times": sorted({str(t) for t in times}),
        "time_zone": zone,
        "weekdays_only": _flag(digest, "weekdays_only", "digest.weekdays_only", lang),
        "channels": list(_strings(digest.get("channels", []), "digest.channels", lang)),
        "send_empty": _flag(digest, "send_empty", "digest.send_empty", lang),
    }


def _read_own(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """Check the chat's own settings (version 2): quiet hours, sound, scope, order, city."""
    quiet = data.get("quiet_hours")
    start = end = ""
    if quiet is not None:
        if not isinstance(quiet, dict):
            raise BadSettingsFile(malformed(lang, "quiet_hours"))
        raw_start, raw_end = quiet.get("start"), quiet.get("end")
        parsed_start = parse_hhmm(raw_start) if isinstance(raw_start, str) else None
        parsed_end = parse_hhmm(raw_end) if isinstance(raw_end, str) else None
        # The same limits as /quiet: two different times, at most MAX_QUIET_MINUTES apart.
        if (
            parsed_start is None
            or parsed_end is None
            or parsed_start == parsed_end
            or quiet_span_minutes(parsed_start, parsed_end) > MAX_QUIET_MINUTES
        ):
            raise BadSettingsFile(malformed(lang, "quiet_hours"))
        start, end = parsed_start, parsed_end
    order = data.get("digest_order", DIGEST_ORDERS[0])
    if order not in DIGEST_ORDERS:
        raise BadSettingsFile(malformed(lang, "digest_order"))
    city = data.get("city", "")
    if city != "" and city not in CITIES:
        raise BadSettingsFile(malformed(lang, "city"))
    return {
        "quiet_start": start,
        "quiet_end": end,
        "silent": _flag(data, "silent", "silent", lang),
        "keyword_body": _flag(data, "keyword_body", "keyword_body", lang),
        "digest_order": order,
        "city": city,
    }


def _read_rules(value: Any, lang: str) -> tuple[str, ...]:
    """Check each keyword rule as /keyword would; return them in their stored form."""
    rules: list[str] = []
    for raw in _strings(value, "keywords", lang):
        try:
            rules.append(parse_rule(raw).text)
        except KeywordRuleError:
            raise BadSettingsFile(malformed(lang, f"keywords: {raw}")) from None
    return tuple(dict.fromkeys(rules))


def _read_watches(value: Any, lang: str) -> tuple[tuple[str, str], ...]:
    """Check the watches: each a source's name or a region, at most MAX_WATCHES."""
    if not isinstance(value, list) or len(value) > MAX_WATCHES:
        raise BadSettingsFile(malformed(lang, "watches"))
    watches: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise BadSettingsFile(malformed(lang, "watches"))
        kind, target = item.get("kind"), item.get("target")
        if kind not in WATCH_KINDS or not isinstance(target, str) or not 0 < len(target) <= 100:
            raise BadSettingsFile(malformed(lang, "watches"))
        watches.append((kind, target))
    return tuple(dict.fromkeys(watches))


def read_settings(content: bytes, lang: str) -> ChatSettings:
    """Parse and check a settings file; raise BadSettingsFile (with the reason) otherwise."""
    if len(content) > MAX_BYTES:
        raise BadSettingsFile(text(lang, "settings_import_too_big", max=MAX_BYTES // 1024))
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadSettingsFile(text(lang, "settings_import_not_ours")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadSettingsFile(text(lang, "settings_import_not_ours"))
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadSettingsFile(malformed(lang, "version"))
    if version > VERSION:
        raise BadSettingsFile(text(lang, "settings_import_newer", version=version))
    language = data.get("language", "zh")
    if language not in ("zh", "en"):
        raise BadSettingsFile(malformed(lang, "language"))
    digest = _read_digest(data.get("digest"), version, lang)
    if version == 1:  # plain words then, each one rule of one word now
        return ChatSettings(
            language,
            digest,
            _strings(data.get("follows", []), "follows", lang),
            _read_rules(data.get("keywords", []), lang),
        )
    return ChatSettings(
        language,
        digest,
        _strings(data.get("follows", []), "follows", lang),
        _read_rules(data.get("keywords", []), lang),
        _read_own(data, lang),
        _read_watches(data.get("watches", []), lang),
    )


def summary_line(lang: str, settings: ChatSettings, skipped: Sequence[str] = ()) -> str:
    """Return 摘要 08:00、18:00 Asia/Shanghai；关注领导 2 位；关键词 1 个；来源/地区 1 个."""
    digest = settings.digest
    shown = (
        "、".join(digest["times"])
        + f" {digest['time_zone']}"
        + (text(lang, "weekdays_only_note") if digest["weekdays_only"] else "")
        if digest
        else text(lang, "settings_import_no_digest")
    )
    line = text(
        lang,
        "settings_import_summary",
        digest=shown,
        people=len(settings.follows),
        words=len(settings.keywords),
        watches=len(settings.watches),
    )
    if skipped:
        names = "、".join(skipped[:10]) + ("…" if len(skipped) > 10 else "")
        line += text(lang, "settings_import_skipped", names=names)
    return line


def _chat_ref(update: Update, prefix: str) -> tuple[bool, str | None]:
    """Return whether a press is ours, and the channel it names ("sexp:-100…"), if any."""
    query = update.callback_query
    data = query.data if query is not None else None
    if data == prefix:
        return True, None
    args = parse_callback(data, prefix, 1)
    if args is None or not args[0].lstrip("-").isdigit():
        return False, None
    return True, args[0]


async def cb_settings_export(update: Update, context: Context) -> None:
    """Send the chat's (or a managed channel's) settings as a JSON file."""
    lang = lang_of_update(update)
    query = update.callback_query
    message = update.effective_message
    chat = update.effective_chat
    ours, ref = _chat_ref(update, EXPORT_DATA)
    if query is None or message is None or chat is None or not ours:
        await answer_stale(update, text(lang, "stale"))
        return
    # Anyone in a chat may read its settings (the card shows them); a channel's only as the
    # card's other buttons allow, to a managing administrator.
    target = await button_target(update, context, ref) if ref else Target(chat.id)
    if target is None:
        await answer_stale(update, text(lang, "not_allowed"))
        return
    await query.answer()
    data = await export_settings(target.chat_id, context)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    await message.reply_document(
        InputFile(content, filename=f"newsbot-settings-{target.chat_id}-{stamp}.json"),
        caption=text(lang, "settings_export_caption"),
        do_quote=False,
    )


async def _download(update: Update, context: Context) -> bytes | None:
    """Return the bytes of the document a message (or the one it answers) carries."""
    message = update.effective_message
    if message is None:
        return None
    if update.callback_query is not None:
        message = message.reply_to_message  # the confirmation answers the file's message
        if message is None:
            return None
    document = message.document
    if document is None:
        return None
    if document.file_size is not None and document.file_size > MAX_BYTES:
        raise BadSettingsFile(
            text(lang_of_update(update), "settings_import_too_big", max=MAX_BYTES // 1024)
        )
    file = await context.bot.get_file(document.file_id)
    return bytes(await file.download_as_bytearray())


async def _import_buttons(
    update: Update, context: Context, lang: str
) -> list[list[InlineKeyboardButton]]:
    """Return 确认导入 for this chat and, in a private chat, one for each channel managed."""
    rows = [
        [
            InlineKeyboardButton(
                text(lang, "settings_import_button"),
                callback_data=check_callback_data(IMPORT_DATA),
            )
        ]
    ]
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return rows
    channels = await context.bot_data.store.channels_of_user(user.id)
    for channel in channels[:MAX_CHANNEL_BUTTONS]:
        label = text(lang, "settings_import_to_channel", channel=channel.title or channel.id)
        data = check_callback_data(f"{IMPORT_DATA}:{channel.id}")
        rows.append([InlineKeyboardButton(label[:64], callback_data=data)])
    return rows


async def on_settings_file(update: Update, context: Context) -> None:
    """Read a file sent to the bot as exported settings; ask before importing them."""
    lang = lang_of_update(update)
    message = update.effective_message
    chat = update.effective_chat
    if message is None or message.document is None or chat is None:
        return
    # In a group people share files with each other: only a .json there is taken for ours.
    name = (message.document.file_name or "").lower()
    if chat.type != "private" and not name.endswith(".json"):
        return
    try:
        content = await _download(update, context)
        if content is None:
            return
        settings = read_settings(content, lang)
    except BadSettingsFile as exc:
        await reply_text(update, esc(text(lang, "settings_import_bad", why=str(exc))))
        return
    # A reply to the file: the button reads the file again, so nothing waits in memory.
    await message.reply_text(
        text(lang, "settings_import_confirm", summary=summary_line(lang, settings)),
        reply_markup=InlineKeyboardMarkup(await _import_buttons(update, context, lang)),
        do_quote=True,
    )


async def cb_settings_import(update: Update, context: Context) -> None:
    """Import the settings file the confirmation answers, into this chat or a managed channel."""
    lang = lang_of_update(update)
    query = update.callback_query
    chat = update.effective_chat
    ours, ref = _chat_ref(update, IMPORT_DATA)
    if query is None or chat is None or not ours:
        await answer_stale(update, text(lang, "stale"))
        return
    target = await button_target(update, context, ref)
    if target is None:
        await answer_stale(update, text(lang, "not_allowed" if ref else "group_admins_only"))
        return
    try:
        content = await _download(update, context)
        if content is None:
            await answer_stale(update, text(lang, "stale"))
            return
        settings = read_settings(content, lang)
    except BadSettingsFile as exc:
        await answer_stale(update, text(lang, "settings_import_bad", why=str(exc)))
        return
    if ref is None:
        await ensure_chat(update, context)
    thread = None if ref else thread_of(update)
    plan = await plan_import(target.chat_id, settings, context, target.is_channel)
    await apply_settings(target.chat_id, plan, thread, context)
    await query.answer()
    done = text(lang, "settings_import_done", summary=summary_line(lang, settings, plan.skipped))
    if plan.over_cap:
        names = "、".join(plan.over_cap)
        done += text(lang, "settings_import_over_cap", max=MAX_WATCHES, names=names)
    where = text(lang, "channel_subject", channel=target.label) if target.is_channel else ""
    await query.edit_message_text(esc(where + done), parse_mode="HTML")


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A checked file resolved against this bot: what to write, and what it does not know."""

    settings: ChatSettings
    channels: tuple[str, ...]
    people: tuple[int, ...]
    watches: tuple[tuple[str, str], ...]
    skipped: tuple[str, ...]  # unknown to this bot
    over_cap: tuple[str, ...] = ()  # watches past MAX_WATCHES


async def plan_import(
    chat_id: int, settings: ChatSettings, context: Context, every_source: bool = False
) -> ImportPlan:
    """Resolve sources, people and watches before anything is written (nothing half-applied)."""
    store = context.bot_data.store
    sources = {s.name for s in context.bot_data.sources}
    skipped: list[str] = []
    channels: tuple[str, ...] = ()
    # A channel's digest takes every source (its card has no source picker to undo a choice).
    if settings.digest is not None and not every_source:
        channels = tuple(c for c in settings.digest["channels"] if c in sources)
        skipped += [c for c in settings.digest["channels"] if c not in sources]
    people: list[int] = []
    for name in settings.follows:
        person = await store.person_by_name(name)
        if person is None:
            skipped.append(name)
        else:
            people.append(person.id)
    have = {(w.kind, w.target) for w in await store.subscriptions.watches(chat_id)}
    watches: list[tuple[str, str]] = []
    over_cap: list[str] = []
    for kind, target in settings.watches:
        if not (target in REGIONS if kind == "region" else target in sources):
            skipped.append(target)
        elif (kind, target) not in have and len(have | set(watches)) >= MAX_WATCHES:
            over_cap.append(target)  # the /watch cap holds here too
        else:
            watches.append((kind, target))
    return ImportPlan(
        settings,
        channels,
        tuple(people),
        tuple(watches),
        tuple(dict.fromkeys(skipped)),
        tuple(over_cap),
    )


async def apply_settings(
    chat_id: int, plan: ImportPlan, thread_id: int | None, context: Context
) -> None:
    """Write a resolved file through the store methods the commands use."""
    store = context.bot_data.store
    subs = store.subscriptions
    settings = plan.settings
    await store.set_chat_language(chat_id, settings.language)
    digest = settings.digest
    if digest is not None:
        zone = parse_time_zone(digest["time_zone"])
        assert zone is not None
        times, weekdays = digest["times"], digest["weekdays_only"]
        due = next_due_of(datetime.now(UTC), times, zone, weekdays)
        await subs.subscribe(chat_id, join_times(times), zone.key, due, thread_id, weekdays)
        await subs.update_subscription(
            chat_id, channels=plan.channels, send_empty=digest["send_empty"]
        )
        await store.set_chat_time_zone(chat_id, zone.key)
    elif settings.own:  # a whole (version 2) file without a digest: the chat has none either
        await subs.unsubscribe(chat_id)
    if settings.own:
        await store.set_chat_settings(chat_id, **settings.own)
    for person_id in plan.people:
        await subs.follow(chat_id, person_id, thread_id)
    for rule in settings.keywords:
        await subs.follow_keyword(chat_id, rule, thread_id)
    for kind, target in plan.watches:
        await subs.watch(chat_id, kind, target, thread_id)
