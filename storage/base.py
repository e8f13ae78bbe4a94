"""The store contract: one abstract Store (and its DeliveryStore) that every backend implements.

Handlers, jobs and the delivery code type against these classes only; `storage.open_store`
picks the backend (SQLite in storage.store, PostgreSQL in storage.postgres) from NEWSBOT_DB.
The helpers below turn rows into news.models objects the same way for both backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from news.models import (
    ACTIVITY_ROLES,
    Appearance,
    Article,
    ArticleAnalysis,
    Chat,
    Delivery,
    Headline,
    Link,
    ParsedArticle,
    PeriodCount,
    Person,
    SearchHit,
    SourceStatus,
    Statement,
    StoreOutcome,
    Subscription,
)

# The roles a person can have in an article, in the order a reader is told them.
ROLE_ORDER = ("spoke", "presided", "attended", "met", "mentioned")
# Counting every match of a very common word costs more than the page itself: search counts
# to SEARCH_COUNT_CAP + 1, which the reply shows as "1000+".
SEARCH_COUNT_CAP = 1000
# The relevance order ranks only the newest RELEVANCE_CAP matches, so that it costs the same
# in a year's archive as in ten; the reply says so when there were more.
RELEVANCE_CAP = 1000
# /trend names who spoke most in the newest TOP_SPEAKERS_CAP articles of its window holding
# the word, and says so when there were more: counting the speakers of every match read each
# one's mentions (52,000 articles of 振兴 in 24 months at 1,000,000 articles: 400-550 ms).
TOP_SPEAKERS_CAP = 2000


class StoreError(Exception):
    """The database cannot be used (wrong kind, from a newer newsbot, unreachable)."""


class StoreUnavailable(StoreError):
    """The database refused a read or write for now (disk full, read-only, locked): retry later.

    Nothing was half-written: the statement or transaction that met it was rolled back.
    """


def to_db_time(moment: datetime) -> str:
    """Format an aware datetime as the UTC text the database sorts by."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; times must be aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db_time(text: str) -> datetime:
    """Parse the database's UTC text back into an aware datetime."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":
        # Ten times faster than strptime, which was a fifth of what a /latest page cost.
        return datetime.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


def _now() -> datetime:
    return datetime.now(UTC)


HEADLINE_COLUMNS = "a.id, a.url, a.title, a.published_at, a.source"
ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.published_at, a.source, a.editor, a.body, a.fetched_at, "
    "a.content_hash, a.source_name, a.subtitle, a.reporter, a.channel"
)
PERSON_COLUMNS = "p.id, p.name, p.pinyin, p.latest_title, p.first_seen, p.last_seen"
SUB_COLUMNS = (
    "s.chat_id, s.digest_time, s.time_zone, s.next_due_at, s.since_at, s.active, s.send_empty, "
    "s.channels, s.thread_id, coalesce(c.language, 'zh')"
)
DELIVERY_COLUMNS = "id, chat_id, kind, key, status, attempts, payload, thread_id, parts, parts_sent"


def _headline_from_row(row: Any) -> Headline:
    return Headline(
        id=row[0], url=row[1], title=row[2], published_at=from_db_time(row[3]), source=row[4]
    )


def _article_from_row(row: Any) -> Article:
    return Article(
        id=row[0],
        url=row[1],
        title=row[2],
        published_at=from_db_time(row[3]),
        source=row[4],
        editor=row[5],
        body=row[6],
        fetched_at=from_db_time(row[7]),
        content_hash=row[8],
        source_name=row[9] or "",
        subtitle=row[10],
        reporter=row[11],
        channel=row[12],
    )


def _person_from_row(row: Any) -> Person:
    """Build a Person from PERSON_COLUMNS followed by its article count."""
    return Person(
        id=row[0],
        name=row[1],
        pinyin=row[2],
        latest_title=row[3],
        first_seen=_opt_time(row[4]),
        last_seen=_opt_time(row[5]),
        article_count=row[6],
    )


def _chat_from_row(row: Any) -> Chat:
    return Chat(
        id=row[0],
        type=row[1],
        language=row[2],
        time_zone=row[3],
        created_at=from_db_time(row[4]),
        blocked_at=_opt_time(row[5]),
    )


def _source_status(row: Any) -> SourceStatus:
    return SourceStatus(
        name=row[0],
        title=row[1],
        profile=row[2],
        last_success_at=_opt_time(row[3]),
        last_error_at=_opt_time(row[4]),
        last_error=row[5],
        consecutive_failures=row[6],
        error_count=row[7],
        article_count=row[8],
    )


def _subscription(row: Any) -> Subscription:
    return Subscription(
        chat_id=row[0],
        digest_time=row[1],
        time_zone=row[2],
        next_due_at=from_db_time(row[3]),
        since_at=_opt_time(row[4]),
        active=bool(row[5]),
        send_empty=bool(row[6]),
        channels=tuple(c for c in row[7].split(",") if c),
        thread_id=row[8],
        language=row[9],
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row[0],
        chat_id=row[1],
        kind=row[2],
        key=row[3],
        status=row[4],
        attempts=row[5],
        payload=row[6],
        thread_id=row[7],
        parts=row[8],
        parts_sent=row[9],
    )


def _related_links(text: str) -> list[Link]:
    import json

    return [Link(url=item["url"], title=item["title"]) for item in json.loads(text)]


def _period_case(column: str, bounds: Sequence[datetime]) -> tuple[str, list[Any]]:
    """Return `CASE WHEN column < ? THEN 0 …` numbering the periods between bounds, and params.

    Periods are cut in SQL at the caller's bounds (local months, any time zone, DST included),
    so a chart reads one row per period and role, not one per article.
    """
    whens = " ".join(f"WHEN {column} < ? THEN {i}" for i in range(len(bounds) - 1))
    return f"CASE {whens} END", [to_db_time(b) for b in bounds[1:]]


def _cut_days(bounds: Sequence[datetime]) -> tuple[set[str], list[tuple[str, str]]]:
    """Return the UTC days a bound cuts (one not at midnight), and their parts within bounds.

    A person's activity is kept per UTC day (person_days); a period of local months takes
    the days that lie wholly inside it from there, and reads the mentions of the cut days.
    """
    times = [to_db_time(b) for b in bounds]
    cut = {t[:10] for t in times if not t.endswith("T00:00:00Z")}
    ranges: list[tuple[str, str]] = []
    for day in sorted(cut):
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        low = max(to_db_time(start), times[0])
        high = min(to_db_time(start + timedelta(days=1)), times[-1])
        if low < high:
            ranges.append((low, high))
    return cut, ranges


def _activity_counts(
    bounds: Sequence[datetime],
    cut: set[str],
    days: Iterable[Sequence[Any]],
    articles: Iterable[Sequence[Any]],
) -> list[PeriodCount]:
    """Add up whole days (day, rank, n) and cut days' articles (published_at, rank) per period.

    The counts come out by period, then main role (spoke, presided, attended, other).
    """
    times = [to_db_time(b) for b in bounds]
    totals: dict[tuple[int, int], int] = {}
    for day, rank, n in days:
        start = f"{day}T00:00:00Z"
        if day not in cut and times[0] <= start < times[-1]:
            key = (bisect_right(times, start) - 1, int(rank))
            totals[key] = totals.get(key, 0) + int(n)
    for at, rank in articles:
        period = bisect_right(times, at) - 1
        if 0 <= period < len(times) - 1:
            key = (period, int(rank))
            totals[key] = totals.get(key, 0) + 1
    return [PeriodCount(p, ACTIVITY_ROLES[r], n) for (p, r), n in sorted(totals.items()) if n]


def _single_titles(chains: Iterable[str]) -> list[str]:
    """Split title chains (省委常委、沈阳市委书记) into single titles."""
    titles: list[str] = []
    for chain in chains:
        for part in chain.replace(",", "、").replace("，", "、").split("、"):
            part = part.strip()
            if part and part not in titles:
                titles.append(part)
    return titles


def _last_title(chains: Iterable[str]) -> str:
    """Return the most specific title written: the whole first chain."""
    for chain in chains:
        if chain.strip():
            return chain.strip()
    return ""


SUBSCRIPTION_SETTINGS: dict[str, type] = {
    "digest_time": str,
    "time_zone": str,
    "next_due_at": datetime,
    "send_empty": bool,
    "channels": tuple,
}


def subscription_values(fields: dict[str, Any]) -> list[tuple[str, Any]]:
    """Check update_subscription's settings and turn them into (column, database value)."""
    values: list[tuple[str, Any]] = []
    for name, value in fields.items():
        if name not in SUBSCRIPTION_SETTINGS:
            raise ValueError(f"not a subscription setting: {name}")
        if isinstance(value, datetime):
            value = to_db_time(value)
        elif isinstance(value, bool):
            value = int(value)
        elif isinstance(value, tuple):
            value = ",".join(value)
        values.append((name, value))
    return values


class Store(ABC):
    """All persistent state of the bot: sources, articles, people, chats, search, delivery."""

    backend: str
    """"sqlite" or "postgresql"."""

    @property
    @abstractmethod
    def delivery(self) -> DeliveryStore:
        """Return the subscriptions-and-ledger view of this database."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (or pool)."""

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    async def schema_version(self) -> int:
        """Return the number of migrations applied to this database."""

    @abstractmethod
    async def upsert_source(self, name: str, title: str, profile: str) -> None:
        """Record a configured source, updating its title and profile."""

    @abstractmethod
    async def record_source_success(self, name: str, at: datetime | None = None) -> None:
        """Note a run of the source that completed."""

    @abstractmethod
    async def record_source_error(self, name: str, error: str, at: datetime | None = None) -> None:
        """Note an error of the source (a failed run, or a list page that yielded nothing)."""

    @abstractmethod
    async def source_statuses(self) -> list[SourceStatus]:
        """Return every source's health and article count, by name."""

    @abstractmethod
    async def list_validators(self, url: str) -> tuple[str | None, str | None]:
        """Return the ETag and Last-Modified last seen for a list page."""

    @abstractmethod
    async def save_list_validators(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember a list page's validators for the next conditional GET."""

    @abstractmethod
    async def known_url_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of these normalised URL keys already belong to a stored article."""

    @abstractmethod
    async def add_article(
        self,
        article: ParsedArticle,
        *,
        url_key: str,
        fingerprint: str,
        source_name: str | None,
        fetched_at: datetime | None = None,
        analysis: ArticleAnalysis | None = None,
    ) -> StoreOutcome:
        """Store a parsed article once: a known URL or fingerprint links to the existing row."""

    @abstractmethod
    async def save_analysis(self, article_id: int, analysis: ArticleAnalysis) -> None:
        """Replace an article's summary, keywords and mentions with a fresh analysis."""

    @abstractmethod
    async def latest_articles(self, limit: int = 10, offset: int = 0) -> list[Article]:
        """Return the newest articles, newest first."""

    @abstractmethod
    async def latest_page(self, limit: int = 10, offset: int = 0) -> tuple[list[Headline], int]:
        """Return a page of the newest headlines and how many articles there are, in one call."""

    @abstractmethod
    async def get_article(self, article_id: int) -> Article | None:
        """Return one article by id, or None."""

    @abstractmethod
    async def article_urls(self, article_id: int) -> list[str]:
        """Return every URL the article was found at, the canonical one first."""

    @abstractmethod
    async def article_related(self, article_id: int) -> list[Link]:
        """Return the related links stored with an article."""

    @abstractmethod
    async def count_articles(self) -> int:
        """Return how many articles are stored."""

    @abstractmethod
    async def articles_by_ids(self, ids: Iterable[int]) -> dict[int, Article]:
        """Return the articles with these ids, keyed by id."""

    @abstractmethod
    async def article_summary(self, article_id: int) -> tuple[str, tuple[str, ...]]:
        """Return an article's stored summary and keywords."""

    @abstractmethod
    async def article_summaries(self, article_ids: Iterable[int]) -> dict[int, str]:
        """Return the stored summaries of these articles, keyed by id, in one query."""

    @abstractmethod
    async def speakers_of(self, article_id: int) -> list[str]:
        """Return the names of the people who spoke in an article, in name order."""

    @abstractmethod
    async def speakers_of_articles(self, article_ids: Iterable[int]) -> dict[int, list[str]]:
        """Return, for each article id, the names of those who spoke in it."""

    @abstractmethod
    async def person_by_name(self, name: str) -> Person | None:
        """Return the person with exactly this (simplified) name."""

    @abstractmethod
    async def people_by_pinyin(self, pinyin: str) -> list[Person]:
        """Return people whose name reads as this toneless pinyin, most recently seen first."""

    @abstractmethod
    async def people_by_title(self, title: str, limit: int = 10) -> list[Person]:
        """Return people who held a title containing `title`, most recent holder first."""

    @abstractmethod
    async def all_people_names(self) -> list[tuple[str, str]]:
        """Return every known person's name and pinyin (for suggestions)."""

    @abstractmethod
    async def get_person(self, person_id: int) -> Person | None:
        """Return a person by id, or None."""

    @abstractmethod
    async def people_by_ids(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """Return the people with these ids, keyed by id, in one query."""

    @abstractmethod
    async def person_statements(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Statement]:
        """Return the articles where a person spoke, newest first, with their statements."""

    @abstractmethod
    async def count_person_statements(self, person_id: int) -> int:
        """Return in how many articles a person spoke."""

    @abstractmethod
    async def person_appearances(
        self, person_id: int, limit: int = 5, offset: int = 0
    ) -> list[Appearance]:
        """Return the articles a person appears in, newest first, with their roles there."""

    @abstractmethod
    async def person_activity(
        self, person_id: int, bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return in how many articles a person appeared in each period, per main role.

        Period i is [bounds[i], bounds[i + 1]). Each article counts once, under the person's
        main role there: spoke, presided, attended, else "other".
        """

    @abstractmethod
    async def search_activity(
        self, words: list[str], bounds: Sequence[datetime]
    ) -> list[PeriodCount]:
        """Return how many articles contain every word in each period [bounds[i], bounds[i+1])."""

    @abstractmethod
    async def search_top_speakers(
        self,
        words: list[str],
        since: datetime,
        until: datetime,
        limit: int = 3,
        newest: int = TOP_SPEAKERS_CAP,
    ) -> list[tuple[Person, int]]:
        """Return who spoke most in the `newest` latest articles of [since, until) containing
        every word (all of them when there are fewer), with the counts."""

    @abstractmethod
    async def source_names(self) -> list[str]:
        """Return the names of every recorded source."""

    @abstractmethod
    async def latest_articles_of_source(self, source_name: str, limit: int = 50) -> list[Article]:
        """Return the newest articles a configured source found, newest first."""

    @abstractmethod
    async def person_role_counts(self, person_id: int) -> dict[str, int]:
        """Return in how many articles a person had each role (spoke, presided, …)."""

    @abstractmethod
    async def people_with_title_between(
        self, title: str, since: datetime, until: datetime, limit: int = 20
    ) -> list[tuple[Person, str]]:
        """Return people with a title containing `title` seen in [since, until), and that title.

        The most recently seen holder comes first; each person comes once, with the title
        (of those matching) seen last.
        """

    @abstractmethod
    async def top_speakers(self, since: datetime, limit: int = 10) -> list[tuple[Person, int]]:
        """Return who spoke in the most articles since a time, with the counts."""

    @abstractmethod
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

        Hits are newest first, or best first with `by_relevance` (a hit's rank is then its
        score, lower is better; 0.0 otherwise), which ranks only the newest RELEVANCE_CAP
        matches. Past SEARCH_COUNT_CAP the total stops at SEARCH_COUNT_CAP + 1, which the
        reply shows as "1000+".
        """

    @abstractmethod
    async def save_search_query(self, chat_id: int, query: str) -> int:
        """Remember a chat's search so its paging buttons can refer to it by a short id."""

    @abstractmethod
    async def search_query(self, chat_id: int, query_id: int) -> str | None:
        """Return a remembered search of this chat, or None (unknown, or another chat's)."""

    @abstractmethod
    async def upsert_chat(
        self, chat_id: int, chat_type: str, language: str, time_zone: str
    ) -> Chat:
        """Register a chat (or refresh its type and language) and clear any blocked mark."""

    @abstractmethod
    async def get_chat(self, chat_id: int) -> Chat | None:
        """Return a registered chat, or None."""

    @abstractmethod
    async def set_chat_language(self, chat_id: int, language: str) -> None:
        """Choose the language the bot uses for pushes to a chat."""

    @abstractmethod
    async def set_chat_time_zone(self, chat_id: int, time_zone: str) -> None:
        """Choose the time zone dates are shown in for a chat."""


class DeliveryStore(ABC):
    """Subscriptions, follows and the once-only delivery ledger, over a Store's database."""

    @abstractmethod
    async def subscribe(
        self,
        chat_id: int,
        digest_time: str,
        time_zone: str,
        next_due_at: datetime,
        thread_id: int | None,
    ) -> Subscription:
        """Create or update a chat's daily digest and make it active."""

    @abstractmethod
    async def subscription(self, chat_id: int) -> Subscription | None:
        """Return a chat's digest subscription (active or not), or None."""

    @abstractmethod
    async def unsubscribe(self, chat_id: int) -> bool:
        """Stop a chat's digest; return whether there was an active one."""

    @abstractmethod
    async def update_subscription(self, chat_id: int, **fields: Any) -> Subscription | None:
        """Change some settings of a subscription (time, zone, next due, channels, empty)."""

    @abstractmethod
    async def due_subscriptions(self, now: datetime, limit: int = 1000) -> list[Subscription]:
        """Return active subscriptions whose digest is due, earliest first."""

    @abstractmethod
    async def schedule_digest(
        self,
        subscription: Subscription,
        *,
        key: str,
        next_due_at: datetime,
        payload: dict[str, Any],
        status: str = "pending",
    ) -> bool:
        """Record a due digest in the ledger and move the subscription on, in one transaction."""

    @abstractmethod
    async def add_manual_digest(
        self, chat_id: int, key: str, payload: dict[str, Any], thread_id: int | None
    ) -> bool:
        """Record an admin's /digest_now in the ledger; False if that key exists."""

    @abstractmethod
    async def follow(self, chat_id: int, person_id: int, thread_id: int | None) -> bool:
        """Follow a person in a chat; False if it was already followed."""

    @abstractmethod
    async def unfollow(self, chat_id: int, person_id: int) -> bool:
        """Stop following a person; False if they were not followed."""

    @abstractmethod
    async def followed_people(self, chat_id: int) -> list[Person]:
        """Return the people a chat follows, by name."""

    @abstractmethod
    async def follow_keyword(self, chat_id: int, keyword: str, thread_id: int | None) -> bool:
        """Follow a word in new titles; False if it was already followed."""

    @abstractmethod
    async def unfollow_keyword(self, chat_id: int, keyword: str) -> bool:
        """Stop following a word; False if it was not followed."""

    @abstractmethod
    async def followed_keywords(self, chat_id: int) -> list[str]:
        """Return the words a chat follows."""

    @abstractmethod
    async def enqueue_alerts(self, batch: int = 500) -> int:
        """Turn articles stored since the last call into pending alerts for their followers."""

    @abstractmethod
    async def open_deliveries(
        self, limit: int = 1000, now: datetime | None = None
    ) -> list[Delivery]:
        """Return ledger rows still to send: pending ones, and 'sending' ones whose lease ended."""

    @abstractmethod
    async def claim_deliveries(
        self, ids: Iterable[int], owner: str, lease_until: datetime, now: datetime | None = None
    ) -> list[Delivery]:
        """Mark open rows 'sending' for this owner until the lease ends; return those it got.

        Atomic whatever else runs on the database: a row is claimed by one process at a time.
        Each claim counts one attempt.
        """

    @abstractmethod
    async def release_deliveries(
        self, ids: Iterable[int], owner: str, error: str = "", *, refund_attempt: bool = False
    ) -> None:
        """Put this owner's claimed rows back to 'pending' (flood control, an outage, a move)."""

    @abstractmethod
    async def save_parts(self, delivery_id: int, parts: list[str]) -> None:
        """Keep a digest's composed messages, so a resumed send sends the same parts."""

    @abstractmethod
    async def record_parts_sent(self, delivery_id: int, count: int) -> None:
        """Record that the first `count` parts of a digest have gone out."""

    @abstractmethod
    async def reclaim_interrupted(self) -> int:
        """End every lease on rows left 'sending' (only for a store one bot holds alone)."""

    @abstractmethod
    async def take_lease(
        self, name: str, owner: str, until: datetime, now: datetime | None = None
    ) -> bool:
        """Take or renew the named lease until `until`; False while another owner holds it."""

    @abstractmethod
    async def release_lease(self, name: str, owner: str) -> None:
        """Give up the named lease if this owner holds it."""

    @abstractmethod
    async def lease_holder(self, name: str, now: datetime | None = None) -> str | None:
        """Return who holds the named lease now (host:pid:tag), or None if nobody does."""

    @abstractmethod
    async def mark_deliveries(
        self, ids: Iterable[int], status: str, error: str = "", *, count_attempt: bool = False
    ) -> None:
        """Move ledger rows to a new status (sending, sent, failed, skipped) and commit."""

    @abstractmethod
    async def finish_digest(self, delivery_id: int, chat_id: int, until: datetime | None) -> None:
        """Mark a digest sent and start the chat's next digest where this one ended."""

    @abstractmethod
    async def deactivate_chat(self, chat_id: int, reason: str) -> None:
        """Stop every push to a chat (it blocked or removed the bot) and close its open rows."""

    @abstractmethod
    async def note_chat_not_found(self, chat_id: int) -> int:
        """Count a "chat not found" answer; return how many in a row."""

    @abstractmethod
    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a chat's subscriptions, follows and open deliveries to its new (supergroup) id."""

    @abstractmethod
    async def delivery_status(self, chat_id: int, kind: str, key: str) -> str | None:
        """Return the ledger status of one delivery, or None if there is no such row."""

    @abstractmethod
    async def delivery_counts(self) -> dict[str, int]:
        """Return how many ledger rows are in each status."""

    @abstractmethod
    async def articles_between(
        self, since: datetime, until: datetime, channels: tuple[str, ...] = (), limit: int = 200
    ) -> list[int]:
        """Return ids of articles fetched in [since, until) (optionally of some sources)."""
