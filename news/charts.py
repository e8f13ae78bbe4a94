"""Monthly-count charts for the bot: the data, the colours, and the worker process that draws.

The drawing itself (matplotlib, news/chart_drawing.py) is imported only in the worker process:
the bot's own process never loads matplotlib and numpy (54 MB resident).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

from news.models import MonthSeries

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


class ChartRenderer:
    """Render charts in one worker process, started on first use, so the bot's loop keeps going.

    A thread would hold the GIL for most of a render (matplotlib is largely Python): other chats'
    replies waited up to 450 ms behind back-to-back charts. The process is spawned, not forked:
    the bot has threads (the database's, the job queue's) that a fork would copy mid-flight.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

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
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        job = functools.partial(
            draw_in_worker,
            MonthSeries(data.months, {k: list(v) for k, v in data.series.items()}),
            title=title,
            labels=dict(labels),
            colours=dict(colours),
            y_label=y_label,
        )
        return await asyncio.get_running_loop().run_in_executor(self._pool, job)

    def close(self) -> None:
        """Stop the worker process (if it was started); renders still queued are cancelled."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
