"""`newsbot run` as a user starts it: exit 2 without a token; a full run never logs the token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakes.bot_api import FakeBotApi
from tests.e2e.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]


def newsbot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    sources = tmp_path / "sources.toml"
    sources.write_text("", encoding="utf-8")
    env.update(
        NEWSBOT_DB=str(tmp_path / "run.db"),
        NEWSBOT_SOURCES=str(sources),
        NEWSBOT_LOG_LEVEL="DEBUG",
        **extra,
    )
    return env


def test_run_without_a_token_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,  # no .env here
        env=newsbot_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "@BotFather" in lines[0] and ".env" in lines[0] and "make demo" in lines[0]


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=newsbot_env(tmp_path, NEWSBOT_TOKEN=TOKEN, NEWSBOT_TZ="Asia/Nowhere"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "NEWSBOT_TZ: unknown time zone 'Asia/Nowhere' (use an IANA name such as Asia/Shanghai)"
    ]
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_sqlite_stops_start_up_untouched(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    db.write_bytes(b"not a database at all")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=newsbot_env(tmp_path, NEWSBOT_TOKEN=TOKEN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not an SQLite database" in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == b"not a database at all"


def test_a_full_run_answers_and_never_logs_the_token(tmp_path: Path) -> None:
    api = FakeBotApi(TOKEN)
    root = api.run_in_thread()
    # Files, not pipes: the DEBUG log of start-up (every migration statement) outgrows a pipe's
    # 64 KB buffer, and a child writing to a full pipe nobody reads blocks its event loop.
    out_file = (tmp_path / "stdout.txt").open("w+", encoding="utf-8")
    err_file = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=newsbot_env(tmp_path, NEWSBOT_TOKEN=TOKEN, NEWSBOT_API_URL=root),
            stdout=out_file,
            stderr=err_file,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not api.calls_to("setMyCommands") and time.monotonic() < deadline:
                time.sleep(0.05)
            api.push_text(77, "/start")
            api.push_text(77, "/latest")
            while len(api.messages_to(77)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(api.messages_to(77)) == 2
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            stdout = (tmp_path / "stdout.txt").read_text(encoding="utf-8")
            stderr = (tmp_path / "stderr.txt").read_text(encoding="utf-8")
        assert process.returncode == 0, stderr
        assert "newsbot started as @newsbot_test_bot" in stderr
        assert "DEBUG" in stderr  # the log ran at its most talkative
        assert TOKEN not in stderr and TOKEN not in stdout
        assert TOKEN.split(":")[1] not in stderr
    finally:
        out_file.close()
        err_file.close()
        api.stop_thread()
