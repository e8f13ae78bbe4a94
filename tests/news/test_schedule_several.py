"""Several digests a day, weekdays only, ledger keys and quiet hours (news.schedule)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from news.schedule import (
    digest_key,
    in_quiet_hours,
    join_times,
    next_due_of,
    previous_due_of,
    quiet_span_minutes,
    split_times,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Friday 2026-11-27, 12:00 in Shanghai.
FRIDAY_NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_times_are_stored_sorted_once() -> None:
    assert join_times(["18:00", "08:00", "18:00"]) == "08:00,18:00"
    assert split_times("08:00,18:00") == ("08:00", "18:00")


def test_the_next_of_several_times() -> None:
    times = ("08:00", "18:00")
    assert next_due_of(FRIDAY_NOON, times, SHANGHAI) == local(27, 18)
    assert next_due_of(local(27, 18), times, SHANGHAI) == local(28, 8)
    assert previous_due_of(FRIDAY_NOON, times, SHANGHAI) == local(27, 8)
    assert previous_due_of(local(27, 8), times, SHANGHAI) == local(27, 8)


def test_weekdays_only_skips_the_weekend() -> None:
    times = ("08:00", "18:00")
    assert next_due_of(local(27, 18), times, SHANGHAI, weekdays_only=True) == local(30, 8)
    # Monday morning's digest covers what came since Friday evening's.
    assert previous_due_of(local(30, 7), times, SHANGHAI, weekdays_only=True) == local(27, 18)


def test_a_digest_key_holds_the_time_only_when_there_are_several() -> None:
    assert digest_key(local(27, 8), ("08:00",), SHANGHAI) == "2026-11-27"
    assert digest_key(local(27, 18), ("08:00", "18:00"), SHANGHAI) == "2026-11-27 18:00"


@pytest.mark.parametrize(
    ("start", "end", "hour", "quiet"),
    [
        ("23:00", "07:00", 2, True),
        ("23:00", "07:00", 23, True),
        ("23:00", "07:00", 7, False),
        ("23:00", "07:00", 12, False),
        ("12:00", "14:00", 13, True),
        ("12:00", "14:00", 14, False),
        ("", "", 2, False),
    ],
)
def test_quiet_hours_in_the_chats_zone(start: str, end: str, hour: int, quiet: bool) -> None:
    assert in_quiet_hours(local(27, hour), start, end, SHANGHAI) is quiet


def test_quiet_span_across_midnight() -> None:
    assert quiet_span_minutes("23:00", "07:00") == 8 * 60
    assert quiet_span_minutes("07:00", "23:00") == 16 * 60
