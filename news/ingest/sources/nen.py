"""Profile "nen": article and list pages of 东北新闻网 (nen.com.cn), all three template eras.

Templates are told apart by markup, never by host (tests serve the pages from 127.0.0.1):
- current CMS (2021–): .xwzw_title, .xwzw_t1 span.fontSize, .xwzw_t2, related div.list ul;
- people.com.cn-like (2019–2021): div.text_title h1, div.box01 div.fl, div#rwb_zw, div.edit;
- Enorth WebPublisher (2005–2018): .contentt or h1, .contenttime, .contentcon, [责任编辑：X],
  continuation pages _01.shtml, _02.shtml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from news.ingest.errors import ParseError
from news.ingest.sources.boilerplate import (
    LocalTime,
    body_paragraphs,
    date_to_utc,
    editor_from_line,
    editor_from_paragraphs,
    find_local_time,
    has_article_text,
    local_to_utc,
    node_blocks,
    normalize_space,
    reporter_from_paragraphs,
)
from news.ingest.urls import date_from_url, is_article_url, normalize_url, url_key
from news.models import Link, ListEntry, ListPage, ParsedArticle

logger = logging.getLogger(__name__)

NAME = "nen"

# "来源：辽宁日报" — the value ends at the next field label or at a run of spaces.
_SOURCE = re.compile(r"来源\s*[:：]\s*(?P<source>[^\s|｜]+(?:[ \-][^\s|｜:：]+)?)")
_SOURCE_STOP = re.compile(r"\s*(?:作者|编辑|责任编辑|记者|点击|浏览|字号|分享)[:：]?.*$")
_AUTHOR = re.compile(r"作者\s*[:：]\s*(?P<author>[^\s|｜]+)")
_ENORTH_EDITOR = re.compile(r"[\[【]\s*责任编辑\s*[:：]\s*(?P<name>[^\]】]{1,30}?)\s*[\]】]")

# Page names: Enorth 020393419_01.shtml (page 2 of 020393419.shtml); people.com.cn-like
# c1013-31153719-2.html (page 2 of c1013-31153719.html).
_ENORTH_PAGE = re.compile(r"^(?P<stem>.*/\d{6,})(?:_(?P<page>\d{1,3}))?\.shtml$")
_PEOPLE_PAGE = re.compile(r"^(?P<stem>.*/c\d+-\d+)(?:-(?P<page>\d{1,3}))?\.html$")
_LATER_PAGE_HREF = re.compile(r"(?:_\d{1,3}\.shtml|-\d{1,3}\.html)\s*(?:[?#].*)?$")

_TITLE_SUFFIX = re.compile(r"\s*(?:[-_|—]+\s*[^-_|—]{1,12}){0,3}\s*[-_|—]+\s*东北新闻网\s*$")
_HEADING_MAX_RAW = 60  # a box heading with its markup whitespace; longer text is a container
_CRUMB_LABEL = re.compile(r"(?:您当前的位置|当前位置|您的位置|所在位置)\s*[:：]?")
_RELATED_HEADING = re.compile(
    r"^\s*(?:相关新闻|相关链接|相关阅读|相关报道|延伸阅读|相关文章)\s*[:：]?\s*$"
)

# Link texts that say "more", not what the article is: keep looking for a real title.
_WEAK_TITLES = frozenset(
    {"查阅全文", "全文", "详细", "【详细】", "详情", "更多", "更多>>", "阅读全文", "查看全文",
     "阅读原文", "more", "more>>", ">>"}
)  # fmt: skip
NEXT_TEXTS = frozenset({"下一页", "下页", "后页", "next", "»", "下一页>", "下一页>>"})

# Enorth list pagination: the list page loads count_page_list_<channel>.js, which knows the page
# count; page N of the archive is /system/count//<ch7>/<12 digits>/<aaa>/<bbb>/c<ch19>_<N:09>.shtml
# where aaa/bbb are the first two digit groups of N.
_COUNT_JS = re.compile(r"count_page_list_(?P<channel>\d{19})\.js")
_COUNT_PAGE = re.compile(r"/c(?P<channel>\d{19})_(?P<page>\d{9})\.shtml$")
_MAXPAGE = re.compile(r"maxpage\s*=\s*(?P<n>\d+)")


@dataclass
class _Fields:
    """What a template yields before the shared clean-up and validation."""

    template: str
    title: str
    body: LexborNode | None
    subtitle: str = ""
    when: LocalTime | None = None
    source: str = ""
    editor: str = ""
    reporter: str = ""
    channel: str = ""
    related: list[Link] = field(default_factory=list)


def _text(node: LexborNode | None) -> str:
    """Return the normalised visible text of a node ("" for None)."""
    if node is None:
        return ""
    return " ".join(block.text for block in node_blocks(node))


def _link_text(anchor: LexborNode) -> str:
    """Return the text of a link (inline content: no block structure to keep)."""
    return normalize_space(anchor.text(deep=True))


def _first_text(root: LexborNode, *selectors: str) -> str:
    """Return the text of the first selector that matches a node with text."""
    for selector in selectors:
        for node in root.css(selector):
            text = _text(node)
            if text:
                return text
    return ""


def _source_from(text: str) -> str:
    """Return the 来源 named in a meta line, or ""."""
    match = _SOURCE.search(text)
    if match is None:
        return ""
    return _SOURCE_STOP.sub("", match.group("source")).strip()


def absolute_url(href: str | None, base: str) -> str | None:
    """Resolve a link against the page URL; return None for anchors, scripts and mail links."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    try:
        resolved = urljoin(base, href)
        scheme = urlsplit(resolved).scheme
    except ValueError:  # e.g. an unbalanced "[" in a hand-typed href: skip the link, not the page
        return None
    return resolved if scheme in ("http", "https") else None


def _links(nodes: Iterable[LexborNode], base: str) -> list[Link]:
    """Return the distinct absolute links with text found under nodes."""
    seen: set[str] = set()
    result: list[Link] = []
    for node in nodes:
        for anchor in node.css("a[href]"):
            target = absolute_url(anchor.attributes.get("href"), base)
            title = _link_text(anchor) or normalize_space(anchor.attributes.get("title") or "")
            if target is None or not title:
                continue
            key = url_key(target)
            if key not in seen:
                seen.add(key)
                result.append(Link(url=target, title=title))
    return result


def _crumbs(nodes: Iterable[LexborNode]) -> str:
    """Return a breadcrumb as "频道 > 栏目", leaving out the site's home link."""
    for node in nodes:
        names = [_link_text(anchor) for anchor in node.css("a")]
        names = [name for name in names if name]
        if len(names) >= 2:
            return " > ".join(names[1:])
        if names:
            return names[0]
    return ""


def breadcrumb_by_label(root: LexborNode) -> str:
    """Find the "您当前的位置" line of a page and return its channel path."""
    for node in root.css(':lexbor-contains("位置")'):
        if _CRUMB_LABEL.search(node.text(deep=False)):  # the label is the node's own text
            return _crumbs([node])
    return ""


def _current(root: LexborNode, url: str) -> _Fields:
    """Read the current CMS template (2021–)."""
    title = _first_text(root, ".xwzw_title")
    head = root.css_first(".list_h")
    subtitle = _first_text(head, "h2", "h3") if head is not None else ""
    when: LocalTime | None = None
    source = ""
    for span in root.css(".xwzw_t1 span.fontSize"):
        text = _text(span)
        when = when or find_local_time(text)
        source = source or _source_from(text)
    body = root.css_first(".xwzw_t2")
    related: list[Link] = []
    if body is not None and body.parent is not None:
        # Only the div.list beside the body: the SSI header has lists of its own.
        siblings = [
            child
            for child in body.parent.iter()
            if child.tag == "div" and "list" in (child.attributes.get("class") or "").split()
        ]
        related = _links(siblings, url)
    channel = _crumbs(root.css(".t_fbh_st")) or breadcrumb_by_label(root)
    return _Fields("current", title, body, subtitle, when, source, channel=channel, related=related)


def _people(root: LexborNode, url: str) -> _Fields:
    """Read the people.com.cn-like template nen.com.cn used in 2019–2021."""
    title = _first_text(root, ".text_title h1", "h1")
    subtitle = _first_text(root, ".text_title .sub", ".text_title h2")
    meta = _first_text(root, ".text_title .box01 .fl", ".box01 .fl", ".box01")
    reporter_line = _first_text(root, ".text_title .author")
    body = root.css_first("#rwb_zw") or root.css_first(".box_con")
    editor = ""
    for node in root.css(".edit"):
        editor = editor_from_line(_text(node)) or editor
    return _Fields(
        "people",
        title,
        body,
        subtitle,
        find_local_time(meta),
        _source_from(meta),
        editor=editor,
        reporter=reporter_from_paragraphs([reporter_line]) if reporter_line else "",
        channel=_crumbs(root.css("#rwb_navpath")) or breadcrumb_by_label(root),
        related=_links(root.css(".box_news"), url),
    )


def _enorth_related(root: LexborNode, url: str) -> list[Link]:
    """Collect the links listed under a 相关新闻 / 相关链接 heading."""
    containers: list[LexborNode] = []
    # lexbor's own :lexbor-contains() finds the few candidate nodes without a Python-side walk.
    for node in root.css(':lexbor-contains("相关"), :lexbor-contains("延伸阅读")'):
        text = node.text(deep=True)
        if len(text) <= _HEADING_MAX_RAW and _RELATED_HEADING.match(normalize_space(text)):
            box = node.parent
            # Climb to the element that also holds the list of links.
            while box is not None and not box.css("a[href]"):
                box = box.parent
            if box is not None:
                containers.append(box)
    return _links(containers, url)


def _enorth(root: LexborNode, url: str) -> _Fields:
    """Read the Enorth WebPublisher template (2005–2018)."""
    title = _first_text(root, ".contentt", "h1")
    if not title:
        title = _TITLE_SUFFIX.sub("", _first_text(root, "title"))
    meta = _first_text(root, ".contenttime")
    body = root.css_first(".contentcon")
    editor = ""
    match = _ENORTH_EDITOR.search(root.text(separator=" "))
    if match is not None:
        editor = normalize_space(match.group("name"))
    author = _AUTHOR.search(meta)
    return _Fields(
        "enorth",
        title,
        body,
        when=find_local_time(meta),
        source=_source_from(meta),
        editor=editor,
        reporter=author.group("author") if author else "",
        channel=breadcrumb_by_label(root),
        related=_enorth_related(root, url),
    )


_TEMPLATES: tuple[tuple[str, Callable[[LexborNode, str], _Fields]], ...] = (
    (".xwzw_title, .xwzw_t2", _current),
    ("div.text_title, #rwb_zw", _people),
    (".contentcon, .contenttime, .contentt", _enorth),
)


def _page_parts(url: str) -> tuple[str, int] | None:
    """Split an article URL into its page-independent stem and page index (first page = 0)."""
    parts = urlsplit(url)
    for pattern, first_index in ((_ENORTH_PAGE, 0), (_PEOPLE_PAGE, 1)):
        match = pattern.match(parts.path)
        if match is not None:
            page = int(match.group("page") or first_index)
            stem = urlunsplit((parts.scheme, parts.netloc, match.group("stem"), "", ""))
            return url_key(stem), page - first_index
    return None


def continuations(root: LexborNode, url: str) -> tuple[str, ...]:
    """Return the absolute URLs of this article's later pages that the page links to."""
    here = _page_parts(url)
    if here is None:
        return ()
    stem, index = here
    pages: dict[int, str] = {}
    for anchor in root.css("a[href]"):
        href = anchor.attributes.get("href") or ""
        if not _LATER_PAGE_HREF.search(href):
            continue  # cheap test first: resolving every link of a page costs more than parsing
        target = absolute_url(href, url)
        if target is None:
            continue
        there = _page_parts(target)
        if there is not None and there[0] == stem and there[1] > index:
            pages.setdefault(there[1], target.split("#", 1)[0])
    return tuple(pages[number] for number in sorted(pages))


def _published_at(fields: _Fields, url: str) -> datetime:
    """Return the article time as aware UTC, from the page or else from the URL's date."""
    if fields.when is not None:
        return local_to_utc(fields.when.value)
    day = date_from_url(url)
    if day is None:
        raise ParseError(f"no publication time on {fields.template} page {url}")
    logger.debug("no time on page, using the URL date for %s", url)
    return date_to_utc(day)


def parse_article(html: str, url: str) -> ParsedArticle:
    """Parse a nen.com.cn article page of any era; raise ParseError if it is not one."""
    root = LexborHTMLParser(html).root
    if root is None:
        raise ParseError(f"empty document: {url}")
    for selector, reader in _TEMPLATES:
        if root.css_first(selector) is not None:
            fields = reader(root, url)
            break
    else:
        raise ParseError(f"not a nen.com.cn article page (no known template): {url}")
    if not fields.title:
        raise ParseError(f"no headline on {fields.template} page {url}")
    if fields.body is None:
        raise ParseError(f"no article body on {fields.template} page {url}")
    blocks = node_blocks(fields.body)
    paragraphs = body_paragraphs(blocks)
    if not has_article_text(paragraphs):
        raise ParseError(f"no article text (video, image or empty page) on {url}")
    editor = fields.editor or editor_from_paragraphs(block.text for block in blocks)
    return ParsedArticle(
        url=url,
        title=fields.title,
        published_at=_published_at(fields, url),
        paragraphs=tuple(paragraphs),
        subtitle=fields.subtitle,
        source=fields.source,
        editor=editor,
        reporter=reporter_from_paragraphs(paragraphs) or fields.reporter,
        channel=fields.channel,
        related=tuple(fields.related),
        continuation_urls=continuations(root, url),
    )


def join_pages(first: ParsedArticle, more: list[ParsedArticle]) -> ParsedArticle:
    """Join an article's continuation pages onto its first page, in page order."""
    here = _page_parts(first.url)
    ordered: list[tuple[int, ParsedArticle]] = []
    for position, page in enumerate(more):
        there = _page_parts(page.url)
        if here is not None and (there is None or there[0] != here[0]):
            raise ValueError(f"{page.url} is not a page of {first.url}")
        ordered.append((there[1] if there is not None else position + 1, page))
    ordered.sort(key=lambda item: item[0])
    pages = [first, *(page for _, page in ordered)]

    paragraphs: list[str] = []
    related: list[Link] = []
    seen_related: set[str] = set()
    for page in pages:
        for text in page.paragraphs:
            if not paragraphs or paragraphs[-1] != text:
                paragraphs.append(text)
        for link in page.related:
            if url_key(link.url) not in seen_related:
                seen_related.add(url_key(link.url))
                related.append(link)
    joined = {_page_key(page.url) for page in pages}
    pending: list[str] = []
    for page in pages:
        for target in page.continuation_urls:
            if _page_key(target) not in joined and target not in pending:
                pending.append(target)
    return replace(
        first,
        paragraphs=tuple(paragraphs),
        editor=next((page.editor for page in pages if page.editor), ""),
        reporter=next((page.reporter for page in pages if page.reporter), ""),
        related=tuple(related),
        continuation_urls=tuple(pending),
    )


def _page_key(url: str) -> str:
    """Return a key telling pages apart (url_key folds an Enorth _01 page into its first)."""
    parts = _page_parts(url)
    return f"{parts[0]}#{parts[1]}" if parts is not None else url_key(url)


# --- list pages ----------------------------------------------------------------------------


def entry_title(anchor: LexborNode) -> str:
    """Return the best title of a list link: its text, or its title attribute when truncated."""
    text = _link_text(anchor)
    attr = normalize_space(anchor.attributes.get("title") or "")
    if text in _WEAK_TITLES:
        text = ""
    if attr and (not text or (text.endswith(("...", "…", "..")) and len(attr) > len(text))):
        return attr
    return text


def entry_time(
    anchor: LexborNode,
    target_key: str,
    base: str,
    is_article: Callable[[str], bool] = is_article_url,
) -> LocalTime | None:
    """Read the date printed beside a list link, if its row holds no other article."""
    node = anchor.parent
    for _ in range(3):
        if node is None:
            return None
        if node.tag in ("li", "dl", "tr", "dd", "p"):
            break
        node = node.parent
    else:
        return None
    if node is None:
        return None
    targets = (absolute_url(a.attributes.get("href"), base) for a in node.css("a[href]"))
    keys = {url_key(target) for target in targets if target is not None and is_article(target)}
    others = keys - {target_key}
    if others:
        return None
    return find_local_time(_text(node))


def _count_page_url(base: str, channel: str, page: int) -> str:
    """Build the URL of page N of an Enorth channel archive on the host of base."""
    digits = f"{page:09d}"
    parts = urlsplit(base)
    prefix = parts.path.split("/system/count/", 1)[0]  # some sites live under /ch112/…
    folder = f"{channel[:7]}/{channel[7:]}/{digits[:3]}/{digits[3:6]}"
    # The double slash after count/ is how the site's own script writes these URLs.
    path = f"{prefix}/system/count//{folder}/c{channel}_{digits}.shtml"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _parse_count_js(text: str, url: str) -> ListPage:
    """Turn an Enorth count_page_list_*.js into the archive's newest page to read next."""
    channel = _COUNT_JS.search(url)
    maxpage = _MAXPAGE.search(text)
    if channel is None or maxpage is None or int(maxpage.group("n")) < 1:
        logger.warning("Enorth page-count script without maxpage: %s", url)
        return ListPage(entries=())
    return ListPage(
        entries=(),
        next_pages=(_count_page_url(url, channel.group("channel"), int(maxpage.group("n"))),),
    )


def next_list_pages(root: LexborNode, url: str) -> tuple[str, ...]:
    """Return the list pages that follow this one (Enorth archive pages, "下一页" links)."""
    pages: list[str] = []
    here = url_key(url)
    count_page = _COUNT_PAGE.search(urlsplit(url).path)
    if count_page is not None:
        # An archive page c<ch>_<N>.shtml is followed by the older page N-1.
        number = int(count_page.group("page"))
        if number > 1:
            pages.append(_count_page_url(url, count_page.group("channel"), number - 1))
    else:
        for script in root.css("script[src]"):
            src = absolute_url(script.attributes.get("src"), url)
            if src is not None and _COUNT_JS.search(src):
                # The count script belongs to the list's own site even when written with an
                # absolute host: keep the page's origin, so a list served from a mirror (or a
                # test server) keeps paging there.
                pages.append(urljoin(url, urlsplit(src).path))
    for anchor in root.css("a[href]"):
        if _link_text(anchor).lower() in NEXT_TEXTS:
            target = absolute_url(anchor.attributes.get("href"), url)
            if target is not None and url_key(target) != here:
                pages.append(target)
    return tuple(dict.fromkeys(pages))


def list_entries(
    root: LexborNode, url: str, is_article: Callable[[str], bool], min_title: int = 1
) -> tuple[ListEntry, ...]:
    """Return one entry per distinct article link under root, in page order."""
    entries: dict[str, ListEntry] = {}
    for anchor in root.css("a[href]"):
        target = absolute_url(anchor.attributes.get("href"), url)
        if target is None or not is_article(target):
            continue
        key = url_key(target)
        title = entry_title(anchor)
        if len(title) < min_title or key in entries:
            continue  # image links have no title; "查阅全文" repeats the headline link
        when = entry_time(anchor, key, url, is_article)
        if when is not None:
            published: datetime | None = local_to_utc(when.value)
        else:
            day = date_from_url(target)
            published = date_to_utc(day) if day is not None else None
        entries[key] = ListEntry(url=normalize_url(target), title=title, published_at=published)
    return tuple(entries.values())


def parse_list(html: str, url: str) -> ListPage:
    """Parse a nen.com.cn list page (or an Enorth page-count script) into article links."""
    head = html[:4096].lower()
    if _COUNT_JS.search(urlsplit(url).path) or (
        "<html" not in head and "<body" not in head and _MAXPAGE.search(html)
    ):
        return _parse_count_js(html, url)
    root = LexborHTMLParser(html).root
    if root is None:
        return ListPage(entries=())
    entries = list_entries(root, url, is_article_url)
    if not entries:
        logger.debug("no article links on list page %s", url)
    return ListPage(entries=entries, next_pages=next_list_pages(root, url))
