"""The old name of news.chart_worker, kept only while benchmarks/ imports it."""

from __future__ import annotations

from news.chart_worker import ROLE_COLOURS as ROLE_COLOURS
