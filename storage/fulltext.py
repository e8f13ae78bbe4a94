"""Search of the archive: the contract each backend's index answers, and saved searches."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from news.models import PeriodCount, Person, SearchHit
from storage.database import Row
from storage.people import PeopleQueries
from storage.rows import now, to_db_time

# What the search indexes keep of a text: its runs of letters and digits (CJK included).
LETTER_RUNS = re.compile(r"[^\W_]+", re.UNICODE)
# Counting every match of a very common word costs more than the page itself: search counts
# to SEARCH_COUNT_CAP + 1, which the reply shows as "1000+".
SEARCH_COUNT_CAP = 1000
# The relevance order ranks only the newest RELEVANCE_CAP matches, so that it costs the same
# in a year's archive as in ten; the reply says so when there were more.
RELEVANCE_CAP = 1000
# /trend names who spoke most in the newest TOP_SPEAKERS_CAP articles of its window holding
# the word, and says so when there were more: counting the speakers of every match of a
# common word reads each one's mentions, far past what a reply may take.
TOP_SPEAKERS_CAP = 2000


@dataclass(frozen=True, slots=True)
class Search:
    """What search_articles was asked: the words, the date range, the order and the page."""

    words: list[str]
    since: datetime | None
    until: datetime | None
    by_relevance: bool
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a search: the matches' ids in order, their ranks, and the total."""

    ids: list[int]
    total: int
    ranks: dict[int, float] = field(default_factory=dict)


NO_MATCH = SearchPage([], 0)


class SearchQueries(PeopleQueries):
    """Articles by the words they contain (each backend's own index), and saved searches."""

    async def search_articles(
        self,
        words: list[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        by_relevance: bool = False,
        limit: int = 5,
        offset: int = 0,
    ) -> tuple[list[SearchHit], int]:
        """Return articles whose title or body contain every word, and how many match in all.

        Words match in search_form (traditional finds simplified, full-width half-width, case
        folded). Hits are newest first, or best first with `by_relevance` (a hit's rank is then
        its score, lower is better; 0.0 otherwise), which ranks only the newest RELEVANCE_CAP
        matches. Past SEARCH_COUNT_CAP the total stops at SEARCH_COUNT_CAP + 1, which the
        reply shows as "1000+".
        """
        page = await self._search_page(Search(words, since, until, by_relevance, limit, offset))
        articles = await self.articles_by_ids(page.ids)
        hits = [
            SearchHit(article=articles[i], rank=page.ranks.get(i, 0.0))
            for i in page.ids
            if i in articles
        ]
        return hits, page.total

    @abstractmethod
    async def _search_page(self, search: Search) -> SearchPage:
        """Return the ids of search_articles' page, their ranks and the (capped) total."""

    @abstractmethod
    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return how many articles contain every word in each period [bounds[i], bounds[i+1]).

        Uncapped, unlike search_articles' count: every match of the periods is counted.
        """

    async def search_top_speakers(
        self,
        words: list[str],
        since: datetime,
        until: datetime,
        limit: int = 3,
        newest: int = TOP_SPEAKERS_CAP,
    ) -> list[tuple[Person, int]]:
        """Return who spoke most in the `newest` latest articles of [since, until) containing
        every word (all of them when there are fewer), with the counts; ties to the lower id."""
        return await self._with_people(
            await self._speaker_counts(words, since, until, limit, newest)
        )

    @abstractmethod
    async def _speaker_counts(
        self, words: list[str], since: datetime, until: datetime, limit: int, newest: int
    ) -> list[Row]:
        """Return search_top_speakers' (person_id, n) rows, most first, ties to the lower id."""

    async def save_search_query(self, chat_id: int, query: str, keep: int | None = None) -> int:
        """Remember a chat's search so its paging buttons can refer to it by a short id.

        With `keep`, the chat's searches older than its `keep` newest are forgotten (their
        buttons then ask for the search again).
        """
        # Not worth a wait for the disk: a crash just after it loses a search whose buttons
        # then ask for the search again.
        query_id = int(
            await self.db.fetchval(
                "INSERT INTO search_queries (chat_id, query, created_at) "
                "VALUES (?, ?, ?) RETURNING id",
                (chat_id, query, to_db_time(now())),
                durable=False,
            )
        )
        if keep is not None:
            # By the (chat_id, id) index: the chat's newest `keep` entries are walked, no more.
            # fetchval for its durable=False (a RETURNING the caller does not need).
            await self.db.fetchval(
                "DELETE FROM search_queries WHERE chat_id = ?1 AND id <= (SELECT id FROM "
                "search_queries WHERE chat_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2) "
                "RETURNING id",
                (chat_id, keep),
                durable=False,
            )
        return query_id

    async def search_query(self, chat_id: int, query_id: int) -> str | None:
        """Return a remembered search of this chat, or None (unknown, or another chat's)."""
        query = await self.db.fetchval(
            "SELECT query FROM search_queries WHERE id = ? AND chat_id = ?", (query_id, chat_id)
        )
        return str(query) if query is not None else None
