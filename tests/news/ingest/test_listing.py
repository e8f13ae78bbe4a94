"""Any list page: article links by URL shape and link text, dates, and every pagination form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from news.ingest.sources.listing import is_article_link, page_parts, parse_list, site_of
from news.models import Selectors


def _page(body: str) -> str:
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/202401/t20240105_4568123.html",
        "http://www.dlxww.com/news/2019-05/06/content_1234567.htm",
        "http://liaoning.lnd.com.cn/system/2023/07/27/030425527.shtml",
        "https://www.dl.gov.cn/art/2026/7/24/art_21_2526642.html",
        "https://www.ln.gov.cn/web/ywdt/jrln/wzxx2018/2024093014452334478/index.shtml",
        "https://www.ln.gov.cn/web/ywdt/msrd/2025120309171675367/",
        "https://www.fuxin.gov.cn/content/2026/1038905.html",
        "http://ln.people.com.cn/n2/2026/0717/c378320-41642085.html",
        "https://epaper.lnd.com.cn/lnrbepaper/pc/con/202601/28/content_315651.html",
        "http://newpaper.cynews.com.cn/cyrm/epaper/content/202601/28/c12345.html",
        "https://www.fushun.gov.cn/ywdt/001007/20240623/30a38ae5-1f2e-4c1b-9a8d-2b4c6d8e0f12.html",
        "https://www.yingkou.gov.cn/govxxgk/ykszf/2026-04-27/1dd679cc-2b1a-4e3f-8c7d-6e5f4a3b2c1d.html",
        "https://www.chaoyang.gov.cn/html/CYSZF/202512/1176672950590130.html",
        "http://www.qianhuaweb.com/2021/0115/1234567.shtml",
    ],
)
def test_catalogue_article_urls_are_articles(url: str) -> None:
    assert is_article_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/index_1.html",
        "https://www.anshan.gov.cn/asszf/jras/glist_2.html",
        "https://www.ln.gov.cn/web/zwgkx/zfwj/index.shtml",
        "https://www.ln.gov.cn/zfxxgk/2024/01/02/1234567.html",  # 政府信息公开: not news
        "http://www.dlxww.com/news/node_7_2.htm",
    ],
)
def test_list_and_service_pages_are_no_articles(url: str) -> None:
    assert not is_article_link(url)


def test_entries_by_url_shape_and_link_text_dated_from_row_or_url() -> None:
    html = _page(
        "<div class='nav'><a href='/zwgk/index.html'>政务公开</a>"
        "<a href='/info/1012/99999.htm'>更多</a></div>"
        "<ul><li><a href='/info/1012/75518.htm'>锦州市召开重点项目推进会议部署工作</a>"
        "<span>2021-01-13</span></li>"
        "<li><a href='/zwyw/202101/t20210112_1.html'>短</a></li>"
        "<li><a href='/zwyw/202101/t20210111_2.html' title='全称标题比链接文字更长的新闻'>全称标题…</a></li>"
        "<li><a href='http://lnd.com.cn/system/2021/01/10/123456.shtml'>另一网站的一条新闻标题</a></li>"
        "<li><a href='http://www.shenyang.gov.cn/hdzm/system/2013/02/05/010057607.shtml'>市长信箱</a></li>"
        "</ul>"
    )
    page = parse_list(html, "https://www.jz.gov.cn/zwyw.htm")
    # Another site's headline counts; its service links (市长信箱) do not.
    assert [(e.url.rsplit("/", 1)[1], e.title) for e in page.entries] == [
        ("75518.htm", "锦州市召开重点项目推进会议部署工作"),
        ("t20210111_2.html", "全称标题比链接文字更长的新闻"),
        ("123456.shtml", "另一网站的一条新闻标题"),
    ]
    assert page.entries[0].published_at == datetime(2021, 1, 12, 16, 0, tzinfo=UTC)
    assert page.entries[1].published_at == datetime(2021, 1, 10, 16, 0, tzinfo=UTC)


def test_ln_gov_next_page_in_tagname_attribute() -> None:
    html = _page(
        "<div class='modcontent'><ul><li><a href='/web/ywdt/jrln/2024093014452334478/index.shtml'>"
        "辽宁省政府召开常务会议研究部署工作</a></li></ul></div>"
        "<a href='javascript:void(0);' title='下一页' tagname='/web/ywdt/5b93cb3c-2.shtml'>下一页</a>"
    )
    page = parse_list(html, "https://www.ln.gov.cn/web/ywdt/index.shtml")
    assert page.next_pages == ("https://www.ln.gov.cn/web/ywdt/5b93cb3c-2.shtml",)


def test_trs_create_page_html_builds_index_n() -> None:
    html = _page('<script>createPageHTML(12, 3, "index", "html");</script>')
    page = parse_list(html, "https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/index_3.html")
    assert page.next_pages == ("https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/index_4.html",)
    last = _page('<script>createPageHTML(12, 11, "index", "html");</script>')
    assert (
        parse_list(last, "https://www.shenyang.gov.cn/zwgk/zwdt/zwyw/index_11.html").next_pages
        == ()
    )


@pytest.mark.parametrize(
    ("url", "links", "expected"),
    [
        (
            "http://x.gov.cn/a/glist.html",
            ["glist_2.html", "glist_3.html"],
            "http://x.gov.cn/a/glist_2.html",
        ),
        (
            "http://x.gov.cn/a/glist_2.html",
            ["glist.html", "glist_3.html"],
            "http://x.gov.cn/a/glist_3.html",
        ),
        (
            "http://x.com/news/node_7.htm",
            ["node_7_2.htm", "node_7_19.htm"],
            "http://x.com/news/node_7_2.htm",
        ),
        (
            "http://x.com/l/node_01.html",
            ["node_01.html", "node_02.html", "node_03.html"],
            "http://x.com/l/node_02.html",
        ),
        ("http://x.com/l/node_03.html", ["node_01.html", "node_02.html", "node_03.html"], None),
        (
            "http://x.gov.cn/ywdt/001001/moreinfo.html?categoryNum=001001",
            [
                "moreinfo.html?categoryNum=001001&pageIndex=1",
                "moreinfo.html?categoryNum=001001&pageIndex=2",
                "moreinfo.html?categoryNum=009&pageIndex=1",
            ],
            "http://x.gov.cn/ywdt/001001/moreinfo.html?categoryNum=001001&pageIndex=2",
        ),
        (
            "http://x.gov.cn/list.jsp?cat=5",
            ["list.jsp?cat=5&page=1", "list.jsp?cat=5&page=2"],
            "http://x.gov.cn/list.jsp?cat=5&page=2",
        ),
        (
            "http://x.gov.cn/ywdt/001001/moreinfo.html",
            [
                "moreinfo.html?categoryNum=001001&pageIndex=1",
                "moreinfo.html?categoryNum=001001&pageIndex=2",
            ],
            "http://x.gov.cn/ywdt/001001/moreinfo.html?categoryNum=001001&pageIndex=2",
        ),
        (
            "http://x.gov.cn/web/a/5b93cb3c-2.shtml",
            ["5b93cb3c-1.shtml", "5b93cb3c-3.shtml"],
            "http://x.gov.cn/web/a/5b93cb3c-3.shtml",
        ),
        (
            "http://www.jz.gov.cn/zwyw.htm",
            ["zwyw/1.htm", "zwyw/283.htm"],
            "http://www.jz.gov.cn/zwyw/283.htm",
        ),
        (
            "http://www.jz.gov.cn/zwyw/283.htm",
            ["../zwyw.htm", "282.htm", "1.htm"],
            "http://www.jz.gov.cn/zwyw/282.htm",
        ),
    ],
)
def test_numbered_series_follow_the_nearest_later_page(
    url: str, links: list[str], expected: str | None
) -> None:
    html = _page("".join(f"<a href='{link}'>{n}</a>" for n, link in enumerate(links, 1)))
    page = parse_list(html, url)
    assert page.next_pages == ((expected,) if expected else ())


def test_page_count_builds_the_next_page_when_no_link_shows_it() -> None:
    html = _page("<div class='page'>共5页 当前第2页</div>")
    page = parse_list(html, "http://x.gov.cn/a/glist_2.html")
    assert page.next_pages == ("http://x.gov.cn/a/glist_3.html",)
    assert (
        parse_list(html.replace("共5页", "共2页"), "http://x.gov.cn/a/glist_2.html").next_pages
        == ()
    )


def test_enorth_count_script_and_archive_pages() -> None:
    html = _page(
        "<script src='/system/count/0008016/000000000000/count_page_list_0008016000000000000.js'>"
        "</script>"
    )
    page = parse_list(html, "http://liaoning.lnd.com.cn/szyw/index.shtml")
    assert page.next_pages[0].endswith("count_page_list_0008016000000000000.js")
    script = parse_list("var maxpage = 7;", page.next_pages[0])
    assert script.next_pages[0].endswith("c0008016000000000000_000000007.shtml")


@pytest.mark.parametrize(
    "next_link",
    [
        "<a href='index.shtml'>下一页</a>",  # back to the unnumbered first page
        "<a href='5b93cb3c-2.shtml'>下一页</a>",  # back to an earlier numbered page
        "<a href='5b93cb3c-3.shtml'>下一页</a>",  # itself
        "<a title='下一页' tagname='/web/ywdt/5b93cb3c-1.shtml'>下一页</a>",
    ],
)
def test_pagination_never_loops_back(next_link: str) -> None:
    page = parse_list(_page(next_link), "https://www.ln.gov.cn/web/ywdt/5b93cb3c-3.shtml")
    assert page.next_pages == ()


def test_source_selectors_pick_the_list_and_the_next_control() -> None:
    html = _page(
        "<div class='side'><a href='/2024/01/02/1234567.shtml'>侧栏里的热点新闻标题不算</a></div>"
        "<ul class='main'><li><a href='/2024/01/03/7654321.shtml'>主列表里的新闻标题算数</a></li></ul>"
        "<a class='go' href='list_9.html'>&gt;</a>"
    )
    page = parse_list(html, "http://x.cn/list.html", Selectors(links="ul.main", next="a.go"))
    assert [e.title for e in page.entries] == ["主列表里的新闻标题算数"]
    assert page.next_pages == ("http://x.cn/list_9.html",)


def test_hanweb_records_in_cdata_are_read() -> None:
    html = _page(
        "<div id='4418'><script type='text/xml'><datastore><recordset>"
        "<record><![CDATA[<li><a href='/art/2026/7/24/art_21_2526642.html'>"
        "<div class='desc'>大连市政府召开常务会议研究部署工作</div></a><span>[2026-07-24]</span></li>]]>"
        "</record></recordset></datastore></script></div>"
    )
    page = parse_list(html, "https://www.dl.gov.cn/col/col21/index.html")
    assert [e.url for e in page.entries] == [
        "https://www.dl.gov.cn/art/2026/7/24/art_21_2526642.html"
    ]
    assert page.entries[0].published_at == datetime(2026, 7, 23, 16, 0, tzinfo=UTC)


def test_garbage_and_empty_pages_yield_nothing() -> None:
    assert parse_list("", "http://x.cn/a.html").entries == ()
    noise = bytes((n * 97 + 13) % 256 for n in range(2048)).decode("latin-1")
    page = parse_list(noise, "http://x.cn/a.html")
    assert page.entries == () and page.next_pages == ()


def test_page_parts_and_sites() -> None:
    assert page_parts("http://x.cn/a/index.html") is not None
    assert page_parts("http://x.cn/a/t20240101_1.html") is None
    assert site_of("http://news.syd.com.cn/x") == site_of("http://www.syd.com.cn/") == "syd.com.cn"
    assert site_of("https://www.ln.gov.cn/") == "ln.gov.cn"
    assert site_of("http://127.0.0.1:8080/") == "127.0.0.1"
