"""Reading settings files: version 2 checked field by field, version 1 still read, newer refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.settings_file import BadSettingsFile, read_settings

V2: dict[str, Any] = {
    "format": "newsbot-settings",
    "version": 2,
    "language": "zh",
    "digest": {
        "times": ["18:00", "8:00"],
        "time_zone": "Asia/Shanghai",
        "weekdays_only": True,
        "channels": [],
        "send_empty": False,
    },
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "silent": True,
    "keyword_body": False,
    "digest_order": "leader",
    "city": "",
    "follows": ["易炼红"],
    "keywords": ["營商環境  沈阳 -招聘", "营商环境 沈阳 -招聘"],
    "watches": [{"kind": "region", "target": "大连"}, {"kind": "region", "target": "大连"}],
}


def read(data: dict[str, Any]) -> Any:
    return read_settings(json.dumps(data, ensure_ascii=False).encode(), "zh")


def test_version_2_is_read_into_the_stored_forms() -> None:
    settings = read(V2)
    assert settings.digest is not None and settings.digest["times"] == ["08:00", "18:00"]
    assert settings.digest["weekdays_only"] is True
    # Rules come out as /keyword stores them: simplified, spaces collapsed, one per rule.
    assert settings.keywords == ("营商环境 沈阳 -招聘",)
    assert settings.watches == (("region", "大连"),)
    assert settings.own == {
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "silent": True,
        "keyword_body": False,
        "digest_order": "leader",
        "city": "",
    }


def test_version_1_reads_a_comma_separated_time_and_names_no_own_settings() -> None:
    v1 = {
        "format": "newsbot-settings",
        "version": 1,
        "digest": {"time": "08:00,18:00", "time_zone": "Asia/Shanghai"},
        "keywords": ["振兴"],
    }
    settings = read(v1)
    assert settings.digest is not None and settings.digest["times"] == ["08:00", "18:00"]
    assert settings.own == {} and settings.watches == () and settings.keywords == ("振兴",)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"version": 3}, "版本 3"),
        ({"version": True}, "version"),
        ({"digest": {**V2["digest"], "times": []}}, "digest.times"),
        ({"digest": {**V2["digest"], "times": "08:00"}}, "digest.times"),
        ({"digest": {**V2["digest"], "weekdays_only": 1}}, "digest.weekdays_only"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
        ({"quiet_hours": "22-07"}, "quiet_hours"),
        ({"keyword_body": None}, "keyword_body"),
        ({"keywords": ["a b c d e f"]}, "keywords"),
        ({"watches": [{"kind": "source"}]}, "watches"),
        ({"watches": [{"kind": "region", "target": "x"}] * 21}, "watches"),
    ],
)
def test_a_bad_field_refuses_the_whole_file(change: dict[str, Any], why: str) -> None:
    with pytest.raises(BadSettingsFile, match=why):
        read({**V2, **change})
