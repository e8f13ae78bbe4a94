"""URL canonicalisation, dedup keys and the nen.com.cn article URL patterns."""

from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import unquote_plus, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived (WeChat, Weibo and app shares append them to
# nen.com.cn links); they never select different content.
_TRACKING_PARAMS = frozenset(
    {
        "spm",
        "from",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "wfr",
        "share_token",
        "sharer_shareid",
        "sharer_sharetime",
        "share_from",
        "sharefrom",
        "timestamp",
        "fbclid",
        "gclid",
        "_hsenc",
        "_hsmi",
        "mc_cid",
        "mc_eid",
        "srcid",
        "vd_source",
        "tt_from",
    }
)
_TRACKING_PREFIXES = ("utm_",)

# Current CMS: /network/<section path>/YYYY/MM/DD/<18-digit id>.shtml
_NETWORK_ARTICLE = re.compile(
    r"/network/(?:[\w.-]+/)+(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/\d{6,}\.shtml$"
)
# Enorth (2005–2018) and people.com.cn-like (2019–2021): /system/YYYY/MM/DD/<id>[_NN].shtml
_SYSTEM_ARTICLE = re.compile(
    r"/system/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/\d{6,}(?:_\d{1,3})?\.shtml$"
)
# Enorth continuation pages: 020393419_01.shtml is page 2 of 020393419.shtml.
ENORTH_PAGE = re.compile(
    r"(?P<stem>/system/\d{4}/\d{2}/\d{2}/\d{6,})(?:_(?P<page>\d{1,3}))?\.shtml$"
)

# Date folders other regional CMSs use, for date_from_url on pages without a profile.
_URL_DATES = (
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})/(?P<d>\d{2})/"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})/(?P<d>\d{2})/"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{2})(?P<d>\d{2})/"),
    re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})/"),
    re.compile(r"/t(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})_"),
    # Epoint: /govxxgk/ykszf/2026-04-27/<uuid>.html
    re.compile(r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})/"),
    # ln.gov.cn's current CMS: /web/<section>/<YYYYMMDDhhmmss + 5 digits>/index.shtml
    re.compile(r"/(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})\d{11}(?:/|$)"),
    # ln.cri.cn: /YYYYMMDD/<uuid>.html; 人民网 /n2/YYYY/MMDD/c…-….html is the /YYYY/MMDD/ form.
    re.compile(r"/(?P<y>20\d{2})(?P<m>\d{2})(?P<d>\d{2})/[0-9a-f-]{8,}\.html$"),
)


def _netloc(scheme: str, url: str) -> str:
    """Rebuild the authority part: lowercase host, default port dropped, userinfo kept."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username if parts.password is None else f"{parts.username}:{parts.password}"
        netloc = f"{auth}@{netloc}"
    return netloc


def _is_tracking(name: str) -> bool:
    """Tell whether a query parameter only tracks the referrer."""
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Return the canonical form of a URL: clean host, no fragment or tracking, Enorth page 1."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = _netloc(scheme, url) if parts.netloc else ""
    path = parts.path or ("/" if netloc else "")
    page = ENORTH_PAGE.search(path)
    if page is not None and page.group("page") is not None:
        # Page 2.. of an Enorth article is the same article as page 1.
        path = path[: page.start()] + page.group("stem") + ".shtml"
    # Filter raw "name=value" segments so the kept ones stay byte-for-byte as the site wrote them.
    query = "&".join(
        segment
        for segment in parts.query.split("&")
        if segment and not _is_tracking(unquote_plus(segment.split("=", 1)[0]))
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(url: str) -> str:
    """Return a dedup key for a URL: its normal form with http and https treated as one."""
    normal = normalize_url(url)
    scheme, sep, rest = normal.partition("://")
    return f"//{rest}" if sep and scheme in _DEFAULT_PORTS else normal


def is_article_url(url: str) -> bool:
    """Tell whether a URL has the shape of a nen.com.cn article (any era, any host)."""
    path = urlsplit(url).path
    return _NETWORK_ARTICLE.search(path) is not None or _SYSTEM_ARTICLE.search(path) is not None


def _valid_date(year: str, month: str, day: str) -> date | None:
    """Build a date from URL digits, None when they do not form a plausible one."""
    try:
        result = date(int(year), int(month), int(day))
    except ValueError:
        return None
    return result if 1995 <= result.year <= 2100 else None


def date_from_url(url: str) -> date | None:
    """Return the publication date encoded in an article URL's folders, if any."""
    path = urlsplit(url).path
    for pattern in (_NETWORK_ARTICLE, _SYSTEM_ARTICLE, *_URL_DATES):
        match = pattern.search(path)
        if match is not None:
            found = _valid_date(match.group("y"), match.group("m"), match.group("d"))
            if found is not None:
                return found
    return None


def enorth_page_number(url: str) -> int | None:
    """Return 0 for an Enorth article's first page, N for its _0N continuation, else None."""
    match = ENORTH_PAGE.search(urlsplit(url).path)
    if match is None:
        return None
    return int(match.group("page") or 0)
