"""Benchmark `newsbot bench parse`: extraction quality and speed on the shared corpus.

Quality: every page in <corpus>/nen (profile nen) and <corpus>/pages (profile generic) is parsed;
title and date are checked where a truth file knows them, the body is scored by character-bigram
F1 against the truth text. Truth files sit beside the page (cwce_*.truth.json) or, for the nen
pages, in the project's tests/fixtures/nen. Speed: pages per second of the nen profile versus
trafilatura.extract on the same pages, in the same run.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import trafilatura

from news.ingest.decode import decode_html
from news.ingest.errors import IngestError, ParseError
from news.ingest.sources import Profile, get_profile

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
NEN_TRUTH_DIR = PROJECT_ROOT / "tests" / "fixtures" / "nen"
F1_TARGET = 0.95
SPEED_TARGET = 10.0
MIN_SECONDS = 0.5  # time each contender at least this long, so timer noise stays small

_SHANGHAI = ZoneInfo("Asia/Shanghai")
_SPACES = re.compile(r"\s+")
_URL_COMMENT = re.compile(r"<!--\s*(https?://[^\s>]+?)\s*-->")
_TEXT_ID = re.compile(r"""<text\s+id=["'](https?://[^"']+)["']""")
_DATE_FORMATS = {10: "%Y-%m-%d", 16: "%Y-%m-%d %H:%M", 19: "%Y-%m-%d %H:%M:%S"}


@dataclass
class Row:
    """The outcome for one page."""

    page: str
    profile: str
    title_ok: bool | None = None  # None: no truth to check against
    date_ok: bool | None = None
    f1: float | None = None
    note: str = ""
    failed: bool = False
    parsed: bool = False  # parse_article returned an article


def bigram_f1(predicted: str, truth: str) -> float:
    """Return the character-bigram F1 of two texts, whitespace ignored."""
    left = _bigrams(predicted)
    right = _bigrams(truth)
    overlap = sum((left & right).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(left.values())
    recall = overlap / sum(right.values())
    return 2 * precision * recall / (precision + recall)


def _bigrams(text: str) -> Counter[str]:
    """Count the character bigrams of text without whitespace."""
    text = _SPACES.sub("", text)
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def _truth_for(page: Path) -> dict[str, Any] | None:
    """Load the truth file of a page: beside it, else (nen pages) in tests/fixtures/nen."""
    name = f"{page.name.removesuffix('.html')}.truth.json"
    for folder in (page.parent, NEN_TRUTH_DIR if page.parent.name == "nen" else None):
        if folder is not None and (folder / name).is_file():
            loaded: dict[str, Any] = json.loads((folder / name).read_text(encoding="utf-8"))
            return loaded
    return None


def _url_for(page: Path, html: str, truth: dict[str, Any] | None) -> str:
    """Return the page's address: from the truth file, a saved-from comment, or a stand-in."""
    if truth and truth.get("url"):
        return str(truth["url"])
    head = html[:2000]
    match = _URL_COMMENT.search(head) or _TEXT_ID.search(head)
    return match.group(1) if match else f"http://127.0.0.1/{page.name}"


def _date_ok(published_at: datetime, truth_date: str) -> bool:
    """Compare a parsed time with a truth date, at the precision the truth gives."""
    wanted = truth_date.strip().replace("/", "-")
    fmt = _DATE_FORMATS.get(len(wanted))
    return fmt is not None and published_at.astimezone(_SHANGHAI).strftime(fmt) == wanted


def _evaluate(page: Path, html: str, profile: Profile) -> Row:
    """Parse one page and check it against its truth file."""
    truth = _truth_for(page)
    url = _url_for(page, html, truth)
    row = Row(page.name, profile.name)
    kind = truth.get("kind", "article") if truth else None
    if kind == "list" and truth is not None:
        listing = profile.parse_list(html, url)
        wanted = int(truth.get("list_entries", 0))
        row.note = f"list: {len(listing.entries)} entries (want {wanted})"
        row.failed = len(listing.entries) != wanted
        return row
    try:
        article = profile.parse_article(html, url)
    except ParseError as exc:
        if kind == "not_article" or kind is None:
            listing = profile.parse_list(html, url)
            row.note = f"ParseError as expected; list: {len(listing.entries)} entries"
            if kind is None:
                row.note = f"not an article ({exc}); list: {len(listing.entries)} entries"
            return row
        row.failed = True
        row.note = f"ParseError: {exc}"
        row.f1 = 0.0 if truth and truth.get("content") else None
        return row
    row.parsed = True
    if kind == "not_article":
        row.failed = True
        row.note = "parsed, but the page is not an article"
        return row
    if truth is None:
        row.note = f"no truth; {article.title[:24]} ({len(article.body)} chars)"
        return row
    if truth.get("title"):
        row.title_ok = article.title == truth["title"]
    if truth.get("date"):
        row.date_ok = _date_ok(article.published_at, str(truth["date"]))
    if truth.get("content"):
        row.f1 = bigram_f1(article.body, str(truth["content"]))
    row.failed = row.title_ok is False or row.date_ok is False
    if row.failed:
        row.note = f"got {article.title[:30]!r} {article.published_at.astimezone(_SHANGHAI)}"
    return row


def _pages_per_second(work: Callable[[str, str], object], pages: list[tuple[str, str]]) -> float:
    """Run work over all pages repeatedly for at least MIN_SECONDS; return pages per second."""
    for html, url in pages:
        work(html, url)  # warm-up: first calls pay for lazy imports and caches
    done = 0
    started = time.perf_counter()
    while True:
        for html, url in pages:
            work(html, url)
        done += len(pages)
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return done / elapsed


def _mark(value: bool | None) -> str:
    """Render a check: ok, FAIL, or - when unknown."""
    return "-" if value is None else ("ok" if value else "FAIL")


def run(corpus: Path, out: TextIO) -> int:
    """Run the parse benchmark on corpus, print the table and figures; return the exit status."""
    folders = [(corpus / "nen", "nen"), (corpus / "pages", "generic")]
    if not any(folder.is_dir() for folder, _ in folders):
        print(f"bench parse: no nen/ or pages/ folder in {corpus}", file=out)
        return 2
    rows: list[Row] = []
    timed: list[tuple[str, str]] = []
    for folder, profile_name in folders:
        profile = get_profile(profile_name)
        for page in sorted(folder.glob("*.html")):
            try:
                html = decode_html(page.read_bytes())
            except IngestError as exc:
                rows.append(Row(page.name, profile_name, note=f"DecodeError: {exc}", failed=True))
                continue
            row = _evaluate(page, html, profile)
            rows.append(row)
            if profile_name == "nen" and row.parsed:
                timed.append((html, _url_for(page, html, _truth_for(page))))

    width = max(len(row.page) for row in rows) if rows else 10
    print(f"{'page':<{width}}  {'profile':<8} {'title':<5} {'date':<5} {'F1':>6}  note", file=out)
    for row in rows:
        f1 = "-" if row.f1 is None else f"{row.f1:.3f}"
        print(
            f"{row.page:<{width}}  {row.profile:<8} {_mark(row.title_ok):<5} "
            f"{_mark(row.date_ok):<5} {f1:>6}  {row.note}",
            file=out,
        )
    scores = [row.f1 for row in rows if row.f1 is not None]
    mean_f1 = sum(scores) / len(scores) if scores else 0.0
    failures = sum(row.failed for row in rows)
    print(
        f"\nmean body F1 {mean_f1:.3f} over {len(scores)} pages (target >= {F1_TARGET}); "
        f"{failures} failed checks",
        file=out,
    )

    status = 0 if mean_f1 >= F1_TARGET and failures == 0 and scores else 1
    if timed:
        nen = get_profile("nen")
        ours = _pages_per_second(nen.parse_article, timed)
        theirs = _pages_per_second(lambda html, _url: trafilatura.extract(html), timed)
        ratio = ours / theirs
        print(
            f"throughput on {len(timed)} nen article pages: nen profile {ours:.0f} pages/s, "
            f"trafilatura.extract {theirs:.0f} pages/s, ratio {ratio:.1f}x "
            f"(aim >= {SPEED_TARGET:.0f}x)",
            file=out,
        )
        if ratio < SPEED_TARGET:
            # Timing depends on the machine and its load: reported, not failed on.
            print("warning: nen profile is below the speed aim", file=out)
    else:
        print("throughput: no nen article page parsed, nothing to time", file=out)
    return status
