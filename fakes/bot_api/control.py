"""The control API for tests: inject updates and faults, read and wait for what was sent.

The same is served unauthenticated over HTTP at ``/_fake/*`` for the standalone server.
"""

from __future__ import annotations

import copy
import re
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fakes.bot_api.bot_settings import scope_key
from fakes.bot_api.chats import ChatsMixin
from fakes.bot_api.inline import MAX_INLINE_QUERY_LENGTH
from fakes.bot_api.message_content import formatted_text
from fakes.bot_api.protocol import ApiError, JSONDict
from fakes.bot_api.records import InjectedFailure, MessageKind, RecordedCall, SentMessage
from fakes.bot_api.telegram_html import utf16_len

_BOT_COMMAND_IN_TEXT_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


class ControlMixin(ChatsMixin):
    """Let tests play the users, break chats and methods, and inspect what the bot sent."""

    # -- injecting faults --------------------------------------------------------------------

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
        failure = InjectedFailure(
            error_code, description, dict(parameters) if parameters else None, times
        )
        with self._lock:
            self._failures.setdefault(method.lower(), deque()).append(failure)

    def reset_rate_limits(self) -> None:
        """Forget all flood-control history."""
        self._flood.reset()

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

    # -- reading what was sent ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Return the recorded calls of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        with self._lock:
            return [call for call in self.calls if call.method.lower() == wanted]

    def messages_to(self, chat_id: int, kind: MessageKind | None = "send") -> list[SentMessage]:
        """Return messages that reached ``chat_id``: sends by default, ``kind=None`` for both."""
        with self._lock:
            return [
                m
                for m in self.sent_messages
                if m.chat_id == chat_id and (kind is None or m.kind == kind)
            ]

    def edits_to(self, chat_id: int) -> list[SentMessage]:
        """Return the successful edits (editMessageText/editMessageReplyMarkup) in ``chat_id``."""
        return self.messages_to(chat_id, kind="edit")

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Return the current state of a message (a Bot API ``Message`` dict), if it exists."""
        with self._lock:
            stored = self._messages.get((chat_id, message_id))
            return copy.deepcopy(stored) if stored is not None else None

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Return the commands last set for ``scope`` (default scope) and ``language_code``."""
        key = (scope_key(scope or {"type": "default"}), language_code)
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

    # -- injecting updates, as users make them -----------------------------------------------

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

    def push_document(
        self,
        chat_id: int,
        content: bytes,
        file_name: str,
        *,
        mime_type: str = "application/json",
        user_id: int | None = None,
        caption_text: str | None = None,
        language_code: str | None = "zh-hans",
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """Queue a user's message carrying a file (the bot may then getFile and download it)."""
        chat = self._chat(chat_id)
        if user_id is None:
            user_id = chat_id if chat.type == "private" else 10_000 + abs(chat_id) % 1_000_000
        sender: JSONDict = {"id": user_id, "is_bot": False, "first_name": "测试用户"}
        if language_code is not None:
            sender["language_code"] = language_code
        number = next(self._file_ids)
        file_id = f"BQACAgFakeUser{number:08d}"
        with self._lock:
            self.files[file_id] = content
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": sender,
            "chat": chat.to_dict(),
            "date": int(time.time()),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"AgADFake{abs(hash(file_id)) % 10**10:010d}",
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(content),
            },
        }
        if caption_text is not None:
            message["caption"] = caption_text
        if reply_to_message_id is not None:
            replied = self.message(chat_id, reply_to_message_id)
            if replied is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {chat_id}")
            message["reply_to_message"] = replied
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = copy.deepcopy(message)
        return self.push_update({"message": message})

    def push_channel_post(self, chat_id: int, text: str) -> JSONDict:
        """Queue a post in a channel (a ``channel_post`` update: no sender, the channel's chat)."""
        chat = self._chat(chat_id)
        post: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "sender_chat": chat.to_dict(),
            "chat": chat.to_dict(),
            "date": int(time.time()),
            "text": text,
        }
        command = _BOT_COMMAND_IN_TEXT_RE.match(text)
        if command:
            post["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        with self._lock:
            self._messages[(chat_id, post["message_id"])] = copy.deepcopy(post)
        return self.push_update({"channel_post": post})

    def set_bot_member(
        self, chat_id: int, status: str, *, by_user: int | None = None, **fields: Any
    ) -> JSONDict:
        """Change the bot's own membership of a chat and queue the ``my_chat_member`` update.

        Sends to a channel follow it: removed, they fail with 403; an administrator without
        can_post_messages gets 400 ``need administrator rights in the channel chat``.
        """
        bot_id = self.bot_user["id"]
        old = self.member(chat_id, bot_id)
        self.set_chat_member(chat_id, bot_id, status, **fields)
        new = self.member(chat_id, bot_id)
        actor = by_user if by_user is not None else 10_000 + abs(chat_id) % 1_000_000
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chat(chat_id).to_dict(),
                    "from": self._user_dict(actor),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )

    def remove_bot(self, chat_id: int, *, by_user: int | None = None) -> JSONDict:
        """Remove the bot from a chat (as an administrator would); return the update queued."""
        return self.set_bot_member(chat_id, "left", by_user=by_user)

    def demote_bot(self, chat_id: int, *, by_user: int | None = None) -> JSONDict:
        """Take the bot's right to post in a channel away (it stays an administrator)."""
        return self.set_bot_member(
            chat_id, "administrator", by_user=by_user, can_post_messages=False
        )

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
        plain, _, entities = formatted_text(
            {"text": content.get("message_text"), "parse_mode": content.get("parse_mode")},
            strict_html=self.strict_html,
        )
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": answer["from"],
            "via_bot": self._bot_as_user(),
            "chat": self._chat(chat_id).to_dict(),
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = copy.deepcopy(message)
        return message

    # -- the same over HTTP, for the standalone server ----------------------------------------

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
