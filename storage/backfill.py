"""`newsbot backfill`'s cursors: where each source's walk back in time stands."""

from __future__ import annotations

from datetime import date
from typing import Any

from news.models import BackfillCursor
from storage.database import Database, Row
from storage.rows import from_db_time, to_db_time

_COLUMNS = (
    "source, since, until, list_index, page_url, page_no, day, reached, pages, articles, "
    "failed, done, error, started_at, updated_at"
)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _cursor(row: Row) -> BackfillCursor:
    return BackfillCursor(
        source=row["source"],
        since=date.fromisoformat(row["since"]),
        until=date.fromisoformat(row["until"]),
        started_at=from_db_time(row["started_at"]),
        updated_at=from_db_time(row["updated_at"]),
        list_index=int(row["list_index"]),
        page_url=row["page_url"],
        page_no=int(row["page_no"]),
        day=_day(row["day"]),
        reached=_day(row["reached"]),
        pages=int(row["pages"]),
        articles=int(row["articles"]),
        failed=int(row["failed"]),
        done=bool(row["done"]),
        error=row["error"],
    )


class BackfillCursors:
    """One cursor per source, written after each list page whose articles are all stored."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def cursor(self, source: str) -> BackfillCursor | None:
        """Return a source's cursor, or None if it was never backfilled."""
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM backfill_cursors WHERE source = ?", (source,)
        )
        return _cursor(row) if row is not None else None

    async def save(self, cursor: BackfillCursor) -> None:
        """Write a source's cursor (insert or replace) in one statement."""
        values: list[Any] = [
            cursor.source,
            cursor.since.isoformat(),
            cursor.until.isoformat(),
            cursor.list_index,
            cursor.page_url,
            cursor.page_no,
            cursor.day.isoformat() if cursor.day else None,
            cursor.reached.isoformat() if cursor.reached else None,
            cursor.pages,
            cursor.articles,
            cursor.failed,
            int(cursor.done),
            cursor.error[:300],
            to_db_time(cursor.started_at),
            to_db_time(cursor.updated_at),
        ]
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        await self.db.execute(
            f"INSERT INTO backfill_cursors ({_COLUMNS}) VALUES ({', '.join('?' * len(values))}) "
            f"ON CONFLICT (source) DO UPDATE SET {updates}",
            values,
        )

    async def progress(self) -> list[BackfillCursor]:
        """Return every source's cursor, by source name (what /metrics and /status show)."""
        found = await self.db.fetch(f"SELECT {_COLUMNS} FROM backfill_cursors ORDER BY source")
        return [_cursor(r) for r in found]
