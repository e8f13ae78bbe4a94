"""The Store: every part of the bot's persistent state over one backend's Database adapter."""

from __future__ import annotations

from news.models import BackfillCursor
from storage.backfill import BackfillCursors
from storage.budget import SendBudget
from storage.chats import ChatQueries
from storage.database import Database
from storage.exports import ExportQueries
from storage.fulltext import SearchQueries
from storage.leases import Leases
from storage.ledger import Ledger
from storage.stats import Stats
from storage.subscribers import Subscriptions


class Store(SearchQueries, ExportQueries, ChatQueries):
    """Sources, articles, people, search and chats (as methods); the rest as parts.

    `subscriptions` (digests and follows), `ledger` (what is owed to whom, sent once),
    `leases` (who sends, who crawls, who backfills a source), `backfill` (each source's walk
    back in time), `send_budget` (Telegram's rate, shared by every instance) and `stats` (an
    admin's counts) are built once, over the same adapter. A backend (storage.sqlite,
    storage.postgres) subclasses this for what its dialect does differently.
    """

    ledger_type: type[Ledger] = Ledger

    def __init__(self, db: Database) -> None:
        self.db = db
        self.subscriptions = Subscriptions(db, self)
        self.ledger = self.ledger_type(db)
        self.leases = Leases(db)
        self.backfill = BackfillCursors(db)
        self.send_budget = SendBudget(db)
        self.stats = Stats(db)

    @property
    def path(self) -> str:
        """Return the database as it may be shown (a file path, a URL without its password)."""
        return self.db.name

    async def close(self) -> None:
        """Close every connection."""
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def backfill_progress(self) -> list[BackfillCursor]:
        """Return each backfilled source's progress: range, day reached, pages, articles, done."""
        return await self.backfill.progress()

    async def schema_version(self) -> int:
        """Return the number of migrations applied to this database."""
        return await self.db.schema_version()
