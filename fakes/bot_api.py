"""A strict fake Telegram Bot API server for end-to-end tests.

The server speaks enough of the Bot API (https://core.telegram.org/bots/api) for the real
python-telegram-bot ``Application`` to long-poll against it, and it is deliberately *stricter*
than lenient mocks: HTML is parsed with Telegram's rules, limits are enforced, flood control
answers 429 and every call is recorded for assertions.

Typical use::

    async with FakeBotApi("123456:TEST") as api:
        app = Application.builder().token("123456:TEST").base_url(f"{api.root_url}/bot").build()
        ...
        api.push_text(42, "/start")
        [reply] = await api.wait_for_messages(42, 1)

Run standalone (for demos and benchmarks) with
``python -m fakes.bot_api --token T --port P``; see ``/_fake/*`` control endpoints below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import itertools
import json
import logging
import math
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp
from aiohttp import web

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
MethodHandler = Callable[[JSONDict], Awaitable[Any]]
MessageKind = Literal["send", "edit"]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_INLINE_RESULTS = 50
MAX_INLINE_ID_BYTES = 64
MAX_INLINE_QUERY_LENGTH = 256
_START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INLINE_RESULT_TYPES = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
DEFAULT_BOT_USERNAME = "newsbot_test_bot"

# Telegram trims these around message text (after entity parsing); Unicode spaces such as
# U+3000, common at the start of Chinese paragraphs, are kept.
_TRIM_CHARS = " \t\n\r\v\f"

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``) with its HTTP status."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def payload(self) -> JSONDict:
        """Return the JSON body Telegram would send for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str, parameters: Mapping[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html` with a Telegram-like reason (``Unsupported start tag ...``)."""


# ---------------------------------------------------------------------------------------------
# Telegram's HTML parse mode
# ---------------------------------------------------------------------------------------------

ALLOWED_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)
_SIMPLE_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_URL_RE = re.compile(r"^(?:(?:https?|tg|ton)://\S+|[\w.-]+\.[a-z]{2,}(?:[/?#]\S*)?)$", re.I)


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_start: int
    piece_start: int
    byte_offset: int
    language: str = ""


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at ``text[pos] == '&'`` the way TDLib does; None if it is not one."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits, base = text[start:end], 16
        else:
            start = end
            while end < n and text[end].isascii() and text[end].isdigit():
                end += 1
            digits, base = text[start:end], 10
        if not digits or end - pos >= 10:
            return None
        code = int(digits, base)
        # TDLib refuses NUL and anything past the Unicode range; surrogates can't be encoded.
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        return char, end + 1
    return char, end


def _strict_entity_error(text: str, pos: int) -> HtmlParseError:
    """Explain why strict mode refuses the ``&`` at ``text[pos]``."""
    offset = _byte_offset(text, pos)
    match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+)(;?)", text[pos:])
    if match and match.group(2):
        return HtmlParseError(f'Unsupported HTML entity "{match.group(0)}" at byte offset {offset}')
    if match and _decode_html_entity(text, pos) is not None:
        return HtmlParseError(
            f'Unterminated HTML entity "{match.group(0)}" at byte offset {offset}'
        )
    return HtmlParseError(f'Character "&" at byte offset {offset} must be escaped as "&amp;"')


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (plain text, entities) or raise :class:`HtmlParseError`.

    Follows TDLib's ``parse_html``: the same tags, attributes, entity decoding and error
    reasons (with UTF-8 byte offsets). ``strict=True`` additionally rejects what Telegram
    silently keeps literally: unknown entities (``&nbsp;``), a bare ``&`` and entities without
    the trailing ``;``. Whitespace trimming and length checks are done by the caller.
    """
    n = len(text)
    pieces: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None and (not strict or text[decoded[1] - 1] == ";"):
                pieces.append(decoded[0])
                utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise _strict_entity_error(text, i)
        if char != "<":
            pieces.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        begin_bytes = _byte_offset(text, begin)
        i += 1
        if i >= n or text[i] != "/":
            i = _parse_start_tag(text, i, begin_bytes, stack, utf16, len(pieces), strict)
            continue

        # An end tag: </name> (the name may be omitted, as TDLib allows "</>").
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin_bytes}")
        i += 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        end_name = text[name_start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin_bytes}")
        i += 1
        tag = stack.pop()
        if end_name and end_name.lower() != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {begin_bytes}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        _close_tag(tag, stack, pieces, utf16, entities)

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(pieces), entities


def _parse_start_tag(
    text: str,
    i: int,
    begin_bytes: int,
    stack: list[_OpenTag],
    utf16: int,
    piece_count: int,
    strict: bool,
) -> int:
    """Parse ``<name attr=...>`` starting after ``<``; push it and return the index after ``>``."""
    n = len(text)
    name_start = i
    while i < n and not text[i].isspace() and text[i] != ">":
        i += 1
    if i >= n:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
    name = text[name_start:i].lower()
    if name not in ALLOWED_HTML_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {begin_bytes}')

    argument = ""
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
        if text[i] == ">":
            break
        attr_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        attr = text[attr_start:i].lower()
        if not attr:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{name}" at byte offset {begin_bytes}'
            )
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
        if text[i] != "=":
            if name == "blockquote" and attr == "expandable":
                argument = "expandable"
                continue
            raise HtmlParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {begin_bytes}'
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
        if text[i] not in "'\"":
            # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
            token_start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None and (not strict or text[decoded[1] - 1] == ";"):
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                    if strict:
                        raise _strict_entity_error(text, i)
                chars.append(text[i])
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            i += 1
            value = "".join(chars)

        if name == "a" and attr == "href":
            argument = value
        elif name == "code" and attr == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif name == "span" and attr == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif name == "tg-emoji" and attr == "emoji-id":
            argument = value
        # Other attributes are ignored, as Telegram does.

    if name == "span" and argument != "spoiler":
        raise HtmlParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
        )
    stack.append(_OpenTag(name, argument, utf16, piece_count, begin_bytes))
    return i + 1


def _close_tag(
    tag: _OpenTag,
    stack: list[_OpenTag],
    pieces: list[str],
    utf16: int,
    entities: list[JSONDict],
) -> None:
    """Turn a closed tag into an entity (Telegram drops empty ones)."""
    length = utf16 - tag.utf16_start
    if tag.name == "tg-emoji" and (not tag.argument.isdigit() or int(tag.argument) == 0):
        raise HtmlParseError("Invalid custom emoji identifier specified")
    # <pre><code class="language-x"> sets the language of the enclosing pre entity.
    if (
        tag.name == "code"
        and tag.argument
        and stack
        and stack[-1].name == "pre"
        and stack[-1].utf16_start == tag.utf16_start
    ):
        stack[-1].language = tag.argument
        return
    if length <= 0:
        return
    entity: JSONDict = {"offset": tag.utf16_start, "length": length}
    if tag.name in _SIMPLE_TAG_ENTITY:
        entity["type"] = _SIMPLE_TAG_ENTITY[tag.name]
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    else:  # "a"
        url = tag.argument or "".join(pieces[tag.piece_start :])
        # Telegram silently drops links whose URL it can't parse instead of failing.
        if not _URL_RE.match(url.strip()):
            return
        entity["type"] = "text_link"
        entity["url"] = url.strip()
    entities.append(entity)


def trim_text(text: str, entities: Iterable[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim leading/trailing whitespace like Telegram does, shifting and clipping entities."""
    left = text.lstrip(_TRIM_CHARS)
    lead16 = utf16_len(text) - utf16_len(left)
    result = left.rstrip(_TRIM_CHARS)
    total16 = utf16_len(result)
    trimmed: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead16, 0)
        end = min(entity["offset"] + entity["length"] - lead16, total16)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return result, trimmed


# ---------------------------------------------------------------------------------------------
# Decoding request parameters
# ---------------------------------------------------------------------------------------------

# PTB's HTTPXRequest sends str values verbatim and JSON-encodes everything else, so on the wire
# text="123" and chat_id=123 look the same: decoding must be per field, as Telegram's is.
_JSON_FIELDS = frozenset(
    {
        "button",
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "scope",
        "media",
        "menu_button",
        "results",
        "options",
        "permissions",
        "message_ids",
        "rights",
        "reaction",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "until_date",
        "max_connections",
        "direct_messages_topic_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "show_alert",
        "is_personal",
        "drop_pending_updates",
        "allow_paid_broadcast",
        "only_if_banned",
        "for_channels",
    }
)


def decode_param(name: str, value: Any) -> Any:
    """Decode one request parameter (a form string or a JSON value) to its Bot API type."""
    if name in _JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # the method reports it with its own Telegram-like message
    if name in _INT_FIELDS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
        return value
    if name in _BOOL_FIELDS and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
    return value


async def _read_params(request: web.Request) -> JSONDict:
    """Merge query-string and body parameters (urlencoded, multipart or JSON)."""
    raw: JSONDict = dict(request.query)
    if request.method != "GET" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise _bad_request("can't parse JSON object")
            raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    raw[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": len(content),
                        "content": content,  # taken out before the call is recorded
                    }
                else:
                    raw[key] = value
    return {key: decode_param(key, value) for key, value in raw.items()}


def _without_file_contents(params: JSONDict) -> JSONDict:
    """Return params with uploaded files' bytes left out (records keep their size and name)."""
    return {
        key: {k: v for k, v in value.items() if k != "content"}
        if isinstance(value, dict) and "content" in value
        else value
        for key, value in params.items()
    }


def png_size(content: bytes) -> tuple[int, int] | None:
    """Return a PNG's (width, height) from its IHDR chunk, or None if it is no PNG."""
    if len(content) < 24 or content[:8] != b"\x89PNG\r\n\x1a\n" or content[12:16] != b"IHDR":
        return None
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """Return a JPEG's (width, height) from its first SOF marker, or None if it is no JPEG."""
    if content[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 < len(content):
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        length = int.from_bytes(content[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(content[pos + 5 : pos + 7], "big")
            width = int.from_bytes(content[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    return None


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One Bot API call as the server saw it."""

    method: str
    params: JSONDict
    status: int
    response: JSONDict
    http_method: str
    time: float
    monotonic: float


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A successful sendMessage (``kind="send"``) or message edit (``kind="edit"``)."""

    kind: MessageKind
    method: str
    chat_id: int
    message_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    entities: list[JSONDict]
    reply_markup: JSONDict | None
    message_thread_id: int | None
    params: JSONDict
    time: float
    photo: list[JSONDict] | None = None  # sendPhoto: the PhotoSize list; text is the caption

    def to_dict(self) -> JSONDict:
        """Return a JSON-serialisable dict of this record."""
        return asdict(self)


@dataclass(slots=True)
class FakeChat:
    """A chat the fake knows about; unknown chat ids get a default derived from the id."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False

    def to_dict(self) -> JSONDict:
        """Return the Bot API ``Chat`` object."""
        chat: JSONDict = {"id": self.id, "type": self.type}
        if self.title is not None:
            chat["title"] = self.title
        if self.first_name is not None:
            chat["first_name"] = self.first_name
        if self.username is not None:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat


@dataclass(slots=True)
class RateLimits:
    """Flood-control settings; set a field to None to disable that limit."""

    global_rate: float | None = 30.0
    group_per_minute: float | None = 20.0
    private_rate: float | None = 1.0
    private_burst: float = 5.0
    methods: frozenset[str] = frozenset({"sendMessage"})


@dataclass(slots=True)
class _InjectedFailure:
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int


class _Waiters:
    """Futures of coroutines waiting for state changes, possibly on other event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (re-checked on every notify) or the timeout ends."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            item = (loop, future)
            # Register before checking so a notify between the check and the await isn't lost.
            with self._lock:
                self._items.add(item)
            try:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, remaining)
            finally:
                with self._lock:
                    self._items.discard(item)

    def notify_all(self) -> None:
        """Wake every waiter; safe to call from any thread."""
        with self._lock:
            items = list(self._items)
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, future in items:
            if loop is current:
                _resolve(future)
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_IN_TEXT_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# What an empty allowed_updates list means: every type except these opt-in ones.
_DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"  # noqa: E501
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class FakeBotApi:
    """A strict, recording fake of the Telegram Bot API served over HTTP on 127.0.0.1."""

    def __init__(
        self,
        token: str,
        *,
        global_rate: float | None = 30.0,
        group_per_minute: float | None = 20.0,
        private_rate: float | None = 1.0,
        private_burst: float = 5.0,
        rate_limited_methods: Iterable[str] = ("sendMessage",),
        strict_html: bool = True,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = "Newsbot Test",
        default_member_status: str = "administrator",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the fake; nothing listens until :meth:`start` (or ``run_in_thread``).

        ``global_rate`` is messages per sliding 1 s window across all chats,
        ``group_per_minute`` per chat with a negative id per sliding 60 s window, and private
        chats get a token bucket refilled at ``private_rate``/s holding ``private_burst``.
        Pass None to disable a limit. ``clock`` lets tests drive flood control by hand.
        """
        self.token = token
        self.limits = RateLimits(
            global_rate=global_rate,
            group_per_minute=group_per_minute,
            private_rate=private_rate,
            private_burst=private_burst,
            methods=frozenset(rate_limited_methods),
        )
        self.strict_html = strict_html
        self.default_member_status = default_member_status
        self._host = host
        self._port = port
        self._clock = clock
        bot_id_text = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(bot_id_text) if bot_id_text.isdigit() else 7_000_000_001,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # Handlers run on the server's loop while tests may push/read from another thread.
        self._lock = threading.RLock()
        self._waiters = _Waiters()
        self.calls: list[RecordedCall] = []
        self.sent_messages: list[SentMessage] = []
        self.deleted_messages: list[tuple[int, int]] = []
        self.callback_answers: dict[str, JSONDict] = {}
        # Inline mode: queries pushed and not answered yet, and each answer by query id.
        self.inline_answers: dict[str, JSONDict] = {}
        self._pending_inline: dict[str, JSONDict] = {}
        self._inline_ids = itertools.count(5_000_000_000_000_000_001)
        # Uploaded files by the file_id handed back (sendPhoto), for resends and assertions.
        self.files: dict[str, bytes] = {}
        self._file_ids = itertools.count(1)
        self._pending_callbacks: set[str] = set()
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._bot_messages: set[tuple[int, int]] = set()
        self._next_message_id: dict[int, int] = {}
        self._updates: deque[JSONDict] = deque()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._chats: dict[int, FakeChat] = {}
        self._blocked: set[int] = set()
        self._not_found: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._members: dict[tuple[int, int], JSONDict] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._failures: dict[str, deque[_InjectedFailure]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        # Where webhook updates really go: the instances behind a load balancer, taken in
        # turn (a failed POST is retried on the next one). Empty: POST to webhook_url itself.
        self.webhook_targets: list[str] = []
        self.webhook_posts: list[tuple[str, int, int]] = []  # (target, update_id, HTTP status)
        self._next_target = 0
        self._pump: asyncio.Task[None] | None = None
        self.rate_limited_count = 0
        self.conflict_count = 0
        self._global_window: deque[float] = deque()
        self._group_windows: dict[int, deque[float]] = {}
        self._private_buckets: dict[int, tuple[float, float]] = {}

        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._true,
            "setMyShortDescription": self._true,
            "setMyName": self._true,
            "setChatMenuButton": self._true,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "answerInlineQuery": self._answer_inline_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }.items():
            self.register_method(name, handler)

        self._runner: web.AppRunner | None = None
        self._closing = False
        self._root_url: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``; the bot's base url is ``f"{root_url}/bot"``."""
        if self._root_url is None:
            raise RuntimeError("FakeBotApi is not running")
        return self._root_url

    @property
    def base_url(self) -> str:
        """The value for PTB's ``base_url``: ``f"{root_url}/bot"``."""
        return f"{self.root_url}/bot"

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self.root_url.rsplit(":", 1)[1])

    async def start(self) -> None:
        """Start listening (on a free port unless one was given)."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/_fake/{action}", self._handle_control)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None: aiohttp's access log prints the request path, which holds the token.
        # handler_cancellation: a long poll whose client went away must not linger.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=5.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._closing = False
        host, port = runner.addresses[0][:2]
        self._root_url = f"http://{host}:{port}"
        self._port = port  # a restart after stop() listens where the bot looks
        self._pump = asyncio.create_task(self._pump_webhook())
        logger.info("Fake Bot API listening on %s", self._root_url)

    async def stop(self) -> None:
        """Answer pending long polls with no updates, close all connections and stop."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._waiters.notify_all()
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        await runner.cleanup()
        logger.info("Fake Bot API on %s stopped", self._root_url)

    async def __aenter__(self) -> Self:
        """Start the server on the current event loop."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    def run_in_thread(self, timeout: float = 10.0) -> str:
        """Serve from a daemon thread with its own event loop; return root_url once listening."""
        if self._thread is not None:
            raise RuntimeError("FakeBotApi already runs in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=serve, name="FakeBotApi", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("FakeBotApi did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self.root_url

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with :meth:`run_in_thread` and join its thread."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError("FakeBotApi thread did not stop in time")
        self._thread = None
        self._thread_loop = None

    def __enter__(self) -> Self:
        """Run in a background thread (for synchronous callers and benchmarks)."""
        self.run_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the background thread."""
        self.stop_thread()

    # -- configuration -----------------------------------------------------------------------

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add or replace a Bot API method; names are case-insensitive as in Telegram."""
        self._methods[name.lower()] = (name, handler)

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str | None = None,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> FakeChat:
        """Register a chat explicitly (otherwise one is derived from the id's sign)."""
        chat = self._default_chat(chat_id)
        if type is not None:
            chat.type = type
            if type == "private":
                chat.title = None
                chat.first_name = chat.first_name or f"User {chat_id}"
            else:
                chat.first_name = None
                chat.title = chat.title or f"Chat {chat_id}"
        if title is not None:
            chat.title = title
        if first_name is not None:
            chat.first_name = first_name
        chat.username = username
        chat.is_forum = is_forum
        with self._lock:
            self._chats[chat_id] = chat
        return chat

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        """Make sends to ``chat_id`` fail with 403 (user blocked the bot / bot kicked)."""
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    def set_chat_not_found(self, chat_id: int, not_found: bool = True) -> None:
        """Make every call about ``chat_id`` fail with 400 ``chat not found``."""
        with self._lock:
            (self._not_found.add if not_found else self._not_found.discard)(chat_id)

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """Make calls about group ``chat_id`` fail with ``migrate_to_chat_id`` = new_chat_id."""
        with self._lock:
            self._migrated[chat_id] = new_chat_id

    def reset_chat(self, chat_id: int) -> None:
        """Undo block/not-found/migration marks on ``chat_id``."""
        with self._lock:
            self._blocked.discard(chat_id)
            self._not_found.discard(chat_id)
            self._migrated.pop(chat_id, None)

    def set_chat_member(self, chat_id: int, user_id: int, status: str, **fields: Any) -> None:
        """Configure getChatMember for (chat, user): creator, administrator, member, ... ."""
        member = self._member_dict(status, self._user_dict(user_id))
        member.update(fields)
        with self._lock:
            self._members[(chat_id, user_id)] = member

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 500,
        description: str = "Internal Server Error",
        parameters: Mapping[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with the given error."""
        failure = _InjectedFailure(
            error_code, description, dict(parameters) if parameters else None, times
        )
        with self._lock:
            self._failures.setdefault(method.lower(), deque()).append(failure)

    def reset_rate_limits(self) -> None:
        """Forget all flood-control history."""
        with self._lock:
            self._global_window.clear()
            self._group_windows.clear()
            self._private_buckets.clear()

    def clear_records(self) -> None:
        """Forget recorded calls, messages and counters (state such as chats is kept)."""
        with self._lock:
            self.calls.clear()
            self.sent_messages.clear()
            self.deleted_messages.clear()
            self.callback_answers.clear()
            self.inline_answers.clear()
            self.rate_limited_count = 0
            self.conflict_count = 0

    # -- assertions helpers ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        with self._lock:
            return [call for call in self.calls if call.method.lower() == wanted]

    def messages_to(self, chat_id: int, kind: MessageKind | None = "send") -> list[SentMessage]:
        """Successful messages to ``chat_id``: sends by default, ``kind=None`` for sends+edits."""
        with self._lock:
            return [
                m
                for m in self.sent_messages
                if m.chat_id == chat_id and (kind is None or m.kind == kind)
            ]

    def edits_to(self, chat_id: int) -> list[SentMessage]:
        """Successful edits (editMessageText/editMessageReplyMarkup) in ``chat_id``."""
        return self.messages_to(chat_id, kind="edit")

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of a message (as a Bot API ``Message`` dict), if it exists."""
        with self._lock:
            stored = self._messages.get((chat_id, message_id))
            return copy.deepcopy(stored) if stored is not None else None

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands last set for ``scope`` (default scope) and ``language_code``."""
        key = (self._scope_key(scope or {"type": "default"}), language_code)
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return copy.deepcopy(list(self._updates))

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 5.0, *, kind: MessageKind | None = "send"
    ) -> list[SentMessage]:
        """Wait until ``count`` successful messages reached ``chat_id``; return them all.

        Counts sendMessage only by default; ``kind="edit"`` counts edits, ``None`` both.
        Raises TimeoutError listing what did arrive.
        """
        if await self._waiters.wait_until(
            lambda: len(self.messages_to(chat_id, kind)) >= count, timeout
        ):
            return self.messages_to(chat_id, kind)
        got = [m.plain_text[:60] for m in self.messages_to(chat_id, kind)]
        raise TimeoutError(
            f"expected {count} message(s) of kind {kind!r} to chat {chat_id} within "
            f"{timeout}s, got {len(got)}: {got}"
        )

    async def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``method`` was called ``count`` times (any status); return the calls."""
        if await self._waiters.wait_until(lambda: len(self.calls_to(method)) >= count, timeout):
            return self.calls_to(method)
        raise TimeoutError(
            f"expected {count} call(s) of {method} within {timeout}s, "
            f"got {len(self.calls_to(method))}"
        )

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> JSONDict:
        """Wait until the bot answered this inline query; return the answer's parameters."""

        def answered() -> bool:
            with self._lock:
                return query_id in self.inline_answers

        if not await self._waiters.wait_until(answered, timeout):
            failed = [
                c.response
                for c in self.calls_to("answerInlineQuery")
                if c.params.get("inline_query_id") == query_id
            ]
            raise AssertionError(
                f"inline query {query_id} not answered within {timeout}s: {failed}"
            )
        with self._lock:
            return copy.deepcopy(self.inline_answers[query_id])

    # -- injecting updates -------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> JSONDict:
        """Queue a raw update (``update_id`` is assigned unless given); return it."""
        stored = copy.deepcopy(dict(update))
        with self._lock:
            if "update_id" in stored:
                self._next_update_id = max(self._next_update_id, int(stored["update_id"]) + 1)
            else:
                stored["update_id"] = self._next_update_id
                self._next_update_id += 1
            self._updates.append(stored)
        self._waiters.notify_all()
        return copy.deepcopy(stored)

    def push_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        chat_type: str | None = None,
        first_name: str = "测试用户",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a user's text message (with a bot_command entity for "/cmd") and return it.

        ``chat_type`` defaults to the registered chat's type, else private for positive ids,
        supergroup for -100… ids and group for other negative ids.
        """
        chat = self._chat(chat_id)
        if chat_type is not None and chat_type != chat.type:
            chat = self.add_chat(chat_id, type=chat_type)
        if user_id is None:
            user_id = chat_id if chat.type == "private" else 10_000 + abs(chat_id) % 1_000_000
        sender: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            sender["username"] = username
        if language_code is not None:
            sender["language_code"] = language_code
        chat_dict = chat.to_dict()
        if chat.type == "private" and "first_name" in chat_dict:
            chat_dict["first_name"] = first_name
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": sender,
            "chat": chat_dict,
            "date": int(time.time()),
            "text": text,
        }
        command = _BOT_COMMAND_IN_TEXT_RE.match(text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        if reply_to_message_id is not None:
            replied = self.message(chat_id, reply_to_message_id)
            if replied is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat_id}")
            message["reply_to_message"] = replied
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = copy.deepcopy(message)
        return self.push_update({"message": message})

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = "测试用户",
        language_code: str | None = "zh-hans",
        check_button: bool = True,
    ) -> JSONDict:
        """Queue a button press on a message the bot sent; return the update.

        With ``check_button`` the message's current keyboard must hold a button with this
        callback_data, as only existing buttons can be pressed in Telegram.
        """
        with self._lock:
            key = (chat_id, message_id)
            stored = self._messages.get(key)
            if stored is None or key not in self._bot_messages:
                raise LookupError(f"the bot sent no message {message_id} to chat {chat_id}")
            message = copy.deepcopy(stored)
        if check_button:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            datas = [b.get("callback_data") for row in rows for b in row]
            if data not in datas:
                raise ValueError(f"message {message_id} has no button with data {data!r}: {datas}")
        chat = self._chat(chat_id)
        if user_id is None:
            user_id = chat_id if chat.type == "private" else 10_000 + abs(chat_id) % 1_000_000
        sender: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            sender["language_code"] = language_code
        query_id = str(next(self._callback_ids))
        with self._lock:
            self._pending_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": str(abs(hash((chat_id, "fake"))) % 10**18),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def enable_inline_mode(self, enabled: bool = True) -> None:
        """Switch inline mode on, as /setinline in @BotFather does (getMe then says so)."""
        with self._lock:
            self.bot_user["supports_inline_queries"] = enabled

    def push_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "private",
        first_name: str = "测试用户",
        language_code: str | None = "zh-hans",
    ) -> JSONDict:
        """Queue a user typing `@bot query` in a chat; return the update (inline mode only)."""
        if not self.bot_user.get("supports_inline_queries"):
            raise RuntimeError("inline mode is off: Telegram sends no inline queries (/setinline)")
        if utf16_len(query) > MAX_INLINE_QUERY_LENGTH:
            raise ValueError(f"Telegram cuts inline queries at {MAX_INLINE_QUERY_LENGTH} chars")
        sender: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            sender["language_code"] = language_code
        inline: JSONDict = {
            "id": str(next(self._inline_ids)),
            "from": sender,
            "query": query,
            "offset": offset,
        }
        if chat_type is not None:
            inline["chat_type"] = chat_type
        with self._lock:
            self._pending_inline[inline["id"]] = copy.deepcopy(inline)
        return self.push_update({"inline_query": inline})

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> JSONDict:
        """Post the chosen result of an answered inline query into a chat, as its user would.

        The message is the user's, sent via the bot (the bot need not be in that chat); its text
        and entities are what Telegram makes of the result's input_message_content.
        """
        with self._lock:
            answer = copy.deepcopy(self.inline_answers.get(query_id))
        if answer is None:
            raise LookupError(f"inline query {query_id} was not answered")
        result = next((r for r in answer["results"] if r.get("id") == result_id), None)
        if result is None:
            raise LookupError(f"inline query {query_id} has no result {result_id!r}")
        content = result["input_message_content"]
        plain, _, entities = self._formatted_text(
            {"text": content.get("message_text"), "parse_mode": content.get("parse_mode")}
        )
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": answer["from"],
            "via_bot": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(chat_id).to_dict(),
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = copy.deepcopy(message)
        return message

    # -- HTTP handling ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/bot{token}/{method}``."""
        received, received_mono = time.time(), time.monotonic()
        match = re.fullmatch(r"/bot([^/]+)/([^/]*)", request.path)
        method = match.group(2) if match else ""
        params: JSONDict = {}
        try:
            if match is None:
                raise ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise ApiError(401, "Unauthorized")
            entry = self._methods.get(method.lower())
            if entry is None:
                raise ApiError(404, "Not Found")
            method, handler = entry
            params = await _read_params(request)
            self._raise_injected_failure(method)
            result = await handler(params)
            params = _without_file_contents(params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.payload()
            params = _without_file_contents(params)
        except Exception:
            logger.exception("Fake Bot API failed handling %s", method)
            status = 500
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        if status == 429:
            with self._lock:
                self.rate_limited_count += 1
        if match is not None and match.group(1) == self.token:
            # Requests with a wrong token are answered but not recorded: they aren't the bot's.
            self._record(
                RecordedCall(method, params, status, body, request.method, received, received_mono)
            )
        logger.debug("%s %s -> %s", request.method, method or "?", status)
        return web.json_response(body, status=status)

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)
        self._waiters.notify_all()

    def _raise_injected_failure(self, method: str) -> None:
        with self._lock:
            queue = self._failures.get(method.lower())
            if not queue:
                return
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.popleft()
        raise ApiError(failure.status, failure.description, failure.parameters)

    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        """Serve the unauthenticated ``/_fake/*`` endpoints used by standalone mode."""
        action = request.match_info["action"]
        try:
            body: Any = await request.json() if request.can_read_body else {}
            if action == "push_text":
                result: Any = self.push_text(
                    int(body.pop("chat_id")), str(body.pop("text")), **body
                )
            elif action == "push_callback":
                result = self.push_callback(
                    int(body.pop("chat_id")),
                    int(body.pop("message_id")),
                    str(body.pop("data")),
                    **body,
                )
            elif action == "push_update":
                result = self.push_update(body)
            elif action == "chat_state":
                chat_id, state = int(body["chat_id"]), body["state"]
                self.reset_chat(chat_id)
                if state == "blocked":
                    self.block_chat(chat_id)
                elif state == "not_found":
                    self.set_chat_not_found(chat_id)
                elif state == "migrated":
                    self.migrate_chat(chat_id, int(body["migrate_to_chat_id"]))
                result = True
            elif action == "messages":
                chat = request.query.get("chat_id")
                with self._lock:
                    result = [
                        m.to_dict()
                        for m in self.sent_messages
                        if chat is None or m.chat_id == int(chat)
                    ]
            elif action == "stats":
                with self._lock:
                    by_method: dict[str, int] = {}
                    by_status: dict[str, int] = {}
                    for call in self.calls:
                        by_method[call.method] = by_method.get(call.method, 0) + 1
                        by_status[str(call.status)] = by_status.get(str(call.status), 0) + 1
                    result = {
                        "calls": len(self.calls),
                        "by_method": by_method,
                        "by_status": by_status,
                        "rate_limited": self.rate_limited_count,
                        "sent_messages": len(self.sent_messages),
                        "pending_updates": len(self._updates),
                    }
            elif action == "reset":
                self.clear_records()
                self.reset_rate_limits()
                result = True
            else:
                return web.json_response({"ok": False, "description": "Not Found"}, status=404)
        except (AttributeError, KeyError, TypeError, ValueError, LookupError) as exc:
            return web.json_response({"ok": False, "description": repr(exc)}, status=400)
        return web.json_response({"ok": True, "result": result})

    # -- chats, users, messages -------------------------------------------------------------

    @staticmethod
    def _default_chat(chat_id: int) -> FakeChat:
        if chat_id > 0:
            return FakeChat(chat_id, "private", first_name=f"User {chat_id}")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return FakeChat(chat_id, kind, title=f"Chat {chat_id}")

    def _chat(self, chat_id: int) -> FakeChat:
        with self._lock:
            return self._chats.get(chat_id) or self._default_chat(chat_id)

    def _user_dict(self, user_id: int) -> JSONDict:
        if user_id == self.bot_user["id"]:
            return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    @staticmethod
    def _member_dict(status: str, user: JSONDict) -> JSONDict:
        member: JSONDict = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
                can_manage_topics=False,
            )
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "until_date": 0,
                    **dict.fromkeys(
                        (
                            "can_change_info",
                            "can_invite_users",
                            "can_pin_messages",
                            "can_send_messages",
                            "can_send_polls",
                            "can_send_other_messages",
                            "can_add_web_page_previews",
                            "can_manage_topics",
                            "can_send_audios",
                            "can_send_documents",
                            "can_send_photos",
                            "can_send_videos",
                            "can_send_video_notes",
                            "can_send_voice_notes",
                            "can_edit_tag",
                        ),
                        False,
                    ),
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        elif status not in ("member", "left"):
            raise ValueError(f"unknown chat member status {status!r}")
        return member

    def _allocate_message_id(self, chat_id: int) -> int:
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            return message_id

    def _chat_id_param(self, params: JSONDict, *, for_sending: bool) -> int:
        """Resolve ``chat_id`` and apply the chat's blocked/not-found/migrated marks."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, bool) or not isinstance(raw, int):
            username = str(raw).lstrip("@").lower()
            with self._lock:
                found = [
                    c.id for c in self._chats.values() if (c.username or "").lower() == username
                ]
            if not str(raw).startswith("@") or not found:
                raise _bad_request("chat not found")
            raw = found[0]
        chat_id = int(raw)
        with self._lock:
            not_found = chat_id in self._not_found
            migrated_to = self._migrated.get(chat_id)
            blocked = chat_id in self._blocked
        if not_found:
            raise _bad_request("chat not found")
        if migrated_to is not None:
            raise _bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": migrated_to},
            )
        if blocked and for_sending:
            kind = self._chat(chat_id).type
            if kind == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if kind == "channel":
                raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        return chat_id

    @staticmethod
    def _int_param(params: JSONDict, name: str, missing: str) -> int:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_request(missing)
        return value

    def _formatted_text(self, params: JSONDict) -> tuple[str, str | None, list[JSONDict]]:
        """Validate text + parse_mode/entities like Telegram; return (raw, parse_mode, ents)."""
        raw = params.get("text")
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        parse_mode = params.get("parse_mode") or None
        if parse_mode is not None:
            parse_mode = str(parse_mode)
        explicit = params.get("entities")
        if explicit is not None:
            if not isinstance(explicit, list):
                raise _bad_request("can't parse entities JSON object")
            plain, entities = text, [dict(e) for e in explicit if isinstance(e, dict)]
        elif parse_mode is None:
            plain, entities = text, []
        elif parse_mode.lower() == "html":
            try:
                plain, entities = parse_html(text, strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode.lower() in ("markdown", "markdownv2"):
            # Markdown is not validated by this fake; the text is recorded as is.
            plain, entities = text, []
        else:
            raise _bad_request("unsupported parse_mode")
        plain, entities = trim_text(plain, entities)
        if not plain:
            raise _bad_request("message text is empty")
        if utf16_len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return plain, parse_mode, entities

    @staticmethod
    def _reply_markup(params: JSONDict, *, inline_only: bool) -> JSONDict | None:
        """Validate ``reply_markup`` like Telegram; return it decoded (None if absent)."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise _bad_request("inline keyboard expected")
            if any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
                return markup
            raise _bad_request("can't parse reply keyboard markup JSON object")
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'can\'t parse reply keyboard markup JSON object: Field "inline_keyboard" of '
                "the InlineKeyboardMarkup should be an Array of Arrays"
            )
        if sum(len(row) for row in rows) > 100:
            raise _bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise _bad_request(
                        "can't parse inline keyboard button: InlineKeyboardButton should be "
                        "an Object"
                    )
                if not isinstance(button.get("text"), str):
                    raise _bad_request(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not button["text"].strip():
                    raise _bad_request("BUTTON_TEXT_INVALID")
                actions = [name for name in _BUTTON_ACTIONS if name in button]
                if not actions:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if len(actions) > 1:
                    raise _bad_request(
                        "can't parse inline keyboard button: exactly one of the optional "
                        f"fields must be used, got {', '.join(actions)}"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not data:
                        raise _bad_request("BUTTON_DATA_INVALID")
                    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not _URL_RE.match(url):
                        raise _bad_request("BUTTON_URL_INVALID")
        return markup

    def _check_flood(self, method: str, chat_id: int) -> None:
        """Apply flood control; raise 429 or record this send."""
        limits = self.limits
        if method not in limits.methods:
            return
        now = self._clock()
        waits: list[float] = []
        with self._lock:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if limits.global_rate is not None and len(window) >= limits.global_rate:
                waits.append(window[0] + 1.0 - now)
            group = self._group_windows.setdefault(chat_id, deque()) if chat_id < 0 else None
            if group is not None:
                while group and group[0] <= now - 60.0:
                    group.popleft()
                if limits.group_per_minute is not None and len(group) >= limits.group_per_minute:
                    waits.append(group[0] + 60.0 - now)
            tokens = None
            if chat_id > 0 and limits.private_rate is not None:
                tokens, last = self._private_buckets.get(chat_id, (limits.private_burst, now))
                tokens = min(limits.private_burst, tokens + (now - last) * limits.private_rate)
                if tokens < 1.0:
                    waits.append((1.0 - tokens) / limits.private_rate)
            if waits:
                retry_after = max(1, math.ceil(max(waits) - 1e-9))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            window.append(now)
            if group is not None:
                group.append(now)
            if tokens is not None:
                self._private_buckets[chat_id] = (tokens - 1.0, now)

    def _reply_check(self, params: JSONDict, chat_id: int) -> None:
        """Refuse replies to messages that don't exist, unless allowed to send without."""
        reply = params.get("reply_parameters")
        target: Any = None
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            target = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if isinstance(reply.get("chat_id"), int):
                chat_id = reply["chat_id"]
        elif params.get("reply_to_message_id") is not None:
            target = params.get("reply_to_message_id")
        if target is None or allow:
            return
        with self._lock:
            exists = (chat_id, target) in self._messages
        if not exists:
            raise _bad_request("message to be replied not found")

    def _record_message(
        self, kind: MessageKind, method: str, message: JSONDict, params: JSONDict
    ) -> None:
        raw = params.get("text")
        record = SentMessage(
            kind=kind,
            method=method,
            chat_id=message["chat"]["id"],
            message_id=message["message_id"],
            text=raw if isinstance(raw, str) else message.get("text", ""),
            plain_text=message.get("text", ""),
            parse_mode=params.get("parse_mode") or None,
            entities=copy.deepcopy(message.get("entities", [])),
            reply_markup=copy.deepcopy(message.get("reply_markup")),
            message_thread_id=message.get("message_thread_id"),
            params=copy.deepcopy(params),
            time=time.time(),
        )
        with self._lock:
            self.sent_messages.append(record)
        self._waiters.notify_all()

    # -- Bot API methods -----------------------------------------------------------------------

    async def _true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return dict(self.bot_user)

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        self.webhook_url = url
        self.webhook_secret = str(secret or "")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            with self._lock:
                self._allowed_updates = (
                    frozenset(str(a) for a in allowed) if allowed else _DEFAULT_UPDATES
                )
        self._waiters.notify_all()
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        self.webhook_secret = ""
        if params.get("drop_pending_updates"):
            with self._lock:
                self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._lock:
            pending = len(self._updates)
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }

    async def _pump_webhook(self) -> None:
        """While a webhook is set, POST each queued update to it, one at a time, as Telegram does.

        With ``webhook_targets`` the fake also plays the load balancer: each update goes to the
        next target in turn, and one a target fails (refused, 5xx, wrong secret) is retried on
        the next target after a short pause, so an update is lost only if every target fails.
        """
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self._waiters.wait_until(
                    lambda: self._closing or bool(self.webhook_url and self._updates), 3600
                )
                if self._closing:
                    return
                with self._lock:
                    if not (self.webhook_url and self._updates):
                        continue
                    update = copy.deepcopy(self._updates[0])
                    targets = self.webhook_targets or [self.webhook_url]
                    target = targets[self._next_target % len(targets)]
                    self._next_target += 1
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
                if not self.webhook_secret:
                    headers = {}
                try:
                    async with session.post(target, json=update, headers=headers) as answer:
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                with self._lock:
                    self.webhook_posts.append((target, int(update["update_id"]), status))
                    delivered = 200 <= status < 300 and bool(self._updates)
                    if delivered and self._updates[0]["update_id"] == update["update_id"]:
                        self._updates.popleft()
                self._waiters.notify_all()
                if not 200 <= status < 300:
                    await asyncio.sleep(0.2)

    def _take_updates(self, offset: int | None, limit: int) -> list[JSONDict]:
        """Confirm updates below ``offset`` and return up to ``limit`` deliverable ones."""
        with self._lock:
            if offset is not None and offset < 0:
                # Negative offsets keep only the last -offset updates, forgetting the rest.
                while len(self._updates) > -offset:
                    self._updates.popleft()
            elif offset is not None:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
            allowed = self._allowed_updates
            if allowed is not None:
                kept = [u for u in self._updates if self._update_type(u) in allowed]
                self._updates = deque(kept)
            return copy.deepcopy(list(itertools.islice(self._updates, limit)))

    @staticmethod
    def _update_type(update: JSONDict) -> str:
        return next((key for key in update if key != "update_id"), "")

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        offset = offset if isinstance(offset, int) and not isinstance(offset, bool) else None
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = params.get("timeout")
        wait = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            with self._lock:
                self._allowed_updates = (
                    frozenset(str(a) for a in allowed) if allowed else _DEFAULT_UPDATES
                )
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
        self._waiters.notify_all()  # a newer poll terminates an older one with 409

        updates = self._take_updates(offset, limit)
        if updates or wait <= 0:
            return updates
        superseded = False

        def ready() -> bool:
            nonlocal superseded
            superseded = self._poll_generation != generation
            return self._closing or superseded or bool(self._take_updates(None, 1))

        await self._waiters.wait_until(ready, wait)
        if superseded:
            with self._lock:
                self.conflict_count += 1
            raise ApiError(409, _CONFLICT)
        return [] if self._closing else self._take_updates(None, limit)

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        if not isinstance(language, str) or (language and not re.fullmatch(r"[a-z]{2}", language)):
            raise _bad_request("invalid language code specified")
        return self._scope_key(scope), language

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("too many commands")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        with self._lock:
            self._commands[key] = cleaned
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params)
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params)
        with self._lock:
            self._commands.pop(key, None)
        return True

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=True)
        plain, _, entities = self._formatted_text(params)
        markup = self._reply_markup(params, inline_only=False)
        self._reply_check(params, chat_id)
        self._check_flood("sendMessage", chat_id)
        message = self._keep_bot_message(chat_id, params, markup, text=plain, entities=entities)
        self._record_message("send", "sendMessage", message, params)
        return message

    def _keep_bot_message(
        self, chat_id: int, params: JSONDict, markup: JSONDict | None, **content: Any
    ) -> JSONDict:
        """Build and store the Message of a send: the content fields given, topic, keyboard."""
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(chat_id).to_dict(),
            "date": int(time.time()),
        }
        message.update({key: value for key, value in content.items() if value})
        thread_id = params.get("message_thread_id")
        if isinstance(thread_id, int) and not isinstance(thread_id, bool):
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if markup is not None and "inline_keyboard" in markup:
            # Telegram echoes only inline keyboards back in the Message object.
            message["reply_markup"] = markup
        with self._lock:
            key = (chat_id, message["message_id"])
            self._messages[key] = copy.deepcopy(message)
            self._bot_messages.add(key)
        return message

    def _caption(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        """Validate a media caption like Telegram: parsed, trimmed, at most 1024 characters."""
        raw = params.get("caption")
        if raw is None or raw == "":
            return "", []
        if params.get("caption_entities") is not None:
            explicit = params["caption_entities"]
            if not isinstance(explicit, list):
                raise _bad_request("can't parse caption entities JSON object")
            plain, entities = str(raw), [dict(e) for e in explicit if isinstance(e, dict)]
        elif str(params.get("parse_mode") or "").lower() == "html":
            try:
                plain, entities = parse_html(str(raw), strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        else:
            plain, entities = str(raw), []
        plain, entities = trim_text(plain, entities)
        if utf16_len(plain) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return plain, entities

    def _photo_sizes(self, photo: Any) -> list[JSONDict]:
        """Accept an uploaded PNG/JPEG or a file_id this fake issued; return its PhotoSizes."""
        if isinstance(photo, str):
            with self._lock:
                content = self.files.get(photo)
            if content is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            file_id = photo
        elif isinstance(photo, dict) and isinstance(photo.get("content"), bytes):
            content = photo["content"]
            if not content:
                raise _bad_request("file must be non-empty")
            if len(content) > MAX_PHOTO_BYTES:
                raise _bad_request("PHOTO_SAVE_FILE_INVALID")
            file_id = ""
        else:
            raise _bad_request("there is no photo in the request")
        size = png_size(content) or jpeg_size(content)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        # Telegram's rules for photos: sides adding up to at most 10000, ratio at most 20.
        if (
            width <= 0
            or height <= 0
            or width + height > 10_000
            or max(width, height) > 20 * min(width, height)
        ):
            raise _bad_request("PHOTO_INVALID_DIMENSIONS")
        if not file_id:
            number = next(self._file_ids)
            file_id = f"AgACAgFake{number:012d}"
            with self._lock:
                self.files[file_id] = content
        unique = f"AQADFake{abs(hash(file_id)) % 10**10:010d}"
        # Telegram keeps the original (scaled to 1280 px at most) and a thumbnail.
        scale = min(1.0, 1280 / max(width, height))
        thumb = min(1.0, 90 / max(width, height))
        return [
            {
                "file_id": file_id + "_s",
                "file_unique_id": unique + "s",
                "width": max(1, round(width * thumb)),
                "height": max(1, round(height * thumb)),
            },
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": round(width * scale),
                "height": round(height * scale),
                "file_size": len(content),
            },
        ]

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=True)
        caption, entities = self._caption(params)
        markup = self._reply_markup(params, inline_only=False)
        self._reply_check(params, chat_id)
        sizes = self._photo_sizes(params.get("photo"))
        self._check_flood("sendPhoto", chat_id)
        message = self._keep_bot_message(
            chat_id, params, markup, photo=sizes, caption=caption, caption_entities=entities
        )
        record = SentMessage(
            kind="send",
            method="sendPhoto",
            chat_id=chat_id,
            message_id=message["message_id"],
            text=str(params.get("caption") or ""),
            plain_text=caption,
            parse_mode=params.get("parse_mode") or None,
            entities=copy.deepcopy(entities),
            reply_markup=copy.deepcopy(message.get("reply_markup")),
            message_thread_id=message.get("message_thread_id"),
            params=_without_file_contents(params),
            time=time.time(),
            photo=copy.deepcopy(sizes),
        )
        with self._lock:
            self.sent_messages.append(record)
        self._waiters.notify_all()
        return message

    async def _answer_inline_query(self, params: JSONDict) -> bool:
        """Check an answer to an inline query as Telegram does, then record it."""
        query_id = str(params.get("inline_query_id") or "")
        with self._lock:
            query = self._pending_inline.get(query_id)
        if query is None:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_inline_result(result, seen)
        next_offset = params.get("next_offset")
        if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
            raise _bad_request("NEXT_OFFSET_INVALID")
        cache_time = params.get("cache_time")
        if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
            raise _bad_request('field "cache_time" must be a non-negative Integer')
        button = params.get("button")
        if button is not None:
            if isinstance(button, str):
                button = json.loads(button)
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise _bad_request("BUTTON_TEXT_INVALID")
            start = button.get("start_parameter")
            if "web_app" not in button and not (
                isinstance(start, str) and _START_PARAMETER_RE.fullmatch(start)
            ):
                raise _bad_request("START_PARAM_INVALID")
        with self._lock:
            self._pending_inline.pop(query_id, None)
            self.inline_answers[query_id] = {**copy.deepcopy(params), "from": query["from"]}
        self._waiters.notify_all()
        return True

    def _check_inline_result(self, result: Any, seen: set[str]) -> None:
        """Refuse an inline result Telegram would: bad type or id, bad or too long message."""
        if not isinstance(result, dict):
            raise _bad_request("can't parse inline query result")
        kind = result.get("type")
        if kind not in _INLINE_RESULT_TYPES:
            raise _bad_request(f'unsupported inline query result type "{kind}"')
        result_id = result.get("id")
        if not isinstance(result_id, str) or not result_id:
            raise _bad_request("RESULT_ID_EMPTY")
        if len(result_id.encode("utf-8")) > MAX_INLINE_ID_BYTES:
            raise _bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise _bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if kind == "article":
            if not isinstance(result.get("title"), str) or not result["title"].strip():
                raise _bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if not isinstance(content, dict) or "message_text" not in content:
                raise _bad_request("can't parse inline query result: input_message_content")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            try:
                self._formatted_text(
                    {
                        "text": content.get("message_text"),
                        "parse_mode": content.get("parse_mode"),
                        "entities": content.get("entities"),
                    }
                )
            except ApiError as exc:
                reason = exc.description.removeprefix("Bad Request: ")
                raise _bad_request(
                    "MESSAGE_TOO_LONG" if reason == "message is too long" else reason
                ) from None
        if "reply_markup" in result:
            self._reply_markup({"reply_markup": result["reply_markup"]}, inline_only=True)

    def _message_to_edit(self, params: JSONDict) -> tuple[int, int, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id_param(params, for_sending=True)
        message_id = self._int_param(params, "message_id", "message identifier is not specified")
        key = (chat_id, message_id)
        with self._lock:
            stored = self._messages.get(key)
            is_bots = key in self._bot_messages
        if stored is None:
            raise _bad_request("message to edit not found")
        if not is_bots:
            raise _bad_request("message can't be edited")
        return chat_id, message_id, copy.deepcopy(stored)

    def _store_edit(self, method: str, message: JSONDict, params: JSONDict) -> JSONDict:
        self._check_flood(method, message["chat"]["id"])
        message["edit_date"] = int(time.time())
        with self._lock:
            self._messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)
        self._record_message("edit", method, message, params)
        return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        _, _, message = self._message_to_edit(params)
        plain, _, entities = self._formatted_text(params)
        markup = self._reply_markup(params, inline_only=True)
        if (
            plain == message.get("text")
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _bad_request(_NOT_MODIFIED)
        message["text"] = plain
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        # As in Telegram, an edit without reply_markup removes the keyboard.
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return self._store_edit("editMessageText", message, params)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        _, _, message = self._message_to_edit(params)
        markup = self._reply_markup(params, inline_only=True)
        if markup == message.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return self._store_edit("editMessageReplyMarkup", message, params)

    async def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id_param(params, for_sending=True)
        message_id = self._int_param(params, "message_id", "message identifier is not specified")
        with self._lock:
            if self._messages.pop((chat_id, message_id), None) is None:
                raise _bad_request("message to delete not found")
            self._bot_messages.discard((chat_id, message_id))
            self.deleted_messages.append((chat_id, message_id))
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_id_param(params, for_sending=True)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            if query_id not in self._pending_callbacks:
                raise _bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self._pending_callbacks.discard(str(query_id))
            self.callback_answers[str(query_id)] = copy.deepcopy(params)
        return True

    async def _get_chat(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=False)
        chat = self._chat(chat_id).to_dict()
        chat.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return chat

    async def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=False)
        user_id = self._int_param(params, "user_id", "invalid user_id specified")
        with self._lock:
            member = self._members.get((chat_id, user_id))
        if member is not None:
            return copy.deepcopy(member)
        return self._member_dict(self.default_member_status, self._user_dict(user_id))


# ---------------------------------------------------------------------------------------------
# Standalone mode
# ---------------------------------------------------------------------------------------------


def _optional_float(value: str) -> float | None:
    return None if value.lower() in ("none", "off", "0") else float(value)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted: ``python -m fakes.bot_api --token T --port P``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--token", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--global-rate", type=_optional_float, default=30.0)
    parser.add_argument("--group-per-minute", type=_optional_float, default=20.0)
    parser.add_argument("--private-rate", type=_optional_float, default=1.0)
    parser.add_argument("--private-burst", type=float, default=5.0)
    parser.add_argument("--no-rate-limit", action="store_true", help="disable flood control")
    parser.add_argument("--lenient-html", action="store_true", help="accept what Telegram does")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    no_limit = args.no_rate_limit
    api = FakeBotApi(
        args.token,
        host=args.host,
        port=args.port,
        global_rate=None if no_limit else args.global_rate,
        group_per_minute=None if no_limit else args.group_per_minute,
        private_rate=None if no_limit else args.private_rate,
        private_burst=args.private_burst,
        strict_html=not args.lenient_html,
    )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with api:
            # The first stdout line is the contract for scripts that started us with --port 0.
            print(api.root_url, flush=True)
            await stop.wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
