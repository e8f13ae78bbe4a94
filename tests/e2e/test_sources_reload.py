"""SIGHUP: the running bot re-reads its sources file; a broken one is refused, the old go on."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from fakes.province import Province


async def wait_until(condition, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_sighup_reloads_the_sources_and_a_broken_file_changes_nothing(
    make_settings, start_bot, caplog: pytest.LogCaptureFixture
) -> None:
    async with Province(articles=20, years=1, per_page=5, sites=("trs", "glist")) as province:
        one = province.sources_toml(keys=("trs",), interval_minutes=60, max_pages=1)
        settings = make_settings(one)
        await start_bot(settings)
        await wait_until(lambda: province.hits("trs") > 0)  # the first crawl, 2 s after start
        assert province.hits("glist") == 0

        # The operator adds a source and says so with SIGHUP: it is crawled without a restart.
        assert settings.sources_path is not None
        settings.sources_path.write_text(
            province.sources_toml(interval_minutes=60, max_pages=1), encoding="utf-8"
        )
        with caplog.at_level(logging.INFO, logger="bot.app"):
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_until(lambda: province.hits("glist") > 0)
        reloaded = [r.getMessage() for r in caplog.records if "sources reloaded" in r.getMessage()]
        assert reloaded == [
            "sources reloaded: 2 sources; added anshan-jras; changed none; removed none"
        ]
        trs_hits = province.hits("trs")
        assert trs_hits > 0

        # A broken file: one line naming the problem; the two sources keep their jobs.
        settings.sources_path.write_text('[[source]]\nname = "x"\n', encoding="utf-8")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bot.app"):
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_until(lambda: any("not reloaded" in r.getMessage() for r in caplog.records))
        [refused] = [r for r in caplog.records if "not reloaded" in r.getMessage()]
        assert refused.levelno == logging.ERROR
        message = refused.getMessage()
        assert "(the 2 sources keep running)" in message and "\n" not in message
        assert str(settings.sources_path) in message

        # Removing a source stops its crawls: a changed interval restarts the other's.
        settings.sources_path.write_text(
            province.sources_toml(keys=("glist",), interval_minutes=0.02, max_pages=1),
            encoding="utf-8",
        )
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bot.app"):
            os.kill(os.getpid(), signal.SIGHUP)
            glist = province.hits("glist")
            await wait_until(lambda: province.hits("glist") > glist)
        assert any(
            "changed anshan-jras; removed shenyang-zwyw" in r.getMessage() for r in caplog.records
        )
        # A crawl of it under way when the file changed finishes (politely paced: seconds).
        trs_after = province.hit_paths("trs")
        # Quiet for 4 s: between two polite fetches of one crawl a loaded machine can pause
        # longer than the pacing alone.
        async with asyncio.timeout(60):
            while True:
                await asyncio.sleep(4.0)
                if province.hit_paths("trs") == trs_after:
                    break
                trs_after = province.hit_paths("trs")
        await asyncio.sleep(2.5)
        # No more crawls of the removed source.
        assert province.hit_paths("trs") == trs_after, province.hit_paths("trs") - trs_after
