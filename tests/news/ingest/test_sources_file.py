"""The packaged catalogue is valid; a malformed sources file gets one line naming the problem."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest

from news.ingest.dated import dated_list_url, is_dated_list, recent_list_urls
from news.ingest.sources import PROFILES as ALL_PROFILES
from news.ingest.sources_file import SourcesError, catalogue_text, parse_sources
from news.models import REGIONS, Selectors

PROFILES = ("nen", "generic")

GOOD = """
[[source]]
name = "local"
title = "本地"
profile = "nen"
lists = ["http://127.0.0.1:8000/network/a/index.shtml"]
"""


def test_catalogue_covers_the_province_and_every_city() -> None:
    sources = parse_sources(catalogue_text(), "catalogue.toml", ALL_PROFILES)
    assert len(sources) >= 25
    assert {s.region for s in sources} == set(REGIONS)
    assert {s.kind for s in sources} == {"政府", "报纸", "网站"}
    families = {s.profile for s in sources}
    assert {"lngov", "epaper", "enorth", "trs", "glist", "epoint", "vsb", "founder"} <= families


def test_every_catalogue_source_names_its_evidence() -> None:
    """Each [[source]] follows a comment naming its evidence level; GUESS ones are not shipped."""
    text = catalogue_text()
    blocks = re.split(r"\n(?=\[\[source\]\])", text)
    for before, block in itertools.pairwise(blocks):
        name = re.search(r'name = "([^"]+)"', block)
        lines = before.strip().splitlines()
        comment: list[str] = []
        while lines and lines[-1].startswith("#"):
            comment.insert(0, lines.pop())
        text_of = " ".join(comment)
        assert re.search(r"\b(V26|V19|V21|INF)\b", text_of), (name, text_of)
        assert "SOURCES.md" in text_of, name
    shipped = [line for line in text.splitlines() if not line.startswith("#")]
    assert not any("GUESS" in line for line in shipped if "lists" in line)


def test_region_kind_defaults_apply() -> None:
    [source] = parse_sources(GOOD, "x.toml", PROFILES)
    assert (source.region, source.kind, source.selectors) == ("辽宁", "网站", Selectors())
    assert source.encoding == ""


def test_region_kind_selectors_and_dated_lists_are_read() -> None:
    text = GOOD.replace(
        'lists = ["http://127.0.0.1:8000/network/a/index.shtml"]',
        'lists = ["http://127.0.0.1:8000/layout/{date:%Y%m/%d}/node_01.html"]\n'
        'region = "锦州"\nkind = "报纸"\nencoding = "GBK"\n'
        '[source.selectors]\nbody = "#vsb_content"\ntitle = "form h1, h1"\n',
    )
    [source] = parse_sources(text, "x.toml", PROFILES)
    assert (source.region, source.kind, source.encoding) == ("锦州", "报纸", "gbk")
    assert source.selectors == Selectors(title="form h1, h1", body="#vsb_content")
    [template] = source.lists
    assert is_dated_list(template)
    assert dated_list_url(template, date(2026, 1, 28)).endswith("/layout/202601/28/node_01.html")
    assert len(recent_list_urls(template)) == 2
    assert recent_list_urls("http://x/a.html") == ("http://x/a.html",)


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
        (GOOD + 'region = "长春"\n', "region '长春' is not 辽宁 or one of its 14 cities"),
        (GOOD + 'kind = "电视"\n', "kind must be one of 政府/报纸/网站"),
        (GOOD + 'encoding = "klingon"\n', "encoding 'klingon' is not a known charset"),
        (GOOD + 'colour = "red"\n', "unknown key `colour`"),
        (GOOD + '[source.selectors]\nbody = "div >"\n', "selector `body` 'div >'"),
        (GOOD + '[source.selectors]\nheadline = "h1"\n', "unknown selector `headline`"),
        (GOOD.replace("index.shtml", "{date:%H}.shtml"), "the date format names no day"),
        (GOOD.replace("index.shtml", "{day}.shtml"), "only {date} or {date:FORMAT}"),
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
