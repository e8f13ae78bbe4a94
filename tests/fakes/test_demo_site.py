"""The demo site (fakes/data/site): enough real articles, all three templates, all parseable."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fakes import SITE
from news.ingest.decode import decode_html
from news.ingest.sources import PROFILES, nen
from news.ingest.sources_file import parse_sources
from news.models import ParsedArticle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE = "http://127.0.0.1:8000"
CST = timezone(timedelta(hours=8))
MANIFEST: dict[str, Any] = json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))
ARTICLES: list[dict[str, Any]] = MANIFEST["articles"]
LISTS: list[dict[str, Any]] = MANIFEST["lists"]


def page_bytes(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_bytes()


def parse_page(path: str) -> ParsedArticle:
    return nen.parse_article(decode_html(page_bytes(path)), BASE + path)


def test_the_site_has_enough_articles_in_three_channels_and_three_templates() -> None:
    assert len(ARTICLES) >= 30
    per_channel = Counter(a["channel"] for a in ARTICLES)
    assert len(per_channel) == 3 and min(per_channel.values()) >= 5
    assert {a["template"] for a in ARTICLES} == {"current", "people", "enorth"}
    assert len({a["path"] for a in ARTICLES}) == len(ARTICLES)
    # Something recent for a digest, and the seed article among the old ones.
    recent = [a for a in ARTICLES if a["published"] >= "2026-11-20"]
    assert len(recent) >= 5
    titles = {a["title"] for a in ARTICLES}
    assert "易炼红:奋力拼搏 大干实干 全面展示国际化现代化大都市新面貌新形象新风采" in titles
    assert {"pages/cwce_people-js_b26fbb82.html", "leaders/78911_2018_yilianhong.txt"} <= {
        a["origin"] for a in ARTICLES
    }


@pytest.mark.parametrize("entry", ARTICLES, ids=lambda a: a["path"].rsplit("/", 1)[-1])
def test_every_article_page_parses_with_the_nen_profile(entry: dict[str, Any]) -> None:
    pages = [parse_page(path) for path in entry["pages"]]
    article = nen.join_pages(pages[0], pages[1:]) if len(pages) > 1 else pages[0]
    assert article.title == entry["title"]
    published = datetime.strptime(entry["published"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    assert article.published_at == published
    assert len(article.body) >= 20
    assert article.continuation_urls == ()  # every page an article links to is on the site


@pytest.mark.parametrize("template", ["current", "people", "enorth"])
def test_pages_carry_the_encoding_of_their_era(template: str) -> None:
    for entry in (a for a in ARTICLES if a["template"] == template):
        data = page_bytes(entry["path"])
        if template == "enorth":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert b"charset=gb2312" in data
        else:
            data.decode("utf-8")
        if template == "people":
            assert b"charset=GB2312" in data  # the real template's false declaration


def test_the_seed_article_is_continued_on_an_01_page() -> None:
    [seed] = [a for a in ARTICLES if a["origin"].startswith("nen/seed_")]
    first, second = seed["pages"]
    assert second == first.replace(".shtml", "_01.shtml")
    assert parse_page(first).continuation_urls == (BASE + second,)
    joined = nen.join_pages(parse_page(first), [parse_page(second)])
    assert "姜有为在进行工作部署时指出" in joined.body and joined.editor == "王丹"


@pytest.mark.parametrize("listing", LISTS, ids=lambda entry: entry["path"].rsplit("/", 1)[-1])
def test_every_list_page_yields_its_links(listing: dict[str, Any]) -> None:
    page = nen.parse_list(decode_html(page_bytes(listing["path"])), BASE + listing["path"])
    assert [e.url.removeprefix(BASE) for e in page.entries] == listing["articles"]
    assert all(e.title and e.published_at is not None for e in page.entries)
    expected_next = [BASE + listing["next"]] if listing.get("next") else []
    assert list(page.next_pages) == expected_next


def test_following_next_pages_from_each_channel_list_reaches_all_its_articles() -> None:
    for channel in MANIFEST["channels"]:
        url: str | None = BASE + channel["list"]
        found: list[str] = []
        hops = 0
        while url is not None and hops < 5:
            hops += 1
            path = url.removeprefix(BASE)
            page = nen.parse_list(decode_html(page_bytes(path.replace("//", "/"))), url)
            found += [e.url.removeprefix(BASE) for e in page.entries]
            url = page.next_pages[0] if page.next_pages else None
        wanted = [a["path"] for a in ARTICLES if a["channel"] == channel["key"]]
        assert sorted(found) == sorted(wanted), channel["key"]
        assert hops <= 3  # within the demo sources' max_pages


def test_the_sources_template_names_the_three_channel_lists() -> None:
    text = (SITE / "sources.toml.in").read_text(encoding="utf-8").replace("{base}", BASE)
    sources = parse_sources(text, "sources.toml.in", PROFILES)
    assert [s.profile for s in sources] == ["nen"] * 3
    assert [s.lists for s in sources] == [(BASE + c["list"],) for c in MANIFEST["channels"]]
    assert [s.name for s in sources] == [c["source"] for c in MANIFEST["channels"]]


def load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_site", FIXTURES / "build_site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_the_committed_site_is_what_the_generator_builds(tmp_path: Path) -> None:
    builder = load_builder()
    if not builder.DEFAULT_CORPUS.is_dir():
        pytest.skip(f"the corpus is not at {builder.DEFAULT_CORPUS}")
    builder.build(builder.DEFAULT_CORPUS, tmp_path / "site")
    built = {
        p.relative_to(tmp_path / "site") for p in (tmp_path / "site").rglob("*") if p.is_file()
    }
    committed = {p.relative_to(SITE) for p in SITE.rglob("*") if p.is_file()}
    assert built == committed
    stale = [
        str(p)
        for p in sorted(built)
        if (tmp_path / "site" / p).read_bytes() != (SITE / p).read_bytes()
    ]
    assert stale == [], "re-run tests/fixtures/build_site.py and commit the site"
