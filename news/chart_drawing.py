"""Drawing monthly counts as PNG bar charts with matplotlib (imported by the chart worker only)."""

# matplotlib's object API with the Agg canvas (no pyplot, no display, no global figure state);
# Chinese labels use the Noto Sans CJK font that the mplfonts package ships, so nothing depends on
# the fonts of the machine. `news.chart_worker.ChartRenderer` runs it in a worker process.

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Mapping
from importlib.resources import files

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes

# The Agg canvas drawn on directly: pyplot (and its choice of a GUI backend) is never imported.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from news.models import MonthSeries

# Telegram shows photos up to 1280 px on a side without scaling them down; 12.8 x 6.4 in at
# 100 dpi is exactly that wide.
WIDTH_PX = 1280
HEIGHT_PX = 640
DPI = 100
MAX_PNG_BYTES = 1_000_000
FONT_FILE = "NotoSansCJKsc-Regular.otf"
# matplotlib's font cache and text layout are shared by every figure: one render at a time.
_RENDER_LOCK = threading.Lock()


@functools.cache
def cjk_font_name() -> str:
    """Register the shipped CJK font with matplotlib once; return its family name."""
    path = str(files("mplfonts") / "fonts" / FONT_FILE)
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


def _tick_step(count: int) -> int:
    """Label every month up to 24 bars, then every 3rd, 6th or 12th: labels must not overlap."""
    for step in (1, 3, 6, 12):
        if count <= 24 * step:
            return step
    return 24


def render_bars(
    data: MonthSeries,
    *,
    title: str,
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    y_label: str,
) -> bytes:
    """Render monthly counts as stacked bars (one stack per label, in `labels` order) to PNG."""
    with (
        _RENDER_LOCK,
        matplotlib.rc_context(
            {"font.family": [cjk_font_name(), "DejaVu Sans"], "axes.unicode_minus": False}
        ),
    ):
        figure, axes = _blank_axes(len(data.months))
        buffer = io.BytesIO()
        try:
            _draw_chart(axes, data, title=title, labels=labels, colours=colours, y_label=y_label)
            # zlib level 3: a flat chart compresses almost as well, in less time than level 6.
            figure.savefig(
                buffer,
                format="png",
                dpi=DPI,
                metadata={"Software": None},
                pil_kwargs={"compress_level": 3},
            )
        finally:
            # What this chart added goes, whatever failed; the axes, their ticks and the
            # layout stay for the next one.
            for artist in [*axes.collections, *filter(None, [axes.get_legend()])]:
                artist.remove()
    png = buffer.getvalue()
    if len(png) >= MAX_PNG_BYTES:
        raise ValueError(f"chart PNG is {len(png)} bytes, over {MAX_PNG_BYTES}")
    return png


def _draw_chart(
    axes: Axes,
    data: MonthSeries,
    *,
    title: str,
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    y_label: str,
) -> None:
    """Add one chart's bars, month labels, title and legend to blank axes."""
    positions = list(range(len(data.months)))
    bottom = [0] * len(positions)
    for key, label in labels.items():
        values = list(data.series.get(key, [0] * len(positions)))
        if not any(values):
            continue
        # One collection of rectangles per series, not a patch per bar: axes.bar added and
        # drew an artist per bar, one by one, a large part of the render.
        boxes = [
            ((x - 0.4, b), (x - 0.4, b + v), (x + 0.4, b + v), (x + 0.4, b))
            for x, b, v in zip(positions, bottom, values, strict=True)
            if v
        ]
        axes.add_collection(
            PolyCollection(boxes, facecolors=colours.get(key), edgecolors="none", label=label)
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    tallest = max(max(bottom, default=0), 1)
    # Headroom above the tallest bar keeps the one-line legend clear of it.
    axes.set_ylim(0, tallest * (1.15 if len(labels) > 1 else 1.05))
    ticks = positions[:: _tick_step(len(positions))]
    axes.set_xticks(ticks, [data.months[i] for i in ticks], rotation=45, ha="right")
    axes.set_ylabel(y_label)
    axes.set_title(title, fontsize=15)
    if len(labels) > 1:
        axes.legend(loc="upper left", ncols=len(labels), frameon=False)


# Figures kept, one per number of bars: a chart of 24 months is the common case.
FIGURES_KEPT = 8


@functools.lru_cache(maxsize=FIGURES_KEPT)
def _blank_axes(bars: int) -> tuple[Figure, Axes]:
    """Return the figure and axes for charts of this many bars, made once and reused."""
    # Making the figure, its axes and their tick objects was a large part of a render (each tick
    # is two lines and two texts, set up from rcParams); a chart only adds its bars and words to
    # them. Called under the render lock with the chart's rc_context, as the first render made
    # them.
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(bars))
    ticks = positions[:: _tick_step(bars)]
    axes.set_xticks(ticks, ["" for _ in ticks])
    axes.set_xlim(-0.6, bars - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    # Fixed margins that fit the rotated month labels: tight_layout measured every label
    # again, a fifth of the render.
    figure.subplots_adjust(left=0.06, right=0.985, top=0.92, bottom=0.14)
    return figure, axes
