"""`newsbot export`: the archive (or part of it) as CSV or JSON Lines, at constant memory."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.ingest_cli import Progress
from handlers.export import ROLES, outlets_of
from handlers.texts import text
from news.models import Article
from news.nlp.fold import search_form
from news.nlp.people import normalize_name
from news.tables import Mention, article_row, headers, speakers_cell
from storage import open_store

# Articles read, annotated and written at a time: the memory an export holds whatever its size.
PAGE = 1000
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """What `newsbot export` keeps: a date range, a source, a person, words."""

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    speaker: str | None = None
    words: tuple[str, ...] = ()


def parse_day(raw: str | None, tz: ZoneInfo) -> datetime | None:
    """Return the local start of a YYYY-MM-DD day; ValueError for anything else."""
    if raw is None:
        return None
    if not _DATE_RE.match(raw):
        raise ValueError(raw)
    return datetime.fromisoformat(raw).replace(tzinfo=tz)


def has_words(article: Article, words: tuple[str, ...]) -> bool:
    """Return whether the title or body holds every (folded) word, as /search matches."""
    if not words:
        return True
    folded = search_form(article.title + "\n" + article.body).lower()
    return all(w in folded for w in words)


async def export_archive(
    settings: Settings,
    chosen: ExportFilter,
    fmt: str,
    out: TextIO,
    progress: Progress | None = None,
) -> int:
    """Write every article the filter keeps, in id order, a page at a time; return how many."""
    store = await open_store(settings.db)
    try:
        person_id = None
        if chosen.speaker is not None:
            person = await store.person_by_name(normalize_name(chosen.speaker) or chosen.speaker)
            if person is None:
                by_sound = await store.people_by_pinyin(
                    re.sub(r"[^a-z]", "", chosen.speaker.lower())
                )
                person = by_sound[0] if len(by_sound) == 1 else None
            if person is None:
                raise LookupError(f"nobody called {chosen.speaker!r} is known")
            person_id = person.id
        total = await store.count_articles()
        role_names = {role: text("zh", "role_" + role) for role in ROLES}
        writer = csv.writer(out, lineterminator="\r\n") if fmt == "csv" else None
        if writer is not None:
            writer.writerow(headers(False))
        written = read = 0
        after = 0
        while True:
            # A keyset page: the next starts after the last id read, never at an OFFSET.
            page = await store.articles_after(
                after,
                PAGE,
                since=chosen.since,
                until=chosen.until,
                source=chosen.source,
                person_id=person_id,
            )
            if not page:
                break
            after = page[-1].id
            read += len(page)
            kept = [a for a in page if has_words(a, chosen.words)]
            ids = [a.id for a in kept]
            people = await store.people_of_articles(ids)
            summaries = await store.article_summaries(ids) if ids else {}
            outlets = await outlets_of(store, kept)
            for article in kept:
                mentions = [Mention(n, r, t) for n, r, t in people.get(article.id, [])]
                if writer is not None:
                    writer.writerow(
                        article_row(
                            article,
                            settings.tz,
                            outlets=outlets.get(article.id, []),
                            speakers=speakers_cell(mentions, role_names),
                            summary=summaries.get(article.id, ""),
                        )
                    )
                else:
                    out.write(
                        json.dumps(
                            jsonl_record(article, mentions, summaries, outlets.get(article.id, [])),
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
            written += len(kept)
            if progress is not None:
                progress("export", min(read, total), max(total, read))
        return written
    finally:
        await store.close()


def jsonl_record(
    article: Article, mentions: list[Mention], summaries: dict[int, str], outlets: list[str]
) -> dict[str, object]:
    """Return an article as one JSON Lines record (the body included)."""
    return {
        "id": article.id,
        "published_at": article.published_at.isoformat(),
        "source": article.source,
        "source_name": article.source_name,
        "title": article.title,
        "url": article.url,
        "outlets": outlets,
        "people": [{"name": m.name, "role": m.role, "title": m.title} for m in mentions],
        "summary": summaries.get(article.id, ""),
        "body": article.body,
    }


@contextmanager
def output(path: str | None, fmt: str) -> Iterator[TextIO]:
    """Open the export's destination: a file, or standard output (UTF-8 either way).

    CSV starts with a BOM, so that Excel reads the Chinese.
    """
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    if path is not None and path != "-":
        with Path(path).open("w", encoding=encoding, newline="") as handle:
            yield handle
        return
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")
    try:
        yield stream
    finally:
        stream.flush()
        stream.detach()


async def run(settings: Settings, args: object, out: TextIO) -> int:
    """Run `newsbot export` from parsed arguments; 2 on bad input."""
    fmt = str(getattr(args, "format", "csv"))
    try:
        since = parse_day(getattr(args, "since", None), settings.tz)
        until_day = parse_day(getattr(args, "until", None), settings.tz)
    except ValueError as exc:
        print(f"newsbot export: a date is YYYY-MM-DD, not {exc}", file=sys.stderr)
        return 2
    # --until names the last day kept.
    until = until_day + timedelta(days=1) if until_day is not None else None
    query = getattr(args, "query", None)
    words = tuple(search_form(w).lower() for w in (query or "").split())
    chosen = ExportFilter(
        since, until, getattr(args, "source", None), getattr(args, "speaker", None), words
    )
    try:
        with output(getattr(args, "output", None), fmt) as stream:
            count = await export_archive(settings, chosen, fmt, stream, Progress(sys.stderr))
    except LookupError as exc:
        print(f"newsbot export: {exc}", file=sys.stderr)
        return 2
    print(f"exported {count} articles", file=out)
    return 0
