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

    async def set_chat_settings(self, chat_id: int, **fields: object) -> Chat | None:
        """Change some of a chat's own settings (quiet hours, silent, keyword_body, order, city)."""
        values = chat_values(fields)
        if values:
            sets = ", ".join(f"{name} = ?" for name, _ in values)
            await self.db.execute(
                f"UPDATE chats SET {sets} WHERE id = ?", (*(v for _, v in values), chat_id)
            )
        return await self.get_chat(chat_id)

    # --- channels managed from a private chat --------------------------------------------

    async def add_channel(
        self, channel_id: int, title: str, user_id: int, time_zone: str, language: str
    ) -> bool:
        """Register a channel and its managing user in one transaction; False if already theirs."""
        stamp = to_db_time(now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chats (id, type, language, time_zone, created_at, title) "
                "VALUES (?, 'channel', ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "type = 'channel', title = excluded.title, blocked_at = NULL",
                (channel_id, language, time_zone, stamp, title),
            )
            added = await tx.execute(
                "INSERT INTO channel_managers (channel_id, user_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (channel_id, user_id, stamp),
            )
        return added > 0

    async def channels_of_user(self, user_id: int) -> list[Chat]:
        """Return the channels a user manages through the bot, by title."""
        found = await self.db.fetch(
            f"SELECT {CHAT_COLUMNS} FROM chats WHERE id IN "
            "(SELECT channel_id FROM channel_managers WHERE user_id = ?) "
            f"ORDER BY title {self.db.dialect.bytewise}",
            (user_id,),
        )
        return [rows.chat(r) for r in found]

    async def channel_managers(self, channel_id: int) -> list[int]:
        """Return the users who set a channel up through the bot, first first."""
        found = await self.db.fetch(
            "SELECT user_id FROM channel_managers WHERE channel_id = ? "
            "ORDER BY created_at, user_id",
            (channel_id,),
        )
        return [int(r["user_id"]) for r in found]


CHAT_SETTINGS: dict[str, type] = {
    "quiet_start": str,
    "quiet_end": str,
    "silent": bool,
    "keyword_body": bool,
    "digest_order": str,
    "city": str,
    "title": str,
}


def chat_values(fields: dict[str, object]) -> list[tuple[str, object]]:
    """Check set_chat_settings' fields and turn them into (column, database value)."""
    values: list[tuple[str, object]] = []
    for name, value in fields.items():
        kind = CHAT_SETTINGS.get(name)
        if kind is None or not isinstance(value, kind):
            raise ValueError(f"not a chat setting: {name}={value!r}")
        values.append((name, int(value) if isinstance(value, bool) else value))
    return values
