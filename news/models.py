"""Domain objects shared by every layer: frozen dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink found on a page: absolute URL and its visible text."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One article link found on a channel list page."""

    url: str
    title: str
    published_at: datetime | None = None  # aware UTC when known


@dataclass(frozen=True, slots=True)
class ListPage:
    """What a channel list page yields: article links and further list pages to follow."""

    entries: tuple[ListEntry, ...]
    next_pages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """An article as extracted from one page (or several joined pages) of a news site."""

    url: str
    title: str
    published_at: datetime  # aware, UTC
    paragraphs: tuple[str, ...]
    subtitle: str = ""
    source: str = ""  # 来源
    editor: str = ""  # 责任编辑
    reporter: str = ""  # 记者 byline
    channel: str = ""  # from the breadcrumb
    related: tuple[Link, ...] = ()
    continuation_urls: tuple[
        str, ...
    ] = ()  # further pages (_01.shtml…) still to be fetched and joined

    @property
    def body(self) -> str:
        """Return the body as text, one paragraph a line."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Article:
    """An article as stored: its id, canonical URL and what the store knows of it."""

    id: int
    url: str
    title: str
    published_at: datetime  # aware, UTC
    source: str
    editor: str
    body: str
    fetched_at: datetime  # aware, UTC
    content_hash: str
    source_name: str = ""  # the catalogue source that found it
    subtitle: str = ""
    reporter: str = ""
    channel: str = ""
    also: tuple[str, ...] = ()  # the story's other outlets, by name (reprints elsewhere)


@dataclass(frozen=True, slots=True)
class Headline:
    """What a list of the newest articles shows of one: no body, so a page reads little."""

    id: int
    url: str
    title: str
    published_at: datetime  # aware, UTC
    source: str
    also: tuple[str, ...] = ()  # the story's other outlets, by name (reprints elsewhere)


@dataclass(frozen=True, slots=True)
class Chat:
    """A Telegram chat the bot has talked to."""

    id: int
    type: str
    language: str
    time_zone: str
    created_at: datetime
    blocked_at: datetime | None = None
    title: str = ""  # a channel's @username or title, as the managing user is shown it
    quiet_start: str = ""  # "HH:MM" local; alerts wait from start to end ("" = no quiet hours)
    quiet_end: str = ""
    silent: bool = False  # digests and alerts sent without sound (disable_notification)
    keyword_body: bool = False  # followed words match title and body, not the title alone
    digest_order: str = "channel"  # channel | region | leader
    city: str = ""  # the chat's own city, first in a digest by region


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How one news source has fared: last success, last error, failures in a row, articles."""

    name: str
    title: str
    profile: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    consecutive_failures: int
    error_count: int
    article_count: int


@dataclass(frozen=True, slots=True)
class BotStats:
    """What an admin's /stats shows: chats, pushes, today's deliveries, sources, the archive."""

    chats: int
    blocked_chats: int
    subscriptions: int
    followed_people: int
    followed_words: int
    deliveries_today: dict[str, int]  # by status: pending, sending, sent, failed, skipped
    sources_ok: int
    sources_failing: int
    articles: int
    database_bytes: int


@dataclass(frozen=True, slots=True)
class SourceRun:
    """When a source's crawl last succeeded and failed: what health checks and metrics read."""

    name: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    consecutive_failures: int


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing one parsed article did: a new row, or a duplicate of an existing one."""

    article_id: int
    created: bool
    reason: str = ""  # for a duplicate: "url"; for a reprint: "fingerprint" or "similar"
    story_id: int | None = None  # a reprint's story: the id of its first copy


@dataclass(frozen=True, slots=True)
class Outlet:
    """One copy of a story: where it appeared (the source's title), its link and headline."""

    article_id: int
    name: str
    url: str
    title: str
    published_at: datetime  # aware, UTC


REGIONS = (
    "辽宁",
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "本溪",
    "丹东",
    "锦州",
    "营口",
    "阜新",
    "辽阳",
    "盘锦",
    "铁岭",
    "朝阳",
    "葫芦岛",
)  # the province, then its 14 cities in the official order
KINDS = ("政府", "报纸", "网站")  # a government portal, a party paper (or its e-paper), a news site


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors a source may set over its family's defaults ("" = the family's own).

    Each value may list alternatives separated by commas; the first that matches wins.
    """

    title: str = ""  # the headline
    time: str = ""  # the element whose text holds the publication time
    source: str = ""  # the element whose text holds 来源
    body: str = ""  # the article text
    links: str = ""  # the list page's container(s) of article links
    next: str = ""  # the list page's next-page link

    def merged_over(self, defaults: Selectors) -> Selectors:
        """Return these selectors with every empty field taken from defaults."""
        return Selectors(
            title=self.title or defaults.title,
            time=self.time or defaults.time,
            source=self.source or defaults.source,
            body=self.body or defaults.body,
            links=self.links or defaults.links,
            next=self.next or defaults.next,
        )


SELECTOR_FIELDS = ("title", "time", "source", "body", "links", "next")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One news source of the catalogue: where its lists are and how to read them.

    A list URL may hold a date placeholder such as `{date:%Y%m/%d}` (an e-paper walked by day;
    see news.ingest.dated).
    """

    name: str
    title: str
    profile: str  # the CMS family (news.ingest.sources.PROFILES)
    lists: tuple[str, ...]
    interval_minutes: float = 15
    max_pages: int = 3
    region: str = "辽宁"  # one of REGIONS
    kind: str = "网站"  # one of KINDS
    selectors: Selectors = field(default_factory=Selectors)
    encoding: str = ""  # the pages' charset when neither header nor meta says it right


@dataclass(frozen=True, slots=True)
class BackfillCursor:
    """Where one source's walk back in time stands (`newsbot backfill`), as stored.

    Dates are days on the papers' calendar (Asia/Shanghai). The walk reads list `list_index`
    of the source from `page_url` (None: the list's first page) or, for a dated list, from
    `day` back to `since`; everything before that point is stored.
    """

    source: str
    since: date
    until: date
    started_at: datetime
    updated_at: datetime
    list_index: int = 0
    page_url: str | None = None
    page_no: int = 0
    day: date | None = None
    reached: date | None = None  # the oldest publication day met so far
    pages: int = 0
    articles: int = 0  # stored by the walk
    failed: int = 0  # articles skipped for good (gone, not an article)
    done: bool = False
    error: str = ""  # why the last run stopped short, one line

    def share(self) -> float:
        """Return how much of [since, until] the walk has covered, by days, from 0 to 1."""
        if self.done:
            return 1.0
        if self.reached is None:
            return 0.0
        span = max((self.until - self.since).days, 1)
        covered = (self.until - max(min(self.reached, self.until), self.since)).days
        return min(covered / span, 1.0)


@dataclass(slots=True)
class CrawlReport:
    """Counts from one crawl of one source."""

    source: str
    listed: int = 0
    new: int = 0
    duplicate: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    # Pages asked of the site (list pages, articles, continuation pages; a 304 counts).
    fetches: int = 0

    @property
    def run_failed(self) -> bool:
        """Return whether the run failed as a whole: errors, and nothing listed or stored."""
        return bool(self.errors) and self.listed == 0 and self.new == 0


@dataclass(frozen=True, slots=True)
class PersonInArticle:
    """One person named in an article: roles there, titles as written, statements if spoke."""

    name: str  # simplified Chinese
    pinyin: str  # e.g. "yilianhong"
    roles: tuple[str, ...]  # spoke, presided, attended, met, mentioned
    titles: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StorySketch:
    """An article body's MinHash signature, its size in shingles and its LSH band keys."""

    signature: bytes  # news.stories.NUM_PERM little-endian uint32
    shingles: int
    bands: tuple[int, ...]  # signed 64-bit keys, one per band; empty for a text too short


@dataclass(frozen=True, slots=True)
class ArticleAnalysis:
    """What reading an article yields: its summary, keywords, the people in it, its sketch."""

    summary: str = ""
    keywords: tuple[str, ...] = ()
    people: tuple[PersonInArticle, ...] = ()
    sketch: StorySketch | None = None  # news.stories: computed with the rest, off the loop


@dataclass(frozen=True, slots=True)
class Person:
    """A person the store knows, with what the archive says of them."""

    id: int
    name: str
    pinyin: str
    latest_title: str
    first_seen: datetime | None
    last_seen: datetime | None
    article_count: int


@dataclass(frozen=True, slots=True)
class Statement:
    """An article where a person spoke, and what they said there."""

    article: Article
    title: str
    statement: str
    role: str = "spoke"


@dataclass(frozen=True, slots=True)
class Appearance:
    """An article a person appears in: what they did there, their title, what they said."""

    article: Article
    roles: tuple[str, ...]  # spoke, presided, attended, met, mentioned (in that order)
    title: str
    statement: str


@dataclass(frozen=True, slots=True)
class SearchHit:
    """An article matching a search."""

    article: Article
    rank: float = 0.0


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat's digests: when (local times and zone, weekdays only), what, and where (topic)."""

    chat_id: int
    digest_time: str  # "HH:MM" local, or several: "08:00,18:00"
    time_zone: str
    next_due_at: datetime  # UTC
    since_at: datetime | None  # articles after this go into the next digest
    active: bool = True
    send_empty: bool = False
    channels: tuple[str, ...] = ()  # source names; empty means all
    thread_id: int | None = None
    language: str = "zh"
    weekdays_only: bool = False

    @property
    def times(self) -> tuple[str, ...]:
        """Return the digest times of the day ("08:00", "18:00"), earliest first."""
        return tuple(t for t in self.digest_time.split(",") if t)


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Words an article must all hold, and words that leave it out, in search_form, lower case."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Return the rule as stored and shown: the words, then each exclusion with a minus."""
        return " ".join((*self.include, *("-" + w for w in self.exclude)))

    @classmethod
    def stored(cls, text: str) -> KeywordRule:
        """Read a rule back from its stored text (a plain word, as older rows hold, is one too)."""
        words = text.split()
        return cls(
            tuple(w for w in words if not w.startswith("-")),
            tuple(w[1:] for w in words if w.startswith("-") and len(w) > 1),
        )

    def matches(self, title: str, body: str, *, in_body: bool) -> bool:
        """Return whether an article fires the rule (both texts simplified, half-width, lower).

        The words are looked for in the title, or in title and body with `in_body`; an
        excluded word leaves the article out wherever it appears.
        """
        where = f"{title}\n{body}" if in_body else title
        if not all(word in where for word in self.include):
            return False
        return not any(word in title or word in body for word in self.exclude)


@dataclass(frozen=True, slots=True)
class Watch:
    """A chat's watch: every new article of one source, or of every source of one region."""

    chat_id: int
    kind: str  # "source" or "region"
    target: str  # a source's name, or a region (辽宁, 沈阳, 大连, …)
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class DueSchedule:
    """Subscriptions due at one instant on one schedule (times, zone, weekdays): one batch."""

    digest_time: str
    time_zone: str
    weekdays_only: bool
    next_due_at: datetime
    chats: int

    @property
    def times(self) -> tuple[str, ...]:
        """Return the schedule's digest times of the day."""
        return tuple(t for t in self.digest_time.split(",") if t)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the delivery ledger: a digest or an alert for a chat, and how it went."""

    id: int
    chat_id: int
    kind: str  # "digest", "alert", or "notice" (a channel that stopped, told its manager)
    key: str  # digest: local date (or "manual-…"); alert: article id
    status: str  # pending, sending, sent, skipped, failed
    attempts: int
    payload: str  # JSON
    thread_id: int | None = None
    # A digest's messages as first composed (JSON list), and how many of them have gone out:
    # a digest cut off half-way resumes at the first part not sent.
    parts: str | None = None
    parts_sent: int = 0


# A person's main role in an article, as charts stack them: the first that applies.
ACTIVITY_ROLES: tuple[str, ...] = ("spoke", "presided", "attended", "other")


@dataclass(frozen=True, slots=True)
class PeriodCount:
    """How many articles fall in one period (a chart's bar), under one label (a role, or "")."""

    period: int  # the index of the period in the bounds the store was given
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class MonthSeries:
    """Counts per month ("2024-06"), one list per label, all as long as `months`."""

    months: tuple[str, ...]
    series: Mapping[str, Sequence[int]]
