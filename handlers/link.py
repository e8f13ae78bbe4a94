"""Is Telegram reachable? One WARNING when the Bot API goes away, one INFO when it is back."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import Conflict, NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest, RequestData

from handlers.metrics import Metrics

logger = logging.getLogger(__name__)

CONFLICT_HELP = (
    "Telegram answered 409 Conflict to getUpdates: another process is polling with this token, "
    "or a webhook is set for it. Stop the other `newsbot run` (or run every instance in webhook "
    "mode with NEWSBOT_WEBHOOK_URL); this one keeps retrying, up to 30 s apart"
)


@dataclass
class TelegramLink:
    """The state of the connection to the Bot API, told by every request this bot makes."""

    clock: Any = field(default=time.monotonic)
    down_since: float | None = None
    cause: str = ""
    in_conflict: bool = False
    # When Telegram last answered (the clock's time); None before the first answer.
    last_answer: float | None = None
    # Where sends, 429s and failures are counted (the bot's; None in tools without metrics).
    metrics: Metrics | None = None

    def answer_age(self) -> float | None:
        """Return the seconds since Telegram last answered, or None if it never has."""
        return None if self.last_answer is None else self.clock() - self.last_answer

    def down_for(self) -> float:
        """Return the seconds Telegram has been out of reach (0 while it answers)."""
        return 0.0 if self.down_since is None else self.clock() - self.down_since

    @property
    def reachable(self) -> bool:
        """Return whether the last request reached the Bot API."""
        return self.down_since is None

    def failed(self, cause: str) -> None:
        """Note a request that did not reach Telegram (refused, timed out, 5xx)."""
        if self.metrics is not None:
            self.metrics.telegram_failures.inc()
            self.metrics.telegram_up.set(0)
        if self.down_since is None:
            self.down_since = self.clock()
            self.cause = cause
            logger.warning(
                "Telegram Bot API unreachable (%s): retrying quietly, up to a minute apart; "
                "digests wait in the ledger",
                cause,
            )

    def reached(self, method: str = "", code: int = 200) -> None:
        """Note a request Telegram answered (with this HTTP code, to that method)."""
        self.last_answer = self.clock()
        if self.metrics is not None:
            self.metrics.telegram_up.set(1)
            self.metrics.record_answer(method, code)
        if self.down_since is not None:
            away = timedelta(seconds=round(self.clock() - self.down_since))
            self.down_since = None
            logger.info("Telegram Bot API reachable again after %s", away)

    def polled(self) -> None:
        """Note a getUpdates that Telegram answered with updates (no conflict any more)."""
        if self.in_conflict:
            self.in_conflict = False
            logger.info("getUpdates works again: the other poller or the webhook is gone")

    def on_poll_error(self, error: TelegramError) -> None:
        """PTB's polling error callback: one line per episode, never a traceback per retry."""
        if isinstance(error, Conflict):
            if not self.in_conflict:
                self.in_conflict = True
                logger.error(CONFLICT_HELP)
            return
        if isinstance(error, NetworkError | TimedOut):
            return  # failed() has said it once for the outage
        logger.warning("getUpdates failed: %s", error)


class WatchedRequest(HTTPXRequest):
    """PTB's HTTPX request that tells a TelegramLink whether each call reached Telegram."""

    def __init__(self, link: TelegramLink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.link = link

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request; tell the link whether Telegram answered."""
        try:
            code, payload = await super().do_request(
                url,
                method,
                request_data=request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except (TimedOut, NetworkError) as exc:
            self.link.failed(type(exc).__name__ + ": " + str(exc)[:120])
            raise
        if code >= 500:
            self.link.failed(f"HTTP {code}")
        else:
            self.link.reached(url.rsplit("/", 1)[-1], code)
            if code == 200 and url.endswith("/getUpdates"):
                self.link.polled()
        return code, payload
