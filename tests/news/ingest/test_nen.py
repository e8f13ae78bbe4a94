"""Profile "nen" on real corpus pages (shared/corpus/nen, copied to tests/fixtures/nen) and on
synthetic pages that imitate what the corpus lacks (each says in its comment what it imitates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fakes import SEED_ARTICLE
from news.ingest.decode import decode_html
from news.ingest.errors import ParseError
from news.ingest.sources import nen
from news.ingest.sources.boilerplate import SHANGHAI, clean_paragraphs
from news.models import Link, ParsedArticle

LOCAL = "http://127.0.0.1:8123"
ENORTH_URL = f"{LOCAL}/system/2018/03/02/020390512.shtml"
NONGYE = "nen_nongye_2024-10-28_gaosuzhinongmin.excerpt.html"
VIDEO = "nen_video_2024-10-22_juligongjian.excerpt.html"
PEOPLE = "gne_people_1.html"
ENORTH_LIST = "enorth-cms_gaxww_list_2017-10-21_hot.excerpt.html"
SEED = "seed_2018-03-01_yilianhong_chengshipinzhi.txt"

# Site furniture that must never reach a body.
BOILERPLATE = (
    "本网站有关内容转载自",
    "请您来信来电",
    "24小时内删除",
    "责任编辑",
    "责编",
    "分享到",
    "用微信扫码",
    '${channel_name!""}',
    "微信订阅号",
    "法人微博",
    "Android版",
    "iPhone版",
    "东北新闻网微博",
    "北斗融媒",
    "更多>>",
    "下一页",
    "版权所有",
)


def page(fixtures: Path, name: str) -> str:
    """Read a nen fixture the way the crawler does: bytes through decode_html."""
    return decode_html((fixtures / "nen" / name).read_bytes())


def truth(fixtures: Path, name: str) -> dict[str, Any]:
    """Load the hand-made truth file of a nen fixture."""
    path = fixtures / "nen" / f"{name.removesuffix('.html')}.truth.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def assert_clean(article: ParsedArticle) -> None:
    """Fail if any boilerplate string is in the body."""
    for needle in BOILERPLATE:
        assert needle not in article.body, needle


# --- current CMS (corpus nen/nen_nongye_…) ---------------------------------------------------


def test_current_cms_article(fixtures: Path) -> None:
    url = f"{LOCAL}/network/nypd/nyyw/2024/10/28/704901234567890123.shtml"
    article = nen.parse_article(page(fixtures, NONGYE), url)
    assert article.url == url
    assert article.title == "辽宁省2024年高素质农民培育省级重点班开班"
    assert article.published_at == datetime(2024, 10, 28, 1, 54, 9, tzinfo=UTC)
    assert article.source == "辽宁日报"
    assert article.editor == "宋军"
    assert article.reporter == "胡海林"
    assert article.channel == "农业频道 > 农业要闻"
    # The outer <p> and the two U+3000 indent spaces are gone.
    assert article.paragraphs[0] == (
        "近日，辽宁省2024年高素质农民培育省级重点班——辽宁省畜牧特色产业农业经理人班在鞍山市正式开班。"
    )
    assert article.paragraphs[-1] == "(记者 胡海林)"
    assert len(article.paragraphs) == 4
    assert article.related == ()
    assert article.continuation_urls == ()
    assert_clean(article)


def test_video_page_without_text_is_not_an_article(fixtures: Path) -> None:
    # corpus nen/nen_video_…: a player and production credits (总监制/监制/审核) only.
    with pytest.raises(ParseError, match="no article text") as caught:
        nen.parse_article(page(fixtures, VIDEO), f"{LOCAL}/network/v/2024/10/22/1234567.shtml")
    assert "\n" not in str(caught.value)


# --- people.com.cn-like template, 2019–2021 (corpus nen/gne_people_1.html) ---------------------


def test_people_template_article(fixtures: Path) -> None:
    url = "http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html"
    article = nen.parse_article(page(fixtures, PEOPLE), url)
    assert article.title == "女儿出嫁，郑板桥画了几笔兰花当嫁妆"
    assert article.published_at == datetime(2019, 6, 15, 0, 18, tzinfo=UTC)
    assert article.source == "人民网-文化频道"
    assert article.editor == "汤诗瑶、丁涛"
    assert article.channel == "文化"
    assert article.paragraphs[0].startswith("父亲的教诲像一盏灯，为我们照亮前行的路；")
    assert article.paragraphs[-1] == (
        "虽然，东方朔为人洒脱不羁，但，在这首诫子诗中，他与普通父亲并没有差别，字里行间都是对儿子的爱。"
    )
    assert "点击进入“文艺星青年”>>" not in article.body  # a promotion link, not text
    assert "【1】" not in article.body
    assert article.related[0] == Link(
        "http://sn.people.com.cn/n2/2019/0215/c378296-32641594.html",
        "一家人乘车赴跨国婚礼 丢了嫁妆多亏铁警找回",
    )
    assert len(article.related) == 4
    assert article.continuation_urls == tuple(
        f"http://culture.people.com.cn/n1/2019/0615/c1013-31153719-{n}.html" for n in (2, 3, 4)
    )
    assert_clean(article)


NEN_2020 = """<html><head><meta charset="utf-8"><title>x</title></head><body>
<div class="path"><span id="rwb_navpath"><a href="http://www.nen.com.cn/">东北新闻网</a>&gt;&gt;
<a href="http://liaoning.nen.com.cn/">辽宁</a></span></div>
<div class="clearfix w1000_320 text_title fl"><h1>沈阳召开城市品质提升工作会议</h1>
<h4 class="sub">全面展示大都市新形象</h4>
<div class="box01"><div class="fl">2020-03-31 07:38&nbsp;&nbsp;来源：<a href="http://www.lnd.com.cn/">辽宁日报</a></div></div></div>
<div class="box_con" id="rwb_zw"><span class="cms_block_span">
<p>　　本报讯（记者 张三 李四）3月30日，沈阳市召开会议，部署城市品质提升工作。</p>
<p>　　会议要求，各区要抓重点、攻难点，让城市更加干净整洁。</p></span>
<div class="edit clearfix">[责任编辑：王五]</div></div>
</body></html>"""


def test_people_template_as_nen_used_it() -> None:
    # Inline imitation of a 2019–2021 nen.com.cn page: "YYYY-MM-DD HH:MM 来源：X" dateline and
    # paragraphs inside span.cms_block_span (markup per shared/corpus/README.md).
    article = nen.parse_article(NEN_2020, f"{LOCAL}/system/2020/03/31/020998884.shtml")
    assert article.title == "沈阳召开城市品质提升工作会议"
    assert article.subtitle == "全面展示大都市新形象"
    assert article.published_at == datetime(2020, 3, 30, 23, 38, tzinfo=UTC)
    assert article.source == "辽宁日报"
    assert article.editor == "王五"
    assert article.reporter == "张三、李四"
    assert article.channel == "辽宁"
    assert article.paragraphs == (
        "本报讯（记者 张三 李四）3月30日，沈阳市召开会议，部署城市品质提升工作。",
        "会议要求，各区要抓重点、攻难点，让城市更加干净整洁。",
    )


# --- Enorth template, 2005–2018 (synthetic two-page article in GBK, from the seed text) -------


def enorth_pages(fixtures: Path) -> tuple[ParsedArticle, ParsedArticle]:
    """Parse both synthetic Enorth pages as if served from the test server."""
    first = nen.parse_article(
        page(fixtures, "synthetic_enorth_2018-03-02_yilianhong.html"), ENORTH_URL
    )
    second = nen.parse_article(
        page(fixtures, "synthetic_enorth_2018-03-02_yilianhong_01.html"),
        ENORTH_URL.replace(".shtml", "_01.shtml"),
    )
    return first, second


def test_enorth_first_page(fixtures: Path) -> None:
    first, _ = enorth_pages(fixtures)
    seed = SEED_ARTICLE.read_text(encoding="utf-8").splitlines()
    assert first.title == seed[0]
    assert first.published_at == datetime(2018, 3, 1, 23, 26, tzinfo=UTC)
    assert first.source == "沈阳日报"
    assert first.editor == ""  # this article names its editor on the last page only
    assert first.channel == "辽宁频道 > 时政要闻"
    assert first.paragraphs[:4] == tuple(seed[1:5])  # the in-body headline block
    assert first.paragraphs[4].startswith("3月1日,沈阳市召开城市品质提升工作部署会议")
    assert first.continuation_urls == (f"{LOCAL}/system/2018/03/02/020390512_01.shtml",)
    assert_clean(first)


def test_enorth_continuation_page(fixtures: Path) -> None:
    _, second = enorth_pages(fixtures)
    assert second.editor == "王丹"
    assert second.continuation_urls == ()  # links back to page 1 are not "further" pages
    assert second.paragraphs[-1].startswith("市委、市人大常委会、市政府、市政协领导班子成员")
    # Related links resolve against the page URL, whatever the host.
    assert second.related[0] == Link(
        f"{LOCAL}/system/2018/02/28/020388117.shtml", "易炼红:以大干实干推动项目建设提速提质提效"
    )
    assert len(second.related) == 4
    assert_clean(second)
    # The promotion block, disclaimer and "更多>>时政要闻" headline list are all on this page.
    assert "辽宁加快推动振兴发展大事记" not in second.body
    assert "相关新闻" not in second.body


def test_join_pages(fixtures: Path) -> None:
    first, second = enorth_pages(fixtures)
    seed = SEED_ARTICLE.read_text(encoding="utf-8").splitlines()
    joined = nen.join_pages(first, [second])
    assert joined.paragraphs == tuple(seed[1:12])
    assert joined.editor == "王丹"
    assert joined.url == ENORTH_URL
    assert joined.title == first.title
    assert joined.continuation_urls == ()
    assert len(joined.related) == 4


def test_join_pages_orders_by_page_number_and_keeps_unfetched_pages() -> None:
    def part(suffix: str, text: str, more: tuple[str, ...] = ()) -> ParsedArticle:
        return ParsedArticle(
            url=ENORTH_URL.replace(".shtml", f"{suffix}.shtml"),
            title="标题",
            published_at=datetime(2018, 3, 1, tzinfo=UTC),
            paragraphs=(text,),
            continuation_urls=more,
        )

    urls = tuple(ENORTH_URL.replace(".shtml", f"_0{n}.shtml") for n in (1, 2, 3))
    joined = nen.join_pages(part("", "一", urls), [part("_02", "三"), part("_01", "二")])
    assert joined.paragraphs == ("一", "二", "三")
    assert joined.continuation_urls == (urls[2],)


def test_join_pages_refuses_another_article(fixtures: Path) -> None:
    first, second = enorth_pages(fixtures)
    other = ParsedArticle(
        url=f"{LOCAL}/system/2018/03/02/020390999_01.shtml",
        title="x",
        published_at=first.published_at,
        paragraphs=("x",),
    )
    with pytest.raises(ValueError, match="not a page of"):
        nen.join_pages(first, [second, other])


# --- truth files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        NONGYE,
        PEOPLE,
        "synthetic_enorth_2018-03-02_yilianhong.html",
        "synthetic_enorth_2018-03-02_yilianhong_01.html",
    ],
)
def test_matches_truth_file(fixtures: Path, name: str) -> None:
    expected = truth(fixtures, name)
    article = nen.parse_article(page(fixtures, name), expected["url"])
    local = article.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert local.startswith(expected["date"])
    for key in ("title", "source", "editor", "reporter", "channel"):
        assert getattr(article, key) == expected[key], key
    assert list(article.continuation_urls) == expected["continuation_urls"]
    assert article.body == expected["content"]


# --- not articles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("synthetic_nen_error_404.html", "no known template"),
        ("synthetic_nen_login_wall.html", "no known template"),
        (ENORTH_LIST, "no known template"),
        ("synthetic_nen_list_2024-10-27_nenbenwangyc.html", "no known template"),
    ],
)
def test_non_articles_raise_parse_error(fixtures: Path, name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        nen.parse_article(page(fixtures, name), ENORTH_URL)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", "no known template"),
        (
            '<div class="xwzw_title"></div><div class="xwzw_t2"><p>　　正文。</p></div>',
            "no headline",
        ),
        (
            '<div class="xwzw_title">标题</div><div class="xwzw_t2"><p> </p></div>',
            "no article text",
        ),
        ('<div class="xwzw_title">标题</div><div class="xwzw_t1"></div>', "no article body"),
        (
            '<div class="xwzw_title">标题</div><div class="xwzw_t2"><p>'
            + "这是一段足够长的正文文字，用来检验时间。" * 2
            + "</p></div>",
            "no publication time",
        ),
    ],
)
def test_broken_pages_raise_parse_error(html: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        nen.parse_article(html, f"{LOCAL}/some/page.shtml")


def test_missing_time_falls_back_to_the_url_date() -> None:
    html = (
        '<div class="xwzw_title">标题</div><div class="xwzw_t2"><p>'
        + "这是一段足够长的正文文字，用来检验时间。" * 2
        + "</p></div>"
    )
    article = nen.parse_article(html, f"{LOCAL}/network/a/b/2024/10/28/704901234567890123.shtml")
    assert article.published_at == datetime(2024, 10, 27, 16, 0, tzinfo=UTC)


# --- boilerplate on the seed text ----------------------------------------------------------


def test_seed_text_boilerplate_is_dropped(fixtures: Path) -> None:
    lines = SEED_ARTICLE.read_text(encoding="utf-8").splitlines()
    kept = clean_paragraphs(lines)
    assert kept[:12] == lines[:12]  # headline, lead and body untouched
    text = "\n".join(kept)
    for needle in (
        "微信订阅号",
        "手机版",
        "法人微博",
        "新闻客户端",
        "请您来信来电",
        "![]()",
        "更多>>",
    ):
        assert needle not in text, needle
    # Nothing of the "更多>>时政要闻" headline list survives.
    assert "辽阳市人大常委会召开五年立法规划建议项目论证会" not in text
    assert kept[-1] == "- 沈阳市举行各界人士迎新春茶话会"  # related links are markup-level


# --- list pages ----------------------------------------------------------------------------


def test_enorth_list_page(fixtures: Path) -> None:
    listing = nen.parse_list(page(fixtures, ENORTH_LIST), f"{LOCAL}/hot/index.shtml")
    assert len(listing.entries) == 9
    first = listing.entries[0]
    assert first.url == "http://www.gaxww.com/system/2017/10/19/016478629.shtml"
    assert first.title == "【时政】①宜春市政协到我市视察河长制工作"
    assert first.published_at == datetime(2017, 10, 18, 16, 0, tzinfo=UTC)  # 2017/10/19 local
    titles = [entry.title for entry in listing.entries]
    assert "查阅全文" not in titles
    # The sidebar truncates with "..."; the title attribute has the whole headline.
    assert "看直播，话感想！高安社会各界集中收看十九大开幕盛况" in titles
    assert len({entry.url for entry in listing.entries}) == 9
    # The page-count script is taken from the host the list was served from.
    assert listing.next_pages == (
        f"{LOCAL}/system/count/0088001/000000000000/count_page_list_0088001000000000000.js",
    )


def test_enorth_count_script_names_the_next_archive_page(fixtures: Path) -> None:
    script = (
        fixtures / "nen" / "synthetic_enorth_count_page_list_0008016000000000000.js"
    ).read_text(encoding="utf-8")
    url = f"{LOCAL}/system/count/0008016/000000000000/count_page_list_0008016000000000000.js"
    listing = nen.parse_list(script, url)
    assert listing.entries == ()
    assert listing.next_pages == (
        f"{LOCAL}/system/count//0008016/000000000000/000/002/c0008016000000000000_000002345.shtml",
    )


def test_enorth_archive_page_is_followed_by_the_older_one() -> None:
    url = f"{LOCAL}/system/count//0008016/000000000000/000/002/c0008016000000000000_000002000.shtml"
    listing = nen.parse_list("<html><body></body></html>", url)
    assert listing.next_pages == (
        f"{LOCAL}/system/count//0008016/000000000000/000/001/c0008016000000000000_000001999.shtml",
    )
    last = url.replace(
        "000/002/c0008016000000000000_000002000", "000/000/c0008016000000000000_000000001"
    )
    assert nen.parse_list("<html><body></body></html>", last).next_pages == ()


def test_current_cms_sidebar_links(fixtures: Path) -> None:
    listing = nen.parse_list(page(fixtures, VIDEO), f"{LOCAL}/network/x/2024/10/22/1.shtml")
    assert len(listing.entries) == 12
    first = listing.entries[0]
    assert first.url == (
        "http://video.nen.com.cn/network/nenvideo/nenbenwangyc/2024/10/27/705091445031179944.shtml"
    )
    assert first.title == "岁月如歌 四季长虹"
    assert first.published_at == datetime(2024, 10, 26, 16, 0, tzinfo=UTC)  # URL date, local
    assert listing.entries[8].title == "与会者说｜大力推动中俄地方投资合作"  # trailing space gone


def test_current_cms_list_page_served_locally(fixtures: Path) -> None:
    url = f"{LOCAL}/network/nenvideo/nenbenwangyc/list/indexHome.shtml"
    listing = nen.parse_list(page(fixtures, "synthetic_nen_list_2024-10-27_nenbenwangyc.html"), url)
    got = [(entry.url, entry.title, entry.published_at) for entry in listing.entries]
    path = "/network/nenvideo/nenbenwangyc"
    assert got[0] == (
        f"{LOCAL}{path}/2024/10/27/705091445031179944.shtml",
        "岁月如歌 四季长虹",
        datetime(2024, 10, 27, 12, 15, tzinfo=UTC),
    )
    assert got[1][0] == f"{LOCAL}{path}/2024/10/27/705062125642454696.shtml"  # "../" resolved
    # Tracking parameters are dropped; protocol-relative links take the page's scheme.
    assert got[2][0] == f"http://video.nen.com.cn{path}/2024/10/26/705182250039252709.shtml"
    assert got[3][0] == f"http://video.nen.com.cn{path}/2024/10/26/705181496331211668.shtml"
    # No date beside the link: the URL's date, local midnight.
    assert got[4][2] == datetime(2024, 10, 25, 16, 0, tzinfo=UTC)
    # Picture + headline links to one article make one entry; index.shtml is no article.
    assert len(got) == 7
    assert listing.next_pages == (f"{LOCAL}{path}/list/indexHome_2.shtml",)


def test_current_cms_list_page_dedupes_by_url(fixtures: Path) -> None:
    url = "https://video.nen.com.cn/network/nenvideo/nenbenwangyc/list/indexHome.shtml"
    listing = nen.parse_list(page(fixtures, "synthetic_nen_list_2024-10-27_nenbenwangyc.html"), url)
    # On its own host the sidebar repeats an article of the list (http vs https: one key).
    assert len(listing.entries) == 6
    assert listing.entries[0].url.startswith("https://video.nen.com.cn/")


@pytest.mark.parametrize("html", ["", "<html><body><p>没有链接</p></body></html>"])
def test_list_without_links_is_empty_not_an_error(html: str) -> None:
    listing = nen.parse_list(html, f"{LOCAL}/list.shtml")
    assert listing.entries == ()


def test_article_page_has_no_list_entries(fixtures: Path) -> None:
    assert nen.parse_list(page(fixtures, NONGYE), f"{LOCAL}/a.shtml").entries == ()
