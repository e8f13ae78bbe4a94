"""Decode Bot API request bodies (query string, urlencoded, multipart or JSON) into parameters."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web

from fakes.bot_api.protocol import JSONDict, bad_request

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


async def read_params(request: web.Request) -> JSONDict:
    """Merge query-string and body parameters (urlencoded, multipart or JSON)."""
    raw: JSONDict = dict(request.query)
    if request.method != "GET" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
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


def without_file_contents(params: JSONDict) -> JSONDict:
    """Return params with uploaded files' bytes left out (records keep their size and name)."""
    return {
        key: {k: v for k, v in value.items() if k != "content"}
        if isinstance(value, dict) and "content" in value
        else value
        for key, value in params.items()
    }
