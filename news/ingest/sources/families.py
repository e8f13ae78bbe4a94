"""CMS families of the Liaoning sites: default article selectors per family, and the reader
that applies a source's selectors over them (falling back to the generic extractor).

Every family's selectors come from SOURCES.md (the key in brackets names its evidence); a
`[[source]]` overrides any of them in its `[source.selectors]` table, so a new site of a known
family is a catalogue edit, not code. A page the selectors do not fit (a redesign, a special
page) is read by the generic profile instead of failing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from news.ingest.errors import ParseError
from news.ingest.sources import generic, nen
from news.ingest.sources.boilerplate import (
    LocalTime,
    body_paragraphs,
    date_to_utc,
    editor_from_paragraphs,
    find_local_time,
    has_article_text,
    local_to_utc,
    node_blocks,
    normalize_space,
    reporter_from_paragraphs,
)
from news.ingest.sources.listing import split_selectors
from news.ingest.urls import date_from_url
from news.models import ParsedArticle, Selectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Family:
    """One CMS family: its name (the `profile` of a source), what it is, its default selectors."""

    name: str
    description: str
    evidence: str  # SOURCES.md keys the defaults follow
    selectors: Selectors
    continuations: bool = False  # Enorth splits long articles into _01.shtml, _02.shtml …


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "enorth",
            "Enorth WebPublisher: nen.com.cn ≤2018, lnd.com.cn (北国网), syd.com.cn (沈阳网)",
            "SOURCES.md §1.2 E1/E2/I1, §2b 沈阳网 I1, ../README.md nen section",
            Selectors(
                title=".contentt, p.newstittle, div.contentBody h1, div.text_c h1, "
                "div.float_left.main_l p, h1",
                time="#pubtime_baidu, .contenttime, div.extInfo, div.newsly div.float_left, p.sou",
                source="#source_baidu, .contenttime, div.extInfo, a.grey, p.sou",
                body=".contentcon, div.news, div.contentBody div.article, div.show_text",
            ),
            continuations=True,
        ),
        Family(
            "trs",
            "TRS t-date portals: shenyang.gov.cn, hld.gov.cn, ln.gov.cn before 2022",
            "SOURCES.md §2a 沈阳/葫芦岛 (I1, I2, I5), §1.1 pre-2022 (I1)",
            Selectors(
                title=".dlist_title, div.content-hd h1, h1",
                time=".dlist_time, div.attr-l, .dlist_info",
                source=".dlist_time, div.attr-l, .dlist_info",
                body="div.TRS_UEDITOR, div.dlist_con div.TRS_Editor, div.TRS_Editor, .dlist_con",
            ),
        ),
        Family(
            "lngov",
            "ln.gov.cn's current CMS (2022–)",
            "SOURCES.md §1.1 (E4 2024, I3, I4, I5)",
            Selectors(
                title="meta[name=ArticleTitle], .title, h1",
                time="meta[name=PubDate], .time, .info",
                source="meta[name=ContentSource], .source, .info",
                body=".content, .content1, .TRS_Editor",
                links="div.modcontent",
            ),
        ),
        Family(
            "epaper",
            "e-papers walked by day: 辽宁日报 (epaper.lnd.com.cn), 朝阳日报",
            "SOURCES.md §1.2 (I6, I7, P1), §4",
            Selectors(
                title="h1, .article-title, #title",
                time=".article-time, .date, #time",
                source=".article-source, .source",
                body="#ozoom, .article-content, #content, founder-content",
            ),
        ),
        Family(
            "founder",
            "Founder (方正) papers: 大连新闻网, 抚顺传媒网, 中国铁岭, 丹东新闻网",
            "SOURCES.md §2b (E2, I1, file 46637492566)",
            Selectors(
                title=".page_content h1, div.article-hd h1, div.article h1, .infotitle, "
                ".bigbiaoti, h1",
                time=".page_tools, div.article-time-source, p.browse, .infotime, .cx1",
                source=".page_tools, div.article-time-source, p.browse, .source, .cx1",
                body=".page_maincontent, #text_content, #arcont, .contfont, #table14",
            ),
        ),
        Family(
            "epoint",
            "Epoint (新点) government portals: fushun.gov.cn, yingkou.gov.cn",
            "SOURCES.md §2a 抚顺/营口 (I8, file 42409363122)",
            Selectors(
                title=".ewb-article-tt, .article-title, h1",
                time=".ewb-article-info, .article-info, .info",
                source=".ewb-article-info, .article-info, .info",
                body=".ewb-article-content, .article-content, #mainContent",
                links="li.sec-right-item, .ewb-list, ul.wb-data-item",
            ),
        ),
        Family(
            "vsb",
            "VSB (博达) portals: jz.gov.cn",
            "SOURCES.md §2a 锦州 (I1)",
            Selectors(
                title="form h1, h1",
                time="form h2, .info",
                source="form h2, .info",
                body="#vsb_content, .v_news_content",
            ),
        ),
        Family(
            "glist",
            "glist-paged portals: anshan.gov.cn, dandong.gov.cn, chaoyang.gov.cn",
            "SOURCES.md §2a 鞍山/丹东/朝阳 (I4; 丹东 article markup I1)",
            Selectors(
                title="article div.arTitle h2, .arTitle, h1",
                time="article div.arMeta, .arMeta, .info",
                source="article div.arMeta, .arMeta, .info",
                body="article div.arBd, .arBd, #zoom, .content",
            ),
        ),
        Family(
            "hanweb",
            "Hanweb (大汉) jpage portals: dl.gov.cn",
            "SOURCES.md §2a 大连 (I4, I5)",
            Selectors(
                title=".text-center.line-height-2, .title, h1",
                time=".info, .time, .text-center.line-height-2 + div",
                source=".info, .source",
                body="#zoom, .zoom",
            ),
        ),
        Family(
            "people",
            "the people.cn template: ln.people.com.cn",
            "SOURCES.md §1.4 (E3; ../nen/gne_people_1.html)",
            Selectors(
                title=".text_title h1, h1",
                time="div.box01 div.fl, .box01",
                source="div.box01 div.fl, .box01",
                body="div#rwb_zw, .box_con",
                links="ul.list_14, div.ej_list_box, div.page2_list",
            ),
        ),
    )
}

# The selectors' meta targets: <meta name=ArticleTitle content=…> holds its value in content.
_META_VALUE = "content"
_SOURCE_LABEL = re.compile(r"(?:来源|稿源|信息来源|文章来源)\s*[:：]")


def _nodes(root: LexborNode, selectors: str) -> list[LexborNode]:
    """Return the nodes of the first alternative of a selector list that matches any."""
    for selector in split_selectors(selectors):
        found = root.css(selector)
        if found:
            return list(found)
    return []


def _value(node: LexborNode) -> str:
    """Return a node's text (a <meta>'s content)."""
    if node.tag == "meta":
        return normalize_space(node.attributes.get(_META_VALUE) or "")
    # Spans of a meta line ("<span>来源：X</span><span>时间：…</span>") stay apart.
    return normalize_space(node.text(deep=True, separator=" "))


def _first_value(root: LexborNode, selectors: str) -> str:
    for selector in split_selectors(selectors):
        for node in root.css(selector):
            text = _value(node)
            if text:
                return text
    return ""


def _time(root: LexborNode, selectors: str) -> LocalTime | None:
    for selector in split_selectors(selectors):
        for node in root.css(selector):
            found = find_local_time(_value(node))
            if found is not None:
                return found
    return None


def _bare_source(node: LexborNode) -> bool:
    """Tell whether a node holds the 来源 alone (a link, a meta, span#source), without a label."""
    ident = (node.attributes.get("id") or "").lower()
    return node.tag in ("a", "meta") or ident.startswith(("source", "asource"))


def _source(root: LexborNode, selectors: str) -> str:
    """Return 来源: from a "来源：X" label in the selected text, or a short bare value."""
    for selector in split_selectors(selectors):
        for node in root.css(selector):
            text = _value(node)
            if _SOURCE_LABEL.search(text):
                found = generic.source_from_text(text)
                if found:
                    return found
            elif _bare_source(node) and 2 <= len(text) <= 30 and find_local_time(text) is None:
                return text
    return ""


def parse_article(
    html: str, url: str, selectors: Selectors, *, continuations: bool = False
) -> ParsedArticle:
    """Parse an article page with a family's (merged) selectors; the generic reader otherwise."""
    root = LexborHTMLParser(html).root
    if root is None:
        raise ParseError(f"empty document: {url}")
    body = _nodes(root, selectors.body)
    if not body:
        logger.debug("selectors found no body on %s; reading it as a generic page", url)
        return generic.parse_article(html, url)
    blocks = [block for node in body for block in node_blocks(node)]
    paragraphs = body_paragraphs(blocks)
    if not has_article_text(paragraphs):
        # The selector matched something else (a sidebar's .content): the generic reader says
        # whether the page holds an article at all, and why not.
        return generic.parse_article(html, url)
    title = _first_value(root, selectors.title)
    if not title:
        title = generic.strip_site_suffix(_first_value(root, "title"))
    if not title:
        raise ParseError(f"no headline on {url}")
    return ParsedArticle(
        url=url,
        title=title,
        published_at=_published_at(root, selectors, html, url),
        paragraphs=tuple(paragraphs),
        source=_source(root, selectors.source),
        editor=editor_from_paragraphs(block.text for block in blocks),
        reporter=reporter_from_paragraphs(paragraphs),
        channel=nen.breadcrumb_by_label(root),
        continuation_urls=nen.continuations(root, url) if continuations else (),
    )


def _published_at(root: LexborNode, selectors: Selectors, html: str, url: str) -> datetime:
    """Return the publication time: the selected element, else the URL's date, else generic's."""
    when = _time(root, selectors.time)
    if when is not None:
        return local_to_utc(when.value)
    day = date_from_url(url)
    if day is not None:
        return date_to_utc(day)
    try:
        return generic.parse_article(html, url).published_at
    except ParseError:
        raise ParseError(f"no publication time on {url}") from None
