"""End-to-end fixtures: the real Application (the `newsbot run` code path) against the fake API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import run_bot
from bot.config import Settings, load_settings
from fakes.bot_api import FakeBotApi

TOKEN = "123456789:AAE2eTESTtokenDoNotLeak_0123456789ab"
ADMIN_ID = 4242


@dataclass
class RunningBot:
    """A bot running in this event loop, and the fake Telegram it talks to."""

    api: FakeBotApi
    settings: Settings
    task: asyncio.Task[None]
    stop: asyncio.Event


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    """Start a strict fake Bot API server on loopback."""
    async with FakeBotApi(TOKEN) as api:
        yield api


@pytest.fixture
def make_settings(tmp_path: Path, bot_api: FakeBotApi, db_target: str) -> Callable[..., Settings]:
    """Build Settings pointing at the fake API, this test's database and a sources file."""

    def build(sources_toml: str = "", **env: str) -> Settings:
        sources = tmp_path / "sources.toml"
        sources.write_text(sources_toml, encoding="utf-8")
        values = {
            "NEWSBOT_TOKEN": TOKEN,
            "NEWSBOT_API_URL": bot_api.root_url,
            "NEWSBOT_DB": db_target,
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_ADMINS": str(ADMIN_ID),
            # Tests script many commands from one chat; the per-user limit has its own tests
            # (test_limits.py), which set it.
            "NEWSBOT_USER_RATE": "0",
            **env,
        }
        return load_settings(values, dotenv=None)

    return build


@pytest.fixture
async def start_bot(
    bot_api: FakeBotApi,
) -> AsyncIterator[Callable[[Settings], asyncio.Future[RunningBot]]]:
    """Return a starter that runs the bot until the test ends."""
    running: list[RunningBot] = []

    async def start(settings: Settings) -> RunningBot:
        stop = asyncio.Event()
        ready = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop, ready))
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait({task, waiter}, timeout=10, return_when="FIRST_COMPLETED")
        if task in done:
            waiter.cancel()
            task.result()  # raises what made start-up fail
        assert waiter in done, "the bot did not start within 10 s"
        bot = RunningBot(bot_api, settings, task, stop)
        running.append(bot)
        return bot

    yield start  # type: ignore[misc]
    for bot in running:
        bot.stop.set()
        await asyncio.wait_for(bot.task, timeout=15)
