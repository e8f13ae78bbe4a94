"""sources.toml: the shipped file is valid; a malformed one gets one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from news.ingest.sources_file import SourcesError, parse_sources

ROOT = Path(__file__).resolve().parents[3]
PROFILES = ("nen", "generic")

GOOD = """
[[source]]
name = "local"
title = "本地"
profile = "nen"
lists = ["http://127.0.0.1:8000/network/a/index.shtml"]
"""


def test_shipped_file_lists_real_nen_channels() -> None:
    sources = parse_sources((ROOT / "sources.toml").read_text("utf-8"), "sources.toml", PROFILES)
    assert len(sources) >= 3
    hosts = {url.split("/")[2] for s in sources for url in s.lists}
    assert {"liaoning.nen.com.cn", "news.nen.com.cn"} <= hosts
    assert all(s.profile == "nen" for s in sources)


def test_defaults_apply() -> None:
    [source] = parse_sources(GOOD, "x.toml", PROFILES)
    assert (source.interval_minutes, source.max_pages) == (15, 3)
    assert source.lists == ("http://127.0.0.1:8000/network/a/index.shtml",)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[source]\nname=", "not valid TOML"),
        (GOOD.replace('title = "本地"\n', ""), "source 'local': missing key `title`"),
        (GOOD.replace('"nen"', '"rss"'), "unknown profile 'rss'"),
        (GOOD + GOOD, "source 'local': duplicate name"),
        (GOOD.replace('"local"', '"Local News"'), "name must match"),
        (GOOD.replace('["http', '["ftp'), "is not an http(s) URL"),
        (GOOD + "interval_minutes = 0\n", "interval_minutes must be a positive number"),
        (GOOD + "max_pages = 'x'\n", "max_pages must be a whole number"),
        (
            GOOD.replace('lists = ["http://127.0.0.1:8000/network/a/index.shtml"]', "lists = []"),
            "lists must be a non-empty list",
        ),
    ],
)
def test_malformed_files_name_file_source_and_problem(text: str, fragment: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "my.toml", PROFILES)
    message = str(info.value)
    assert message.startswith("my.toml: ")
    assert fragment in message
    assert "\n" not in message


def test_empty_file_has_no_sources() -> None:
    assert parse_sources("", "x.toml", PROFILES) == ()
