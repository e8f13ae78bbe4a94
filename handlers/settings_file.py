"""/settings as a file: export a chat's settings, follows and keywords as JSON; import them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from handlers.context import Context
from handlers.render import check_callback_data, esc
from handlers.replies import answer_stale, lang_of_update, reply_text
from handlers.targets import ensure_chat, may_change, thread_of
from handlers.texts import text
from news.nlp.fold import search_form
from news.schedule import next_due, parse_hhmm, parse_time_zone

# What marks a file as ours, and the newest layout this bot reads and writes.
FORMAT = "newsbot-settings"
VERSION = 1
# A chat's settings take a few kilobytes; anything much larger is not one of ours.
MAX_BYTES = 64 * 1024
MAX_ITEMS = 500
EXPORT_DATA = "sexp"
IMPORT_DATA = "simp"


class BadSettingsFile(ValueError):
    """A file that cannot be imported: the message says why, for the one-line answer."""


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What a settings file carries: language, the digest (or None), people and words."""

    language: str
    digest: dict[str, Any] | None
    follows: tuple[str, ...]
    keywords: tuple[str, ...]


async def export_settings(chat_id: int, context: Context) -> dict[str, Any]:
    """Return a chat's settings, follows and keywords as the file's JSON object."""
    store = context.bot_data.store
    chat = await store.get_chat(chat_id)
    sub = await store.subscriptions.subscription(chat_id)
    digest = None
    if sub is not None and sub.active:
        digest = {
            "time": sub.digest_time,
            "time_zone": sub.time_zone,
            "channels": list(sub.channels),
            "send_empty": sub.send_empty,
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "language": chat.language if chat is not None else "zh",
        "digest": digest,
        "follows": [p.name for p in await store.subscriptions.followed_people(chat_id)],
        "keywords": await store.subscriptions.followed_keywords(chat_id),
    }


def _strings(value: Any, field: str, lang: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise BadSettingsFile(malformed(lang, field))
    if not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value):
        raise BadSettingsFile(malformed(lang, field))
    return tuple(dict.fromkeys(value))


def malformed(lang: str, detail: str) -> str:
    """Return the reason for a file whose field `detail` is wrong."""
    return text(lang, "settings_import_malformed", detail=detail)


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
    digest = data.get("digest")
    if digest is not None:
        if not isinstance(digest, dict):
            raise BadSettingsFile(malformed(lang, "digest"))
        hhmm = digest.get("time")
        zone = digest.get("time_zone")
        if not isinstance(hhmm, str) or parse_hhmm(hhmm) is None:
            raise BadSettingsFile(malformed(lang, "digest.time"))
        if not isinstance(zone, str) or parse_time_zone(zone) is None:
            raise BadSettingsFile(malformed(lang, "digest.time_zone"))
        if not isinstance(digest.get("send_empty", False), bool):
            raise BadSettingsFile(malformed(lang, "digest.send_empty"))
        digest = {
            "time": hhmm,
            "time_zone": zone,
            "channels": list(_strings(digest.get("channels", []), "digest.channels", lang)),
            "send_empty": bool(digest.get("send_empty", False)),
        }
    return ChatSettings(
        language,
        digest,
        _strings(data.get("follows", []), "follows", lang),
        _strings(data.get("keywords", []), "keywords", lang),
    )


def summary_line(lang: str, settings: ChatSettings) -> str:
    """Return 摘要 08:00 Asia/Shanghai；关注领导 2 位；关键词 1 个."""
    digest = (
        f"{settings.digest['time']} {settings.digest['time_zone']}"
        if settings.digest
        else text(lang, "settings_import_no_digest")
    )
    return text(
        lang,
        "settings_import_summary",
        digest=digest,
        people=len(settings.follows),
        words=len(settings.keywords),
    )


async def cb_settings_export(update: Update, context: Context) -> None:
    """Send the chat's settings, follows and keywords as a JSON file."""
    lang = lang_of_update(update)
    query = update.callback_query
    message = update.effective_message
    chat = update.effective_chat
    if query is None or message is None or chat is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await query.answer()
    data = await export_settings(chat.id, context)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    await message.reply_document(
        InputFile(content, filename=f"newsbot-settings-{chat.id}-{stamp}.json"),
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
    button = InlineKeyboardButton(
        text(lang, "settings_import_button"), callback_data=check_callback_data(IMPORT_DATA)
    )
    # A reply to the file: the button reads the file again, so nothing waits in memory.
    await message.reply_text(
        text(lang, "settings_import_confirm", summary=summary_line(lang, settings)),
        reply_markup=InlineKeyboardMarkup([[button]]),
        do_quote=True,
    )


async def cb_settings_import(update: Update, context: Context) -> None:
    """Import the settings file the confirmation answers (the chat's admins only in groups)."""
    lang = lang_of_update(update)
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    if not await may_change(update, context):
        await answer_stale(update, text(lang, "group_admins_only"))
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
    await ensure_chat(update, context)
    await apply_settings(chat.id, settings, update, context)
    await query.answer()
    done = text(lang, "settings_import_done", summary=summary_line(lang, settings))
    await query.edit_message_text(esc(done), parse_mode="HTML")


async def apply_settings(
    chat_id: int, settings: ChatSettings, update: Update, context: Context
) -> None:
    """Set the chat's language and digest, and add its follows and keywords."""
    store = context.bot_data.store
    subs = store.subscriptions
    await store.set_chat_language(chat_id, settings.language)
    if settings.digest is not None:
        zone = parse_time_zone(settings.digest["time_zone"])
        assert zone is not None
        hhmm = settings.digest["time"]
        due = next_due(datetime.now(UTC), hhmm, zone)
        await subs.subscribe(chat_id, hhmm, zone.key, due, thread_of(update))
        known = {s.name for s in context.bot_data.sources}
        channels = tuple(c for c in settings.digest["channels"] if c in known)
        await subs.update_subscription(
            chat_id, channels=channels, send_empty=settings.digest["send_empty"]
        )
        await store.set_chat_time_zone(chat_id, zone.key)
    for name in settings.follows:
        person = await store.person_by_name(name)
        if person is not None:
            await subs.follow(chat_id, person.id, thread_of(update))
    for word in settings.keywords:
        await subs.follow_keyword(chat_id, search_form(word), thread_of(update))
