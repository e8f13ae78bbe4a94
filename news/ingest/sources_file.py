"""Read sources.toml: one [[source]] table per news source, checked strictly."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from urllib.parse import urlsplit

from news.models import SourceConfig

NAME_RE = re.compile(r"^[a-z0-9-]+$")
REQUIRED = ("name", "title", "profile", "lists")


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
            raise SourcesError(f"{origin}: {label}: name must match [a-z0-9-]+")
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
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SourcesError(f"{origin}: {label}: {url!r} is not an http(s) URL")
        interval = table.get("interval_minutes", 15)
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise SourcesError(f"{origin}: {label}: interval_minutes must be a positive number")
        max_pages = table.get("max_pages", 3)
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
            raise SourcesError(f"{origin}: {label}: max_pages must be a whole number >= 1")
        sources.append(
            SourceConfig(
                name=name,
                title=title.strip(),
                profile=profile,
                lists=tuple(lists),
                interval_minutes=float(interval),
                max_pages=max_pages,
            )
        )
    return tuple(sources)
