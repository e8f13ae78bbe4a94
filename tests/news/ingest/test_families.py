"""Every shipped source reads a fixture list page and article page of its family, with its own
selectors (tests/fixtures/province: each fixture names the SOURCES.md evidence it follows)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from news.ingest.dated import dated_list_url, is_dated_list
from news.ingest.decode import decode_html
from news.ingest.sources import PROFILES, families, profile_for
from news.ingest.sources.boilerplate import SHANGHAI
from news.ingest.sources.listing import same_site
from news.ingest.sources_file import catalogue_text, parse_sources
from news.models import Selectors, SourceConfig

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
PROVINCE = FIXTURES / "province"
CATALOGUE = {s.name: s for s in parse_sources(catalogue_text(), "catalogue", PROFILES)}

# The fixture folder each catalogue source is checked against: its own pages where its site's
# markup is known apart from its family's, else its family's.
FOLDER = {
    "lngov-ldhd": "lngov",
    "lngov-ywdt": "lngov",
    "lngov-jrln": "lngov",
    "lnrb-epaper": "epaper",
    "lnd-szyw": "enorth",
    "lnd-zydt": "enorth",
    "lnd-jrln": "enorth",
    "nen-szyw": "nen",
    "people-ln-yw": "people",
    "chinanews-ln-dfxw": "chinanews",
    "shenyang-zwyw": "trs",
    "syd-synews": "syd",
    "dalian-gov": "hanweb",
    "dlxww": "founder",
    "anshan-jras": "glist",
    "fushun-jrfs": "epoint",
    "benxi-zwyw": "benxi",
    "dandong-bmdt": "glist",
    "jinzhou-zwyw": "vsb",
    "yingkou-zydt": "epoint",
    "fuxin-news": "fuxin",
    "liaoyang-gov": "liaoyang",
    "panjin-gov": "panjin",
    "tieling-bmdt": "tieling",
    "chaoyang-bmdt": "glist",
    "huludao-zwyw": "hld",
}
# The page after list page 1 in the generated families (fakes/province.py's pagination).
GENERATED_NEXT = {
    "lngov": "/web/ywdt/5b93cb3c-2.shtml",
    "trs": "index_1.html",
    "enorth": "count_page_list_0008016000000000000.js",
    "founder": "/news/node_7_2.htm",
    "glist": "glist_2.html",
    "epoint": "moreinfo.html?categoryNum=001001&pageIndex=2",
    "epaper": "node_02.html",
}

# Sources checked on another site's pages of their family, whose pager differs.
NEXT = {"yingkou-zydt": None}  # its paging is unknown (SOURCES.md §2a 营口)


def _case(source: SourceConfig) -> dict[str, Any]:
    """Return the fixture pages, URLs and truth a source is checked against."""
    folder = FOLDER[source.name]
    if folder == "nen":
        truth = json.loads(
            (FIXTURES / "nen/synthetic_enorth_2018-03-02_yilianhong.truth.json").read_text()
        )
        return {
            "list": ROOT / "fakes/data/site/szyw_new/index.shtml",
            "list_url": source.lists[0],
            "entries": None,
            "next": None,
            "article": FIXTURES / "nen/synthetic_enorth_2018-03-02_yilianhong.html",
            "article_url": truth["url"],
            "title": truth["title"],
            "date": truth["date"][:16],
            "source": truth["source"],
            "first": truth["content"].splitlines()[0] if "content" in truth else None,
        }
    truth = json.loads((PROVINCE / folder / "article.truth.json").read_text(encoding="utf-8"))
    list_url = source.lists[0]
    host = f"{urlsplit(list_url).scheme}://{urlsplit(list_url).netloc}"
    if "list_path" in truth:  # generated from the loopback province
        if is_dated_list(list_url):
            list_url = dated_list_url(list_url, datetime.fromisoformat(truth["date"]).date())
        next_page = NEXT.get(source.name, GENERATED_NEXT[folder])
        article_url = host + truth["article_path"]
    else:
        next_page = truth["list_next"]
        article_url = host + urlsplit(truth["article_url"]).path
    article = truth.get("article_fixture", "article.html")
    return {
        "list": PROVINCE / folder / truth.get("list_fixture", "list.html"),
        "list_url": list_url,
        "entries": truth["list_entries"],
        "next": next_page,
        "article": (PROVINCE / folder / article).resolve(),
        "article_url": truth["article_url"] if "article_fixture" in truth else article_url,
        "title": truth["title"],
        "date": truth["date"],
        "source": truth["source"],
        "first": truth["first_paragraph"],
    }


def test_every_catalogue_source_has_fixtures() -> None:
    assert set(FOLDER) == set(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_source_reads_its_list_page(name: str) -> None:
    source = CATALOGUE[name]
    case = _case(source)
    html = decode_html(case["list"].read_bytes())
    page = profile_for(source).parse_list(html, case["list_url"])
    assert page.entries, f"{name}: no article links"
    if case["entries"] is not None:
        assert len(page.entries) == case["entries"]
    for entry in page.entries:
        assert len(entry.title) >= 4, entry
        assert same_site(entry.url, case["list_url"]), entry.url
    dated = [entry for entry in page.entries if entry.published_at is not None]
    assert len(dated) == len(page.entries), f"{name}: entries without a date"
    if case["next"] is None:
        assert not page.next_pages or name in ("nen-szyw",)
    else:
        assert page.next_pages and page.next_pages[0].endswith(case["next"]), page.next_pages


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_source_reads_its_article_page(name: str) -> None:
    source = CATALOGUE[name]
    case = _case(source)
    article = profile_for(source).parse_article(
        decode_html(case["article"].read_bytes()), case["article_url"]
    )
    assert article.title == case["title"]
    local = article.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert local == case["date"]
    assert article.source == case["source"]
    if case["first"] is not None:
        assert article.paragraphs[0] == case["first"]
    assert len(article.body) > 60


def test_syd_home_page_excerpt_lists_its_enorth_articles() -> None:
    """The one real city page (沈阳网 2018): its Enorth links, each dated by its URL."""
    html = (PROVINCE / "syd_home_2018-03-20.excerpt.html").read_text(encoding="utf-8")
    page = profile_for(CATALOGUE["syd-synews"]).parse_list(html, "http://www.syd.com.cn/")
    assert len(page.entries) >= 40
    assert all("/system/20" in entry.url for entry in page.entries)
    assert all(entry.published_at is not None for entry in page.entries)


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_every_family_says_where_its_defaults_come_from(family: str) -> None:
    spec = families.FAMILIES[family]
    assert "SOURCES.md" in spec.evidence
    assert spec.selectors.body and spec.selectors.title


def test_source_selectors_override_family_defaults() -> None:
    """A site of a known family with its own markup is a TOML edit: its selectors win."""
    html = (
        "<html><body><div class='hd'>另一个标题</div><h1>网站标题</h1>"
        "<div class='when'>2024-05-06 07:08</div>"
        "<div class='txt'>"
        "<p>这是一篇用于测试选择器覆盖的文章正文，内容足够长，可以被识别为正文。</p>"
        "<p>第二段同样是正文内容，用来确认段落都被读到了，而且没有遗漏任何一段。</p></div>"
        "</body></html>"
    )
    base = CATALOGUE["jinzhou-zwyw"]
    own = SourceConfig(
        name="x",
        title="x",
        profile="vsb",
        lists=base.lists,
        selectors=Selectors(title="div.hd", time="div.when", body="div.txt"),
    )
    article = profile_for(own).parse_article(html, "https://www.jz.gov.cn/info/1012/1.htm")
    assert article.title == "另一个标题"
    assert article.published_at.astimezone(SHANGHAI).strftime("%H:%M") == "07:08"
    assert len(article.paragraphs) == 2


def test_page_the_selectors_miss_falls_back_to_the_generic_reader() -> None:
    html = (PROVINCE / "benxi" / "article.html").read_text(encoding="utf-8")
    article = profile_for(CATALOGUE["jinzhou-zwyw"]).parse_article(
        html, "https://www.jz.gov.cn/info/1012/2.htm"
    )
    assert article.title.startswith("本溪市召开第1次")


def test_every_province_fixture_names_its_evidence() -> None:
    """Fixtures are built from the catalogue's descriptions: each page says which ones."""
    pages = sorted(PROVINCE.rglob("*.html"))
    assert len(pages) >= 25
    for page in pages:
        if page.name == "syd_home_2018-03-20.excerpt.html":
            continue  # the one real page (SOURCES.md §3), kept verbatim
        head = page.read_bytes()[:600].decode("utf-8", errors="replace")
        assert head.startswith("<!-- "), page
        assert "SOURCES.md" in head.split("-->", 1)[0], page
