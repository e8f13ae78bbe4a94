"""Chats the bot serves: registration, language and time zone; the queries written once."""

from __future__ import annotations

from news.models import Chat
from storage import rows
from storage.articles import StorePart
from storage.rows import CHAT_COLUMNS, now, to_db_time


class ChatQueries(StorePart):
    """The chats the bot has met."""

    async def upsert_chat(
        self, chat_id: int, chat_type: str, language: str, time_zone: str
    ) -> Chat:
        """Register a chat (or refresh its type and language) and clear any blocked mark."""
        await self.db.execute(
            "INSERT INTO chats (id, type, language, time_zone, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET type = excluded.type, language = excluded.language, "
            "blocked_at = NULL",
            (chat_id, chat_type, language, time_zone, to_db_time(now())),
        )
        chat = await self.get_chat(chat_id)
        assert chat is not None
        return chat

    async def get_chat(self, chat_id: int) -> Chat | None:
        """Return a registered chat, or None."""
        row = await self.db.fetchone(f"SELECT {CHAT_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        return rows.chat(row) if row is not None else None

    async def set_chat_language(self, chat_id: int, language: str) -> None:
        """Choose the language the bot uses for pushes to a chat."""
        await self.db.execute("UPDATE chats SET language = ? WHERE id = ?", (language, chat_id))

    async def set_chat_time_zone(self, chat_id: int, time_zone: str) -> None:
        """Choose the time zone dates are shown in for a chat."""
        await self.db.execute("UPDATE chats SET time_zone = ? WHERE id = ?", (time_zone, chat_id))
