"""The chats and members the fake knows, and the Bot API methods that read them."""

from __future__ import annotations

import copy
from typing import Any

from fakes.bot_api.protocol import JSONDict
from fakes.bot_api.records import FakeChat
from fakes.bot_api.state import BotApiState, MethodHandler


class ChatsMixin(BotApiState):
    """Serve getChat and getChatMember, and let tests set up chats and their members."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {
            **super()._bot_api_methods(),
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }

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

    def set_chat_member(self, chat_id: int, user_id: int, status: str, **fields: Any) -> None:
        """Configure getChatMember for (chat, user): creator, administrator, member, ... ."""
        member = self._member_dict(status, self._user_dict(user_id))
        if status == "administrator" and self._chat(chat_id).type == "channel":
            # A channel's administrators have the posting rights; a group's do not.
            member.update(can_post_messages=True, can_edit_messages=True)
        member.update(fields)
        with self._lock:
            self._members[(chat_id, user_id)] = member

    def add_channel(
        self,
        chat_id: int,
        *,
        username: str | None = None,
        title: str | None = None,
        admins: tuple[int, ...] = (),
        bot_can_post: bool = True,
    ) -> FakeChat:
        """Register a channel with its administrators and the bot as one (posting or not).

        Users not listed are plain subscribers ("member"); sends to the channel follow the
        bot's membership (see set_bot_member, remove_bot, demote_bot).
        """
        chat = self.add_chat(chat_id, type="channel", title=title, username=username)
        for user_id in admins:
            self.set_chat_member(chat_id, user_id, "administrator")
        self.set_chat_member(
            chat_id, self.bot_user["id"], "administrator", can_post_messages=bot_can_post
        )
        self._channel_default_members.add(chat_id)
        return chat

    def member(self, chat_id: int, user_id: int) -> JSONDict:
        """Return what getChatMember answers for (chat, user)."""
        with self._lock:
            member = self._members.get((chat_id, user_id))
            fallback = chat_id in self._channel_default_members
        if member is not None:
            return copy.deepcopy(member)
        status = "member" if fallback else self.default_member_status
        return self._member_dict(status, self._user_dict(user_id))

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
        return self.member(chat_id, user_id)

    async def _get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        chat_id = self._chat_id_param(params, for_sending=False)
        with self._lock:
            members = [m for (c, _u), m in self._members.items() if c == chat_id]
        return [copy.deepcopy(m) for m in members if m["status"] in ("creator", "administrator")]
