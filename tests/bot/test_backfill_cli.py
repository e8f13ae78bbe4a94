"""`newsbot backfill` as an operator runs it: killed at any moment, run again, nothing twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest

from fakes.province import Province, SiteFault

SITES = ("lngov", "trs", "glist")
SINCE = "2010-01-01"
UNTIL = "2026-11-30"


def cli_env(tmp_path: Path, province: Province) -> dict[str, str]:
    sources = tmp_path / "sources.toml"
    sources.write_text(province.sources_toml(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(NEWSBOT_DB=str(tmp_path / "bf.db"), NEWSBOT_SOURCES=str(sources))
    return env


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "backfill",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet


async def test_a_backfill_killed_at_a_random_moment_resumes_without_storing_twice(
    tmp_path: Path,
) -> None:
    async with Province(articles=60, years=2, per_page=5, sites=SITES) as province:
        env = cli_env(tmp_path, province)
        db = tmp_path / "bf.db"
        process = await start(env)
        kill_at = random.Random().randint(5, 45)
        async with asyncio.timeout(90):
            while stored(db) < kill_at and process.returncode is None:
                await asyncio.sleep(0.05)
        assert process.returncode is None, "the backfill ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        await process.wait()
        first_run = {key: province.hit_paths(key) for key in SITES}
        assert 0 < stored(db) < 60

        process = await start(env)
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        assert sorted(line.split(":")[0] for line in lines) == sorted(
            province.source_name(k) for k in SITES
        )
        assert all(": done" in line for line in lines), lines

        with sqlite3.connect(db) as conn:
            total, urls = conn.execute(
                "SELECT count(*), count(DISTINCT url) FROM articles"
            ).fetchone()
        assert total == urls == 60  # every article once: none stored twice, none lost
        articles = {
            province.article_url(k, n).removeprefix(province.base_url(k))
            for k in SITES
            for n in range(province.article_count(k))
        }
        for key in SITES:
            second_run = province.hit_paths(key) - first_run[key]
            again = Counter(
                {p: n for p, n in second_run.items() if first_run[key][p] and p != "/robots.txt"}
            )
            lists_again = [p for p in again if p not in articles]
            # At most the list page in flight per source is read again; of the articles,
            # at most those being fetched when the kill came.
            assert len(lists_again) <= 1, (key, lists_again)
            assert len([p for p in again if p in articles]) <= 4, (key, again)


async def test_a_failed_source_is_one_line_and_exit_1(tmp_path: Path) -> None:
    async with Province(articles=10, years=2, per_page=5, sites=("trs", "glist")) as province:
        province.set_fault("trs", SiteFault(status=404))
        env = cli_env(tmp_path, province)
        process = await start(env)
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 1
    failed = [line for line in err.decode().splitlines() if line.startswith("newsbot backfill:")]
    assert len(failed) == 1 and "shenyang-zwyw" in failed[0] and "404" in failed[0]
    assert "Traceback" not in err.decode()
    assert any(line.startswith("anshan-jras: done") for line in out.decode().splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--source", "nope"), "no source named 'nope'"),
        (("--region", "火星"), "unknown region"),
        (("--until", "2009-01-01"), "is after --until"),
    ],
)
async def test_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    async with Province(articles=10, years=2, sites=("trs",)) as province:
        env = cli_env(tmp_path, province)
        process = await start(env, *args)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert message in err.decode() and len(err.decode().strip().splitlines()) == 1
