"""Rows into news.models objects by column name, for every backend; and times as stored."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from news.models import (
    Article,
    Chat,
    Delivery,
    Headline,
    Link,
    Person,
    SourceStatus,
    Subscription,
)

# The roles a person can have in an article, in the order a reader is told them.
ROLE_ORDER = ("spoke", "presided", "attended", "met", "mentioned")

HEADLINE_COLUMNS = "a.id, a.url, a.title, a.published_at, a.source"
ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.published_at, a.source, a.editor, a.body, a.fetched_at, "
    "a.content_hash, a.source_name, a.subtitle, a.reporter, a.channel"
)
PERSON_COLUMNS = "p.id, p.name, p.pinyin, p.latest_title, p.first_seen, p.last_seen"
CHAT_COLUMNS = "id, type, language, time_zone, created_at, blocked_at"
SUBSCRIPTION_COLUMNS = (
    "s.chat_id, s.digest_time, s.time_zone, s.next_due_at, s.since_at, s.active, s.send_empty, "
    "s.channels, s.thread_id, coalesce(c.language, 'zh') AS language"
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


def person(row: Any) -> Person:
    """Build a Person from PERSON_COLUMNS and an `article_count` column."""
    return Person(
        id=row["id"],
        name=row["name"],
        pinyin=row["pinyin"],
        latest_title=row["latest_title"],
        first_seen=opt_time(row["first_seen"]),
        last_seen=opt_time(row["last_seen"]),
        article_count=row["article_count"],
    )


def chat(row: Any) -> Chat:
    """Build a Chat from CHAT_COLUMNS."""
    return Chat(
        id=row["id"],
        type=row["type"],
        language=row["language"],
        time_zone=row["time_zone"],
        created_at=from_db_time(row["created_at"]),
        blocked_at=opt_time(row["blocked_at"]),
    )


def source_status(row: Any) -> SourceStatus:
    """Build a SourceStatus from a sources row and an `article_count` column."""
    return SourceStatus(
        name=row["name"],
        title=row["title"],
        profile=row["profile"],
        last_success_at=opt_time(row["last_success_at"]),
        last_error_at=opt_time(row["last_error_at"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        error_count=row["error_count"],
        article_count=row["article_count"],
    )


def subscription(row: Any) -> Subscription:
    """Build a Subscription from SUBSCRIPTION_COLUMNS."""
    return Subscription(
        chat_id=row["chat_id"],
        digest_time=row["digest_time"],
        time_zone=row["time_zone"],
        next_due_at=from_db_time(row["next_due_at"]),
        since_at=opt_time(row["since_at"]),
        active=bool(row["active"]),
        send_empty=bool(row["send_empty"]),
        channels=tuple(c for c in row["channels"].split(",") if c),
        thread_id=row["thread_id"],
        language=row["language"],
    )


def delivery(row: Any) -> Delivery:
    """Build a Delivery from DELIVERY_COLUMNS."""
    return Delivery(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        key=row["key"],
        status=row["status"],
        attempts=row["attempts"],
        payload=row["payload"],
        thread_id=row["thread_id"],
        parts=row["parts"],
        parts_sent=row["parts_sent"],
    )


def related_links(text: str) -> list[Link]:
    """Read an article's related links from their stored JSON."""
    return [Link(url=item["url"], title=item["title"]) for item in json.loads(text)]


def related_json(links: Iterable[Link]) -> str:
    """Write an article's related links as the JSON stored with it."""
    return json.dumps([{"url": x.url, "title": x.title} for x in links], ensure_ascii=False)
