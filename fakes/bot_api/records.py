"""What the fake records and knows: the calls it served, the messages sent, chats, failures."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from fakes.bot_api.protocol import JSONDict

MessageKind = Literal["send", "edit"]


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """Record one Bot API call as the server saw it."""

    method: str
    params: JSONDict
    status: int
    response: JSONDict
    http_method: str
    time: float
    monotonic: float


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Record a successful send (``kind="send"``) or message edit (``kind="edit"``)."""

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
    document: JSONDict | None = None  # sendDocument: the Document; text is the caption

    def to_dict(self) -> JSONDict:
        """Return a JSON-serialisable dict of this record."""
        return asdict(self)


@dataclass(slots=True)
class FakeChat:
    """Describe a chat the fake knows; unknown chat ids get a default derived from the id."""

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
class InjectedFailure:
    """Hold an error that the next ``remaining`` calls of a method answer with (fail_next)."""

    status: int
    description: str
    parameters: JSONDict | None
    remaining: int
