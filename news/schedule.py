"""Digest times: the next local HH:MM as a UTC instant, across time zones and daylight saving."""

from __future__ import annotations

import re
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
