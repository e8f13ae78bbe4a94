"""Read any list page: article links by URL shape, link text and list rows; the next page in
every form the Liaoning catalogue shows.

Articles are found by what their URLs look like across the province's CMS families, not by one
site's markup (SOURCES.md §6.3): dated paths (`/YYYYMM/tYYYYMMDD_N.html`, `/YYYY-MM/DD/`,
`/YYYY/MM/DD/`, `/art/YYYY/M/D/`, ln.gov.cn's `/<YYYYMMDDhhmmss+5>/index.shtml`, `/n2/YYYY/MMDD/`,
e-paper `content_N.html`), and failing those a long numeric id with a headline-like link text.
Pagination (SOURCES.md §4): a 下一页 link (its target in `href` or in a `tagname` attribute),
numbered siblings (`index_N.html`, `glist_N.html`, `node_N_M.htm`, `<hex>-N.shtml`,
`pageIndex=N`, e-paper `node_NN.html`), TRS `createPageHTML(total, current, …)`, Enorth
`count_page_list_*.js` with `maxpage`, and a printed page count ("共N页").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from news.ingest.sources import nen
from news.ingest.sources.boilerplate import date_to_utc, local_to_utc, normalize_space
from news.ingest.urls import date_from_url, is_article_url, normalize_url, url_key
from news.models import ListEntry, ListPage, Selectors

# --- article links -------------------------------------------------------------------------

_ARTICLE_SHAPES = (
    re.compile(r"/t(?:19|20)\d{6}_\d+\.s?html?$"),  # TRS t-date (沈阳, 葫芦岛, ln.gov.cn <2022)
    re.compile(r"/(?:19|20)\d{2}-\d{2}/\d{2}/[\w-]*\d+\.s?html?$"),  # Founder content_N.htm
    re.compile(
        r"/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[\w-]*\d+[\w-]*\.s?html?$"
    ),  # /YYYY/MM/DD/, Hanweb /art/
    re.compile(
        r"/(?:19|20)\d{2}/\d{4}/[\w-]*\d+\.s?html?$"
    ),  # 人民网 /n2/YYYY/MMDD/, 千华网, chinanews
    re.compile(r"/20\d{12}\d{5}/(?:index\.s?html?)?$"),  # ln.gov.cn /<YYYYMMDDhhmmss+5>/index.shtml
    re.compile(r"/(?:19|20)\d{4}/\d{2}/content_\d+\.html?$"),  # e-papers con/YYYYMM/DD/content_N
    re.compile(r"/(?:19|20)\d{4}/\d{2}/c\d+\.html?$"),  # 朝阳日报 e-paper content/YYYYMM/DD/cN
    re.compile(r"/content/(?:19|20)\d{2}/\d{4,}\.html?$"),  # 阜新 /content/YYYY/N.html
    re.compile(r"/(?:19|20)\d{6}/[0-9a-fA-F-]{8,}\.html?$"),  # Epoint /YYYYMMDD/<uuid>.html
    re.compile(
        r"/(?:19|20)\d{2}-\d{2}-\d{2}/[0-9a-fA-F-]{8,}\.html?$"
    ),  # Epoint /YYYY-MM-DD/<uuid>
    re.compile(r"/(?:19|20)\d{4}/\d{10,}\.html?$"),  # 朝阳 /html/CYSZF/YYYYMM/<16 digits>.html
)
# A weaker shape: a page name with a run of five or more digits (VSB /info/1012/75518.htm,
# 铁岭 /…/1366950/index.html); only with a headline-like link text (SOURCES.md §6.3).
_LONG_ID = re.compile(r"\d{5,}")
_PAGE_SUFFIX = re.compile(r"(?:\.s?html?|/)$")
_NOT_NEWS = re.compile(r"/(?:zfxxgk|zhuanti|zt|ztzl|search|login|zwfw)(?:/|$)", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_WEAK_TITLE_MIN, _WEAK_TITLE_MAX = 8, 80
_MIN_TITLE = 4


def is_article_link(url: str) -> bool:
    """Tell whether a URL has an article's shape in one of the province's CMS families."""
    path = urlsplit(url).path
    if _NOT_NEWS.search(path):
        return False
    return is_article_url(url) or any(shape.search(path) for shape in _ARTICLE_SHAPES)


def _maybe_article(url: str) -> bool:
    """Tell whether a URL may be an article: a known shape, or a page name with a long id."""
    if is_article_link(url):
        return True
    path = urlsplit(url).path
    if _NOT_NEWS.search(path) or _PAGE_SUFFIX.search(path) is None:
        return False
    if page_parts(url) is not None:
        # A list page name (index.html …) is an article only inside a folder named by an id.
        return _LONG_ID.search(path.rsplit("/", 1)[0]) is not None
    return _LONG_ID.search(path) is not None


def _headline_like(title: str) -> bool:
    return _WEAK_TITLE_MIN <= len(title) <= _WEAK_TITLE_MAX and _CJK.search(title) is not None


# Hanweb (dl.gov.cn) writes a column's first records into the page as XML CDATA, which an HTML
# parser keeps as script text (SOURCES.md §2 大连, I4).
_CDATA_RECORD = re.compile(
    r"<record>\s*<!\[CDATA\[(?P<html>(?:(?!\]\]>).)*)\]\]>\s*</record>", re.DOTALL
)


def _roots(html: str, root: LexborNode, selectors: Selectors) -> list[LexborNode]:
    """Return the nodes to look for article links in: the selected containers, or the page."""
    nodes: list[LexborNode] = []
    if selectors.links:
        for selector in split_selectors(selectors.links):
            nodes.extend(root.css(selector))
    if not nodes:
        nodes = [root]
    records = "".join(match.group("html") for match in _CDATA_RECORD.finditer(html))
    if records:
        fragment = LexborHTMLParser(f"<ul>{records}</ul>").root
        if fragment is not None:
            nodes.append(fragment)
    return nodes


_SECOND_LEVEL = frozenset({"com", "gov", "org", "net", "edu", "ac"})


def site_of(url: str) -> str:
    """Return a URL's site: its registrable domain (syd.com.cn), or the host of an address."""
    host = (urlsplit(url).hostname or "").lower()
    labels = host.split(".")
    if host.replace(".", "").isdigit() or len(labels) <= 2:
        return host
    keep = 3 if labels[-1] == "cn" and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def same_site(url: str, other: str) -> bool:
    """Tell whether two URLs belong to one site (news.syd.com.cn and www.syd.com.cn do)."""
    return site_of(url) == site_of(other)


def split_selectors(value: str) -> list[str]:
    """Split a selector list "a, b" into its alternatives, tried in order."""
    return [part.strip() for part in value.split(",") if part.strip()]


def list_entries(
    html: str, root: LexborNode, url: str, selectors: Selectors
) -> tuple[ListEntry, ...]:
    """Return one entry per distinct article link, in page order, dated from its row or URL."""
    entries: dict[str, ListEntry] = {}
    for node in _roots(html, root, selectors):
        for anchor in node.css("a[href]"):
            target = nen.absolute_url(anchor.attributes.get("href"), url)
            if target is None or not _maybe_article(target):
                continue
            key = url_key(target)
            if key in entries or key == url_key(url):
                continue
            title = nen.entry_title(anchor)
            strong = is_article_link(target)
            if len(title) < _MIN_TITLE or (not strong and not _headline_like(title)):
                continue  # image links, "更多", and long-id links that read as no headline
            if not same_site(target, url) and not (strong and _headline_like(title)):
                continue  # another site's service links (市长信箱): only its headlines count
            entries[key] = ListEntry(
                url=normalize_url(target),
                title=title,
                published_at=_entry_date(anchor, key, url, target),
            )
    return tuple(entries.values())


def _entry_date(anchor: LexborNode, key: str, base: str, target: str) -> datetime | None:
    when = nen.entry_time(anchor, key, base, is_article_link)
    if when is not None:
        return local_to_utc(when.value)
    day = date_from_url(target)
    return date_to_utc(day) if day is not None else None


# --- pagination ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PagePart:
    """Where a list page sits in its series: the series key and its number (first page 0)."""

    series: str
    number: int
    # VSB (博达) numbers its pages down: zwyw.htm, then zwyw/283.htm, zwyw/282.htm …
    descending: bool = False


_LIST_NAME = re.compile(
    r"^(?P<dir>.*/)(?P<name>index|indexHome|list|glist|more|moreinfo|default)"
    r"(?:_(?P<n>\d{1,4}))?\.(?P<ext>s?html?)$"
)
_FOUNDER = re.compile(r"^(?P<stem>.*/node_\d+)(?:_(?P<n>\d{1,4}))?\.htm$")
_EPAPER_NODE = re.compile(r"^(?P<dir>.*/)node_(?P<n>\d{1,3})\.html$")
_HEX_PAGE = re.compile(r"^(?P<dir>.*/)(?P<hex>[0-9a-f]{8})-(?P<n>\d{1,4})\.shtml$")
_VSB_PAGE = re.compile(r"^(?P<dir>.*/(?P<name>[A-Za-z][\w-]*))/(?P<n>\d{1,4})\.htm$")
_VSB_FIRST = re.compile(r"^(?P<dir>.*/(?P<name>[A-Za-z][\w-]*))\.htm$")
_TOP = 10**9  # the unnumbered first page of a series numbered down
_PAGE_PARAMS = ("pageindex", "pageno", "page", "pagenum", "curpage")


def page_parts(url: str) -> PagePart | None:
    """Place a list page URL in its numbered series, or None when it is no list page name."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    query = parse_qsl(parts.query, keep_blank_values=True)
    page = next(((k, v) for k, v in query if k.lower() in _PAGE_PARAMS and v.isdigit()), None)
    rest = urlencode([(k, v) for k, v in query if page is None or k != page[0]])
    suffix = f"?{rest}" if rest else ""
    if page is not None:
        return PagePart(f"{host}{parts.path}{suffix}", int(page[1]))
    path = parts.path
    if match := _LIST_NAME.match(path):
        series = f"{host}{match['dir']}{match['name']}.{match['ext']}{suffix}"
        return PagePart(series, int(match["n"] or 0))
    if match := _FOUNDER.match(path):
        return PagePart(f"{host}{match['stem']}.htm{suffix}", int(match["n"] or 0))
    if match := _EPAPER_NODE.match(path):
        return PagePart(f"{host}{match['dir']}node{suffix}", int(match["n"]))
    if match := _HEX_PAGE.match(path):
        return PagePart(f"{host}{match['dir']}{match['hex']}{suffix}", int(match["n"]))
    if match := _VSB_PAGE.match(path):
        return PagePart(f"{host}{match['dir']}.htm{suffix}", int(match["n"]), descending=True)
    return None


def _first_page_of_query(url: str) -> PagePart:
    """Place a list URL without a page parameter (page 0 of a `pageIndex=` series)."""
    parts = urlsplit(url)
    rest = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return PagePart(f"{parts.netloc.lower()}{parts.path}{'?' + rest if rest else ''}", 0)


def _same_series(url: str, target: str) -> tuple[PagePart, PagePart] | None:
    here, there = page_parts(url), page_parts(target)
    if there is None:
        return None
    if here is None:
        # The first page of a series often has another name: index.html (TRS), glist.html,
        # moreinfo.html without pageIndex, zwyw.htm (VSB, then zwyw/5.htm).
        vsb = _VSB_FIRST.match(urlsplit(url).path)
        if vsb is not None and urlsplit(target).path.startswith(vsb["dir"] + "/"):
            here = PagePart(there.series, _TOP, descending=True)
        else:
            here = _first_page_of_query(url)
    if _query_page(target) and not _query_page(url):
        # moreinfo.html is page 1 of moreinfo.html?categoryNum=…&pageIndex=N (Epoint): a
        # page-number parameter counts from 1, and the first page is written without it (and
        # sometimes without the category, which the pager's links then carry).
        parts = urlsplit(url)
        bare = f"{parts.netloc.lower()}{parts.path}"
        if there.series == _first_page_of_query(url).series or (
            not parts.query and there.series.split("?", 1)[0] == bare
        ):
            here = PagePart(there.series, 1)
    return (here, there) if here.series == there.series else None


def _query_page(url: str) -> bool:
    return any(k.lower() in _PAGE_PARAMS for k, _ in parse_qsl(urlsplit(url).query))


_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(?P<total>\d+)['\"]?\s*,\s*['\"]?(?P<current>\d+)['\"]?\s*,"
    r"\s*['\"](?P<name>[\w-]+)['\"]\s*,\s*['\"](?P<ext>\w+)['\"]"
)
_PAGE_COUNT = re.compile(r"共\s*(?P<n>\d{1,5})\s*页|totalPage\s*[:=]\s*['\"]?(?P<m>\d{1,5})")
_NEXT_TITLE = frozenset({"下一页", "下页", "后页", "next"})


def _link_targets(root: LexborNode, url: str) -> list[tuple[str, LexborNode]]:
    """Return every (target, node) a list page links to: hrefs, `tagname` targets, options."""
    found: list[tuple[str, LexborNode]] = []
    for node in root.css("a[href], a[tagname], [tagname], option[value]"):
        for attribute in ("href", "tagname", "value"):
            target = nen.absolute_url(node.attributes.get(attribute), url)
            if target is not None:
                found.append((target, node))
    return found


def _is_next_control(node: LexborNode) -> bool:
    text = normalize_space(node.text(deep=True)).lower()
    title = normalize_space(node.attributes.get("title") or "").lower()
    return text in nen.NEXT_TEXTS or title in _NEXT_TITLE


def _later(url: str, target: str) -> int | None:
    """Return how far on target is in this page's series (> 0: later), None if not in it."""
    pair = _same_series(url, target)
    if pair is None:
        return None
    here, there = pair
    return here.number - there.number if there.descending else there.number - here.number


def _built_next(html: str, url: str) -> str | None:
    """Build the next page from a TRS createPageHTML call or a printed page count."""
    parts = urlsplit(url)
    if match := _CREATE_PAGE.search(html):
        total, current = int(match["total"]), int(match["current"])
        if current + 1 < total:
            return urljoin(url, f"{match['name']}_{current + 1}.{match['ext']}")
        return None
    count = _PAGE_COUNT.search(html)
    if count is None:
        return None
    total = int(count["n"] or count["m"])
    here = page_parts(url)
    number = here.number if here is not None else 0
    # Page numbers shown to readers start at 1; a series' first page is 0 or 1 by its name.
    shown = number if number >= 1 else 1
    if shown >= total:
        return None
    path = parts.path
    if any(k.lower() in _PAGE_PARAMS for k, _ in parse_qsl(parts.query)):
        query = [
            (k, str(shown + 1) if k.lower() in _PAGE_PARAMS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))
    if match := _LIST_NAME.match(path):
        name = f"{match['name']}_{shown + 1}.{match['ext']}"
        return urlunsplit((parts.scheme, parts.netloc, str(match["dir"]) + name, "", ""))
    if match := _FOUNDER.match(path):
        page = f"{match['stem']}_{shown + 1}.htm"
        return urlunsplit((parts.scheme, parts.netloc, page, "", ""))
    return None


def next_list_page(html: str, root: LexborNode, url: str, selectors: Selectors) -> str | None:
    """Return the list page after this one, or None at the end (never one at or before it)."""
    here_key = url_key(url)
    here = page_parts(url)

    def forward(target: str) -> bool:
        """A next page moves on: not this page, not back to an earlier one (a loop to page 1)."""
        if url_key(target) == here_key:
            return False
        there = page_parts(target)
        if here is not None and there is not None and there.number == 0 and here.number > 0:
            return False  # back to a series' unnumbered first page
        step = _later(url, target)
        return step is None or step > 0

    if selectors.next:
        for selector in split_selectors(selectors.next):
            for node in root.css(selector):
                for attribute in ("tagname", "href"):
                    target = nen.absolute_url(node.attributes.get(attribute), url)
                    if target is not None and forward(target):
                        return target
    targets = _link_targets(root, url)
    # 1. A 下一页 control (ln.gov.cn keeps its target in `tagname`, its href is "javascript:").
    for target, node in targets:
        if _is_next_control(node) and forward(target):
            return target
    # 2. The nearest later page of the same series that the pager links to.
    numbered: dict[int, str] = {}
    for target, _node in targets:
        step = _later(url, target)
        if step is not None and step > 0:
            numbered.setdefault(step, target)
    if numbered:
        return numbered[min(numbered)]
    # 3. Enorth's count_page_list_*.js (and its archive pages c…_N.shtml).
    enorth = nen.next_list_pages(root, url)
    for target in enorth:
        if forward(target):
            return target
    # 4. A page built from a script or a printed page count.
    built = _built_next(html, url)
    return built if built is not None and forward(built) else None


def parse_list(html: str, url: str, selectors: Selectors | None = None) -> ListPage:
    """Parse a list page of any family into its article links and the page after it."""
    selectors = selectors or Selectors()
    head = html[:4096].lower()
    if "<html" not in head and "<body" not in head and "maxpage" in html:
        return nen.parse_list(html, url)  # an Enorth page-count script
    root = LexborHTMLParser(html).root
    if root is None:
        return ListPage(entries=())
    entries = list_entries(html, root, url, selectors)
    following = next_list_page(html, root, url, selectors)
    return ListPage(entries=entries, next_pages=(following,) if following else ())


ListParser = Callable[[str, str], ListPage]
