"""The pages of the loopback province: deterministic articles and each CMS family's markup.

Every template says in a comment which evidence of ../shared/corpus/liaoning/SOURCES.md it
follows (section and key). Where the evidence names no markup (an e-paper article, an Epoint
headline), the template says INF and uses the family's usual naming.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources

# --- deterministic articles ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeArticle:
    """One generated article of a site: where it lives and what it says."""

    site: str
    index: int  # 0 = the site's newest
    path: str
    title: str
    published: datetime  # local (Asia/Shanghai) time, naive as the pages print it
    paragraphs: tuple[str, ...]
    source: str


_TOPICS = (
    "营商环境",
    "项目建设",
    "乡村振兴",
    "安全生产",
    "民生实事",
    "招商引资",
    "生态环境保护",
    "老工业基地振兴",
    "冬季供暖",
    "防汛工作",
    "科技创新",
    "国企改革",
    "文旅融合",
    "就业创业",
)
_AIMS = (
    "要坚持以人民为中心的发展思想",
    "要把握新时代东北全面振兴的重大机遇",
    "要以钉钉子精神抓好各项工作",
    "要更好统筹发展和安全",
    "要深化改革扩大开放激发市场活力",
    "要坚持问题导向和目标导向相统一",
    "要强化责任担当狠抓工作落实",
    "要加快发展新质生产力",
    "要把群众满意作为检验工作的标准",
    "要在打好攻坚之年攻坚之战中勇挑重担",
    "要持续改善民生增进人民福祉",
    "要守牢安全底线筑牢发展根基",
)
_MEASURES = (
    "重点项目提速",
    "审批时限压缩",
    "老旧小区改造",
    "高标准农田建设",
    "数字政府建设",
    "专精特新企业培育",
    "稳岗扩岗",
    "清洁取暖改造",
    "河湖长制落实",
    "口岸通关便利化",
    "城市更新",
    "县域经济发展",
    "人才引进",
    "科技成果转化",
    "冷链物流建设",
    "文旅项目招引",
    "风险隐患排查",
    "社区服务提升",
    "农产品加工",
    "港口集疏运",
)
_PLACES = (
    "产业园区",
    "重点企业",
    "施工现场",
    "社区服务中心",
    "农业合作社",
    "政务服务中心",
    "科技孵化器",
    "港口码头",
    "学校",
    "医院",
    "供热企业",
    "养老服务机构",
    "物流园区",
    "开发区",
    "乡镇",
)

_VERBS = ("调研", "检查", "督导", "考察")
_SAYS = ("强调", "指出", "表示", "要求")


def _digest(*parts: object) -> int:
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class _Leader:
    name: str
    title: str
    start: int
    end: int


def _leaders() -> tuple[_Leader, ...]:
    """Read the gazetteer's Liaoning leaders with the years each title was held."""
    data = json.loads(
        resources.files("news.nlp.data").joinpath("leaders.json").read_text(encoding="utf-8")
    )
    result = []
    for leader in data["leaders"]:
        for title in leader["titles"]:
            if "辽宁" in title["title"] or "省委" in title["title"] or "市" in title["title"]:
                result.append(
                    _Leader(leader["name"], title["title"], title["from"], title["to"] or 2100)
                )
    return tuple(result)


_LEADERS = _leaders()


def leader_for(year: int, pick: int, region: str) -> _Leader:
    """Return a leader in office that year, preferring the region's own."""
    serving = [leader for leader in _LEADERS if leader.start <= year <= leader.end]
    local = [leader for leader in serving if region != "辽宁" and region in leader.title]
    pool = local or [leader for leader in serving if "辽宁" in leader.title] or serving
    return pool[pick % len(pool)]


def make_article(
    site: str, region: str, source: str, index: int, published: datetime, path: str, seed: int
) -> FakeArticle:
    """Generate one article: a leader of its year speaks about a topic in its region."""
    h = _digest(seed, site, index)
    leader = leader_for(published.year, h, region)
    topic = _TOPICS[h % len(_TOPICS)]
    place = region if region != "辽宁" else ("沈阳", "大连", "鞍山", "锦州", "营口")[h % 5]
    verb = _VERBS[(h >> 8) % len(_VERBS)]
    says = _SAYS[(h >> 12) % len(_SAYS)]
    amount = 100 + (h >> 16) % 9000 / 10
    share = 1 + (h >> 32) % 290 / 10
    people = 1000 + (h >> 40) % 98000
    title = f"{leader.name}在{place}{verb}{topic}工作"
    day = f"{published.month}月{published.day}日"
    # Varied wording: generated articles must not read as reprints of each other (stories
    # group copies whose shingles mostly agree), so each draws its sentences from pools.
    aims = [_AIMS[(h >> (4 * k)) % len(_AIMS)] for k in range(3)]
    measures = sorted({_MEASURES[(h >> (5 * k + 3)) % len(_MEASURES)] for k in range(4)})
    paragraphs = (
        f"{day}，{leader.title}{leader.name}到{place}{verb}{topic}工作，"
        f"先后来到{_PLACES[h % len(_PLACES)]}和{_PLACES[(h >> 20) % len(_PLACES)]}，"
        f"实地了解{topic}推进情况。",
        f"{leader.name}{says}，{aims[0]}，{aims[1]}，把{topic}各项任务落到实处。",
        f"据介绍，{published.year}年以来{place}{topic}累计完成投资{amount:.1f}亿元，"
        f"同比增长{share:.1f}%，惠及群众{people}人，其中{'、'.join(measures)}成效明显。",
        f"{leader.name}在座谈时{says}，{aims[2]}，"
        f"以实际行动和工作成效书写{place}高质量发展新篇章。",
    )
    return FakeArticle(site, index, path, title, published, paragraphs, source)


def spread(count: int, end: date, years: int, seed: int, site: str) -> list[datetime]:
    """Return count publication times, newest first, evenly over `years` years before end."""
    days = years * 365
    result = []
    for index in range(count):
        back = index * days / max(count, 1)
        day = end - timedelta(days=int(back))
        minute = 8 * 60 + _digest(seed, site, "t", index) % (10 * 60)
        result.append(datetime.combine(day, time(minute // 60, minute % 60)))
    # Several articles of one day keep their order: newest first.
    for i in range(1, len(result)):
        if result[i] >= result[i - 1]:
            result[i] = result[i - 1] - timedelta(minutes=7)
    return result


def esc(text: str) -> str:
    """Escape text for HTML."""
    return html.escape(text, quote=True)


def _paragraphs(article: FakeArticle) -> str:
    return "\n".join(f"<p>{esc(text)}</p>" for text in article.paragraphs)


def _page(title: str, body: str, *, charset: str = "utf-8", head: str = "") -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="{charset}">\n'
        f"<title>{esc(title)}</title>{head}</head>\n<body>\n{body}\n</body></html>\n"
    )


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


# --- ln.gov.cn current CMS (lngov) ---------------------------------------------------------


def lngov_list(items: list[FakeArticle], next_path: str | None, title: str) -> str:
    """A ln.gov.cn column page."""
    # SOURCES.md §1.1: list links `div.modcontent li a`, hrefs relative to the site root (I3);
    # "下一页" has title="下一页" and its target in tagname, not href (I4 ln_gov_list);
    # further pages are /web/<section>/<8-hex>-N.shtml (I3).
    rows = "\n".join(
        f'<li><a href="{esc(a.path)}" target="_blank" title="{esc(a.title)}">{esc(a.title)}</a>'
        f"<span>{_day(a.published)}</span></li>"
        for a in items
    )
    pager = (
        f'<a href="javascript:void(0);" title="下一页" tagname="{esc(next_path)}">下一页</a>'
        if next_path
        else ""
    )
    body = (
        '<div class="header"><a href="/web/index.shtml">首页</a>'
        '<a href="/web/zwgkx/index.shtml">政务公开</a></div>\n'
        f'<div class="modcontent"><ul>\n{rows}\n</ul></div>\n<div class="page">{pager}</div>'
    )
    return _page(f"{title}_辽宁省人民政府", body)


def lngov_article(a: FakeArticle) -> str:
    """A ln.gov.cn article page."""
    # SOURCES.md §1.1 (E4, 2024): <meta name="ArticleTitle">, <meta name="PubDate">, body .content;
    # I5 (2023) reads .title. The URL is /web/<section>/<YYYYMMDDhhmmss+5 digits>/index.shtml (I2).
    head = (
        f'<meta name="ArticleTitle" content="{esc(a.title)}">'
        f'<meta name="PubDate" content="{_stamp(a.published)}">'
        f'<meta name="ContentSource" content="{esc(a.source)}">'
    )
    body = (
        '<div class="location">当前位置：<a href="/web/index.shtml">首页</a> &gt; '
        '<a href="/web/ywdt/index.shtml">要闻动态</a></div>\n'
        f'<div class="title">{esc(a.title)}</div>\n'
        f'<div class="info">发布时间：{_stamp(a.published)} 信息来源：{esc(a.source)}</div>\n'
        f'<div class="content">{_paragraphs(a)}</div>'
    )
    return _page(f"{a.title}_辽宁省人民政府", body, head=head)


# --- 辽宁日报 e-paper (epaper) ---------------------------------------------------------------


def epaper_layout(day: date, items: list[FakeArticle], page: int, pages: int) -> str:
    """A 辽宁日报 e-paper layout page of one day."""
    # SOURCES.md §1.2 (I6, 2026): layout/{YYYYMM}/{DD}/node_{NN}.html; node_01 links every page of
    # the issue as a[href*=node_] with the page name as text. I7: article links are
    # <h3><a href="../../../con/…">; articles con/{YYYYMM}/{DD}/content_{N}.html (P1).
    nav = "".join(
        f'<li><a href="node_{n:02d}.html">第{n:02d}版：{"要闻" if n == 1 else "综合"}</a></li>'
        for n in range(1, pages + 1)
    )
    links = "\n".join(
        f'<h3><a href="../../../con/{a.path.split("/con/", 1)[1]}">{esc(a.title)}</a></h3>'
        for a in items
    )
    body = (
        f'<div class="date">{day.year}年{day.month:02d}月{day.day:02d}日</div>\n'
        f'<ul class="layout-nav">{nav}</ul>\n'
        f'<div class="news-list">\n{links}\n</div>'
    )
    return _page(f"辽宁日报 第{page:02d}版", body)


def epaper_article(a: FakeArticle) -> str:
    """A 辽宁日报 e-paper article page."""
    # SOURCES.md §1.2: the article's date is taken from its path con/{YYYYMM}/{DD}/ (I6, P1).
    # INF: the e-paper article markup is not in the evidence (P1 is text only); the Founder
    # e-paper naming is used: h1 headline, div#ozoom body.
    body = (
        f'<div class="article"><h1>{esc(a.title)}</h1>\n'
        f'<div class="article-source">来源：辽宁日报</div>\n'
        f'<div id="ozoom">{_paragraphs(a)}</div></div>'
    )
    return _page(a.title, body)


# --- TRS t-date city portal (trs) ----------------------------------------------------------


def trs_list(items: list[FakeArticle], page: int, pages: int, title: str) -> str:
    """A TRS column page of shenyang.gov.cn."""
    # SOURCES.md §2a 沈阳: articles /zwgk/zwdt/zwyw/YYYYMM/tYYYYMMDD_N.html as anchors with a title
    # attribute (I2 _ART_RE); paging index.html, index_1.html … (INF; I2 warns of deep stubs),
    # written by TRS's createPageHTML(total, current, "index", "html") script (§4).
    rows = "\n".join(
        f'<li><a href="./{a.path.rsplit("/zwyw/", 1)[1]}" title="{esc(a.title)}">'
        f"{esc(a.title)}</a><span>{_day(a.published)}</span></li>"
        for a in items
    )
    script = f'<script>createPageHTML({pages}, {page}, "index", "html");</script>'
    body = f'<div class="list"><ul>\n{rows}\n</ul></div>\n<div class="page">{script}</div>'
    return _page(f"{title}_沈阳市人民政府", body)


def trs_article(a: FakeArticle) -> str:
    """A shenyang.gov.cn article page."""
    # SOURCES.md §2a 沈阳 (I5): title .dlist_title; body div.view.TRS_UEDITOR.trs_paper_default
    # .trs_external.trs_web; the meta line "时间:…来源:…".
    body = (
        f'<div class="dlist_title">{esc(a.title)}</div>\n'
        f'<div class="dlist_time">时间：{_stamp(a.published)} 来源：{esc(a.source)}</div>\n'
        '<div class="view TRS_UEDITOR trs_paper_default trs_external trs_web">'
        f"{_paragraphs(a)}</div>"
    )
    return _page(a.title, body)


# --- Enorth paper (enorth) -----------------------------------------------------------------

ENORTH_CHANNEL = "0008016000000000000"


def enorth_count_path() -> str:
    """Return the path of the channel's page-count script."""
    folder = f"{ENORTH_CHANNEL[:7]}/{ENORTH_CHANNEL[7:]}"
    return f"/system/count/{folder}/count_page_list_{ENORTH_CHANNEL}.js"


def enorth_archive_path(number: int) -> str:
    """Return the path of archive page N (the site's own double slash after count/)."""
    digits = f"{number:09d}"
    folder = f"{ENORTH_CHANNEL[:7]}/{ENORTH_CHANNEL[7:]}/{digits[:3]}/{digits[3:6]}"
    return f"/system/count//{folder}/c{ENORTH_CHANNEL}_{digits}.shtml"


def enorth_list(items: list[FakeArticle], title: str, with_count_script: bool) -> str:
    """A 北国网 channel page (index.shtml or an archive page)."""
    # SOURCES.md §1.2: no list markup was published; crawlers take every link matching
    # /system/YYYY/MM/DD/030NNNNNN.shtml (E1). Paging: count_page_list_*.js with maxpage and
    # archive pages c…_0000000NN.shtml (§4: INF for lnd from the nen section of ../README.md).
    rows = "\n".join(
        f'<li><a href="{esc(a.path)}" target="_blank">{esc(a.title)}</a>'
        f"<span>{a.published:%m-%d %H:%M}</span></li>"
        for a in items
    )
    script = (
        f'<script src="{enorth_count_path()}"></script><div id="pagetemple"></div>'
        if with_count_script
        else ""
    )
    body = (
        "<!--enorth cms block start [ 44 ]-->\n"
        f'<div class="list"><ul>\n{rows}\n</ul></div>\n'
        f"<!--enorth cms block end [ 44 ]-->\n{script}"
    )
    return _page(f"{title}_北国网", body)


def enorth_count_script(maxpage: int) -> str:
    """The Enorth page-count script."""
    # The nen section of ../README.md (nen/gaxww): `var maxpage = N;` then a 下一页 link written
    # into #pagetemple pointing at the newest archive page.
    return f'var maxpage = {maxpage};\nvar channel = "{ENORTH_CHANNEL}";\n'


def enorth_article(a: FakeArticle) -> str:
    """A 北国网 article page."""
    # SOURCES.md §1.2 (E1 2019): title p.yahei.newstittle, time span#pubtime_baidu, body div.news;
    # E2 adds #source_baidu "来源：", #author_baidu, #editor_baidu "编辑：".
    body = (
        f'<p class="yahei newstittle">{esc(a.title)}</p>\n'
        '<div class="newsly"><div class="float_left">'
        f'<span id="pubtime_baidu">{a.published:%Y-%m-%d %H:%M:%S}</span> '
        f'<span id="source_baidu">来源：<a class="grey" href="#">{esc(a.source)}</a></span> '
        '<span id="editor_baidu">编辑：李明</span></div></div>\n'
        f'<div class="news">{_paragraphs(a)}</div>'
    )
    return _page(f"{a.title}_北国网", body)


# --- Founder paper (founder) ---------------------------------------------------------------


def founder_list(items: list[FakeArticle], next_href: str | None, pages: int, base: str) -> str:
    """A 大连新闻网 channel page (node_N.htm, node_N_M.htm), in GB2312 like the paper's site."""
    # SOURCES.md §2b 大连: channels node_{N}.htm, paging node_{N}_{2..19}.htm (file 46637492566);
    # articles …/YYYY-MM/DD/content_N.htm (E2 regex /\d{4}-\d{2}/\d{2}/\w*_\d*\.s*html*).
    rows = "\n".join(
        f'<li><a href="{base}{esc(a.path.rsplit("/news/", 1)[1])}">{esc(a.title)}</a>'
        f"<span>{a.published:%Y-%m-%d}</span></li>"
        for a in items
    )
    pager = f'<a href="{esc(next_href)}">下一页</a>' if next_href else ""
    body = f'<ul class="list">\n{rows}\n</ul>\n<div class="pages">{pager} 共{pages}页</div>'
    return _page("大连新闻网", body, charset="gb2312")


def founder_article(a: FakeArticle) -> str:
    """A 大连新闻网 article page."""
    # SOURCES.md §2b 大连 (E2): .page_content h1; .page_tools = the first 16 characters are the
    # time, then the source; body .page_maincontent.
    body = (
        f'<div class="page_content"><h1>{esc(a.title)}</h1>\n'
        f'<div class="page_tools">{_stamp(a.published)} 来源：{esc(a.source)}</div>\n'
        f'<div class="page_maincontent">{_paragraphs(a)}</div></div>'
    )
    return _page(f"{a.title}-大连新闻网", body, charset="gb2312")


# --- glist portal (glist) ------------------------------------------------------------------


def glist_list(items: list[FakeArticle], page: int, pages: int, title: str) -> str:
    """A glist column page of anshan.gov.cn (glist.html, glist_N.html)."""
    # SOURCES.md §2a 鞍山: glist.html, paged glist_N.html (I4 _next_page; INF for 鞍山).
    # Article URLs are INF: the 朝阳 glist portal's /html/<SITE>/YYYYMM/<16 digits>.html form.
    rows = "\n".join(
        f'<li><a href="{esc(a.path)}" title="{esc(a.title)}">{esc(a.title)}</a>'
        f'<span class="date">{_day(a.published)}</span></li>'
        for a in items
    )
    links = []
    if page + 1 < pages:
        links.append(f'<a href="glist_{page + 2}.html">下一页</a>')
    pager = " ".join(links) + f" 共{pages}页"
    body = f'<ul class="list">\n{rows}\n</ul>\n<div class="page">{pager}</div>'
    return _page(f"{title}_鞍山市人民政府", body)


def glist_article(a: FakeArticle) -> str:
    """A glist portal article page."""
    # SOURCES.md §2a 丹东 (I1, 2021; the glist family's only article markup): title
    # article div.arTitle h2, body article div.arBd, meta article div.arMeta small
    # "发布时间：…来源：…浏览".
    body = (
        f'<article><div class="arTitle"><h2>{esc(a.title)}</h2></div>\n'
        f'<div class="arMeta"><small>发布时间：{_stamp(a.published)} 来源：{esc(a.source)} '
        "浏览：</small></div>\n"
        f'<div class="arBd">{_paragraphs(a)}</div></article>'
    )
    return _page(a.title, body)


# --- Epoint portal (epoint) ----------------------------------------------------------------


def epoint_list(items: list[FakeArticle], page: int, pages: int, title: str) -> str:
    """An Epoint column page of fushun.gov.cn (moreinfo.html?categoryNum=…&pageIndex=N)."""
    # SOURCES.md §2a 抚顺 (I8): list items li.sec-right-item a; paging
    # moreinfo.html?categoryNum=001001&pageIndex=N; articles /ywdt/001007/YYYYMMDD/<uuid>.html.
    rows = "\n".join(
        f'<li class="sec-right-item"><a href="{esc(a.path)}" title="{esc(a.title)}">'
        f'{esc(a.title)}</a><span class="sec-right-date">{_day(a.published)}</span></li>'
        for a in items
    )
    numbers = range(max(1, page - 1), min(pages, page + 3) + 1)
    pager = " ".join(
        f'<a href="moreinfo.html?categoryNum=001001&amp;pageIndex={n}">{n}</a>' for n in numbers
    )
    body = (
        f'<ul class="sec-right-list">\n{rows}\n</ul>\n'
        f'<div class="ewb-page">{pager} <span>共{pages}页</span></div>'
    )
    return _page(f"{title}-抚顺市人民政府", body)


def epoint_article(a: FakeArticle) -> str:
    """An Epoint article page."""
    # SOURCES.md §2a 营口 (file 42409363122): body .ewb-article-content. INF: the headline and
    # the info line use Epoint's ewb- naming (.ewb-article-tt, .ewb-article-info).
    body = (
        f'<div class="ewb-article"><h1 class="ewb-article-tt">{esc(a.title)}</h1>\n'
        f'<div class="ewb-article-info">发布时间：{_stamp(a.published)} '
        f"来源：{esc(a.source)}</div>\n"
        f'<div class="ewb-article-content">{_paragraphs(a)}</div></div>'
    )
    return _page(a.title, body)
