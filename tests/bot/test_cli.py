"""The command line as a user runs it: parse, speakers, summarize, ingest, the tools' commands."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.commands import GROUP, Command
from fakes import SEED_ARTICLE, SITE
from fakes.news_site import FakeNewsSite

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def newsbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    clean.update(NEWSBOT_DB=str(tmp_path / "cli.db"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_parse_prints_the_article_as_json(tmp_path: Path) -> None:
    page = FIXTURES / "nen" / "nen_nongye_2024-10-28_gaosuzhinongmin.excerpt.html"
    result = newsbot(tmp_path, "parse", str(page), "--url", "https://nongye.nen.com.cn/a.shtml")
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert set(article) == {
        "title", "subtitle", "published_at", "source", "editor", "reporter", "channel", "body",
        "url", "related",
    }  # fmt: skip
    assert article["title"] == "辽宁省2024年高素质农民培育省级重点班开班"
    assert article["published_at"] == "2024-10-28T01:54:09+00:00"
    assert (article["source"], article["editor"], article["reporter"]) == (
        "辽宁日报",
        "宋军",
        "胡海林",
    )


def test_parse_of_a_non_article_exits_1_with_the_parse_error(tmp_path: Path) -> None:
    result = newsbot(tmp_path, "parse", str(FIXTURES / "nen" / "synthetic_nen_error_404.html"))
    assert result.returncode == 1
    assert result.stderr.startswith("newsbot parse: ParseError:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_speakers_prints_people_as_json(tmp_path: Path) -> None:
    seed = SEED_ARTICLE
    result = newsbot(tmp_path, "speakers", str(seed))
    assert result.returncode == 0, result.stderr
    people = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(people["易炼红"]) == {"name", "roles", "titles", "statements"}
    assert "spoke" in people["易炼红"]["roles"] and "spoke" in people["姜有为"]["roles"]
    assert people["于振明"]["roles"] == ["presided"]


def test_summarize_prints_a_verbatim_summary(tmp_path: Path) -> None:
    seed = SEED_ARTICLE
    result = newsbot(tmp_path, "summarize", str(seed))
    assert result.returncode == 0, result.stderr
    summary = result.stdout.splitlines()[0]
    assert "易炼红" in summary and len(summary) <= 150
    assert summary.split("。")[0] in seed.read_text(encoding="utf-8")


def test_ingest_once_prints_counts_per_source(tmp_path: Path) -> None:
    site = FakeNewsSite(SITE)
    base = site.run_in_thread()
    try:
        template = (SITE / "sources.toml.in").read_text(encoding="utf-8")
        sources = tmp_path / "sources.toml"
        sources.write_text(template.replace("{base}", base.rstrip("/")), encoding="utf-8")
        result = newsbot(
            tmp_path,
            "ingest",
            "--once",
            "--source",
            "nen-news-guonei",
            NEWSBOT_SOURCES=str(sources),
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0] == (
            "nen-news-guonei: listed 11, new 11, duplicate 0, failed 0"
        )
        again = newsbot(
            tmp_path,
            "ingest",
            "--once",
            "--source",
            "nen-news-guonei",
            NEWSBOT_SOURCES=str(sources),
        )
        assert "new 0" in again.stdout
        unknown = newsbot(
            tmp_path, "ingest", "--once", "--source", "nope", NEWSBOT_SOURCES=str(sources)
        )
        assert unknown.returncode == 2 and "no source named 'nope'" in unknown.stderr
    finally:
        site.stop_thread()


def test_a_malformed_sources_file_stops_with_one_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "x"\n', encoding="utf-8")
    result = newsbot(tmp_path, "ingest", "--once", NEWSBOT_SOURCES=str(sources))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{sources}: source 'x': missing key `title`"


def test_bench_query_takes_the_archive_size_and_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import cli as bench_cli
    from benchmarks import memory as bench_memory
    from benchmarks import query as bench_query
    from bot import __main__ as cli

    seen: list[dict[str, object]] = []

    def fake_run(out: object, **options: object) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(bench_query, "run", fake_run)
    for argv, wanted in (
        (
            ["--articles", "1_000_000", "--mentions", "10000000", "--db", "postgresql://h/db"],
            {"articles": 1_000_000, "mentions": 10_000_000, "db": "postgresql://h/db"},
        ),
        ([], {"articles": 100_000, "mentions": 1_000_000, "db": None}),
    ):
        parser = cli.build_parser({"bench": bench_cli.BENCH})
        args = parser.parse_args(["bench", "query", *argv])
        code = bench_cli.run_bench(
            args.name, Path("."), args.db, args.subscribers, args.articles, args.mentions
        )
        # The bot's memory is measured too: the CLI hands the phase to the query bench.
        assert code == 0 and seen.pop() == {**wanted, "memory_phase": bench_memory.memory_phase}


def declared_commands() -> dict[str, str]:
    """Return the tools' commands pyproject.toml declares: name -> "module:attribute"."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(project["entry-points"][GROUP])


def test_the_tools_declare_their_commands_as_entry_points() -> None:
    declared = declared_commands()
    assert set(declared) == {"bench", "chat", "demo"}
    for name, value in declared.items():
        module, attribute = value.split(":")
        assert isinstance(getattr(importlib.import_module(module), attribute), Command), name


def test_the_installed_commands_are_the_declared_ones() -> None:
    installed = {p.name: p.value for p in importlib.metadata.entry_points(group=GROUP)}
    assert installed == declared_commands(), "stale install: run pip install -e . again"


def test_group_stories_groups_an_archive_stored_before_stories(tmp_path: Path) -> None:
    site = FakeNewsSite(SITE)
    base = site.run_in_thread()
    try:
        template = (SITE / "sources.toml.in").read_text(encoding="utf-8")
        sources = tmp_path / "sources.toml"
        sources.write_text(template.replace("{base}", base.rstrip("/")), encoding="utf-8")
        crawled = newsbot(tmp_path, "ingest", "--once", NEWSBOT_SOURCES=str(sources))
        assert crawled.returncode == 0, crawled.stderr
    finally:
        site.stop_thread()
    # The demo site holds one story twice (许昆林周波…座谈, simplified and traditional); undo
    # its grouping as an archive of an older version would hold it.
    db = sqlite3.connect(tmp_path / "cli.db")
    with db:
        assert db.execute(
            "SELECT count(*) FROM articles WHERE story_id IS NOT NULL"
        ).fetchone() == (1,)
        db.execute("UPDATE articles SET story_id = NULL")
        db.execute("DELETE FROM story_bands")
        db.execute("DELETE FROM story_sketches")
    db.close()
    result = newsbot(tmp_path, "group-stories", "--batch", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"grouped 32 articles of {tmp_path / 'cli.db'}: 1 reprints found, 31 stories in all\n"
    )
    again = newsbot(tmp_path, "group-stories")
    assert again.stdout.startswith("grouped 0 articles")


def test_help_lists_the_bots_and_the_tools_commands(tmp_path: Path) -> None:
    result = newsbot(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    listed = [line.split()[0] for line in commands.splitlines() if line[4] != " "]
    # The bot's own commands, then the tools' in order of name.
    assert listed == [
        "run", "ingest", "backfill", "sources", "parse", "speakers", "summarize", "health",
        "copy-db", "export", "group-stories", "bench", "chat", "demo",
    ]  # fmt: skip


def test_bench_query_refuses_an_archive_of_no_articles(tmp_path: Path) -> None:
    result = newsbot(tmp_path, "bench", "query", "--articles", "0")
    assert result.returncode == 2
    assert "--articles: must be at least 1" in result.stderr
    assert not (tmp_path / "data").exists()
