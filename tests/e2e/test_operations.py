"""Accidents an operator meets: a second bot on one file, a full disk, a 409 from Telegram."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes import SITE
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from storage import open_store
from tests.e2e.conftest import ADMIN_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def newsbot_env(tmp_path: Path, sources: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    if sources is None:
        sources = tmp_path / "empty.toml"
        sources.write_text("", encoding="utf-8")
    env.update(
        {
            "NEWSBOT_TOKEN": TOKEN,
            "NEWSBOT_DB": str(tmp_path / "ops.db"),
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_LOG_LEVEL": "INFO",
            "NEWSBOT_ADMINS": str(ADMIN_ID),
            **extra,
        }
    )
    return env


def start_run(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN)
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


@pytest.fixture
def site() -> Iterator[str]:
    fake = FakeNewsSite(SITE)
    base = fake.run_in_thread()
    yield base.rstrip("/")
    fake.stop_thread()


def sources_file(tmp_path: Path, base: str) -> Path:
    template = (SITE / "sources.toml.in").read_text(encoding="utf-8")
    path = tmp_path / "sources.toml"
    path.write_text(template.replace("{base}", base), encoding="utf-8")
    return path


def test_one_bot_per_sqlite_file_ingest_beside_it_and_a_restart_after_sigkill(
    tmp_path: Path, api: FakeBotApi, site: str
) -> None:
    # The bot crawls every source two seconds after start, while an ingest by hand runs.
    env = newsbot_env(tmp_path, sources_file(tmp_path, site), NEWSBOT_API_URL=api.root_url)
    first = start_run(env)
    try:
        assert wait_until(lambda: len(api.calls_to("setMyCommands")) >= 2), "bot did not start"
        second = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        [line] = second.stderr.strip().splitlines()
        assert str(tmp_path / "ops.db") in line and f"pid {first.pid}" in line
        assert len(api.calls_to("setMyCommands")) == 2  # the second never reached Telegram

        # Other commands are allowed beside the running bot, and nothing is stored twice.
        ingest = subprocess.run(
            [sys.executable, "-m", "bot", "ingest", "--once"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ingest.returncode == 0, ingest.stderr
        assert "nen-news-guonei: listed 11" in ingest.stdout
        api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
        assert wait_until(lambda: "📰 11" in _last_text(api, ADMIN_ID), timeout=30)
        with sqlite3.connect(tmp_path / "ops.db") as con:
            twins = con.execute(
                "SELECT count(*) FROM (SELECT content_hash FROM articles GROUP BY content_hash"
                " HAVING count(*) > 1)"
            ).fetchone()[0]
            urls = con.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
        assert twins == 0 and urls[0] == urls[1] and urls[0] >= 25

        first.send_signal(signal.SIGKILL)  # the lock file stays behind
        first.wait(timeout=10)
        assert (tmp_path / "ops.db.lock").exists()
        third = start_run(env)
        try:
            assert wait_until(lambda: len(api.calls_to("setMyCommands")) >= 4), "no restart"
            api.push_text(77, "/latest 1")
            assert wait_until(lambda: len(api.messages_to(77)) == 1)
        finally:
            third.send_signal(signal.SIGTERM)
            _, stderr = third.communicate(timeout=30)
        assert third.returncode == 0, stderr
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)


def _last_text(api: FakeBotApi, chat_id: int) -> str:
    messages = api.messages_to(chat_id)
    if not messages:
        return ""
    if "📰 11" not in messages[-1].plain_text:
        api.push_text(chat_id, "/status", user_id=chat_id)  # ask again until the crawl is in
        time.sleep(0.3)
    return messages[-1].plain_text


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return apply


def test_a_full_disk_ends_ingest_with_one_line_and_the_next_run_completes_it(
    tmp_path: Path, site: str
) -> None:
    db = tmp_path / "ops.db"

    async def create() -> None:
        await (await open_store(db)).close()

    asyncio.run(create())
    env = newsbot_env(tmp_path, sources_file(tmp_path, site), NEWSBOT_LOG_LEVEL="WARNING")
    args = [sys.executable, "-m", "bot", "ingest", "--once", "--source", "nen-news-guonei"]
    # No file of this process may grow past a few pages beyond the empty database: the disk
    # "fills" a few articles in.
    full = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size(db.stat().st_size + 96 * 1024),
    )
    assert full.returncode == 1, (full.stdout, full.stderr)
    assert "Traceback" not in full.stderr
    lines = [line for line in full.stderr.splitlines() if "NEWSBOT_DB" in line]
    assert len(lines) == 1 and str(db) in lines[0], full.stderr
    assert "full" in lines[0] or "disk" in lines[0]
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        urls = con.execute("SELECT count(DISTINCT article_id) FROM article_urls").fetchone()[0]
    assert stored < 11 and urls == stored  # whole articles only, nothing half-written
    # Space is back: the next run stores the rest and nothing twice.
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"new {11 - stored}, duplicate {stored}" in done.stdout
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 11


async def test_a_409_conflict_is_said_once_and_polling_backs_off(
    make_settings, start_bot, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await start_bot(make_settings())
    bot_api.push_text(5, "/help")
    await bot_api.wait_for_messages(5, 1)
    bot_api.webhook_url = "https://elsewhere.example/hook"  # someone set a webhook

    def conflicts() -> int:
        return sum(1 for c in bot_api.calls_to("getUpdates") if c.status == 409)

    for _ in range(150):  # the long poll running now ends within its 10 s
        if conflicts():
            break
        await asyncio.sleep(0.1)
    first = conflicts()
    await asyncio.sleep(6)
    # PTB backs off 1, 1.5, 2.25 … seconds: a handful in six seconds, not a spin.
    assert first >= 1 and conflicts() - first <= 5
    said = [r for r in caplog.records if r.name == "handlers.link" and "409" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "ERROR" and not said[0].exc_info
    assert "NEWSBOT_WEBHOOK_URL" in said[0].getMessage()
    bot_api.webhook_url = ""
    await asyncio.sleep(4)  # the next poll (at most 3.4 s later) works again
    bot_api.push_text(5, "/help")
    await bot_api.wait_for_messages(5, 2, timeout=15)
    assert any("works again" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs of the test's own; skipped where this machine cannot mount one."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the RLIMIT test covers ingest"
        )
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Fill the file system until it refuses another byte; return the filler file."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


async def test_a_full_disk_under_the_running_bot_is_said_once_and_it_resumes(
    make_settings, start_bot, bot_api: FakeBotApi, small_disk: Path, caplog
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeNewsSite(SITE) as news:
        # One source (11 articles), crawled every three seconds, so the test sees it resume.
        list_url = news.url("/network/nennews/newsguonei/list/indexHome.shtml")
        sources = (
            "[[source]]\n"
            'name = "nen-news-guonei"\n'
            'title = "东北新闻网·国内"\n'
            'profile = "nen"\n'
            f'lists = ["{list_url}"]\n'
            "interval_minutes = 0.05\n"
        )
        settings = make_settings(sources, NEWSBOT_DB=str(small_disk / "bot.db"))
        filler = fill(small_disk)  # full before the first crawl (two seconds after start) ...
        filler.unlink()
        filler = None
        await start_bot(settings)
        filler = fill(small_disk)  # ... the store is open, then the disk fills up

        async def status() -> str:
            bot_api.push_text(ADMIN_ID, "/status", user_id=ADMIN_ID)
            count = len(bot_api.messages_to(ADMIN_ID)) + 1
            return (await bot_api.wait_for_messages(ADMIN_ID, count))[-1].plain_text

        for _ in range(60):
            shown = await status()
            if "crawl nen-news-guonei" in shown:
                break
            await asyncio.sleep(1.2)  # a private chat gets about one message a second
        assert "数据库暂时无法写入" in shown and "bot.db" in shown and "disk is full" in shown
        await asyncio.sleep(7)  # two more crawls of every source meet the full disk
        bot_api.push_text(8, "/latest")  # reading still works
        [latest] = await bot_api.wait_for_messages(8, 1)
        assert "暂时还没有新闻" in latest.plain_text
        said = [r for r in caplog.records if "stored nothing" in r.getMessage()]
        assert len(said) == 1, [r.getMessage() for r in said]  # once, not once per run

        filler.unlink()  # space is back: the next crawls store everything
        for _ in range(60):
            shown = await status()
            if "crawl nen-news-guonei" not in shown and "📰 11" in shown:
                break
            await asyncio.sleep(1.2)
        # The crawl is back; the delivery tick (once a minute) clears its own line when it is.
        assert "crawl nen-news-guonei" not in shown and "📰 11" in shown
        assert sum("stores again" in r.getMessage() for r in caplog.records) == 1
    ours = [r for r in caplog.records if r.name.startswith(("handlers", "news", "storage", "bot"))]
    assert not [r for r in ours if r.exc_info], "no tracebacks"


async def test_telegram_out_of_reach_while_polling_logs_two_lines_and_no_traceback(
    make_settings, start_bot, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await start_bot(make_settings())
    bot_api.push_text(6, "/help")
    await bot_api.wait_for_messages(6, 1)
    await bot_api.stop()
    await asyncio.sleep(8)  # PTB retries getUpdates 1, 1.5, 2.25 … seconds apart meanwhile
    await bot_api.start()
    bot_api.push_text(6, "/help")
    await bot_api.wait_for_messages(6, 2, timeout=40)
    link = [r for r in caplog.records if r.name == "handlers.link"]
    assert [r.levelname for r in link] == ["WARNING", "INFO"], [r.getMessage() for r in link]
    assert "reachable again after" in link[1].getMessage()
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert tracebacks == []
