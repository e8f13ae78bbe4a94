"""/settings → sources by region: the province and its 14 cities, each with its sources to toggle.

Callback data (all under `set:`, at most 64 bytes; sources go by name, so a reloaded sources
file never makes a button toggle another source):
  set:p:x        the region picker            set:r:<i>     region i's sources
  set:s:<name>   toggle one source            set:R:<i>     all or none of region i
  set:a:x        every source (the default)   set:b:x       back to the settings card
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.render import check_callback_data, esc
from handlers.texts import region_name, text
from news.models import REGIONS, SourceConfig

__all__ = ["REGIONS", "picker_view", "region_index", "region_view", "toggled"]

REGIONS_PER_ROW = 3
KIND_MARKS = {"政府": "🏛", "报纸": "📰", "网站": "🌐"}


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=check_callback_data(data))


def chosen_names(channels: Sequence[str], sources: Sequence[SourceConfig]) -> set[str]:
    """Return the sources a chat's digest takes: its channels, or every source when none."""
    names = {source.name for source in sources}
    picked = set(channels) & names
    return picked or names


def regions_with_sources(sources: Sequence[SourceConfig]) -> list[str]:
    """Return the regions that have sources, the province first, then the cities in order."""
    present = {source.region for source in sources}
    return [region for region in REGIONS if region in present]


def _mark(picked: int, total: int) -> str:
    if picked == 0:
        return "▫️"
    return "✅" if picked == total else "◐"


def picker_view(
    lang: str, channels: Sequence[str], sources: Sequence[SourceConfig]
) -> tuple[str, InlineKeyboardMarkup]:
    """Return the region picker: each region with how many of its sources the digest takes."""
    chosen = chosen_names(channels, sources)
    buttons = []
    for region in regions_with_sources(sources):
        mine = [s for s in sources if s.region == region]
        picked = sum(1 for s in mine if s.name in chosen)
        label = f"{_mark(picked, len(mine))}{region_name(lang, region)} {picked}/{len(mine)}"
        buttons.append(_button(label, f"set:r:{REGIONS.index(region)}"))
    rows = [buttons[i : i + REGIONS_PER_ROW] for i in range(0, len(buttons), REGIONS_PER_ROW)]
    every = ("✅" if not channels else "") + text(lang, "all_sources_button")
    rows.append([_button(every, "set:a:x"), _button(text(lang, "back"), "set:b:x")])
    body = text(lang, "regions_title") + "\n" + esc(text(lang, "regions_hint"))
    return body, InlineKeyboardMarkup(rows)


def region_view(
    lang: str, channels: Sequence[str], sources: Sequence[SourceConfig], index: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Return one region's sources, each a toggle, with all/none and back buttons."""
    region = REGIONS[index]
    chosen = chosen_names(channels, sources)
    mine = [s for s in sources if s.region == region]
    rows = [
        [
            _button(
                f"{'✅' if s.name in chosen else '▫️'} {KIND_MARKS.get(s.kind, '')} {s.title}",
                f"set:s:{s.name}",
            )
        ]
        for s in mine
    ]
    picked = sum(1 for s in mine if s.name in chosen)
    if mine:
        label = text(lang, "select_none" if picked == len(mine) else "select_all")
        rows.append([_button(label, f"set:R:{index}")])
    rows.append([_button(text(lang, "back"), "set:p:x")])
    hint = text(lang, "region_hint") if mine else text(lang, "region_empty")
    body = text(lang, "region_title", region=esc(region_name(lang, region))) + "\n" + esc(hint)
    return body, InlineKeyboardMarkup(rows)


def toggled(
    channels: Sequence[str], sources: Sequence[SourceConfig], names: Sequence[str]
) -> tuple[str, ...] | None:
    """Return the channels after toggling `names` together (all on, or all off if all were on).

    () means every source; None means the change would leave no source at all.
    """
    chosen = chosen_names(channels, sources)
    wanted = set(names)
    if wanted <= chosen:
        chosen -= wanted
    else:
        chosen |= wanted
    order = [s.name for s in sources]
    kept = tuple(name for name in order if name in chosen)
    if not kept:
        return None
    return () if len(kept) == len(order) else kept


def region_index(value: str) -> int | None:
    """Read a region index from callback data, None when it is out of range."""
    if value.isdigit() and int(value) < len(REGIONS):
        return int(value)
    return None
