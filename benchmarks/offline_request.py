"""A Bot API transport for PTB that never leaves the process: every call succeeds at once.

It lives outside fakes/ because it is a PTB class (telegram.request.BaseRequest), and the
fakes speak HTTP only: tests/test_layers.py keeps telegram out of them.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

BOT_USER: dict[str, Any] = {
    "id": 1,
    "is_bot": True,
    "first_name": "Newsbot Bench",
    "username": "newsbot_bench_bot",
}


class OfflineRequest(BaseRequest):
    """A Bot API transport that answers every call at once with a canned success."""

    def __init__(self, chat_id: int) -> None:
        # The chat a reply is in when the call names none (an edit of an inline message).
        self._chat_id = chat_id
        self._message_ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        """Return None: nothing here ever waits."""
        return None

    async def initialize(self) -> None:
        """Do nothing: there is no connection pool."""

    async def shutdown(self) -> None:
        """Do nothing: there is no connection pool."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer like Telegram would: the bot for getMe, the message for a send or an edit."""
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint == "getUpdates":
            result = []
        elif endpoint in ("sendMessage", "editMessageText"):
            chat_id = int(str(params.get("chat_id", self._chat_id)))
            result = {
                "message_id": params.get("message_id") or next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                result["reply_markup"] = params["reply_markup"]
        return 200, json.dumps({"ok": True, "result": result}).encode()
