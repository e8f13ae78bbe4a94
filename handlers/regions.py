"""Where each source's news is from: 辽宁 (the province) or one of its 14 cities."""

from __future__ import annotations

from collections.abc import Iterable

from news.models import SourceConfig

PROVINCE = "辽宁"
# The province, then its 14 cities in the official order: a digest by region follows it.
REGIONS = (
    PROVINCE,
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "本溪",
    "丹东",
    "锦州",
    "营口",
    "阜新",
    "辽阳",
    "盘锦",
    "铁岭",
    "朝阳",
    "葫芦岛",
)
CITIES = REGIONS[1:]


def region_of(source: SourceConfig) -> str:
    """Return a source's region: its configured one, else a city its title names, else 辽宁."""
    configured = str(getattr(source, "region", "") or "")
    if configured in REGIONS:
        return configured
    return next((city for city in CITIES if city in source.title), PROVINCE)


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
