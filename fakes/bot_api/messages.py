"""The Bot API methods that send, edit and delete text messages and answer button presses."""

from __future__ import annotations

import copy
import time
from typing import Any

from fakes.bot_api.message_content import formatted_text, reply_markup
from fakes.bot_api.protocol import JSONDict, bad_request
from fakes.bot_api.records import MessageKind, SentMessage
from fakes.bot_api.state import BotApiState, MethodHandler

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
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class MessagesMixin(BotApiState):
    """Serve sendMessage, the message edits, deleteMessage, sendChatAction and callback answers."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {
            **super()._bot_api_methods(),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
        }

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=True)
        plain, _, entities = formatted_text(params, strict_html=self.strict_html)
        markup = reply_markup(params, inline_only=False)
        self._reply_check(params, chat_id)
        self._flood.check("sendMessage", chat_id)
        message = self._keep_bot_message(chat_id, params, markup, text=plain, entities=entities)
        self._record_message("send", "sendMessage", message, params)
        return message

    def _keep_bot_message(
        self, chat_id: int, params: JSONDict, markup: JSONDict | None, **content: Any
    ) -> JSONDict:
        """Build and store the Message of a send: the content fields given, topic, keyboard."""
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": self._bot_as_user(),
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
        replied = self._replied_message(params, chat_id)
        if replied is not None:
            message["reply_to_message"] = replied
        with self._lock:
            key = (chat_id, message["message_id"])
            self._messages[key] = copy.deepcopy(message)
            self._bot_messages.add(key)
        return message

    def _replied_message(self, params: JSONDict, chat_id: int) -> JSONDict | None:
        """Return the message a send answers, as Telegram nests it (one level deep), or None."""
        reply = params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        if target is None:
            target = params.get("reply_to_message_id")
        with self._lock:
            found = self._messages.get((chat_id, target)) if isinstance(target, int) else None
        if found is None:
            return None
        nested = copy.deepcopy(found)
        nested.pop("reply_to_message", None)
        return nested

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
            raise bad_request("message to be replied not found")

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
        self._keep_record(record)

    def _keep_record(self, record: SentMessage) -> None:
        with self._lock:
            self.sent_messages.append(record)
        self._waiters.notify_all()

    def _message_to_edit(self, params: JSONDict) -> tuple[int, int, JSONDict]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id_param(params, for_sending=True)
        message_id = self._int_param(params, "message_id", "message identifier is not specified")
        key = (chat_id, message_id)
        with self._lock:
            stored = self._messages.get(key)
            is_bots = key in self._bot_messages
        if stored is None:
            raise bad_request("message to edit not found")
        if not is_bots:
            raise bad_request("message can't be edited")
        return chat_id, message_id, copy.deepcopy(stored)

    def _store_edit(self, method: str, message: JSONDict, params: JSONDict) -> JSONDict:
        self._flood.check(method, message["chat"]["id"])
        message["edit_date"] = int(time.time())
        with self._lock:
            self._messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)
        self._record_message("edit", method, message, params)
        return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        _, _, message = self._message_to_edit(params)
        plain, _, entities = formatted_text(params, strict_html=self.strict_html)
        markup = reply_markup(params, inline_only=True)
        if (
            plain == message.get("text")
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise bad_request(_NOT_MODIFIED)
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
        markup = reply_markup(params, inline_only=True)
        if markup == message.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        return self._store_edit("editMessageReplyMarkup", message, params)

    async def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._chat_id_param(params, for_sending=True)
        message_id = self._int_param(params, "message_id", "message identifier is not specified")
        with self._lock:
            if self._messages.pop((chat_id, message_id), None) is None:
                raise bad_request("message to delete not found")
            self._bot_messages.discard((chat_id, message_id))
            self.deleted_messages.append((chat_id, message_id))
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_id_param(params, for_sending=True)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            if query_id not in self._pending_callbacks:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self._pending_callbacks.discard(str(query_id))
            self.callback_answers[str(query_id)] = copy.deepcopy(params)
        return True
