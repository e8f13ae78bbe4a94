"""/settings sources by region: views, toggles and callback data, without Telegram."""

from __future__ import annotations

from handlers import source_choice
from news.ingest.sources import PROFILES
from news.ingest.sources_file import catalogue_text, parse_sources
from news.models import SourceConfig

CATALOGUE = parse_sources(catalogue_text(), "catalogue", PROFILES)


def _data(markup) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row]


def test_picker_lists_every_region_once_province_first() -> None:
    body, markup = source_choice.picker_view("zh", (), CATALOGUE)
    regions = [b.text for b in markup.inline_keyboard[0]]
    assert regions[0].startswith("✅辽宁 ")
    assert sum(1 for d in _data(markup) if d.startswith("set:r:")) == 15
    assert "按地区选择来源" in body


def test_views_in_english_name_regions_in_pinyin() -> None:
    _, markup = source_choice.picker_view("en", (), CATALOGUE)
    assert any(b.text.startswith("✅Huludao ") for row in markup.inline_keyboard for b in row)
    body, _ = source_choice.region_view("en", (), CATALOGUE, 14)
    assert "Sources of Huludao" in body


def test_toggle_rules() -> None:
    names = [s.name for s in CATALOGUE]
    off = source_choice.toggled((), CATALOGUE, ["dlxww"])
    assert off is not None and "dlxww" not in off and len(off) == len(names) - 1
    assert source_choice.toggled(off, CATALOGUE, ["dlxww"]) == ()  # every source again
    only = (names[0],)
    assert source_choice.toggled(only, CATALOGUE, [names[0]]) is None  # would leave none
    # A channel no longer configured counts as nothing chosen: every source.
    assert source_choice.chosen_names(("gone",), CATALOGUE) == set(names)


def test_longest_allowed_name_fits_callback_data() -> None:
    long = SourceConfig(name="x" * 40, title="很长的名字", profile="generic", lists=("http://a/",))
    _, markup = source_choice.region_view("zh", (), (long,), 0)
    assert all(len(d.encode()) <= 64 for d in _data(markup))
