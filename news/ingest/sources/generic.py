"""Profile "generic": any regional news or government page without a profile of its own.

The body is read by agreement (see agreement.py): our own reading of the page (node_blocks,
then the densest run of prose blocks: see _content_window), readability-lxml and trafilatura
(default and favor_precision) all read every page; the blocks two of them hold are the core,
prose next to it joins, and a reader alone wins only on clear prose. read_body is that reading
alone, for family profiles whose selectors find nothing. Headline, time, 来源, reporter and
editor come from the markup around the body, so dates in sidebars and related-news lists are
never read. Used for 北国网 (lnd.com.cn), 沈阳网 (syd.com.cn) and whatever else a source names.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import htmldate
import trafilatura
from readability import Document
from selectolax.lexbor import LexborHTMLParser, LexborNode

from news.ingest.errors import ParseError
from news.ingest.sources import agreement, listing, nen
from news.ingest.sources.boilerplate import (
    Block,
    LocalTime,
    clean_paragraphs,
    date_to_utc,
    editor_from_line,
    find_local_time,
    find_local_times,
    has_article_text,
    is_boilerplate,
    is_credit_line,
    local_to_utc,
    node_blocks,
    normalize_space,
)
from news.ingest.urls import date_from_url
from news.models import ListPage, ParsedArticle

logger = logging.getLogger(__name__)

NAME = "generic"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"[。！？!?；;…”」』）)]\s*$")
# Text hard-wrapped at a fixed width (the <pre> and <br> pages of the 2000s) has no sentence end
# on most lines, but Chinese prose still carries its commas and stops inside every line.
_CJK_PUNCT = re.compile(r"[，。、；：？！]")
_WRAPPED_PROSE_CJK = 20
_TAGS = re.compile(r"<[^>]+>")

# Meta tags that carry the headline or the publication time, in order of trust. Chinese
# government CMSs (TRS, 政府网站统一规范) write ArticleTitle / PubDate; people.com.cn writes
# publishdate; ifeng writes og:time.
_TITLE_METAS = ("articletitle", "og:title", "twitter:title")
_TIME_METAS = (
    "article:published_time",
    "pubdate",
    "publishdate",
    "publish_time",
    "og:release_date",
    "og:time",
    "og:published_time",
    "datepublished",
    "date",
)
# A short last segment of a <title> after a separator is a channel or site name ("_中山网").
_SITE_SUFFIX = re.compile(r"\s*(?:_|\||｜|-|—)+\s*[^_|｜\-—]{1,12}\s*$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_+|\|+|｜+|-{1,2}|—{1,2})\s*")
_MIN_TITLE = 4
_MAX_HEADING = 100
_HEADLINE_LOOKBACK = 8  # blocks above the body where the printed headline sits
_HEAD_WINDOW = 12  # blocks above the body where the dateline and byline sit
_FALLBACK_TITLE_LEN = 40
_STORY_CHARS = 3000
_TITLE_IN_STORY = 0.5

# The 来源 value stops at a field separator; markup debris ("size="20"") is no source.
_SOURCE = re.compile(
    r"(?:来源|稿源|文章来源|信息来源)\s*[:：]\s*"
    r"(?P<source>[^\s|｜:：=\"'<>]{2,30})(?=[\s|｜]|$)"
)
_SOURCE_STOP = re.compile(r"(?:作者|编辑|责任编辑|记者|发布时间|时间|点击|浏览|字号).*$")

# Error pages and login walls come back with status 200 on many portals; with little text and
# one of these phrases in the headline or body they are no article.
_NOT_ARTICLE = re.compile(
    r"\b404\b|页面不存在|页面未找到|找不到(?:该|您要的)?页面|已被删除|访问出错|出错了|发生错误"
    r"|错误的详细信息|请先?登录|登录后|用户登录|您尚未登录|无权访问|not found|forbidden"
    r"|access denied",
    re.IGNORECASE,
)
_SHORT_BODY = 400

# The article head that extractors often keep above the body: the dateline ("2024-10-28 09:54:09
# 来源：辽宁日报", "发布时间：…") and the breadcrumb ("当前位置：洛阳").
_DATELINE = re.compile(
    r"^(?:(?:发布时间|发布日期|时间|日期)\s*[:：]\s*)?(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}"
)
_META_LABEL = re.compile(r"来源|作者|编辑|点击|浏览|字号|发布")
_TIME_LABEL = re.compile(r"发布时间|发布日期|发表时间|发表日期|更新时间|时间|日期|来源|稿源|发布于")
_POSTED = re.compile(r"于\s*(?:19|20)\d{2}.{0,40}发表|发表于|发布于")
_CRUMB = re.compile(r"^(?:您当前的位置|您现在的位置|当前位置|您的位置|所在位置)\s*[:：]")
# A line with two or more of these labels is the article's meta line (作者：… 来源：… 发布日期：…),
# however long: never prose.
_FIELD_LABEL = re.compile(r"(?:作者|来源|稿源|发布日期|发布时间|日期|时间|编辑|点击|浏览)\s*[:：]")
# A line under the headline that opens with a dash is its subtitle ("——当代中国的精神危机").
_SUBTITLE = re.compile(r"^(?:——|--|─)")
_HEAD_LINE_MAX = 80
_SHORT_DATELINE = 40

# Bylines in the article head: "作者：茉莉", "文/山石", "记者 张倩". The name runs to the next
# field label or the end of the line.
_AUTHOR = re.compile(
    r"(?:^|[\s【\[（(|｜])(?:作者|文|撰文|撰稿)\s*[:：/／]\s*(?P<name>[^\s:：|｜【】\[\]()（）<>=\"]{2,24}"
    r"(?:\s+[^\s:：|｜【】\[\]()（）<>=\"]{2,4})*?)"
    r"(?=\s*(?:$|[|｜【\[（(]|来源|发布|出自|出处|时间|日期|编辑|责任编辑|点击|浏览|\d))"
)
# Forum posts: "本贴由大卫于2005年8月12日16:12:21在〖…〗发表".
_POSTED_BY = re.compile(r"^(?:本贴|本帖|此贴|此帖)由\s*(?P<name>[^\s于]{2,16})\s*于")
_AUTHOR_NAME = re.compile(r"^[\u3400-\u9fff·&A-Za-z][\u3400-\u9fff·&A-Za-z0-9 ._-]{1,23}$")
_BYLINE_MAX = 60
_NAME_CHARS = r"[\u3400-\u9fff·]"
_REPORTER = re.compile(
    r"记者\s*[:：]?\s*(?P<names>"
    + _NAME_CHARS
    + r"{2,4}(?:[\s、，,]+"
    + _NAME_CHARS
    + r"{2,4}){0,4})"
    r"(?=\s*(?:$|[）)\]】/]|发自|报道|摄))"
)
# A story signed with bare names in brackets at its very end: "（袁源）", "（常书香 马丹阳）".
_SIGNATURE = re.compile(
    r"[（(]\s*(?P<names>"
    + _NAME_CHARS
    + r"{2,3}(?:[\s、]+"
    + _NAME_CHARS
    + r"{2,3}){0,3})\s*[）)]$"
)
_EDITOR_FIELD = re.compile(
    r"(?:^|[\s|｜\[【(（])(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<names>"
    + _NAME_CHARS
    + r"{2,4}(?:[\s、]+"
    + _NAME_CHARS
    + r"{2,4}){0,2})\s*[\]】)）]?\s*$"
)
_BARE_NAME = re.compile(r"^" + _NAME_CHARS + r"{2,3}$")
# Tokens that are no personal name: organisations, roles, picture and end marks.
_NOT_A_NAME = re.compile(
    r"社|报|网|台|站|电|讯|完|图|摄|编|记者|通讯员|实习|频道|中心|新闻|日报|http|www|\d|CMS|系统"
    r"|正文|字号|打印|关闭|返回|分享|评论|首页|要闻|热点|专题|推荐|更多|视频|图片"
)

# Kinds of pages without an article body, for the ParseError message.
_VIDEO_TAGS = "video, embed, object, iframe[src*=player], iframe[src*=video]"


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One extractor's idea of the body, and its score."""

    name: str
    paragraphs: list[str]
    score: float


def _is_prose(text: str) -> bool:
    """Tell whether a paragraph reads as running text rather than a menu item or label."""
    if is_credit_line(text):
        return False
    cjk = len(_CJK.findall(text))
    if len(text) >= 50 or (cjk >= 12 and _SENTENCE_END.search(text) is not None):
        return True
    return cjk >= _WRAPPED_PROSE_CJK and _CJK_PUNCT.search(text) is not None


def _score(paragraphs: list[str]) -> float:
    """Score a body candidate: prose characters, minus twice the non-prose ones.

    Checked on the corpus truth files: the extractors tie on most pages, and where they differ
    the worse body is the one with more short non-prose lines (trafilatura keeps the source and
    photo lines around henandaily's two paragraphs; on people-js readability loses a paragraph).
    """
    prose = junk = 0
    for text in paragraphs:
        if _is_prose(text):
            prose += len(text)
        else:
            junk += len(text)
    return prose - 2 * junk


# --- our own reading: the densest run of prose blocks -----------------------------------------

_LINK_BLOCK_RATIO = 0.5
_PROSE_MAX_LINK_RATIO = 0.3
_BOILERPLATE_COST = 15
_LINK_COST = 10
_SHORT_LINE_COST = 5
_LONG_PROSE = 50


def _block_score(block: Block) -> int:
    """Score one block for the body run: prose counts its length, everything else costs."""
    text = block.text
    if block.link_ratio > _LINK_BLOCK_RATIO:
        if len(text) >= _LONG_PROSE and _is_prose(text):
            # A paragraph with its references linked (scripture, laws) is prose all the same:
            # it costs only what its links outweigh its own text.
            return len(text) - 2 * block.link_chars
        return -len(text) - _LINK_COST
    if _is_field_line(text):
        return -_BOILERPLATE_COST
    if is_boilerplate(text):
        return -_BOILERPLATE_COST
    if block.link_ratio < _PROSE_MAX_LINK_RATIO and _is_prose(text):
        return len(text)
    # Subheadings and captions inside the story cost little, so a run spans them.
    return -(_SHORT_LINE_COST + len(text) // 2)


def _content_window(blocks: list[Block]) -> tuple[int, int]:
    """Return [start, end) of the run of blocks with the highest total score (Kadane)."""
    best, best_start, best_end = 0, 0, 0
    running, start = 0, 0
    for index, block in enumerate(blocks):
        if running <= 0:
            running, start = 0, index
        running += _block_score(block)
        if running > best:
            best, best_start, best_end = running, start, index + 1
    return best_start, _extend_over_figures(blocks, best_end)


def _extend_over_figures(blocks: list[Block], end: int) -> int:
    """Carry the run on over the story's own tables and figures to the prose after them.

    A worksheet or chart drawn in text (short lines, no links) costs more than the prose
    before it, so the run stops above it; the story goes on if prose follows before any
    link or furniture does.
    """
    index = end
    while index < len(blocks):
        block = blocks[index]
        if block.link_chars or is_boilerplate(block.text) or _is_field_line(block.text):
            return end
        if _block_score(block) > 0:
            end = index + 1
        index += 1
    return end


def _is_field_line(text: str) -> bool:
    """Tell whether a line is the article's meta line: two labelled fields, or a time and one.

    "作者：… 来源：… 发布日期：…", "http://biz.163.com 2005-04-25 08:24:06 来源: 第一财经日报".
    """
    if len(text) > 2 * _HEAD_LINE_MAX:
        return False
    labels = len(_FIELD_LABEL.findall(text))
    if labels >= 2:
        return True
    return labels == 1 and len(text) <= _HEAD_LINE_MAX and bool(find_local_times(text))


def _drop_page_head(paragraphs: list[str], title: str) -> list[str]:
    """Remove the headline, dateline and breadcrumb lines an extractor kept with the body."""
    kept: list[str] = []
    for text in paragraphs:
        if len(text) <= _HEAD_LINE_MAX and (
            text == title
            or _CRUMB.match(text)
            or _is_field_line(text)
            or (_DATELINE.match(text) and (_META_LABEL.search(text) or len(text) <= 25))
        ):
            continue
        kept.append(text)
    return kept


def _readability(html: str) -> str:
    """Return the text readability-lxml finds, one block a line ("" when it finds nothing)."""
    try:
        summary = Document(html).summary(html_partial=True)
    except Exception as exc:  # readability raises bare lxml/parser errors on broken markup
        logger.debug("readability failed: %s", exc)
        return ""
    root = LexborHTMLParser(summary).root
    return "\n".join(block.text for block in node_blocks(root)) if root is not None else ""


def _trafilatura(page: object, *, favor_precision: bool = False) -> str:
    """Return the text trafilatura finds in a page (markup or its parsed tree), either mode.

    Readers' comments stay out (by default trafilatura appends them to the text); its other
    settings stay the library's own: without tables it finds nothing on table-layout pages,
    and the side columns tables bring in find no second reader to agree with them.
    """
    text = trafilatura.extract(
        page, favor_precision=favor_precision, include_comments=False, fast=True
    )
    return text or ""


def _reader_texts(html: str) -> dict[str, str]:
    """Return what each library makes of the page, by reader name (the page as it came).

    Trafilatura's two modes read one parse of the page (it copies the tree it is given).
    """
    tree = trafilatura.load_html(html)
    page = html if tree is None else tree
    return {
        "readability": _readability(html),
        "trafilatura": _trafilatura(page),
        "trafilatura-precision": _trafilatura(page, favor_precision=True),
    }


def _best_body(candidates: list[_Candidate]) -> _Candidate:
    """Return the candidate whose paragraphs read most like prose (the first on a tie)."""
    best = max(candidates, key=lambda candidate: candidate.score)
    logger.debug("body scores: %s", {c.name: c.score for c in candidates})
    return best


@dataclass(frozen=True, slots=True)
class _Body:
    """The body the generic profile settled on, how, and what each library made of the page."""

    paragraphs: list[str]
    window: tuple[int, int]  # the page blocks the body spans: its head and tail fields sit around
    how: str
    texts: dict[str, str]  # what each library made of the page


def _read(html: str, blocks: list[Block], own_window: tuple[int, int], title: str) -> _Body:
    """Read the body by agreement of our block run and the libraries; see agreement.read."""
    start, end = own_window
    texts = _reader_texts(html)
    held = {"blocks": [start <= i < end and not b.link_heavy for i, b in enumerate(blocks)]}
    keys = agreement.block_keys(blocks)
    held.update((name, agreement.holdings(keys, text)) for name, text in texts.items())
    reading = agreement.read(blocks, held, _is_prose)
    if reading is not None:
        paragraphs = _drop_page_head(clean_paragraphs(reading.paragraphs), title)
        if has_article_text(paragraphs):
            window = _kept_window(blocks, reading.window, paragraphs)
            return _Body(paragraphs, window, reading.how, texts)
    # No two readers agree on any prose: the one whose text reads most like prose wins.
    candidates = _candidates(blocks, own_window, texts, title)
    best = _best_body([_Candidate(n, p, _score(p)) for n, p in candidates.items()])
    return _Body(best.paragraphs, own_window, f"best:{best.name}", texts)


def _candidates(
    blocks: list[Block], own_window: tuple[int, int], texts: dict[str, str], title: str
) -> dict[str, list[str]]:
    """Return each reader's own body paragraphs, page head and furniture dropped."""
    start, end = own_window
    return {
        "blocks": _drop_page_head(
            clean_paragraphs(b.text for b in blocks[start:end] if not b.link_heavy), title
        ),
        **{
            name: _drop_page_head(clean_paragraphs(text.splitlines()), title)
            for name, text in texts.items()
        },
    }


def _kept_window(
    blocks: list[Block], window: tuple[int, int], paragraphs: list[str]
) -> tuple[int, int]:
    """Narrow a block span to its first and last kept paragraph.

    The headline and dateline that the readers agree on are cut from the body, and the head
    fields are looked for above the body's first paragraph, so the span must start there.
    """
    start, end = window
    texts = [normalize_space(block.text) for block in blocks[start:end]]
    first = next((i for i, text in enumerate(texts) if text == paragraphs[0]), 0)
    last = next((i for i in range(len(texts) - 1, -1, -1) if texts[i] == paragraphs[-1]), None)
    return start + first, end if last is None else start + last + 1


def _page_reading(
    html: str, url: str
) -> tuple[LexborNode, dict[str, str], list[Block], str, _Body]:
    """Parse a page and read its body: (root, metas, blocks, headline, body)."""
    root = LexborHTMLParser(html).root
    if root is None:
        raise ParseError(f"empty document: {url}")
    metas = _metas(root)
    page = root.css_first("body") or root
    blocks = node_blocks(page)
    window = _content_window(blocks)
    title = find_title(root, metas, blocks, window)
    return root, metas, blocks, title, _read(html, blocks, window, title)


def read_body(html: str, url: str) -> list[str]:
    """Return the body paragraphs the agreement reader finds on a page; [] if no article text.

    For profiles whose selectors found nothing on a page: the generic reading of its body.
    """
    try:
        paragraphs = _page_reading(html, url)[4].paragraphs
    except ParseError:
        return []
    return paragraphs if has_article_text(paragraphs) else []


def body_candidates(html: str, url: str) -> tuple[str, dict[str, list[str]]]:
    """Return how the body was decided and each reader's own paragraphs (for the benchmark)."""
    _, _, blocks, title, body = _page_reading(html, url)
    window = _content_window(blocks)
    return body.how, _candidates(blocks, window, body.texts, title)


# --- headline --------------------------------------------------------------------------------


def _metas(root: LexborNode) -> dict[str, str]:
    """Return the page's meta name/property → content pairs (first occurrence, lowercased)."""
    result: dict[str, str] = {}
    for node in root.css("meta[content]"):
        attrs = node.attributes
        key = attrs.get("name") or attrs.get("property") or attrs.get("itemprop")
        content = attrs.get("content")
        if key and content:
            result.setdefault(key.strip().lower(), normalize_space(_TAGS.sub("", content)))
    return result


def _page_title(root: LexborNode) -> str:
    """Return the first <title> that is not an unfilled template."""
    for node in root.css("title"):
        text = normalize_space(node.text())
        if text and "${" not in text:
            return text
    return ""


def strip_site_suffix(title: str) -> str:
    """Cut "_频道_网站名" tails off a <title>, keeping a headline of reasonable length."""
    while True:
        match = _SITE_SUFFIX.search(title)
        if match is None or match.start() < 2 * _MIN_TITLE:
            return title
        title = title[: match.start()]


def _is_head_line(text: str) -> bool:
    """Tell whether a line above the body is a dateline, byline or breadcrumb, not a headline."""
    return bool(
        _DATELINE.match(text)
        or _CRUMB.match(text)
        or _META_LABEL.search(text)
        or find_local_times(text)
        or is_boilerplate(text)
    )


def _printed_headline(blocks: list[Block], start: int) -> str:
    """Return the line printed just above the body that reads as its headline, or ""."""
    for block in reversed(blocks[max(0, start - _HEADLINE_LOOKBACK) : start]):
        text = block.text
        if block.link_heavy or len(text) < _MIN_TITLE or _is_head_line(text):
            continue
        if _SUBTITLE.match(text):
            continue
        if len(text) <= _MAX_HEADING and not text.endswith("。"):
            return text
    return ""


def _first_clause(paragraphs: list[str]) -> str:
    """Return the body's first clause, for a page that prints no headline at all."""
    for text in paragraphs:
        clause = re.split(r"[。！？!?；;]", text, maxsplit=1)[0].strip()
        if len(clause) >= _MIN_TITLE:
            return clause[:_FALLBACK_TITLE_LEN]
    return ""


def find_title(
    root: LexborNode, metas: dict[str, str], blocks: list[Block], window: tuple[int, int]
) -> str:
    """Find the headline, from the most explicit source to the least; "" only for a bare page.

    Order: a title meta (og:title; a heading it contains wins, dropping a column prefix), the
    first h1/h2 that the <title> repeats, the <title> segment the page prints above the body,
    the <title> with its site suffix cut, the line printed above the body.
    """
    start, end = window
    headings = [normalize_space(node.text()) for node in root.css("h1, h2")]
    headings = [text for text in headings if _MIN_TITLE <= len(text) <= _MAX_HEADING]
    for key in _TITLE_METAS:
        meta = metas.get(key, "")
        if len(meta) >= _MIN_TITLE:
            inside = [text for text in headings if text in meta]
            return max(inside, key=len) if inside else strip_site_suffix(meta)
    page_title = _page_title(root)
    cut = strip_site_suffix(page_title)
    for text in headings:
        if text in page_title or (len(cut) >= _MIN_TITLE and cut in text):
            return text
    above = {block.text for block in blocks[max(0, start - 3 * _HEADLINE_LOOKBACK) : start]}
    if len(cut) >= _MIN_TITLE and (cut in above or page_title in above):
        return cut  # the <title> printed as a line of its own above the body
    segments = [s for s in _TITLE_SEPARATORS.split(page_title) if len(s) >= _MIN_TITLE]
    for segment in segments:
        if segment in above:
            return segment
    if not page_title and headings:
        return headings[0]
    printed = _printed_headline(blocks, start)
    if len(cut) >= _MIN_TITLE and not cut.isdigit():
        # A <title> that shares little with the story is the site's greeting or name
        # ("谢谢您访问〖关注中国中心〗"); the line printed above the body is the headline then.
        story = printed + "".join(block.text for block in blocks[start:end])[:_STORY_CHARS]
        if not printed or _shared_bigrams(cut, story) >= _TITLE_IN_STORY:
            return cut
    return printed


def _shared_bigrams(title: str, story: str) -> float:
    """Return the share of the title's character bigrams that the story contains."""
    title = re.sub(r"\s+", "", title)
    grams = {title[i : i + 2] for i in range(len(title) - 1)}
    return sum(gram in story for gram in grams) / len(grams) if grams else 0.0


# --- publication time ------------------------------------------------------------------------


def _meta_time(metas: dict[str, str]) -> tuple[datetime | None, date | None]:
    """Return (aware time with clock, date only) from the publication-time metas."""
    day: date | None = None
    for key in _TIME_METAS:
        value = metas.get(key, "")
        if not value:
            continue
        exact, found_day = _read_time(value)
        if exact is not None:
            return exact, None
        day = day or found_day
    return None, day


def _read_time(value: str) -> tuple[datetime | None, date | None]:
    """Read an ISO or Chinese time string: (aware UTC time with clock, or the day alone)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed.astimezone(UTC), None
    found = find_local_time(value)
    if found is None:
        return None, None
    if found.has_time:
        return local_to_utc(found.value), None
    return None, found.value.date()


def _json_ld_time(root: LexborNode) -> tuple[datetime | None, date | None]:
    """Return the datePublished of the page's JSON-LD (NewsArticle and the like)."""
    for node in root.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text() or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            graph = item.get("@graph", [item]) if isinstance(item, dict) else []
            for entry in graph if isinstance(graph, list) else []:
                value = entry.get("datePublished") if isinstance(entry, dict) else None
                if isinstance(value, str) and value:
                    return _read_time(value)
    return None, None


def _head_time(blocks: list[Block], first: int, start: int) -> LocalTime | None:
    """Find the dateline: the time printed between the headline and the body's first lines.

    Labelled times (发布时间, 来源 …) win over bare ones, and a time of day over a bare date.
    Link-heavy blocks are skipped: a date there belongs to a related article. In the body's
    first lines only a meta line counts: a date in a sentence ("2019年2月27日下午，…") is when
    something happened, not when the story was published.
    """
    found: list[tuple[int, LocalTime]] = []
    for index in range(first, min(start + 2, len(blocks))):
        block = blocks[index]
        if block.link_heavy or len(block.text) > _HEAD_LINE_MAX * 2:
            continue
        if index >= start and not _is_dateline(block.text):
            continue
        labelled = _TIME_LABEL.search(block.text) is not None
        for item in find_local_times(block.text):
            found.append((2 * labelled + item.has_time, item))
    if not found:
        return None
    return max(found, key=lambda pair: pair[0])[1]  # first of the best kind


def _is_dateline(text: str) -> bool:
    """Tell whether a line is a dateline or meta line rather than a sentence with a date."""
    return _is_field_line(text) or (
        len(text) <= _SHORT_DATELINE and _DATELINE.match(text) is not None
    )


def _tail_time(blocks: list[Block], window: tuple[int, int]) -> LocalTime | None:
    """Find a date line closing the article ("2005-09-11 18:04:42", "（2005年4月28日）").

    Forum posts sign off inside the post: "本贴由大卫于2005年8月12日16:12:21在〖…〗发表".
    """
    start, end = window
    for block in blocks[max(0, end - 2) : end + 2]:
        if block.link_heavy or len(block.text) > 40:
            continue
        found = find_local_time(block.text)
        if found is not None:
            return found
    for block in blocks[start : end + 2]:  # the sign-off closes the post, or follows it
        if len(block.text) <= _HEAD_LINE_MAX and (
            _POSTED.search(block.text) or agreement.is_signoff(block.text)
        ):
            found = find_local_time(block.text)
            if found is not None:
                return found
    return None


def _published_at(
    root: LexborNode,
    metas: dict[str, str],
    blocks: list[Block],
    window: tuple[int, int],
    headline_at: int,
    html: str,
    url: str,
    fetched_at: datetime | None,
) -> datetime:
    """Return the publication time as aware UTC, from the most precise source available."""
    meta_time, meta_day = _meta_time(metas)
    if meta_time is not None:
        return meta_time
    start = window[0]
    first = headline_at if 0 <= headline_at < start else max(0, start - _HEAD_WINDOW)
    dateline = _head_time(blocks, first, start)
    if dateline is not None and dateline.has_time:
        return local_to_utc(dateline.value)
    ld_time, ld_day = _json_ld_time(root)
    if ld_time is not None:
        return ld_time
    day = meta_day or ld_day or (dateline.value.date() if dateline else None)
    if day is None:
        tail = _tail_time(blocks, window)
        if tail is not None:
            return local_to_utc(tail.value) if tail.has_time else date_to_utc(tail.value.date())
    day = day or date_from_url(url)
    if day is None:
        found = htmldate.find_date(html, url=url, extensive_search=False, outputformat="%Y-%m-%d")
        if found:
            day = date.fromisoformat(found)
    if day is None and start < len(blocks):
        # Last before the fetch time: the day the lead says it was reported ("【看中国2005年07月
        # 03日报道】", "2019年2月27日下午，…").
        lead = find_local_time(blocks[start].text[:_HEAD_LINE_MAX])
        day = lead.value.date() if lead is not None else None
    if day is not None:
        return date_to_utc(day)
    # An undated page is still an article: it is dated when it was read.
    logger.debug("no publication time on %s: dated when fetched", url)
    return fetched_at or datetime.now(UTC)


# --- source, bylines -------------------------------------------------------------------------


def _source(metas: dict[str, str], blocks: list[Block]) -> str:
    """Return the 来源 from the metas or the dateline."""
    for key in ("contentsource", "source"):
        value = metas.get(key, "")
        if value:
            return _SOURCE_STOP.sub("", re.sub(r"^来源\s*[:：]\s*", "", value)).strip()
    for block in blocks[:400]:
        match = _SOURCE.search(block.text)
        if match is not None and len(block.text) < 120:
            return _SOURCE_STOP.sub("", match.group("source")).strip()
    return ""


def source_from_text(text: str) -> str:
    """Return the 来源 named in a meta line ("发布时间：… 来源：沈阳日报"), or ""."""
    match = _SOURCE.search(text)
    if match is None:
        return ""
    return _SOURCE_STOP.sub("", match.group("source")).strip()


def author_from_line(text: str) -> str:
    """Return the author a short byline names ("作者：茉莉", "文/山石"), or ""."""
    if len(text) > _BYLINE_MAX:
        return ""
    match = _AUTHOR.search(text) or _POSTED_BY.search(text)
    if match is None:
        return ""
    name = normalize_space(match.group("name"))
    return name if _AUTHOR_NAME.match(name) else ""


def reporter_from_line(text: str, *, at_end: bool = False) -> str:
    """Return the names of a 记者 byline or a closing signature in text, or "".

    Forms: "记者 伊琳 李清芬", "本报记者罗科苏盈发自北京", "（总台记者 张倩）", "□ 本报记者 葛灵丹";
    with at_end (the story's last paragraph) also a bare signature: "…佳节。（常书香 马丹阳）".
    """
    if len(text) <= _BYLINE_MAX or at_end:
        match = _REPORTER.search(text if len(text) <= _BYLINE_MAX else text[-_BYLINE_MAX:])
        if match is not None:
            names = _byline_names(match.group("names"))
            if names:
                return names
    if at_end:
        match = _SIGNATURE.search(text)
        if match is not None:
            return _byline_names(match.group("names"))
    return ""


def _byline_names(raw: str) -> str:
    """Keep the personal names of a byline, joined with 、; "" if a token is no name."""
    tokens = [token for token in re.split(r"[\s、，,]+", raw) if token]
    if not tokens or any(_NOT_A_NAME.search(token) for token in tokens):
        return ""
    return "、".join(tokens)


def _reporter(
    metas: dict[str, str], blocks: list[Block], window: tuple[int, int], first: int, body: list[str]
) -> str:
    """Return the author or reporter: the article head, the story's ends, then a byline meta.

    The meta comes last: CMSs fill it with the site or the publishing software ("大汉网络").
    """
    start, end = window
    head = [block.text for block in blocks[first : start + 1] if not block.link_heavy]
    for text in head:
        name = author_from_line(text) or reporter_from_line(text)
        if name:
            return name
    closing = [block.text for block in blocks[end : end + 3] if not block.link_heavy]
    opening = body[:3]
    for index, text in enumerate([*opening, *body[-3:], *closing]):
        name = author_from_line(text) or reporter_from_line(text, at_end=index >= len(opening))
        if name:
            return name
    # A bare name on its own line under the headline ("茉莉").
    for text in head[1:] if first < start else []:
        if _BARE_NAME.match(text) and not _NOT_A_NAME.search(text) and not is_boilerplate(text):
            return text
    meta = metas.get("author", "")
    if meta and _AUTHOR_NAME.match(meta) and not _NOT_A_NAME.search(meta):
        return meta
    return ""


def editor_in_line(text: str) -> str:
    """Return the editor a short line names, also after other fields ("来源：X 编辑：苏亮")."""
    editor = editor_from_line(text)
    if editor or len(text) > _BYLINE_MAX:
        return editor or ""
    match = _EDITOR_FIELD.search(text)
    return _byline_names(match.group("names")) if match else ""


def _editor(blocks: list[Block], end: int) -> str:
    """Return the 责任编辑 named after the body (or anywhere, if not there)."""
    for block in [*blocks[end : end + _HEAD_WINDOW], *reversed(blocks)]:
        editor = editor_in_line(block.text)
        if editor:
            return editor
    return ""


# --- the page --------------------------------------------------------------------------------


def _refusal(root: LexborNode, blocks: list[Block], text: str, title: str) -> str:
    """Say why a page without article text is none: list, video, error page, or empty."""
    if _NOT_ARTICLE.search(title) or _NOT_ARTICLE.search(text[:_SHORT_BODY]):
        return "an error or login page"
    if root.css_first(_VIDEO_TAGS) is not None and any(is_credit_line(b.text) for b in blocks):
        return "a video page with only credits"
    links = sum(1 for block in blocks if block.link_heavy)
    if links >= 10:
        return f"a list page ({links} links, no article text)"
    return "a page without article text"


def parse_article(html: str, url: str, *, fetched_at: datetime | None = None) -> ParsedArticle:
    """Parse an article page of a site without a profile; raise ParseError if it is not one.

    fetched_at dates a page that prints no date anywhere (default: now).
    """
    root, metas, blocks, title, body = _page_reading(html, url)
    start, end = body.window
    text = "\n".join(body.paragraphs)
    if not has_article_text(body.paragraphs):
        raise ParseError(f"not an article: {_refusal(root, blocks, text, title)}: {url}")
    if len(text) < _SHORT_BODY and (_NOT_ARTICLE.search(title) or _NOT_ARTICLE.search(text)):
        raise ParseError(f"not an article: an error or login page ({title[:40]}): {url}")
    title = title or _first_clause(body.paragraphs)
    headline_at = next(
        (i for i in range(start - 1, -1, -1) if title and title in blocks[i].text), -1
    )
    first = headline_at if 0 <= headline_at < start else max(0, start - _HEAD_WINDOW)
    return ParsedArticle(
        url=url,
        title=title,
        published_at=_published_at(
            root, metas, blocks, (start, end), headline_at, html, url, fetched_at
        ),
        paragraphs=tuple(body.paragraphs),
        source=_source(metas, blocks),
        editor=_editor(blocks, end),
        reporter=_reporter(metas, blocks, (start, end), first, body.paragraphs),
        channel=nen.breadcrumb_by_label(root),
        related=(),
    )


def parse_list(html: str, url: str) -> ListPage:
    """Parse a list page of any site (news.ingest.sources.listing reads every family's)."""
    return listing.parse_list(html, url)
