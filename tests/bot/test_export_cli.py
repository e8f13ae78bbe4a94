"""`newsbot export`: the archive as CSV (with BOM) or JSON Lines, filtered, in id order."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from fakes.archive import add_numbered_articles, seed_store
from news.nlp.fold import search_form


def newsbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(NEWSBOT_DB=str(tmp_path / "cli.db"))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_csv_jsonl_and_filters(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    asyncio.run(seed_store(db))
    asyncio.run(
        add_numbered_articles(db, 3, title="第{n}次营商环境座谈会", body="营商环境第{n}项举措。")
    )
    done = newsbot(tmp_path, "export", "--format", "csv", "-o", "all.csv")
    assert done.returncode == 0, done.stderr
    raw = (tmp_path / "all.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["日期", "来源", "标题", "链接"]
    assert len(rows) > 4 and f"exported {len(rows) - 1} articles" in done.stderr
    words = newsbot(tmp_path, "export", "--format", "jsonl", "--query", "營商環境", "-o", "w.jsonl")
    assert words.returncode == 0, words.stderr
    records = [json.loads(line) for line in (tmp_path / "w.jsonl").read_text().splitlines()]
    assert len(records) >= 3 and all(
        "营商环境" in search_form(r["title"] + r["body"]) for r in records
    )
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    spoke = newsbot(tmp_path, "export", "--format", "jsonl", "--speaker", "易炼红")
    assert spoke.returncode == 0, spoke.stderr
    people = [json.loads(line)["people"] for line in spoke.stdout.splitlines()]
    assert people and all(any(p["name"] == "易炼红" for p in ps) for ps in people)
    none = newsbot(tmp_path, "export", "--since", "2099-01-01", "-o", "none.csv")
    assert none.returncode == 0 and "exported 0 articles" in none.stderr
    for bad in (["--since", "2024-13"], ["--speaker", "没有这个人"], ["--format", "xml"]):
        refused = newsbot(tmp_path, "export", *bad)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert refused.stderr.splitlines()[-1].startswith("newsbot export")
