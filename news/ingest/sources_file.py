"""Read a sources file (the packaged catalogue or NEWSBOT_SOURCES), checked strictly."""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Iterable
from datetime import date
from importlib import resources
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from news.ingest.dated import check_template, dated_list_url, is_dated_list
from news.models import KINDS, REGIONS, SELECTOR_FIELDS, Selectors, SourceConfig

# At most 40 characters: /settings puts a source's name into 64-byte callback data.
NAME_RE = re.compile(r"^[a-z0-9-]{1,40}$")
REQUIRED = ("name", "title", "profile", "lists")
KNOWN_KEYS = frozenset(
    {*REQUIRED, "interval_minutes", "max_pages", "region", "kind", "selectors", "encoding"}
)


CATALOGUE_ORIGIN = "the packaged catalogue (news/ingest/catalogue.toml)"


def catalogue_text() -> str:
    """Return the text of the shipped Liaoning catalogue (package data of news.ingest)."""
    return resources.files("news.ingest").joinpath("catalogue.toml").read_text(encoding="utf-8")


class SourcesError(Exception):
    """The sources file is malformed; the message is one line naming file, source and problem."""


def parse_sources(text: str, origin: str, profiles: Iterable[str]) -> tuple[SourceConfig, ...]:
    """Parse the TOML text of a sources file into source configs, or raise SourcesError."""
    known_profiles = set(profiles)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{origin}: not valid TOML: {exc}") from None
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise SourcesError(f"{origin}: `source` must be an array of tables ([[source]])")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        label = f"source #{index}"
        if not isinstance(table, dict):
            raise SourcesError(f"{origin}: {label}: not a table")
        if isinstance(table.get("name"), str):
            label = f"source {table['name']!r}"
        for key in REQUIRED:
            if key not in table:
                raise SourcesError(f"{origin}: {label}: missing key `{key}`")
        name = table["name"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise SourcesError(f"{origin}: {label}: name must match [a-z0-9-]{{1,40}}")
        if name in seen:
            raise SourcesError(f"{origin}: {label}: duplicate name")
        seen.add(name)
        title = table["title"]
        if not isinstance(title, str) or not title.strip():
            raise SourcesError(f"{origin}: {label}: title must be a non-empty string")
        profile = table["profile"]
        if profile not in known_profiles:
            raise SourcesError(
                f"{origin}: {label}: unknown profile {profile!r} "
                f"(one of: {', '.join(sorted(known_profiles))})"
            )
        lists = table["lists"]
        if not isinstance(lists, list) or not lists or not all(isinstance(u, str) for u in lists):
            raise SourcesError(f"{origin}: {label}: lists must be a non-empty list of URLs")
        for url in lists:
            if "{" in url or "}" in url:
                problem = check_template(url)
                if problem is not None:
                    raise SourcesError(f"{origin}: {label}: list {url!r}: {problem}")
            parts = urlsplit(dated_list_url(url, _SAMPLE_DAY) if is_dated_list(url) else url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SourcesError(f"{origin}: {label}: {url!r} is not an http(s) URL")
        interval = table.get("interval_minutes", 15)
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise SourcesError(f"{origin}: {label}: interval_minutes must be a positive number")
        max_pages = table.get("max_pages", 3)
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
            raise SourcesError(f"{origin}: {label}: max_pages must be a whole number >= 1")
        unknown = sorted(set(table) - KNOWN_KEYS)
        if unknown:
            raise SourcesError(f"{origin}: {label}: unknown key `{unknown[0]}`")
        region = table.get("region", "辽宁")
        if region not in REGIONS:
            raise SourcesError(
                f"{origin}: {label}: region {region!r} is not 辽宁 or one of its 14 cities"
            )
        kind = table.get("kind", "网站")
        if kind not in KINDS:
            raise SourcesError(f"{origin}: {label}: kind must be one of {'/'.join(KINDS)}")
        encoding = table.get("encoding", "")
        if not isinstance(encoding, str) or (encoding and not _known_codec(encoding)):
            raise SourcesError(f"{origin}: {label}: encoding {encoding!r} is not a known charset")
        sources.append(
            SourceConfig(
                name=name,
                title=title.strip(),
                profile=profile,
                lists=tuple(lists),
                interval_minutes=float(interval),
                max_pages=max_pages,
                region=region,
                kind=kind,
                selectors=_selectors(table.get("selectors", {}), origin, label),
                encoding=encoding.strip().lower(),
            )
        )
    return tuple(sources)


_SAMPLE_DAY = date(2024, 1, 31)


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _selectors(value: object, origin: str, label: str) -> Selectors:
    """Read a [source.selectors] table: CSS selectors over the family's defaults."""
    if not isinstance(value, dict):
        raise SourcesError(f"{origin}: {label}: selectors must be a table ([source.selectors])")
    for key, selector in value.items():
        if key not in SELECTOR_FIELDS:
            known = ", ".join(SELECTOR_FIELDS)
            raise SourcesError(f"{origin}: {label}: unknown selector `{key}` (one of: {known})")
        if not isinstance(selector, str) or not selector.strip():
            raise SourcesError(f"{origin}: {label}: selector `{key}` must be a non-empty string")
        problem = css_problem(selector)
        if problem is not None:
            raise SourcesError(f"{origin}: {label}: selector `{key}` {selector!r}: {problem}")
    return Selectors(**{key: str(selector).strip() for key, selector in value.items()})


def css_problem(selector: str) -> str | None:
    """Return why lexbor cannot use a CSS selector (one line), or None when it can."""
    try:
        _PROBE.css(selector)
    except Exception as exc:  # selectolax raises a bare ValueError or its own SelectolaxError
        return str(exc).splitlines()[0] if str(exc) else "not a valid CSS selector"
    return None


_PROBE = LexborHTMLParser("<p></p>")
