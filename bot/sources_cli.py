"""`newsbot sources check` and `newsbot sources probe`: the sources against the live sites."""

from __future__ import annotations

import asyncio
import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from bot.config import Settings, load_sources
from news.ingest.check import Probe, ProbeError, SourceCheck, check_source, guess_kind, guess_name
from news.ingest.fetch import Fetcher, make_client
from news.ingest.sources import PROFILES

COLUMNS = (
    "source", "region", "list", "links", "next page", "newest", "title", "body", "speakers",
    "verdict",
)  # fmt: skip
# Sources checked at once: each its own host, paced on its own.
CHECK_CONCURRENCY = 6


def width(text: str) -> int:
    """Return how many terminal columns text takes (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cut(text: str, columns: int) -> str:
    """Shorten text to fit columns, with an ellipsis."""
    if width(text) <= columns:
        return text
    out = ""
    for char in text:
        if width(out + char) > columns - 1:
            break
        out += char
    return out + "…"


def check_row(check: SourceCheck) -> list[str]:
    """Return a check as the table's cells."""
    return [
        check.source,
        check.region,
        check.list_status,
        str(check.links),
        cut(check.next_page.rsplit("/", 1)[-1], 24) or "-",
        check.newest.strftime("%Y-%m-%d") if check.newest else "-",
        cut(check.title, 24) or "-",
        str(check.body_chars),
        str(check.speakers),
        check.verdict + (f": {check.problem or check.warning}" if check.verdict != "ok" else ""),
    ]


def render_table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows under COLUMNS, padded to their widest cell."""
    table = [list(COLUMNS), *[list(r) for r in rows]]
    widths = [max(width(row[i]) for row in table) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in table:
        cells = [c + " " * (widths[i] - width(c)) for i, c in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


async def check(settings: Settings, names: Sequence[str], out: TextIO) -> int:
    """Check the sources (all, or those named); exit 1 if any fails."""
    sources = load_sources(settings)
    if names:
        unknown = sorted(set(names) - {s.name for s in sources})
        if unknown:
            print(f"newsbot sources check: no source named {', '.join(unknown)}", file=sys.stderr)
            return 2
        sources = tuple(s for s in sources if s.name in names)
    gate = asyncio.Semaphore(CHECK_CONCURRENCY)
    async with make_client(proxy=settings.fetch_proxy) as client:
        fetcher = Fetcher(client, attempts=2)

        async def one(source_index: int) -> SourceCheck:
            async with gate:
                return await check_source(fetcher, sources[source_index])

        checks = await asyncio.gather(*(one(i) for i in range(len(sources))))
    out.write(render_table([check_row(c) for c in checks]) + "\n")
    failed = [c for c in checks if c.verdict == "FAIL"]
    out.write(f"{len(checks) - len(failed)} of {len(checks)} sources work\n")
    return 1 if failed else 0


def source_table(found: Probe) -> str:
    """Return a ready [[source]] table for a probed list page, with what was found as comments."""
    sample = found.sample
    title = found.page_title.split("_")[0].split("-")[0].strip() or guess_name(found.url)
    lines = [
        f"# Probed {found.url}: family {found.profile}, {found.links} article links,",
        f"# next page {found.next_page or 'none found'}.",
    ]
    if sample is not None:
        lines.append(
            f"# Sample: {sample.title} ({sample.published_at:%Y-%m-%d}, "
            f"{len(sample.body)} characters"
            + (f", spoke: {'、'.join(found.speakers)}" if found.speakers else "")
            + ")"
        )
        lines.append(f"#   {found.sample_url}")
    lines += [
        "# Set region to 辽宁 or the city; say the evidence level in a comment.",
        "[[source]]",
        f'name = "{guess_name(found.url)}"',
        f"title = {_toml_string(title)}",
        'region = "辽宁"',
        f'kind = "{guess_kind(found.url)}"',
        f'profile = "{found.profile}"',
        f"lists = [{_toml_string(found.url)}]",
        "interval_minutes = 30",
        "max_pages = 3",
    ]
    return "\n".join(lines)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def probe(settings: Settings, url: str, out: TextIO) -> int:
    """Print a [[source]] table for a list page, or one line saying why it cannot."""
    from news.ingest.check import probe as probe_page

    if not url.startswith(("http://", "https://")):
        print(f"newsbot sources probe: not an http(s) URL: {url!r}", file=sys.stderr)
        return 2
    async with make_client(proxy=settings.fetch_proxy) as client:
        try:
            found = await probe_page(Fetcher(client, attempts=2), url)
        except ProbeError as exc:
            print(f"newsbot sources probe: {exc}", file=sys.stderr)
            return 1
    assert found.profile in PROFILES
    out.write(source_table(found) + "\n")
    return 0
