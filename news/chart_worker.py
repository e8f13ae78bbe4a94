"""Monthly-count charts for the bot: the colours, and the worker process that draws them."""

# The drawing itself (matplotlib, news/chart_drawing.py) is imported only in the worker process:
# the bot's own process never loads matplotlib and numpy, and stays that much smaller.

from __future__ import annotations

import functools
from collections.abc import Mapping

from news.models import MonthSeries
from news.workers import SpawnedWorker

# Stacked series in drawing order, with their colours (colour-blind safe, Okabe-Ito).
ROLE_COLOURS: Mapping[str, str] = {
    "spoke": "#D55E00",
    "presided": "#0072B2",
    "attended": "#009E73",
    "other": "#999999",
}
TREND_COLOUR = "#0072B2"


def draw_in_worker(
    data: MonthSeries,
    *,
    title: str,
    labels: Mapping[str, str],
    colours: Mapping[str, str],
    y_label: str,
) -> bytes:
    """Return chart_drawing.render_bars(...), importing matplotlib here, in the worker only."""
    from news.chart_drawing import render_bars

    return render_bars(data, title=title, labels=labels, colours=colours, y_label=y_label)


class ChartRenderer(SpawnedWorker):
    """Render charts in one worker process, started on first use, so the bot's loop keeps going."""

    # A thread would hold the GIL for most of a render (matplotlib is largely Python), and other
    # chats' replies would wait behind back-to-back charts.

    async def render(
        self,
        data: MonthSeries,
        *,
        title: str,
        labels: Mapping[str, str],
        colours: Mapping[str, str],
        y_label: str,
    ) -> bytes:
        """Return the chart's PNG, drawn in the worker process."""
        job = functools.partial(
            draw_in_worker,
            MonthSeries(data.months, {k: list(v) for k, v in data.series.items()}),
            title=title,
            labels=dict(labels),
            colours=dict(colours),
            y_label=y_label,
        )
        return await self.run(job)
