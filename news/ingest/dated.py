"""List URLs walked by day: an e-paper's layout page of one date, e.g.
`https://epaper.lnd.com.cn/lnrbepaper/pc/layout/{date:%Y%m/%d}/node_01.html`.

A `{date:FORMAT}` placeholder takes a strftime format; `{date}` alone means `%Y-%m-%d`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_PLACEHOLDER = re.compile(r"\{date(?::(?P<format>[^{}]*))?\}")
# The papers print their issues on China's calendar, whatever the bot's own time zone.
PAPER_TZ = ZoneInfo("Asia/Shanghai")
# Days a crawl (not a backfill) reads of a dated list: today's issue may not be out yet, and
# a holiday has none.
RECENT_DAYS = 2


def is_dated_list(template: str) -> bool:
    """Tell whether a list URL holds a {date…} placeholder (an e-paper walked by day)."""
    return _PLACEHOLDER.search(template) is not None


def dated_list_url(template: str, day: date) -> str:
    """Return the list URL of one day: every {date:FORMAT} placeholder filled in."""

    def fill(match: re.Match[str]) -> str:
        return day.strftime(match.group("format") or "%Y-%m-%d")

    return _PLACEHOLDER.sub(fill, template)


def check_template(template: str) -> str | None:
    """Return why a dated list URL is malformed (one line), or None when it is usable."""
    if template.count("{") != template.count("}"):
        return "unbalanced braces"
    stripped = _PLACEHOLDER.sub("", template)
    if "{" in stripped or "}" in stripped:
        return "only {date} or {date:FORMAT} placeholders are allowed"
    one, two = (
        dated_list_url(template, date(2020, 1, 2)),
        dated_list_url(template, date(2021, 3, 4)),
    )
    if one == two:
        return "the date format names no day (use e.g. {date:%Y%m/%d})"
    return None


def paper_today(now: datetime | None = None) -> date:
    """Return today's date on the papers' calendar."""
    return (now or datetime.now(PAPER_TZ)).astimezone(PAPER_TZ).date()


def days_back(newest: date, oldest: date) -> Iterator[date]:
    """Yield the days from newest back to oldest, both included."""
    day = newest
    while day >= oldest:
        yield day
        day -= timedelta(days=1)


def recent_list_urls(template: str, now: datetime | None = None) -> tuple[str, ...]:
    """Return the list URLs a crawl reads for a list: the last RECENT_DAYS days if dated."""
    if not is_dated_list(template):
        return (template,)
    today = paper_today(now)
    return tuple(dated_list_url(template, today - timedelta(days=n)) for n in range(RECENT_DAYS))
