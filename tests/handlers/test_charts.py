"""Chart helpers: local months from UTC hours, windows, the cache, and a real render."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from handlers.chart_cache import Chart, ChartCache
from handlers.charts import (
    busiest,
    last_months,
    month_bounds,
    monthly,
    months_between,
    trend_window,
)
from news import chart_drawing
from news.chart_drawing import MAX_PNG_BYTES, WIDTH_PX, render_bars
from news.chart_worker import ROLE_COLOURS
from news.models import MonthSeries, PeriodCount

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_periods_are_laid_out_as_monthly_series() -> None:
    months = ["2024-01", "2024-02"]
    counts = [
        PeriodCount(0, "spoke", 2),
        PeriodCount(1, "spoke", 3),
        PeriodCount(1, "other", 1),
        PeriodCount(2, "spoke", 9),  # no such month: left out
        PeriodCount(0, "elsewhere", 9),  # no such series: left out
    ]
    data = monthly(counts, months, ("spoke", "other"))
    assert data.series == {"spoke": [2, 3], "other": [0, 1]}
    assert busiest(data) == ("2024-02", 4, 6)


def test_month_bounds_are_local_month_starts() -> None:
    since = datetime(2024, 1, 15, tzinfo=SHANGHAI)
    until = datetime(2024, 4, 1, tzinfo=SHANGHAI)
    bounds = month_bounds(since, until, SHANGHAI)
    assert bounds == [
        since,
        datetime(2024, 2, 1, tzinfo=SHANGHAI),
        datetime(2024, 3, 1, tzinfo=SHANGHAI),
        until,
    ]
    assert bounds[1].astimezone(UTC) == datetime(2024, 1, 31, 16, tzinfo=UTC)
    assert len(bounds) == len(months_between(since, until, SHANGHAI)) + 1


def test_the_last_24_months_end_with_this_one() -> None:
    since, until = last_months(datetime(2026, 12, 1, 3, tzinfo=UTC), SHANGHAI)
    months = months_between(since, until, SHANGHAI)
    assert len(months) == 24 and months[0] == "2025-01" and months[-1] == "2026-12"
    assert since == datetime(2025, 1, 1, tzinfo=SHANGHAI)


def test_trend_windows() -> None:
    now = datetime(2026, 6, 15, tzinfo=UTC)
    assert trend_window(None, None, SHANGHAI, now) == last_months(now, SHANGHAI)
    start = datetime(2023, 1, 1, tzinfo=SHANGHAI)
    end = datetime(2024, 7, 1, tzinfo=SHANGHAI)
    assert trend_window(start, end, SHANGHAI, now) == (start, end)
    assert trend_window(start, None, SHANGHAI, now) == (start, last_months(now, SHANGHAI)[1])
    assert trend_window(None, end, SHANGHAI, now) == (datetime(2022, 7, 1, tzinfo=SHANGHAI), end)
    assert trend_window(datetime(1900, 1, 1, tzinfo=SHANGHAI), end, SHANGHAI, now) is None


def test_the_cache_keeps_a_chart_for_its_ttl_then_forgets_it() -> None:
    clock = [100.0]
    cache = ChartCache(ttl=60, clock=lambda: clock[0], max_entries=2)
    chart = Chart("caption", b"png")
    cache.put("a", chart)
    clock[0] += 59
    assert cache.get("a") is chart
    clock[0] += 2
    assert cache.get("a") is None
    for key in ("x", "y", "z"):
        cache.put(key, chart)
    assert cache.get("x") is None and cache.get("z") is chart


def test_a_render_is_a_png_at_most_1280_wide_and_under_1_mb() -> None:
    months = tuple(f"20{y}-{m:02d}" for y in (24, 25) for m in range(1, 13))
    data = MonthSeries(months, {role: [i % 5 for i in range(24)] for role in ROLE_COLOURS})
    labels = {"spoke": "讲话", "presided": "主持", "attended": "出席", "other": "其他"}
    png = render_bars(data, title="易炼红：每月", labels=labels, colours=ROLE_COLOURS, y_label="篇")
    assert len(png) < MAX_PNG_BYTES
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG" and image.width == WIDTH_PX and image.height <= WIDTH_PX


def test_a_reused_figure_draws_exactly_what_a_new_one_draws() -> None:
    # The worker keeps a figure per number of bars: nothing of one chart may show in the next.
    months = tuple(f"20{y}-{m:02d}" for y in (24, 25) for m in range(1, 13))
    roles = MonthSeries(months, {role: [i % 5 for i in range(24)] for role in ROLE_COLOURS})
    labels = {"spoke": "讲话", "presided": "主持", "attended": "出席", "other": "其他"}
    trend = MonthSeries(months, {"": [(i * 7) % 40 for i in range(24)]})
    short = MonthSeries(months[:6], {"": [3, 0, 1, 4, 1, 5]})

    def draw_roles() -> bytes:
        return render_bars(
            roles, title="易炼红：每月", labels=labels, colours=ROLE_COLOURS, y_label="篇"
        )

    def draw_trend(data: MonthSeries = trend) -> bytes:
        return render_bars(
            data, title="“振兴”", labels={"": "篇"}, colours={"": "#0072B2"}, y_label="篇"
        )

    firsts = []
    for draw in (draw_roles, draw_trend, lambda: draw_trend(short)):
        chart_drawing._blank_axes.cache_clear()
        firsts.append(draw())
    chart_drawing._blank_axes.cache_clear()
    again = [draw_trend(), draw_roles(), draw_trend(short), draw_trend(), draw_roles()]
    assert again == [firsts[1], firsts[0], firsts[2], firsts[1], firsts[0]]
    # A chart that fails halfway (its second series a month short) leaves nothing behind.
    broken = MonthSeries(months, {"spoke": [1] * 24, "presided": [1] * 23})
    with pytest.raises(ValueError):
        render_bars(broken, title="坏", labels=labels, colours=ROLE_COLOURS, y_label="篇")
    assert draw_roles() == firsts[0]


def test_the_bot_process_does_not_load_matplotlib() -> None:
    # Drawing is the chart worker's: matplotlib and numpy would swell the bot's memory.
    script = (
        "import sys, bot.app, handlers, news.chart_worker\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
