"""/healthz and /metrics of a polling bot (NEWSBOT_HTTP_LISTEN), read over HTTP by a monitor."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bot import health_cli
from bot.app import build_application
from bot.web import build_web_app
from fakes import SITE
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from handlers import health
from news.models import BackfillCursor
from storage import open_store
from tests.e2e.conftest import ADMIN_ID

# Every family the metrics promise an operator (counters without their _total suffix).
FAMILIES = {
    "newsbot_build_info",
    "newsbot_updates",
    "newsbot_handler_seconds",
    "newsbot_handler_errors",
    "newsbot_source_fetches",
    "newsbot_source_errors",
    "newsbot_source_new_articles",
    "newsbot_source_runs",
    "newsbot_source_last_success_timestamp_seconds",
    "newsbot_source_consecutive_failures",
    "newsbot_backfill_progress_ratio",
    "newsbot_deliveries",
    "newsbot_delivery_outcomes",
    "newsbot_telegram_sends",
    "newsbot_telegram_rate_limited",
    "newsbot_telegram_retries",
    "newsbot_telegram_unreachable",
    "newsbot_telegram_up",
    "newsbot_sender_lease_holder",
    "newsbot_sender_lease_held",
    "newsbot_healthy",
    "process_resident_memory_bytes",
}
LIST_PATH = "/network/nennews/newsguonei/list/indexHome.shtml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def source(name: str, list_url: str, interval: float = 0.05) -> str:
    """Return one [[source]] of a sources file (0.05 minutes: a crawl every three seconds)."""
    return (
        f'[[source]]\nname = "{name}"\ntitle = "{name}"\nprofile = "nen"\n'
        f'lists = ["{list_url}"]\ninterval_minutes = {interval}\n'
    )


def value(samples: Iterable[Sample], name: str, **labels: str) -> float:
    """Return the one sample of that name whose labels include these (0 if none)."""
    found = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def until(check: Any, timeout: float) -> Any:
    """Poll an async check until it returns something true, or fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.3)


async def test_metrics_of_a_polling_bot_hold_every_family_with_what_happened(
    make_settings, start_bot, bot_api: FakeBotApi
) -> None:
    bot_api.enable_inline_mode()
    async with FakeNewsSite(SITE) as site:
        listen = f"127.0.0.1:{free_port()}"
        dead = f"http://127.0.0.1:{free_port()}/list.shtml"  # nothing listens there
        sources = source("nen-guonei", site.url(LIST_PATH)) + source("gone", dead)
        settings = make_settings(sources, NEWSBOT_HTTP_LISTEN=listen)
        # A backfill of nen-guonei a quarter of the way back through its 2024.
        store = await open_store(settings.db)
        try:
            await store.backfill.save(
                BackfillCursor(
                    source="nen-guonei",
                    since=date(2024, 1, 1),
                    until=date(2024, 12, 31),
                    started_at=datetime(2026, 12, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 12, 1, tzinfo=UTC),
                    reached=date(2024, 10, 1),
                    articles=1234,
                    error="timed out",
                )
            )
        finally:
            await store.close()
        await start_bot(settings)
        bot_api.push_text(21, "/latest 3")
        [page] = await bot_api.wait_for_messages(21, 1)
        bot_api.push_text(21, "/nonsense")
        # A stale page button of that message: answered as such.
        bot_api.push_callback(21, page.message_id, "lp:x:y", check_button=False)
        await bot_api.wait_for_calls("answerCallbackQuery", 1)
        query = bot_api.push_inline_query(21, "")
        await bot_api.wait_for_inline_answer(query["inline_query"]["id"])
        # Eight replies at once to one private chat. The pacer keeps them under Telegram's
        # per-chat limit, so the fake answers two of them 429 as a flood would: the pacer
        # waits and sends them again, and the metrics count both.
        bot_api.fail_next(
            "sendMessage",
            error_code=429,
            description="Too Many Requests: retry after 1",
            parameters={"retry_after": 1},
            times=2,
        )
        for _ in range(8):
            bot_api.push_text(22, "/help")
        await bot_api.wait_for_messages(22, 8, timeout=30)

        async def scraped() -> list[Sample] | None:
            status, text = await get(f"http://{listen}/metrics")
            assert status == 200
            families = {f.name: f for f in text_string_to_metric_families(text)}
            samples = [s for f in families.values() for s in f.samples]
            stored = value(samples, "newsbot_source_new_articles_total", source="nen-guonei")
            failed = value(samples, "newsbot_source_runs_total", source="gone", outcome="failed")
            holder = [s for s in samples if s.name == "newsbot_sender_lease_holder"]
            # "gone" turns the bot unhealthy three crawl intervals after the start.
            unhealthy = value(samples, "newsbot_healthy") == 0
            if families.keys() >= FAMILIES and stored > 0 and failed > 0 and holder and unhealthy:
                return samples
            return None

        samples = await until(scraped, 30)
        assert samples, "the metrics never showed the crawl, the failure and the sender"
    assert value(samples, "newsbot_updates_total", command="latest") == 1
    assert value(samples, "newsbot_updates_total", command="help") == 8
    assert value(samples, "newsbot_updates_total", command="unknown_command") == 1
    assert value(samples, "newsbot_updates_total", command="inline_query") == 1
    assert value(samples, "newsbot_updates_total", command="button:lp") == 1
    assert value(samples, "newsbot_handler_seconds_count", handler="cb_latest_page") == 1
    assert value(samples, "newsbot_handler_seconds_count", handler="cmd_latest") == 1
    assert value(samples, "newsbot_handler_seconds_count", handler="cmd_help") == 8
    assert value(samples, "newsbot_handler_seconds_count", handler="on_inline_query") == 1
    assert value(samples, "newsbot_source_fetches_total", source="nen-guonei") >= 12
    assert value(samples, "newsbot_source_errors_total", source="gone") >= 1
    assert value(samples, "newsbot_source_new_articles_total", source="nen-guonei") == 11
    assert value(samples, "newsbot_source_last_success_timestamp_seconds", source="nen-guonei")
    assert value(samples, "newsbot_source_consecutive_failures", source="gone") >= 1
    assert value(samples, "newsbot_telegram_sends_total", method="sendMessage") >= 9
    limited = value(samples, "newsbot_telegram_rate_limited_total", method="sendMessage")
    assert limited == bot_api.rate_limited_count > 0
    assert value(samples, "newsbot_telegram_retries_total", method="sendMessage") == limited
    assert value(samples, "newsbot_telegram_up") == 1
    assert value(samples, "newsbot_sender_lease_held") == 1  # the only instance sends
    for state in ("pending", "sending", "sent", "failed", "skipped"):
        assert any(s.name == "newsbot_deliveries" and s.labels["state"] == state for s in samples)
    assert value(samples, "newsbot_backfill_progress_ratio", source="nen-guonei") == pytest.approx(
        91 / 365
    )
    # /status shows the backfill (the admin may also have been told "gone" is failing).
    bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)

    async def status_reply() -> str | None:
        texts = [m.plain_text for m in bot_api.messages_to(ADMIN_ID)]
        return next((t for t in texts if t.startswith("新闻源状态")), None)

    status = await until(status_reply, 10)
    line = "⏪ 回溯 2024-01-01–2024-12-31：已到 2024-10-01 · 25% · 1234 篇（上次中断：timed out）"
    assert status is not None and line in status, status
    assert value(samples, "newsbot_healthy") == 0  # the source "gone" never succeeds …
    assert page.plain_text


async def test_healthz_of_a_polling_bot_is_200_then_503_with_each_reason(
    make_settings, start_bot, bot_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "TELEGRAM_DOWN_GRACE", 2.0)
    async with FakeNewsSite(SITE) as site:
        listen = f"127.0.0.1:{free_port()}"
        settings = make_settings(
            source("nen-guonei", site.url(LIST_PATH)), NEWSBOT_HTTP_LISTEN=listen
        )
        await start_bot(settings)
        status, body = await get(f"http://{listen}/healthz")
        assert status == 200, body
        # `newsbot health` (the image's HEALTHCHECK) asks the same listener.
        said = io.StringIO()
        assert await asyncio.to_thread(health_cli.run, settings, said) == 0
        assert said.getvalue() == "healthy: store answering, 1 sources on time\n"
        assert json.loads(body) == {"ok": True, "store": "answering", "sources": 1}

        # Telegram out of reach for longer than the grace: 503, then 200 once it is back.
        await bot_api.stop()

        async def down() -> str | None:
            status, body = await get(f"http://{listen}/healthz")
            return body if status == 503 else None

        body = await until(down, 15)
        assert body and "telegram: unreachable for" in body, body
        said = io.StringIO()
        assert await asyncio.to_thread(health_cli.run, settings, said) == 1
        assert said.getvalue().startswith("unhealthy: telegram: unreachable for")
        await bot_api.start()

        async def up() -> bool:
            return (await get(f"http://{listen}/healthz"))[0] == 200

        # Polling retries up to 30 s apart: the next getUpdates that is answered clears it.
        assert await until(up, 45), "healthy again once Telegram answers"


async def test_healthz_names_a_source_whose_crawls_stopped_succeeding(
    make_settings, start_bot, bot_api: FakeBotApi
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    dead = f"http://127.0.0.1:{free_port()}/list.shtml"
    # Three intervals of 0.05 minutes: late nine seconds after start without a success.
    await start_bot(make_settings(source("gone", dead), NEWSBOT_HTTP_LISTEN=listen))

    async def late() -> str | None:
        status, body = await get(f"http://{listen}/healthz")
        return body if status == 503 else None

    body = await until(late, 20)
    assert body and "source gone: no successful crawl for" in body, body
    assert "last never" in body and "3 × 0.05 min" in body


async def test_healthz_is_503_while_the_store_is_not_open_or_does_not_answer(
    make_settings, tmp_path: Path
) -> None:
    app = build_application(make_settings())
    async with TestClient(TestServer(build_web_app(app.bot_data))) as client:
        answer = await client.get("/healthz")
        assert answer.status == 503  # before post_init opened it
        assert (await answer.json())["reason"] == "store: not open"
        store = await open_store(tmp_path / "h.db")
        app.bot_data.store = store
        answer = await client.get("/healthz")
        assert answer.status == 200, await answer.text()
        await store.close()
        answer = await client.get("/healthz")
        assert answer.status == 503
        assert (await answer.json())["reason"].startswith("store: not answering")
        # /metrics still answers: what it counted, and the health gauge at 0.
        answer = await client.get("/metrics")
        assert answer.status == 200
        assert "newsbot_healthy 0.0" in await answer.text()


def test_newsbot_health_without_a_listener_or_an_answer_says_unhealthy(make_settings) -> None:
    said = io.StringIO()
    assert health_cli.run(make_settings(), said) == 1
    assert said.getvalue() == "unhealthy: no listener to ask (set NEWSBOT_HTTP_LISTEN)\n"
    said = io.StringIO()
    settings = make_settings(NEWSBOT_HTTP_LISTEN=f"0.0.0.0:{free_port()}")
    assert health_cli.health_url(settings).startswith("http://127.0.0.1:")
    assert health_cli.run(settings, said) == 1
    assert (
        said.getvalue().startswith("unhealthy: http://127.0.0.1:")
        and "does not answer" in said.getvalue()
    )
