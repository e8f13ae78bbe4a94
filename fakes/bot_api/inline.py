"""Inline mode: the answerInlineQuery method, checked as Telegram checks inline results."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from fakes.bot_api.message_content import formatted_text, reply_markup
from fakes.bot_api.protocol import ApiError, JSONDict, bad_request
from fakes.bot_api.state import BotApiState, MethodHandler

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


class InlineMixin(BotApiState):
    """Serve answerInlineQuery and switch inline mode on, as @BotFather's /setinline does."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {**super()._bot_api_methods(), "answerInlineQuery": self._answer_inline_query}

    def enable_inline_mode(self, enabled: bool = True) -> None:
        """Switch inline mode on, as /setinline in @BotFather does (getMe then says so)."""
        with self._lock:
            self.bot_user["supports_inline_queries"] = enabled

    async def _answer_inline_query(self, params: JSONDict) -> bool:
        """Check an answer to an inline query as Telegram does, then record it."""
        query_id = str(params.get("inline_query_id") or "")
        with self._lock:
            query = self._pending_inline.get(query_id)
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_inline_result(result, seen)
        next_offset = params.get("next_offset")
        if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = params.get("cache_time")
        if cache_time is not None and (not isinstance(cache_time, int) or cache_time < 0):
            raise bad_request('field "cache_time" must be a non-negative Integer')
        button = params.get("button")
        if button is not None:
            if isinstance(button, str):
                button = json.loads(button)
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            start = button.get("start_parameter")
            if "web_app" not in button and not (
                isinstance(start, str) and _START_PARAMETER_RE.fullmatch(start)
            ):
                raise bad_request("START_PARAM_INVALID")
        with self._lock:
            self._pending_inline.pop(query_id, None)
            self.inline_answers[query_id] = {**copy.deepcopy(params), "from": query["from"]}
        self._waiters.notify_all()
        return True

    def _check_inline_result(self, result: Any, seen: set[str]) -> None:
        """Refuse an inline result Telegram would: bad type or id, bad or too long message."""
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result")
        kind = result.get("type")
        if kind not in _INLINE_RESULT_TYPES:
            raise bad_request(f'unsupported inline query result type "{kind}"')
        result_id = result.get("id")
        if not isinstance(result_id, str) or not result_id:
            raise bad_request("RESULT_ID_EMPTY")
        if len(result_id.encode("utf-8")) > MAX_INLINE_ID_BYTES:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if kind == "article":
            if not isinstance(result.get("title"), str) or not result["title"].strip():
                raise bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if not isinstance(content, dict) or "message_text" not in content:
                raise bad_request("can't parse inline query result: input_message_content")
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            try:
                formatted_text(
                    {
                        "text": content.get("message_text"),
                        "parse_mode": content.get("parse_mode"),
                        "entities": content.get("entities"),
                    },
                    strict_html=self.strict_html,
                )
            except ApiError as exc:
                reason = exc.description.removeprefix("Bad Request: ")
                raise bad_request(
                    "MESSAGE_TOO_LONG" if reason == "message is too long" else reason
                ) from None
        if "reply_markup" in result:
            reply_markup({"reply_markup": result["reply_markup"]}, inline_only=True)
