"""Digest times: the next local HH:MM as a UTC instant, across time zones and daylight saving."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


def parse_hhmm(raw: str) -> str | None:
    """Return a digest time as HH:MM, or None if it is not a valid 24-hour time."""
    match = _TIME_RE.match(raw.strip())
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_time_zone(raw: str) -> ZoneInfo | None:
    """Return the IANA time zone named, or None if there is no such zone."""
    name = raw.strip()
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. 'Asia'
        return None


def local_instant(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    """Return HH:MM on a local day as an aware UTC datetime.

    A time skipped by a daylight-saving jump is read with the offset before the jump, so it
    lands just after the gap; a repeated time is its first occurrence.
    """
    hours, minutes = (int(part) for part in hhmm.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=tz)
    return local.astimezone(UTC)


def next_due(now: datetime, hhmm: str, tz: ZoneInfo) -> datetime:
    """Return the first HH:MM local time strictly after `now`, as UTC."""
    local_today = now.astimezone(tz).date()
    for offset in range(0, 3):
        candidate = local_instant(local_today + timedelta(days=offset), hhmm, tz)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a day always has the time within two days")


def following_due(due: datetime, hhmm: str, tz: ZoneInfo) -> datetime:
    """Return the digest time on the local day after the one `due` falls on, as UTC."""
    day = due.astimezone(tz).date() + timedelta(days=1)
    return local_instant(day, hhmm, tz)


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    """Return the local calendar date of an instant, as YYYY-MM-DD (the digest ledger key)."""
    return moment.astimezone(tz).date().isoformat()


def previous_due(now: datetime, hhmm: str, tz: ZoneInfo) -> datetime:
    """Return the last HH:MM local time at or before `now`, as UTC."""
    local_today = now.astimezone(tz).date()
    for offset in range(0, 3):
        candidate = local_instant(local_today - timedelta(days=offset), hhmm, tz)
        if candidate <= now:
            return candidate
    raise AssertionError("unreachable: a day always has the time within two days")


# --- several digests a day, weekdays only --------------------------------------------------

MAX_DIGEST_TIMES = 4


def split_times(stored: str) -> tuple[str, ...]:
    """Return a subscription's digest times from their stored form ("08:00,18:00")."""
    return tuple(t for t in stored.split(",") if t)


def join_times(times: Sequence[str]) -> str:
    """Return digest times in their stored form: sorted, no repeats, comma-separated."""
    return ",".join(sorted(set(times)))


def _digest_days(start: date, step: int, weekdays_only: bool) -> Iterator[date]:
    """Yield local days from `start` one by one (back with step -1), weekends left out if asked."""
    day = start
    while True:
        if not weekdays_only or day.weekday() < 5:
            yield day
        day += timedelta(days=step)


def next_due_of(
    now: datetime, times: Sequence[str], tz: ZoneInfo, weekdays_only: bool = False
) -> datetime:
    """Return the first of the digest times strictly after `now`, as UTC."""
    for day in _digest_days(now.astimezone(tz).date() - timedelta(days=1), 1, weekdays_only):
        later = [m for m in (local_instant(day, t, tz) for t in times) if m > now]
        if later:
            return min(later)
    raise AssertionError("unreachable")


def previous_due_of(
    now: datetime, times: Sequence[str], tz: ZoneInfo, weekdays_only: bool = False
) -> datetime:
    """Return the last of the digest times at or before `now`, as UTC."""
    for day in _digest_days(now.astimezone(tz).date() + timedelta(days=1), -1, weekdays_only):
        earlier = [m for m in (local_instant(day, t, tz) for t in times) if m <= now]
        if earlier:
            return max(earlier)
    raise AssertionError("unreachable")


def digest_key(due: datetime, times: Sequence[str], tz: ZoneInfo) -> str:
    """Return the ledger key of a digest: its local day, and its time when there are several."""
    # One digest a day keeps the day alone as its key, so moving the time never sends a day
    # twice; with several a day each one is its own row.
    day = local_day(due, tz)
    if len(times) <= 1:
        return day
    return f"{day} {due.astimezone(tz).strftime('%H:%M')}"


# --- quiet hours ---------------------------------------------------------------------------

# A longer span is most likely the two ends given the wrong way round (07:00 23:00).
MAX_QUIET_MINUTES = 14 * 60


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return hours * 60 + minutes


def quiet_span_minutes(start: str, end: str) -> int:
    """Return how long quiet hours from start to end last (across midnight when end < start)."""
    return (_minutes(end) - _minutes(start)) % (24 * 60)


def in_quiet_hours(moment: datetime, start: str, end: str, tz: ZoneInfo) -> bool:
    """Return whether a moment falls in the quiet hours [start, end) of local time."""
    if not start or not end or start == end:
        return False
    local = moment.astimezone(tz)
    now = local.hour * 60 + local.minute
    begin, finish = _minutes(start), _minutes(end)
    if begin < finish:
        return begin <= now < finish
    return now >= begin or now < finish
