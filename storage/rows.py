"""Rows into news.models objects by column name, for every backend; and times as stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from news.models import (
    Article,
    Chat,
    Delivery,
    Headline,
    Link,
    Person,
    SourceRun,
    SourceStatus,
    Subscription,
)
from storage.database import Row

T = TypeVar("T")

# The roles a person can have in an article, in the order a reader is told them.
ROLE_ORDER = ("spoke", "presided", "attended", "met", "mentioned")

HEADLINE_COLUMNS = "a.id, a.url, a.title, a.published_at, a.source"
ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.published_at, a.source, a.editor, a.body, a.fetched_at, "
    "a.content_hash, a.source_name, a.subtitle, a.reporter, a.channel"
)
PERSON_COLUMNS = "p.id, p.name, p.pinyin, p.latest_title, p.first_seen, p.last_seen"
CHAT_COLUMNS = (
    "id, type, language, time_zone, created_at, blocked_at, title, quiet_start, quiet_end, "
    "silent, keyword_body, digest_order, city"
)
SUBSCRIPTION_COLUMNS = (
    "s.chat_id, s.digest_time, s.time_zone, s.next_due_at, s.since_at, s.active, s.send_empty, "
    "s.channels, s.thread_id, coalesce(c.language, 'zh') AS language, s.weekdays_only"
)
DELIVERY_COLUMNS = "id, chat_id, kind, key, status, attempts, payload, thread_id, parts, parts_sent"


def to_db_time(moment: datetime) -> str:
    """Format an aware datetime as the UTC text the database sorts by."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; times must be aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db_time(text: str) -> datetime:
    """Parse the database's UTC text back into an aware datetime."""
    if len(text) == 20 and text[10] == "T" and text[19] == "Z":
        # fromisoformat is many times faster than strptime, and a /latest page parses ten.
        return datetime.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def opt_time(text: str | None) -> datetime | None:
    """Parse a nullable time column."""
    return from_db_time(text) if text else None


def now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def headline(row: Any) -> Headline:
    """Build a Headline from HEADLINE_COLUMNS."""
    return Headline(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        published_at=from_db_time(row["published_at"]),
        source=row["source"],
    )


def article(row: Any) -> Article:
    """Build an Article from ARTICLE_COLUMNS."""
    return Article(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        published_at=from_db_time(row["published_at"]),
        source=row["source"],
        editor=row["editor"],
        body=row["body"],
        fetched_at=from_db_time(row["fetched_at"]),
        content_hash=row["content_hash"],
        source_name=row["source_name"] or "",
        subtitle=row["subtitle"],
        reporter=row["reporter"],
        channel=row["channel"],
    )


def _converter(annotation: str) -> Callable[[Any], Any] | None:
    """Return how a column becomes a field of this (string) annotation, None as it is."""
    return _CONVERTERS.get(annotation)


# Fields of these types are stored otherwise: times as UTC text, flags as 0/1.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "datetime": from_db_time,
    "datetime | None": opt_time,
    "bool": bool,
}
_PLANS: dict[type[Any], tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {}


def _plan(model: type[Any]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """Return each field of a model with its converter (worked out once per model)."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = tuple((f.name, _converter(str(f.type))) for f in fields(model))
    return plan


def build(model: type[T], row: Row, **given: Any) -> T:
    """Build a news.models dataclass from the row's columns named as its fields.

    Times are parsed and flags made bool by the field's type; `given` fields are not read.
    """
    values = {
        name: (convert(row[name]) if convert else row[name])
        for name, convert in _plan(model)
        if name not in given
    }
    return model(**values, **given)


def person(row: Row) -> Person:
    """Build a Person from PERSON_COLUMNS and an `article_count` column."""
    return build(Person, row)


def chat(row: Row) -> Chat:
    """Build a Chat from CHAT_COLUMNS."""
    return build(Chat, row)


def source_status(row: Row) -> SourceStatus:
    """Build a SourceStatus from a sources row and an `article_count` column."""
    return build(SourceStatus, row)


def source_run(row: Row) -> SourceRun:
    """Build a SourceRun from a sources row."""
    return build(SourceRun, row)


def subscription(row: Row) -> Subscription:
    """Build a Subscription from SUBSCRIPTION_COLUMNS (channels are stored comma-separated)."""
    return build(Subscription, row, channels=tuple(c for c in row["channels"].split(",") if c))


def delivery(row: Row) -> Delivery:
    """Build a Delivery from DELIVERY_COLUMNS."""
    return build(Delivery, row)


def related_links(text: str) -> list[Link]:
    """Read an article's related links from their stored JSON."""
    return [Link(url=item["url"], title=item["title"]) for item in json.loads(text)]


def related_json(links: Iterable[Link]) -> str:
    """Write an article's related links as the JSON stored with it."""
    return json.dumps([{"url": x.url, "title": x.title} for x in links], ensure_ascii=False)
