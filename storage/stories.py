"""Stories across outlets: the shared LSH bands, a story's outlets, grouping an existing archive."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from news.models import Article, Headline, Outlet, StorySketch
from news.stories import is_same_story, jaccard
from news.stories import sketch as story_sketch
from storage import rows
from storage.articles import DELETE_MENTIONS, IDS_AT_ONCE, ArticleQueries
from storage.database import Transaction

T = TypeVar("T", Article, Headline)

# Candidates a new article's bands may bring at most: a boilerplate-heavy text can share a band
# with many, and the best of fifty is as good as the best of all.
MAX_CANDIDATES = 50
# Other outlets named in a list line before the rest become a count.
NAMED_OUTLETS = 3
# An article's copies and the outlet each appeared in, first copy first. The outlet is the
# configured source's title up to its "·" (东北新闻网·辽宁要闻 -> 东北新闻网), else the page's 来源.
_COPIES = (
    "SELECT a.id, coalesce(a.story_id, a.id) AS story, a.url, a.title, a.published_at, "
    "coalesce(s.title, '') AS source_title, a.source, coalesce(a.source_name, '') AS source_name "
    "FROM articles a LEFT JOIN sources s ON s.name = a.source_name WHERE "
)
_ADD_SKETCH = "INSERT INTO story_sketches (article_id, shingles, signature) VALUES (?, ?, ?)"


def outlet_name(source_title: str, source: str, source_name: str) -> str:
    """Return the name an outlet is shown by: the source's title before its "·", or the 来源."""
    return source_title.split("·")[0].strip() or source.strip() or source_name


class StoryQueries(ArticleQueries):
    """Which articles are copies of one story, found by MinHash bands kept in the database."""

    # --- grouping on insert --------------------------------------------------------------

    async def _story_of(self, tx: Transaction, sketch: StorySketch) -> int | None:
        """Return the first copy of the stored story this sketch is a copy of, if any."""
        if not sketch.bands:
            return None
        await self._lock_bands(tx, sketch.bands)
        # Two look-ups by index, each the plan any planner picks without statistics (a
        # PostgreSQL without autovacuum's ANALYZE, as a fresh backfill has, hashed whole
        # tables for the one-statement join, and a LIMIT on the first made it scan the
        # table): the band keys' articles, then those articles' sketches by primary key.
        bands, band_params = self.db.dialect.in_list("band", list(sketch.bands), "bigint")
        found_ids = await tx.fetch(f"SELECT article_id FROM story_bands WHERE {bands}", band_params)
        ids = list(dict.fromkeys(int(row["article_id"]) for row in found_ids))[:MAX_CANDIDATES]
        if not ids:
            return None
        among, id_params = self.db.dialect.in_list("a.id", ids, "bigint")
        found = await tx.fetch(
            "SELECT a.id AS article_id, coalesce(a.story_id, a.id) AS story, k.shingles, "
            "k.signature FROM articles a JOIN story_sketches k ON k.article_id = a.id "
            f"WHERE {among}",
            id_params,
        )
        best: tuple[float, int] | None = None
        for row in found:
            other = (bytes(row["signature"]), int(row["shingles"]))
            if is_same_story(sketch, other):
                score = jaccard(sketch.signature, other[0])
                if best is None or (score, -row["story"]) > (best[0], -best[1]):
                    best = (score, int(row["story"]))
        return best[1] if best else None

    async def _lock_bands(self, tx: Transaction, bands: Sequence[int]) -> None:
        """Keep two processes from grouping copies of one story apart (SQLite: one writer)."""

    async def _keep_sketch(self, tx: Transaction, article_id: int, sketch: StorySketch) -> None:
        """Store an article's signature and its band keys."""
        await tx.execute(_ADD_SKETCH, (article_id, sketch.shingles, sketch.signature))
        if sketch.bands:
            marks = ", ".join(["(?, ?)"] * len(sketch.bands))
            values: list[Any] = []
            for band in sketch.bands:
                values.extend((band, article_id))
            await tx.execute(f"INSERT INTO story_bands (band, article_id) VALUES {marks}", values)

    # --- reading -------------------------------------------------------------------------

    async def story_outlets(self, article_ids: Iterable[int]) -> dict[int, list[Outlet]]:
        """Return every copy of each article's story, first copy first, keyed by the ids asked.

        An id may be a first copy or a reprint; a story of one copy gives a list of one. The
        export of a result, /summary and the "也见于" line of every list read this.
        """
        wanted = list(dict.fromkeys(article_ids))
        story_of: dict[int, int] = {}
        copies: dict[int, list[Outlet]] = {}
        for start in range(0, len(wanted), IDS_AT_ONCE):
            chunk = wanted[start : start + IDS_AT_ONCE]
            where, params = self.db.dialect.in_list("a.id", chunk, "bigint")
            for row in await self.db.fetch(
                f"SELECT a.id, coalesce(a.story_id, a.id) AS story FROM articles a WHERE {where}",
                params,
            ):
                story_of[row["id"]] = row["story"]
        heads = sorted(set(story_of.values()))
        for start in range(0, len(heads), IDS_AT_ONCE):
            for row in await self._copies(heads[start : start + IDS_AT_ONCE]):
                copies.setdefault(row["story"], []).append(_outlet(row))
        for story, found in copies.items():
            found.sort(key=lambda o: o.article_id != story)  # stable: then oldest first
        return {i: copies.get(s, []) for i, s in story_of.items()}

    async def _copies(self, heads: Sequence[int]) -> list[Any]:
        """Return the rows of these first copies and of all their reprints, oldest first."""
        own, own_params = self.db.dialect.in_list("a.id", list(heads), "bigint")
        reprints, reprint_params = self.db.dialect.in_list("a.story_id", list(heads), "bigint")
        return await self.db.lookup(
            f"{_COPIES}{own} UNION ALL {_COPIES}{reprints} ORDER BY 5, 1",
            (*own_params, *reprint_params),
        )

    async def _with_outlets(self, items: list[T]) -> list[T]:
        """Return list items with the names of their stories' other outlets filled in."""
        if not items:
            return items
        found = await self._copies([i.id for i in items])
        if all(row["id"] == row["story"] for row in found):
            return items  # no reprints: the items' own rows alone
        copies: dict[int, list[Outlet]] = {}
        for row in found:
            copies.setdefault(row["story"], []).append(_outlet(row))
        also: dict[int, tuple[str, ...]] = {}
        for story, outlets in copies.items():
            first = next((o.name for o in outlets if o.article_id == story), "")
            also[story] = other_outlets([o.name for o in outlets if o.article_id != story], first)
        return [replace(i, also=also[i.id]) if also.get(i.id) else i for i in items]

    # --- an archive stored before stories ------------------------------------------------

    async def ungrouped_count(self) -> int:
        """Return how many stored articles have no sketch yet (stored before stories)."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM articles a WHERE NOT EXISTS "
                "(SELECT 1 FROM story_sketches k WHERE k.article_id = a.id)"
            )
        )

    async def group_stored(
        self, batch: int = 200, progress: Callable[[int, int], None] | None = None
    ) -> tuple[int, int]:
        """Sketch every article stored without one, oldest first, grouping reprints as found.

        Returns (articles sketched, reprints found). Each batch is one transaction; run again
        after an interruption, it carries on where it stopped.
        """
        total = await self.ungrouped_count()
        done = reprints = 0
        last = 0
        while True:
            found = await self.db.fetch(
                "SELECT a.id, a.body, a.story_id FROM articles a WHERE a.id > ? AND NOT EXISTS "
                "(SELECT 1 FROM story_sketches k WHERE k.article_id = a.id) ORDER BY a.id LIMIT ?",
                (last, batch),
            )
            if not found:
                break
            async with self.db.transaction() as tx:
                for row in found:
                    sketch = story_sketch(row["body"])
                    story = (
                        None if row["story_id"] is not None else await self._story_of(tx, sketch)
                    )
                    if story is not None and story != row["id"]:
                        await self._make_reprint(tx, row["id"], story)
                        reprints += 1
                    await self._keep_sketch(tx, row["id"], sketch)
            last = found[-1]["id"]
            done += len(found)
            if progress is not None:
                progress(done, total)
        return done, reprints

    async def _make_reprint(self, tx: Transaction, article_id: int, story: int) -> None:
        """Turn a stored article into a reprint: out of search and people's pages."""
        await tx.execute(
            "UPDATE articles SET story_id = ? WHERE id = ? OR story_id = ?",
            (story, article_id, article_id),
        )
        await tx.execute(DELETE_MENTIONS, (article_id,))
        await self._unindex_article(tx, article_id)
        self._article_added()

    async def _unindex_article(self, tx: Transaction, article_id: int) -> None:
        """Remove an article from the search index (a backend's own index)."""
        raise NotImplementedError


def _outlet(row: Any) -> Outlet:
    return Outlet(
        article_id=row["id"],
        name=outlet_name(row["source_title"], row["source"], row["source_name"]),
        url=row["url"],
        title=row["title"],
        published_at=rows.from_db_time(row["published_at"]),
    )


def other_outlets(names: Sequence[str], first: str = "") -> tuple[str, ...]:
    """Return the other outlets' names once each, without the first copy's own outlet."""
    return tuple(n for n in dict.fromkeys(names) if n and n != first)
