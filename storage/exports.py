"""What exports read: the people of many articles at once, and the archive by keyset pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from news.models import Article
from storage import rows
from storage.rows import ARTICLE_COLUMNS, to_db_time
from storage.said import StatementQueries

# Articles an export asks about in one statement (SQLite binds at most 32,766 values).
IDS_PER_QUERY = 500


class ExportQueries(StatementQueries):
    """Whole results for files: who appears in each article, and the archive in id order."""

    async def people_of_articles(
        self, article_ids: Iterable[int]
    ) -> dict[int, list[tuple[str, str, str]]]:
        """Return, per article id, its people's (name, role, title), name order."""
        wanted = list(dict.fromkeys(article_ids))
        found: dict[int, list[tuple[str, str, str]]] = {i: [] for i in wanted}
        dialect = self.db.dialect
        for start in range(0, len(wanted), IDS_PER_QUERY):
            among, params = dialect.in_list(
                "m.article_id", wanted[start : start + IDS_PER_QUERY], "bigint"
            )
            for row in await self.db.fetch(
                "SELECT m.article_id, p.name, m.role, m.title FROM mentions m "
                f"JOIN people p ON p.id = m.person_id WHERE {among} "
                f"ORDER BY p.name {dialect.bytewise}, m.role",
                params,
            ):
                found[row["article_id"]].append((row["name"], row["role"], row["title"]))
        return found

    async def article_summaries_many(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return the stored summaries of many articles, IDS_PER_QUERY at a time."""
        wanted = list(dict.fromkeys(article_ids))
        found: dict[int, str] = {}
        for start in range(0, len(wanted), IDS_PER_QUERY):
            found.update(await self.article_summaries(wanted[start : start + IDS_PER_QUERY]))
        return found

    async def articles_after(
        self,
        after_id: int,
        limit: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        person_id: int | None = None,
    ) -> list[Article]:
        """Return up to `limit` articles with ids above `after_id`, in id order, filtered.

        A keyset page: the next page starts after the last id, so reading the whole archive
        holds one page at a time whatever its size.
        """
        where = "a.id > ?"
        params: list[object] = [after_id]
        if since is not None:
            where += " AND a.published_at >= ?"
            params.append(to_db_time(since))
        if until is not None:
            where += " AND a.published_at < ?"
            params.append(to_db_time(until))
        if source is not None:
            where += " AND (a.source_name = ? OR a.source = ?)"
            params += [source, source]
        if person_id is not None:
            where += " AND EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = a.id "
            where += "AND m.person_id = ?)"
            params.append(person_id)
        found = await self.db.fetch(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE {where} ORDER BY a.id LIMIT ?",
            [*params, limit],
        )
        return [rows.article(r) for r in found]
