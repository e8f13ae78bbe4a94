"""What every handler may reach through `context`: typed bot_data, no globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from zoneinfo import ZoneInfo

import httpx
from aiohttp import web
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from handlers.chart_cache import ChartCache
from handlers.limits import UserLimits
from handlers.link import TelegramLink
from handlers.metrics import Metrics
from handlers.pacing import Pacer
from news.chart_worker import ChartRenderer
from news.ingest.crawl import Crawler
from news.models import SourceConfig
from news.nlp.analysis import AnalysisWorker
from storage import Store

if TYPE_CHECKING:
    from handlers.delivery import Deliverer


@dataclass
class BotData:
    """Long-lived resources and settings, filled in by bot.app at start-up."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    admins: frozenset[int] = frozenset()
    sources: tuple[SourceConfig, ...] = ()
    crawler: Crawler | None = None
    deliverer: Deliverer | None = None
    _store: Store | None = None
    http_client: httpx.AsyncClient | None = None  # the news sites' client, closed at stop
    # This process's name in shared leases and the ledger (host:pid:tag), set at start.
    instance: str = ""
    # What cannot reach the database now ("crawl SOURCE", "delivery") and why; /status shows it.
    store_troubles: dict[str, str] = field(default_factory=dict)
    charts: ChartCache = field(default_factory=ChartCache)
    renderer: ChartRenderer = field(default_factory=ChartRenderer)  # closed at stop
    analysis: AnalysisWorker = field(default_factory=AnalysisWorker)  # closed at stop
    # The HTTP listener (/healthz, /metrics, feeds) in polling mode (NEWSBOT_HTTP_LISTEN).
    web_runner: web.AppRunner | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # Whether Telegram answers: told by every Bot API request; /healthz reads it.
    link: TelegramLink = field(default_factory=TelegramLink)
    # Long polling expects an answer every poll; webhook mode may call Telegram rarely.
    polling: bool = False
    # When this process started (UTC): a source is not late before three intervals after it.
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # How much each user may ask (NEWSBOT_USER_RATE / NEWSBOT_USER_BURST), counted here.
    user_limits: UserLimits = field(default_factory=UserLimits)
    # The rate limiter every Bot API call goes through; its counters are the send metrics.
    pacer: Pacer | None = None

    @property
    def store(self) -> Store:
        """Return the open Store (opened in post_init)."""
        if self._store is None:
            raise RuntimeError("the store is not open yet (post_init has not run)")
        return self._store

    @store.setter
    def store(self, value: Store | None) -> None:
        self._store = value


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
