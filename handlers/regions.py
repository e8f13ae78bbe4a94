"""Where each source's news is from: 辽宁 (the province) or one of its 14 cities."""

from __future__ import annotations

from collections.abc import Iterable

from news.models import REGIONS, SourceConfig

PROVINCE = REGIONS[0]
CITIES = REGIONS[1:]


def region_of(source: SourceConfig) -> str:
    """Return a source's region (sources.toml's `region`; 辽宁 when it names none)."""
    return source.region


def source_regions(sources: Iterable[SourceConfig]) -> dict[str, str]:
    """Return each source's region by its name."""
    return {s.name: region_of(s) for s in sources}


def region_named(query: str) -> str | None:
    """Return the region a query names (大连, 大连市, 辽宁省), or None."""
    name = query.strip()
    for suffix in ("省", "市"):
        if name.endswith(suffix) and len(name) > 2:
            name = name[: -len(suffix)]
    return name if name in REGIONS else None
