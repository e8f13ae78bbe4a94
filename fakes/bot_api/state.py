"""The state one fake Bot API holds, and the look-ups every group of its methods shares."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from fakes.bot_api.flood_control import FloodControl, RateLimits
from fakes.bot_api.protocol import ApiError, JSONDict, bad_request
from fakes.bot_api.records import FakeChat, InjectedFailure, RecordedCall, SentMessage
from fakes.bot_api.waiters import Waiters

MethodHandler = Callable[[JSONDict], Awaitable[Any]]

DEFAULT_BOT_USERNAME = "newsbot_test_bot"


class BotApiState:
    """Hold what a fake Bot API knows and records; the method groups are mixins over it."""

    def __init__(
        self,
        token: str,
        *,
        global_rate: float | None = 30.0,
        group_per_minute: float | None = 20.0,
        private_rate: float | None = 1.0,
        private_burst: float = 5.0,
        rate_limited_methods: Iterable[str] = ("sendMessage", "sendPhoto", "sendDocument"),
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
        self._flood = FloodControl(
            RateLimits(
                global_rate=global_rate,
                group_per_minute=group_per_minute,
                private_rate=private_rate,
                private_burst=private_burst,
                methods=frozenset(rate_limited_methods),
            ),
            clock,
        )
        self.strict_html = strict_html
        self.default_member_status = default_member_status
        self._host = host
        self._port = port
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
        self._waiters = Waiters()
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
        # Channels set up with add_channel: a user not listed there is a plain subscriber.
        self._channel_default_members: set[int] = set()
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._failures: dict[str, deque[InjectedFailure]] = {}
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

        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in self._bot_api_methods().items():
            self.register_method(name, handler)

        self._runner: web.AppRunner | None = None
        self._closing = False
        self._root_url: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        """Return the Bot API methods served, by name; each mixin adds its own to super()'s."""
        return {}

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add or replace a Bot API method; names are case-insensitive as in Telegram."""
        self._methods[name.lower()] = (name, handler)

    @property
    def limits(self) -> RateLimits:
        """The flood-control settings in force; change a field or assign new ones."""
        return self._flood.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self._flood.limits = limits

    # -- look-ups shared by the method groups ----------------------------------------------

    @staticmethod
    def _default_chat(chat_id: int) -> FakeChat:
        if chat_id > 0:
            return FakeChat(chat_id, "private", first_name=f"User {chat_id}")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        return FakeChat(chat_id, kind, title=f"Chat {chat_id}")

    def _chat(self, chat_id: int) -> FakeChat:
        with self._lock:
            return self._chats.get(chat_id) or self._default_chat(chat_id)

    def _bot_as_user(self) -> JSONDict:
        """Return the bot as a ``User`` (the fields a Message's ``from`` or ``via_bot`` has)."""
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _user_dict(self, user_id: int) -> JSONDict:
        if user_id == self.bot_user["id"]:
            return self._bot_as_user()
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    def _allocate_message_id(self, chat_id: int) -> int:
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            return message_id

    def _chat_id_param(self, params: JSONDict, *, for_sending: bool) -> int:
        """Resolve ``chat_id`` and apply the chat's blocked/not-found/migrated marks."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, bool) or not isinstance(raw, int):
            username = str(raw).lstrip("@").lower()
            with self._lock:
                found = [
                    c.id for c in self._chats.values() if (c.username or "").lower() == username
                ]
            if not str(raw).startswith("@") or not found:
                raise bad_request("chat not found")
            raw = found[0]
        chat_id = int(raw)
        with self._lock:
            not_found = chat_id in self._not_found
            migrated_to = self._migrated.get(chat_id)
            blocked = chat_id in self._blocked
        if not_found:
            raise bad_request("chat not found")
        if migrated_to is not None:
            raise bad_request(
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
        if for_sending:
            self._check_channel_rights(chat_id)
        return chat_id

    def _check_channel_rights(self, chat_id: int) -> None:
        """Refuse a send to a channel where the bot was set up and may not post (any more)."""
        with self._lock:
            member = self._members.get((chat_id, self.bot_user["id"]))
        if member is None or self._chat(chat_id).type != "channel":
            return
        if member["status"] in ("left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        if member["status"] == "creator":
            return
        if member["status"] != "administrator" or not member.get("can_post_messages"):
            raise bad_request("need administrator rights in the channel chat")

    @staticmethod
    def _int_param(params: JSONDict, name: str, missing: str) -> int:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(missing)
        return value
