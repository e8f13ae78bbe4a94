"""Rules shared by the site profiles: what never belongs in an article body, and bylines.

The filters work on paragraph strings, so the nen.com.cn templates and the generic extractor
(readability / trafilatura output) run the same rules; node_blocks turns markup into those
paragraphs, keeping how much of each is link text (link lists are navigation, not prose).
The byline helpers read 责任编辑, 记者 and publication times out of such strings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborNode

logger = logging.getLogger(__name__)

# Every page of the region states local time without a zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_OR_PUNCT = _CJK + r"\u3000-\u303f\uff00-\uffef"

# A whitespace run holding a line break between two Chinese characters is source formatting
# (editors wrap long lines in the CMS), not a word gap: it disappears.
_WRAP_BETWEEN_CJK = re.compile(
    rf"(?<=[{_CJK_OR_PUNCT}])[ \t\u00a0\u3000]*[\r\n][\s\u3000]*(?=[{_CJK_OR_PUNCT}])"
)
_SPACES = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u200b\ufeff]+")

# Disclaimers: the nen.com.cn footer sits inside the article column (div.xwzw_t3) and the 2018
# seed text shows it flattened into the body, with a different phone number each era.
_DISCLAIMER = re.compile(
    r"本网站有关内容转载自|如果您认为转载内容侵犯了您的权益|请您来信来电.{0,40}声明"
    r"|收到信息核实后\s*24\s*小时内删除|未经授权禁止复制|版权所有.{0,12}(?:禁止|不得)"
    r"|凡本网注明|互联网新闻信息服务许可证|ICP备\d|网安备\s*\d"
)

# Share bars and page tools; only ever short, so a long paragraph that quotes them survives.
_TOOLS = re.compile(
    r"^(?:分享到|打印(?:\s|$)|分享至|用微信扫码|微信扫一扫|扫一扫|打印本页|关闭窗口|收藏本页|返回顶部"
    r"|【?字号|字体[:：]|【打印】|【关闭】|点击排行|我要评论|发表评论|网友评论)"
)
_TOOLS_MAX_LEN = 40
# A page's tool row drawn as bracketed items ("页面功能 【我来说两句】【推荐】【打印】 【关闭】"):
# two or more of them on a short line.
_TOOL_ITEM = re.compile(
    r"[【\[](?:打印|关闭|推荐|收藏|我来说两句|我要评论|发表评论|评论|纠错|我要[^】\]]{1,6}|字体[^】\]]{0,8}"
    r"|字号[^】\]]{0,8}|大|中|小|复制链接|返回顶部|关闭窗口|打印本页|收藏本页|发送给好友|转发)[】\]]"
)
_TOOL_ROW_MAX_LEN = 80

# Links to the neighbouring articles ("上一篇：…", "下一篇：…"), which some templates print as
# plain text beside the links; and copyright lines ("Copyright © 2004-2008 All rights reserved").
_NEIGHBOURS = re.compile(
    r"^[\[【(（]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[\]】)）]?\s*[:：]?"
)
_NEIGHBOURS_MAX_LEN = 80
_COPYRIGHT = re.compile(
    r"^(?:copyright|\(c\)|©|版权所有)|all rights reserved|版权所有\s*[©:：(（]?\s*(?:19|20)\d{2}",
    re.IGNORECASE,
)
_COPYRIGHT_MAX_LEN = 120

# The app/WeChat promotion block under every 2018 article (seed text) and the QR-code captions
# of the current template (div.erweima): a paragraph made only of these tokens is promotion.
_PROMO_TOKENS = frozenset(
    {
        "东北新闻网",
        "微信订阅号",
        "手机版",
        "法人微博",
        "新闻客户端",
        "android版",
        "iphone版",
        "东北新闻网微博",
        "东北新闻网微信",
        "北斗融媒",
        "北斗融媒客户端",
        "官方微信",
        "官方微博",
        "扫码下载",
        "客户端下载",
        "![]()",
        "|",
        "||",
        "-",
        "·",
    }
)

# Unfilled FreeMarker placeholders from the nested SSI header/footer documents.
_TEMPLATE_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")

# Pager rows: 【1】【2】【3】, [上一页] 1 2 [下一页], 首页 尾页 …
_PAGER = re.compile(
    r"^(?:[\[【(（]?\s*(?:\d{1,3}|上一页|下一页|上页|下页|首页|尾页|末页|前页|后页|共\d+页|第\d+页)"
    r"\s*[\]】)）]?\s*)+$"
)

# A short line naming the previous or next page is a pager however it is drawn
# ("第1页/共1页 << 上一页 | 下一页 >>").
_PAGER_WORDS = re.compile(r"上一页|下一页")

# Box headings that the templates put inside or right under the article column; alone on a
# line they are furniture ("相关新闻" above the related links of Enorth pages).
_BOX_HEADING = re.compile(
    r"^(?:相关新闻|相关链接|相关阅读|相关报道|相关文章|延伸阅读|推荐阅读|热点推荐|精彩推荐|猜你喜欢"
    r"|图片新闻|视频新闻|热点新闻|热门推荐|最新新闻)\s*[:：]?$"
)

# "更多>>时政要闻" opens the headline list that follows every 2018 article: nothing after it is
# article text.
_END_MARKER = re.compile(r"^更多\s*(?:>>|》|>|»|＞＞)")

_EDITOR = re.compile(
    r"^[\[【(（]?\s*(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<name>[^\]】)）]{1,30}?)\s*[\]】)）]?$"
)
_EDITOR_ANYWHERE = re.compile(r"(?:责任编辑|责编)\s*[:：]\s*(?P<name>[" + _CJK + r"·、，, ]{2,30})")
_EDITOR_LINE_MAX_LEN = 40

_CREDIT = re.compile(
    r"^(?:总监制|监制|总策划|策划|统筹|审核|审校|摄像|摄影|剪辑|编辑|制作|出品人?|主编|责编|校对|配音"
    r"|文案|后期|海报|设计|撰稿|主持人?|翻译|视频|包装|导演|指导|记者|航拍)\s*[/／:：｜|]"
)
_CREDIT_MAX_LEN = 40

_REPORTER_PAREN = re.compile(
    r"[（(]\s*(?:本报|本网|新华社|东北新闻网)?\s*记者\s*[:：]?\s*(?P<names>[^（()）]{2,40}?)\s*[）)]"
)
_REPORTER_LEAD = re.compile(
    r"^(?:本报|本网|东北新闻网)?记者\s*[:：]?\s*(?P<names>[" + _CJK + r"·]{2,4}"
    r"(?:[\s、，,]+[" + _CJK + r"·]{2,4})*)\s*(?:报道|摄影|摄)?$"
)
_NAME = re.compile(r"^[" + _CJK + r"][" + _CJK + r"·]{1,5}$")
_NOT_A_REPORTER = re.compile(r"通讯员|实习生|报道|摄影?|发自|见习|特约")
_REPORTER_WINDOW = 3  # bylines open or close an article, never sit in its middle


def normalize_space(text: str) -> str:
    """Collapse whitespace (incl. U+3000 and nbsp) to single spaces and drop CJK line wraps."""
    if "\n" in text or "\r" in text:
        text = _WRAP_BETWEEN_CJK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def is_end_marker(text: str) -> bool:
    """Tell whether a paragraph opens the trailing headline list ("更多>>时政要闻")."""
    return _END_MARKER.match(text) is not None


def editor_from_line(text: str) -> str | None:
    """Return the editor named by a short 责任编辑/责编 line, or None if it is not one."""
    return _editor(normalize_space(text)) if "编" in text else None


def _editor(text: str) -> str | None:
    """editor_from_line for text that is already normalised."""
    if len(text) > _EDITOR_LINE_MAX_LEN or "编" not in text:
        return None
    match = _EDITOR.match(text)
    if match is None:
        match = _EDITOR_ANYWHERE.search(text)
        if match is None:
            return None
    return normalize_space(match.group("name")).strip("、，, ")


def is_credit_line(text: str) -> bool:
    """Tell whether a paragraph is a production credit (监制/审核/摄像…), not article text."""
    return len(text) <= _CREDIT_MAX_LEN and _CREDIT.match(text) is not None


def is_boilerplate(text: str) -> bool:
    """Tell whether a paragraph is furniture: disclaimer, copyright, share bar, pager, 上一篇."""
    return _furniture(normalize_space(text))


def _furniture(text: str) -> bool:
    """is_boilerplate for text that is already normalised."""
    if not text:
        return True
    if _TEMPLATE_PLACEHOLDER.search(text) or _DISCLAIMER.search(text):
        return True
    if len(text) <= _TOOLS_MAX_LEN and _TOOLS.match(text):
        return True
    if _PAGER.match(text) or _BOX_HEADING.match(text):
        return True
    if len(text) <= _TOOL_ROW_MAX_LEN and _is_tool_row(text):
        return True
    if len(text) <= _TOOLS_MAX_LEN and _PAGER_WORDS.search(text):
        return True
    if len(text) <= _NEIGHBOURS_MAX_LEN and _NEIGHBOURS.match(text):
        return True
    if len(text) <= _COPYRIGHT_MAX_LEN and _COPYRIGHT.search(text):
        return True
    if _editor(text) is not None:
        return True
    tokens = text.lower().split(" ")
    return all(token in _PROMO_TOKENS for token in tokens)


def _is_tool_row(text: str) -> bool:
    """Tell whether a short line is bracketed page tools: two or more, or one alone ("[打印]")."""
    items = len(_TOOL_ITEM.findall(text))
    return items >= 2 or (items == 1 and not _TOOL_ITEM.sub("", text).strip())


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Normalise paragraphs, drop boilerplate and stop at the trailing headline list."""
    result: list[str] = []
    for raw in paragraphs:
        text = normalize_space(raw)
        if is_end_marker(text):
            break
        if _furniture(text):
            continue
        if result and result[-1] == text:
            continue  # repeated verbatim (lead repeated on a continuation page, double markup)
        result.append(text)
    return result


def editor_from_paragraphs(paragraphs: Iterable[str]) -> str:
    """Return the editor named by the first 责任编辑 line among the paragraphs, or ""."""
    for text in paragraphs:
        name = editor_from_line(text)
        if name:
            return name
    return ""


def _names(raw: str) -> str:
    """Keep the personal names of a byline fragment, joined with 、."""
    names: list[str] = []
    for token in re.split(r"[\s、，,/]+", raw.strip()):
        if not token:
            continue
        if _NOT_A_REPORTER.search(token):
            break
        if _NAME.match(token):
            names.append(token)
    return "、".join(names)


def reporter_from_paragraphs(paragraphs: list[str]) -> str:
    """Return the reporter(s) of a byline such as "(记者 胡海林)" near the start or end, or ""."""
    if len(paragraphs) <= 2 * _REPORTER_WINDOW:
        window = paragraphs
    else:
        window = paragraphs[:_REPORTER_WINDOW] + paragraphs[-_REPORTER_WINDOW:]
    for text in window:
        match = _REPORTER_PAREN.search(text) or _REPORTER_LEAD.match(text)
        if match:
            names = _names(match.group("names"))
            if names:
                return names
    return ""


def has_article_text(paragraphs: Iterable[str]) -> bool:
    """Tell whether some paragraph is real prose, not just credits, captions or furniture."""
    for text in paragraphs:
        if is_credit_line(text):
            continue
        if len(re.findall(f"[{_CJK}]", text)) >= 10 or len(text) >= 60:
            return True
    return False


# --- markup to paragraphs ------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Never text: scripts, styles, the <title>/<meta> of nested SSI documents that the HTML parser
# moves into <body>, embedded players, form controls.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "title", "meta", "link", "head", "iframe", "object",
        "embed", "video", "audio", "img", "picture", "svg", "canvas", "input", "select",
        "textarea", "button", "option", "template", "map", "area",
    }
)  # fmt: skip
_LINK_HEAVY_RATIO = 0.6
_LINK_HEAVY_MAX_LEN = 80


@dataclass(frozen=True, slots=True)
class Block:
    """The text of one block element (or <br>-separated run) and how much of it is link text."""

    text: str
    link_chars: int = 0

    @property
    def link_ratio(self) -> float:
        """Return the share of the text that sits inside <a> elements."""
        return self.link_chars / len(self.text) if self.text else 0.0

    @property
    def link_heavy(self) -> bool:
        """Tell whether the block is a short link or link list (navigation, promotion)."""
        return self.link_ratio > _LINK_HEAVY_RATIO and len(self.text) < _LINK_HEAVY_MAX_LEN


class _BlockCollector:
    """Accumulates inline text and cuts it into blocks at block-element and <br> boundaries."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._link_chars = 0

    def flush(self) -> None:
        """Close the current block, keeping it only if it has visible text."""
        text = _SPACES.sub(" ", "".join(self._parts)).strip()
        if text:
            self.blocks.append(Block(text, min(self._link_chars, len(text))))
        self._parts = []
        self._link_chars = 0

    def walk(self, node: LexborNode, in_link: bool) -> None:
        """Visit the children of node in document order."""
        for child in node.iter(include_text=True):
            if child.is_text_node:
                # Line wraps are dropped inside one text node only: between two inline elements
                # a newline separates fields ("来源：辽宁日报" / "分享到").
                text = child.text_content or ""
                if "\n" in text or "\r" in text:
                    text = _WRAP_BETWEEN_CJK.sub("", text)
                self._parts.append(text)
                if in_link:
                    self._link_chars += len(_SPACES.sub(" ", text).strip())
                continue
            if not child.is_element_node:
                continue  # comments
            tag = child.tag or ""
            if tag in _SKIP_TAGS:
                continue
            if tag == "br":
                self.flush()
                continue
            block = tag in _BLOCK_TAGS
            if block:
                self.flush()
            # Only <a href> is a link: forum templates leave <a name=…> anchors unclosed, and the
            # parser then wraps the whole post in them (bbs.zol.com.cn).
            self.walk(child, in_link or (tag == "a" and "href" in child.attributes))
            if block:
                self.flush()


def node_blocks(node: LexborNode) -> list[Block]:
    """Split an element's visible text into blocks, one per paragraph-like element or line."""
    collector = _BlockCollector()
    collector.walk(node, node.tag == "a" and "href" in node.attributes)
    collector.flush()
    return collector.blocks


def body_paragraphs(blocks: Iterable[Block]) -> list[str]:
    """Return the article paragraphs among blocks: link lists and boilerplate dropped."""
    return clean_paragraphs(block.text for block in blocks if not block.link_heavy)


# --- publication time ----------------------------------------------------------------------

_DATETIME = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)

# ASP.NET sites print the US form its servers default to: "9/17/2004 5:54:13 AM".
_US_DATETIME = re.compile(
    r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<p>[AaPp][Mm]))?)?"
)


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A wall-clock time read from a page, and whether the page gave the time of day."""

    value: datetime  # naive, Asia/Shanghai wall clock
    has_time: bool


def find_local_times(text: str) -> list[LocalTime]:
    """Return every plausible date or date-time written in text, in order.

    Month-first dates ("9/17/2004 5:54:13 AM") count only where no year-first one is written.
    """
    found = [t for m in _DATETIME.finditer(text) if (t := _local_time(m)) is not None]
    if not found:
        found = [t for m in _US_DATETIME.finditer(text) if (t := _local_time(m)) is not None]
    return found


def _local_time(match: re.Match[str]) -> LocalTime | None:
    """Return the date (and time of day) a date match writes; None if it is no real date."""
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
        clock = time()
        if match["H"] is not None:
            hour = int(match["H"])
            half = (match.groupdict().get("p") or "").lower()  # AM/PM, month-first dates only
            if half:
                hour = hour % 12 + (12 if half == "pm" else 0)
            clock = time(hour, int(match["M"]), int(match["S"] or 0))
    except ValueError:
        return None
    return LocalTime(datetime.combine(day, clock), match["H"] is not None)


def find_local_time(text: str) -> LocalTime | None:
    """Return the first date-time in text, preferring one that gives the time of day."""
    found = find_local_times(text)
    for item in found:
        if item.has_time:
            return item
    return found[0] if found else None


def local_to_utc(value: datetime) -> datetime:
    """Read a naive wall-clock time as Asia/Shanghai and return it as an aware UTC datetime."""
    return value.replace(tzinfo=SHANGHAI).astimezone(UTC)


def date_to_utc(day: date) -> datetime:
    """Return local midnight of a date (a list or URL gives no time) as aware UTC."""
    return local_to_utc(datetime.combine(day, time()))
