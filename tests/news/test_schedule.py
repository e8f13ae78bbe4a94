"""Digest times across zones, midnight and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from news.schedule import following_due, local_day, next_due, parse_hhmm, parse_time_zone

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08:00", "08:00"),
        ("8:05", "08:05"),
        ("23:59", "23:59"),
        ("0:00", "00:00"),
        ("07：30", "07:30"),
    ],
)
def test_parse_hhmm(raw: str, expected: str) -> None:
    assert parse_hhmm(raw) == expected


@pytest.mark.parametrize("raw", ["24:00", "8", "08:60", "8am", "", "08:00:00", "-1:00"])
def test_parse_hhmm_rejects(raw: str) -> None:
    assert parse_hhmm(raw) is None


def test_parse_time_zone() -> None:
    assert parse_time_zone("Asia/Shanghai") == SHANGHAI
    assert parse_time_zone("Mars/Base") is None
    assert parse_time_zone("../etc/passwd") is None


def test_next_due_today_or_tomorrow() -> None:
    now = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    assert next_due(now, "09:00", SHANGHAI) == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    assert next_due(now, "08:00", SHANGHAI) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert next_due(now, "08:30", SHANGHAI) == datetime(2026, 11, 27, 0, 30, tzinfo=UTC)


def test_digest_across_midnight_keys_by_local_date() -> None:
    due = next_due(datetime(2026, 11, 26, 15, 0, tzinfo=UTC), "00:10", SHANGHAI)
    assert due == datetime(2026, 11, 26, 16, 10, tzinfo=UTC)
    assert local_day(due, SHANGHAI) == "2026-11-27"


def test_daylight_saving_keeps_local_time() -> None:
    before = next_due(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "08:00", BERLIN)
    assert before == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # CEST starts that night
    after = following_due(before, "08:00", BERLIN)
    assert after == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    winter = following_due(datetime(2026, 10, 24, 6, 0, tzinfo=UTC), "08:00", BERLIN)
    assert winter == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


def test_a_time_inside_the_spring_gap_still_happens_once() -> None:
    due = next_due(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "02:30", BERLIN)
    assert local_day(due, BERLIN) == "2026-03-29"
    assert following_due(due, "02:30", BERLIN) > due
