"""Benchmark `newsbot bench query`: handler latency on a large archive, idle and busy.

A file database of generated articles (recombined real sentences from fakes/data) and
leader mentions is built once, in processes of its own, and cached under data/bench/. The
real handler coroutines are then timed against it with a bot that never touches the network:
once on an idle machine, and once while the whole bot (run_bot) runs in this process, crawling
a fake news site that keeps publishing and answering 20 updates a second from 50 other chats
through the fake Bot API. The whole bot is also compared with a bare echo Application. The
report gives the database's bytes per article (against the UTF-8 size of the text it stores),
the build time, the peak memory of the bot alone (`newsbot run` in a process of its own, and
its workers: benchmarks/memory.py) and that of this process. Target: every handler's p99
under 50 ms, idle and busy; the run exits 1 when one misses it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, TextIO

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import (
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from benchmarks.report import percentile
from bot.app import POLL_TIMEOUT, run_bot
from bot.config import Settings, load_settings
from bot.ingest_cli import Progress
from bot.web import build_web_app, start_web
from fakes import LEADERS, SEED_ARTICLE, SITE, TEXTS
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from handlers.chart_cache import ChartCache
from handlers.charts import last_months, months_between, person_chart, trend_chart
from handlers.context import CONTEXT_TYPES, Context
from handlers.inline import on_inline_query
from handlers.latest import cmd_latest
from handlers.search import cmd_search
from handlers.speakers import cmd_speaker, cmd_speakers
from handlers.summary import cmd_summary
from news.charts import ROLE_COLOURS
from news.ingest.sources import get_profile
from news.models import MonthSeries
from news.nlp.speakers import name_pinyin, to_simplified
from storage import is_postgres_url, open_store, redact_target
from storage.base import StoreError, _single_titles, to_db_time
from storage.schema import PERSON_COUNTS, SCHEMA_VERSION
from storage.search import index_grams
from storage.search_keys import keys_in_date_order
from storage.store import SqliteStore, _split_sql

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LEADERS_JSON = PROJECT_ROOT / "news" / "nlp" / "data" / "leaders.json"

# Bump when the generated data changes shape, so cached databases are rebuilt.
GENERATOR_VERSION = 2
# `newsbot bench query` without --articles/--mentions; #16 asks for 1,000,000 / 10,000,000 too.
DEFAULT_ARTICLES = 100_000
DEFAULT_MENTIONS = 1_000_000
SEED = 20181126
YEARS = 8
TARGET_P99_MS = 50.0
# The replies a reader sends most, whose p99 must stay under 5 ms (issue #16).
FAST_TARGET_P99_MS = 5.0
FAST_QUERIES = frozenset({"/latest", "/latest 30", "/summary ID"})
CHART_TARGET_P99_MS = 300.0
CHART_CALLS = 30
CALLS = 200
# Articles composed and inserted at a time while building the archive.
BATCH = 1000
# FTS5's pending-terms size (bytes) while building, and SQLite's default put back after.
FTS_BUILD_HASHSIZE = 64 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = 1024 * 1024
WARMUP = 20
# The p99 of 200 round trips was their second slowest: a bot's delivery tick every 20 s
# decided it. Of 1,000 (75 s a bot) it is the tenth slowest.
ROUND_TRIPS = 1000
# The bot's rate limiter spaces its messages to stay under Telegram's 30 a second; round trips
# are paced well below that, so that the figures show latency, not deliberate queueing.
ROUND_TRIP_INTERVAL = 0.075
CHAT_ID = 1001

# Share of articles that contain each searched word; everything else is drawn from sentences
# that contain none of them, so the frequencies are what the benchmark says they are.
WORD_SHARES: dict[str, float] = {"振兴": 0.22, "营商环境": 0.05, "城市品质": 0.01, "于静": 0.002}
ROLE_WEIGHTS: dict[str, float] = {
    "spoke": 0.30,
    "attended": 0.33,
    "mentioned": 0.25,
    "presided": 0.07,
    "met": 0.05,
}
CITIES = (
    "沈阳",
    "大连",
    "鞍山",
    "抚顺",
    "本溪",
    "丹东",
    "锦州",
    "营口",
    "阜新",
    "辽阳",
    "盘锦",
    "铁岭",
    "朝阳",
    "葫芦岛",
)
SOURCES = ("辽宁日报", "东北新闻网", "沈阳日报", "大连日报", "新华社", "北方网", "辽宁广播电视台")
CHANNELS = ("辽宁新闻", "时政要闻", "沈阳", "大连", "东北新闻网原创", "民生", "经济")
EDITORS = ("张琦", "王丹", "李响", "刘洋", "陈曦", "赵鹏", "孙悦", "周宁")
GIVEN_CHARS = (
    "建国志强海涛晓明立新卫东春雨玉兰红梅振华德胜庆文博永刚丽娟宏伟淑凤霞秀英俊杰世忠长远学军"
)
GENERATED_TITLES = (
    "{city}市委副书记、市长",
    "{city}市副市长",
    "{city}市委常委、秘书长",
    "{city}市人大常委会主任",
    "{city}市政协主席",
    "{city}市委常委、组织部部长",
    "辽宁省副省长",
    "省人大常委会副主任",
    "省政协副主席",
    "省委常委、宣传部部长",
)
TOPICS = (
    "城市管理综合执法工作会议",
    "项目建设推进会",
    "安全生产工作电视电话会议",
    "理论学习中心组专题学习会议",
    "民营经济发展大会",
    "森林防火工作会议",
    "巡察工作动员部署会",
    "招商引资工作推进会",
)
_METADATA = re.compile(
    r"首页|来源|时间:|版权|微信|客户端|微博|网站|\||>>|打印|作者|原标题|位置|http|版$|字体"
)
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*[”」]?")
# Amounts and counts are varied; dates and years are left alone so that they stay plausible.
_DIGITS = re.compile(r"(?<!\d)\d{2,3}(?![\d年月日号时])")
_SLOGAN = re.compile(r"[\u4e00-\u9fff “”、]{6,30}")
# The national leader is quoted in the background of most stories, not cast as a local one.
BACKGROUND_NAMES = frozenset({"习近平", "習近平"})


# --------------------------------------------------------------------------------------------
# The generated archive
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """The cached benchmark database: where it is, what it holds, how long it took to build."""

    path: Path
    articles: int
    mentions: int
    people: int
    seconds: float
    size_bytes: int
    reused: bool


@dataclass
class _Person:
    """A generated leader: weight (how often named), active days, titles over time."""

    name: str
    pinyin: str
    weight: float
    first_day: int
    last_day: int
    titles: list[tuple[int, str]]  # (from day, title chain), by day
    id: int = 0
    seen: list[str] = field(default_factory=list)  # first, last published_at
    title_seen: dict[str, list[str]] = field(default_factory=dict)  # title -> [first, last]
    latest_title: str = ""

    def title_at(self, day: int) -> str:
        """Return the title chain held on this day."""
        chain = self.titles[0][1]
        for start, title in self.titles:
            if start <= day:
                chain = title
        return chain


@dataclass(frozen=True, slots=True)
class _Corpus:
    """Real sentences from the fixtures, sorted by what they may be used for."""

    neutral: tuple[str, ...]  # none of WORD_SHARES' words, no leader named
    personal: tuple[str, ...]  # a leader named, as {P}
    by_word: dict[str, tuple[str, ...]]
    headlines: tuple[str, ...]  # real related-article titles, none of the words
    slogans: tuple[str, ...]


def bench_db_path(workdir: Path, articles: int, mentions: int) -> Path:
    """Return where the benchmark database with these parameters is cached."""
    return workdir / "data" / "bench" / f"query-{articles}-{mentions}.db"


def _marker_path(db_path: Path) -> Path:
    return db_path.with_suffix(".json")


def _wanted_marker(articles: int, mentions: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "articles": articles,
        "mentions": mentions,
    }


def ensure_db(
    workdir: Path, articles: int, mentions: int, *, show_progress: bool = False
) -> GenerationStats:
    """Return the cached benchmark database, generating it first if missing or outdated."""
    path = bench_db_path(workdir, articles, mentions)
    marker = _marker_path(path)
    wanted = _wanted_marker(articles, mentions)
    if path.is_file() and marker.is_file():
        try:
            stored = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        if {k: stored.get(k) for k in wanted} == wanted:
            return GenerationStats(
                path=path,
                articles=articles,
                mentions=int(stored.get("mentions_written", mentions)),
                people=int(stored.get("people", 0)),
                seconds=float(stored.get("seconds", 0.0)),
                size_bytes=path.stat().st_size,
                reused=True,
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A half-built file (an interrupted run) or one of an older schema is rebuilt from scratch.
    marker.unlink(missing_ok=True)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        stale.unlink(missing_ok=True)
    # Built in a process of its own: SQLite's 1 GB build cache and the composer's lists are
    # then not counted in this (the bot's) process's peak memory.
    builder = multiprocessing.get_context("spawn").Process(
        target=_build, args=(path, articles, mentions, show_progress), name="bench-build"
    )
    builder.start()
    builder.join()
    if builder.exitcode != 0 or not marker.is_file():
        raise RuntimeError(f"building {path} failed (exit code {builder.exitcode})")
    stored = json.loads(marker.read_text(encoding="utf-8"))
    return GenerationStats(
        path=path,
        articles=articles,
        mentions=int(stored["mentions_written"]),
        people=int(stored["people"]),
        seconds=float(stored["seconds"]),
        size_bytes=path.stat().st_size,
        reused=False,
    )


def _build(path: Path, articles: int, mentions: int, show_progress: bool) -> None:
    """Create, fill and mark the benchmark database (runs in its own process)."""
    started = time.perf_counter()
    asyncio.run(_create_schema(path))
    written, people = _generate(path, articles, mentions, show_progress)
    seconds = time.perf_counter() - started
    wanted = _wanted_marker(articles, mentions)
    _marker_path(path).write_text(
        json.dumps(
            {**wanted, "mentions_written": written, "people": people, "seconds": seconds},
            indent=1,
        ),
        encoding="utf-8",
    )


async def _create_schema(path: Path) -> None:
    """Create the database through SqliteStore.open, so that the real migrations build it."""
    store = await SqliteStore.open(path)
    await store.close()


def load_corpus() -> _Corpus:
    """Read and sort the real sentences of the leader, text and seed fixtures."""
    files = sorted(
        [
            *LEADERS.glob("*.txt"),
            *TEXTS.glob("*.txt"),
            SEED_ARTICLE,
        ]
    )
    names = _leader_names()
    neutral: dict[str, None] = {}
    personal: dict[str, None] = {}
    by_word: dict[str, dict[str, None]] = {w: {} for w in WORD_SHARES}
    headlines: dict[str, None] = {}
    slogans: dict[str, None] = {}
    for file in files:
        # Some fixtures are big5 pages; the archive (and every search) is in simplified script.
        for raw in to_simplified(file.read_text(encoding="utf-8")).splitlines():
            line = raw.strip()
            if not line or _METADATA.search(line):
                continue
            if line.startswith("- "):
                headline = line[2:].strip()
                if len(headline) >= 8 and not any(w in headline for w in WORD_SHARES):
                    headline = _with_placeholder(headline, names)
                    headlines[headline] = None
                    if headline.startswith("{P}:"):
                        slogans[headline.removeprefix("{P}:")] = None
                continue
            if len(line) <= 30:
                if (
                    _SLOGAN.fullmatch(line)
                    and not re.search("正文|会议|考察", line)
                    and not any(w in line for w in WORD_SHARES)
                    and not any(n in line for n in names)
                ):
                    slogans[line] = None
                continue
            for sentence in _sentences(line):
                sentence = _with_placeholder(sentence, names)
                if len(sentence) < 12:
                    continue
                found = [w for w in WORD_SHARES if w in sentence]
                if len(found) > 1:
                    continue  # it would add a second word beyond that word's share
                if found:
                    by_word[found[0]][sentence] = None
                elif "{P}" in sentence:
                    personal[sentence] = None
                else:
                    neutral[sentence] = None
    by_word["于静"].update(
        dict.fromkeys(
            (
                "中车大连机车车辆有限公司于静被评为“新时代的奋斗者”。",
                "（记者 于静）",
                "本报记者于静报道。",
            )
        )
    )
    by_word["营商环境"].update(
        dict.fromkeys(
            (
                "要持续优化营商环境,让企业安心经营、放心投资。",
                "会议强调,营商环境就是生产力。",
            )
        )
    )
    by_word["城市品质"].update(dict.fromkeys(("全面提升城市品质,建设宜居宜业宜游城市。",)))
    return _Corpus(
        neutral=tuple(neutral),
        personal=tuple(personal),
        by_word={w: tuple(s) for w, s in by_word.items()},
        headlines=tuple(headlines),
        slogans=tuple(slogans),
    )


def _sentences(line: str) -> Iterator[str]:
    """Yield a paragraph's sentences; a long one is cut at its semicolons into clauses."""
    for match in _SENTENCE.finditer(line):
        sentence = match.group(0).strip()
        if len(sentence) > 100 and (";" in sentence or "；" in sentence):
            clauses = [c.strip() for c in re.split("[;；]", sentence.rstrip("。")) if c.strip()]
            yield from (c + "。" for c in clauses)
        else:
            yield sentence


def _leader_names() -> list[str]:
    data = json.loads(LEADERS_JSON.read_text(encoding="utf-8"))
    names: list[str] = []
    for leader in data["leaders"]:
        names.extend(n for n in (leader["name"], *leader["aliases"]) if n not in BACKGROUND_NAMES)
    # Longest first so that a three-character name is not cut by a two-character one.
    return sorted(set(names), key=len, reverse=True)


def _with_placeholder(text: str, names: Sequence[str]) -> str:
    for name in names:
        text = text.replace(name, "{P}")
    return text


def _people(rng: random.Random, days: int, start: datetime) -> list[_Person]:
    """Return the gazetteer's leaders and generated officials, the heavy ones first."""
    data = json.loads(LEADERS_JSON.read_text(encoding="utf-8"))
    people: list[_Person] = []
    taken: set[str] = set()
    for leader in data["leaders"]:
        if leader["name"] in BACKGROUND_NAMES:
            continue
        spans = [(t["from"], t["to"] or t["from"] + 3, t["title"]) for t in leader["titles"]]
        # Tenures are widened: the bench wants people active long enough to pile up mentions.
        first_year = min(s[0] for s in spans) - 1
        last_year = max(s[1] for s in spans) + 3
        first_day = max(0, (datetime(first_year, 1, 1, tzinfo=UTC) - start).days)
        last_day = min(days - 1, (datetime(last_year, 12, 31, tzinfo=UTC) - start).days)
        if last_day - first_day < 365:
            continue
        titles = sorted(
            (max(0, (datetime(s[0], 1, 1, tzinfo=UTC) - start).days), s[2]) for s in spans
        )
        people.append(
            _Person(leader["name"], name_pinyin(leader["name"]), 0.0, first_day, last_day, titles)
        )
        taken.add(leader["name"])
    rng.shuffle(people)
    # 易炼红 is the heavy person the benchmark asks for by name.
    people.sort(key=lambda p: p.name != "易炼红")
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
    while len(people) < 400:
        name = rng.choice(surnames) + "".join(rng.sample(GIVEN_CHARS, rng.choice((1, 2, 2))))
        if name in taken:
            continue
        taken.add(name)
        length = rng.randint(730, days)
        first_day = rng.randint(0, days - length)
        city = rng.choice(CITIES)
        first_title = rng.choice(GENERATED_TITLES).format(city=city)
        titles = [(first_day, first_title)]
        if rng.random() < 0.3:
            later = rng.choice(GENERATED_TITLES).format(city=rng.choice(CITIES))
            titles.append((first_day + length // 2, later))
        people.append(
            _Person(name, name_pinyin(name), 0.0, first_day, first_day + length - 1, titles)
        )
    for rank, person in enumerate(people):
        person.weight = 1.0 / (rank + 4) ** 1.1
    return people


def _generate(path: Path, articles: int, mentions: int, show_progress: bool) -> tuple[int, int]:
    """Fill the (migrated, empty) database; return the mentions and people written.

    Composing articles is Python and inserting them is SQLite: a second process composes
    (the same seeded sequence as ever) while this one inserts, so both cores work. Memory
    stays flat at any size: at most a few batches are in flight.
    """
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=YEARS * 365 + YEARS // 4)
    context = multiprocessing.get_context("spawn")
    batches: Any = context.Queue(maxsize=4)
    composer = context.Process(
        target=_compose, args=(batches, articles, mentions, start), name="bench-compose"
    )
    progress = Progress(sys.stderr) if show_progress else None
    label = path.name
    con = sqlite3.connect(path, isolation_level=None)
    composer.start()
    try:
        # A crash mid-build leaves no marker, so the file is rebuilt: no journal is needed.
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1000000")
        con.execute("BEGIN")
        _drop_person_triggers(con)
        con.execute(
            "INSERT INTO sources (name, title, profile, created_at) VALUES (?, ?, ?, ?)",
            ("nen", "东北新闻网", "nen", to_db_time(start)),
        )
        # B-trees built once from sorted rows beat millions of inserts at random places (the
        # mention indexes by person); the schema's own CREATE INDEX text is replayed after.
        deferred = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('articles', 'article_urls', 'mentions')"
        ).fetchall()
        for name, _sql in deferred:
            con.execute(f'DROP INDEX "{name}"')
        # FTS5 writes a segment each time its pending terms pass `hashsize` (1 MB): fewer,
        # larger segments mean less merging. Put back to the default below.
        con.execute(
            "INSERT INTO articles_grams (articles_grams, rank) VALUES ('hashsize', ?)",
            (FTS_BUILD_HASHSIZE,),
        )
        done = 0
        while True:
            message = batches.get()
            if message[0] == "error":
                raise RuntimeError(f"composing the benchmark articles failed:\n{message[1]}")
            if message[0] == "done":
                _kind, written, people, titles = message
                break
            _kind, batch, keys = message
            _insert(con, batch, keys)
            done += len(batch)
            if progress is not None:
                progress(label, done, articles)
        con.executemany(
            "INSERT INTO people (id, name, pinyin, latest_title, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            people,
        )
        con.executemany(
            "INSERT INTO person_titles (person_id, title, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?)",
            titles,
        )
        for _name, sql in deferred:
            con.execute(sql)
        con.execute(
            "INSERT INTO articles_grams (articles_grams, rank) VALUES ('hashsize', ?)",
            (FTS_DEFAULT_HASHSIZE,),
        )
        _count_people(con)
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
        if composer.is_alive():
            composer.terminate()  # the insert failed; the composer may block on a full queue
        composer.join()
    return written, len(people)


def _search_keys(stamps: Sequence[tuple[float, float]], start: datetime) -> dict[int, int]:
    """Return each article's search key, as SqliteStore gives them (a day's spread over slots)."""
    by_date = sorted(
        (to_db_time(start + timedelta(seconds=published)), article_id)
        for article_id, (_fetched, published) in enumerate(stamps, start=1)
    )
    return keys_in_date_order([(article_id, at) for at, article_id in by_date])


def _compose(batches: Any, articles: int, mentions: int, start: datetime) -> None:
    """Compose the articles in order and put them on `batches` (runs in its own process)."""
    try:
        rng = random.Random(SEED)
        corpus = load_corpus()
        days = YEARS * 365 + YEARS // 4
        people = _people(rng, days, start)
        sampler = _PeopleSampler(people, days)
        stamps = _timestamps(rng, articles, days)
        quotas = _quotas(rng, articles, mentions)
        keys = _search_keys(stamps, start)
        builder = _ArticleBuilder(rng, corpus, sampler, start)
        written = carry = 0
        batch: list[_Built] = []
        for article_id, ((fetched, published), quota) in enumerate(
            zip(stamps, quotas, strict=True), start=1
        ):
            built = builder.build(article_id, published, fetched, quota + carry)
            carry = quota + carry - len(built.mentions)
            written += len(built.mentions)
            batch.append(built)
            if len(batch) >= BATCH:
                batches.put(("batch", batch, {b.row[0]: keys[b.row[0]] for b in batch}))
                batch = []
        if batch:
            batches.put(("batch", batch, {b.row[0]: keys[b.row[0]] for b in batch}))
        used = builder.used_people()
        batches.put(
            (
                "done",
                written,
                [(p.id, p.name, p.pinyin, p.latest_title, p.seen[0], p.seen[1]) for p in used],
                [(p.id, t, s[0], s[1]) for p in used for t, s in p.title_seen.items()],
            )
        )
    except BaseException:
        batches.put(("error", traceback.format_exc()))
        raise


def _drop_person_triggers(con: sqlite3.Connection) -> None:
    """Drop the mentions' triggers that keep person_counts and person_days, for the build."""
    # They would double the time 10,000,000 mentions take to insert; the migration's own
    # back-fill counts them all at the end instead (_count_people), in a minute or two.
    for name in ("mentions_counted", "mentions_uncounted"):
        con.execute(f"DROP TRIGGER {name}")


def _count_people(con: sqlite3.Connection) -> None:
    """Fill person_counts and person_days as the migration does, and put the triggers back."""
    for statement in _split_sql(PERSON_COUNTS):
        # The tables are there, and so is not the index the migration drops (it ran already).
        if not statement.startswith(("CREATE TABLE", "DROP INDEX")):
            con.execute(statement)


@dataclass(frozen=True, slots=True)
class _Built:
    """One generated article row and its mention rows."""

    row: tuple[Any, ...]
    url_key: str
    grams: str
    mentions: list[tuple[int, int, str, str, str, str]]


def _insert(con: sqlite3.Connection, batch: list[_Built], keys: dict[int, int]) -> None:
    con.executemany(
        "INSERT INTO articles (id, url, title, published_at, source, editor, body, fetched_at, "
        "content_hash, source_name, subtitle, reporter, channel, related, summary, keywords, "
        "search_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*b.row, keys[b.row[0]]) for b in batch],
    )
    con.executemany(
        "INSERT INTO article_urls (url_key, url, article_id) VALUES (?, ?, ?)",
        [(b.url_key, b.row[1], b.row[0]) for b in batch],
    )
    # Exactly what Store.add_article writes, so 1-2 character searches behave as in production.
    con.executemany(
        "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)",
        [(keys[b.row[0]], b.grams) for b in batch],
    )
    con.executemany(
        "INSERT INTO mentions (article_id, person_id, role, title, statement, published_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [m for b in batch for m in b.mentions],
    )


def _timestamps(rng: random.Random, articles: int, days: int) -> list[tuple[float, float]]:
    """Return (fetched, published) seconds from the start, in the order a crawler stores them."""
    horizon = days * 86400.0
    stamps: list[tuple[float, float]] = []
    for _ in range(articles):
        # News appears between 08:00 and 22:00 Beijing time, i.e. 00:00-14:00 UTC.
        published = rng.randrange(days) * 86400.0 + rng.randint(0, 14 * 3600)
        if rng.random() < 0.03:  # found later: an archive backfill or a late list page
            fetched = published + rng.random() * (horizon - published)
        else:
            fetched = min(horizon, published + rng.expovariate(1 / 7200))
        stamps.append((fetched, published))
    stamps.sort()
    return stamps


def _quotas(rng: random.Random, articles: int, mentions: int) -> list[int]:
    """Split the mentions over the articles unevenly: many short items, some long meetings."""
    weights = [rng.gammavariate(1.5, 1.0) for _ in range(articles)]
    total = sum(weights)
    quotas = [int(mentions * w / total) for w in weights]
    for _ in range(mentions - sum(quotas)):
        quotas[rng.randrange(articles)] += 1
    return quotas


class _PeopleSampler:
    """Draw people by weight among those active in a 30-day period."""

    def __init__(self, people: list[_Person], days: int) -> None:
        self._periods: list[tuple[list[_Person], list[float]]] = []
        for period in range(days // 30 + 1):
            first, last = period * 30, period * 30 + 29
            active = [p for p in people if p.first_day <= last and p.last_day >= first]
            self._periods.append((active, list(itertools.accumulate(p.weight for p in active))))

    def draw(self, rng: random.Random, day: int, count: int) -> list[_Person]:
        """Return up to `count` different people active around this day."""
        active, cumulative = self._periods[day // 30]
        count = min(count, len(active))
        chosen: dict[str, _Person] = {}
        tries = 0
        while len(chosen) < count and tries < count * 20:
            tries += 1
            person = active[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            chosen.setdefault(person.name, person)
        return list(chosen.values())


class _ArticleBuilder:
    """Compose articles from real sentences around the people they mention."""

    def __init__(
        self,
        rng: random.Random,
        corpus: _Corpus,
        sampler: _PeopleSampler,
        start: datetime,
    ) -> None:
        self._rng = rng
        self._corpus = corpus
        self._sampler = sampler
        self._start = start
        self._next_person_id = itertools.count(1)
        self._used: list[_Person] = []
        self._yujing = _Person(
            "于静", name_pinyin("于静"), 0.0, 0, 0, [(0, "中车大连机车车辆有限公司职工")]
        )
        self._roles = list(ROLE_WEIGHTS)
        self._role_weights = list(ROLE_WEIGHTS.values())

    def used_people(self) -> list[_Person]:
        """Return the people mentioned at least once, by id."""
        return self._used

    def build(self, article_id: int, published: float, fetched: float, quota: int) -> _Built:
        """Generate one article with about `quota` mention rows."""
        rng = self._rng
        moment = self._start + timedelta(seconds=published)
        day = int(published // 86400)
        when = to_db_time(moment)
        words = [w for w, share in WORD_SHARES.items() if rng.random() < share]
        cast = self._cast(day, quota, "于静" in words)
        city = rng.choice(CITIES)
        speakers = [p for p, roles in cast if "spoke" in roles]
        main = speakers[0] if speakers else (cast[0][0] if cast else None)
        local = moment + timedelta(hours=8)
        topic = rng.choice(TOPICS)
        lead = f"{local.month}月{local.day}日,{city}市召开{topic}。"
        fixed: list[str] = []
        mention_rows: list[tuple[int, int, str, str, str, str]] = []
        attendees: list[str] = []
        for person, roles in cast:
            title = person.title_at(day)
            self._note(person, title, when)
            statement = ""
            for role in roles:
                if role == "spoke":
                    said = [self._neutral() for _ in range(rng.choice((1, 1, 2)))]
                    statement = "\n".join(said)
                    fixed.append(f"{title}{person.name}出席会议并讲话。")
                    fixed.extend(f"{person.name}强调,{s}" for s in said)
                elif role == "presided":
                    fixed.append(f"{title}{person.name}主持会议。")
                elif role == "met":
                    fixed.append(f"{person.name}会见了{rng.choice(CITIES)}客人一行。")
                elif role == "mentioned":
                    fixed.append(rng.choice(self._corpus.personal).replace("{P}", person.name))
                else:
                    attendees.append(f"{title}{person.name}")
                mention_rows.append(
                    (
                        article_id,
                        person.id,
                        role,
                        title,
                        statement if role == "spoke" else "",
                        when,
                    )
                )
        if attendees:
            fixed.append("、".join(attendees) + "参加会议。")
        stand_in = main.name if main else "市领导"
        for word in words:
            for _ in range(rng.choice((1, 1, 2)) if word == "振兴" else 1):
                fixed.append(rng.choice(self._corpus.by_word[word]).replace("{P}", stand_in))
        body = self._body(lead, fixed)
        title = self._title(main, city, topic, words)
        first = body.split("\n", 1)[0]
        summary = first if len(first) <= 150 else first[:149] + "…"
        url = (
            f"https://liaoning.nen.com.cn/network/liaoningnews/lnnewsyuanchuang/"
            f"{local:%Y/%m/%d}/{550000000000000000 + article_id}.shtml"
        )
        row = (
            article_id,
            url,
            title,
            when,
            rng.choice(SOURCES),
            rng.choice(EDITORS),
            body,
            to_db_time(self._start + timedelta(seconds=fetched)),
            hashlib.sha1(body.encode("utf-8")).hexdigest(),
            "nen",
            "",
            "于静" if "于静" in words and rng.random() < 0.5 else "",
            rng.choice(CHANNELS),
            "[]",
            summary,
            ",".join([*words, city]),
        )
        return _Built(row, url.split("://", 1)[1], index_grams(title + "\n" + body), mention_rows)

    def _cast(self, day: int, quota: int, yujing: bool) -> list[tuple[_Person, list[str]]]:
        """Choose the people of an article and their roles: `quota` mention rows in all."""
        rng = self._rng
        cast: list[tuple[_Person, list[str]]] = []
        rows = 0
        if yujing and quota > 0:
            cast.append((self._yujing, ["mentioned"]))
            rows = 1
        if quota <= rows:
            return cast
        wanted = max(1, (quota - rows + 1) // 2)
        for person in self._sampler.draw(rng, day, wanted + 2):
            if rows >= quota:
                break
            count = min(quota - rows, rng.choice((1, 1, 2, 2, 2, 3)))
            roles: list[str] = []
            while len(roles) < count:
                role = rng.choices(self._roles, self._role_weights)[0]
                if role not in roles:
                    roles.append(role)
            cast.append((person, roles))
            rows += count
        return cast

    def _note(self, person: _Person, title: str, when: str) -> None:
        """Track a person's id, first/last seen and titles as Store._write_analysis would."""
        if not person.id:
            person.id = next(self._next_person_id)
            person.seen = [when, when]
            person.latest_title = title
            self._used.append(person)
        if when < person.seen[0]:
            person.seen[0] = when
        if when >= person.seen[1]:
            person.seen[1] = when
            person.latest_title = title
        for single in _single_titles([title]):
            span = person.title_seen.setdefault(single, [when, when])
            span[0] = min(span[0], when)
            span[1] = max(span[1], when)

    def _neutral(self) -> str:
        """Return a real sentence naming nobody, its city and figures varied."""
        rng = self._rng
        sentence = rng.choice(self._corpus.neutral)
        if rng.random() < 0.8:
            sentence = sentence.replace("沈阳", rng.choice(CITIES))
        if rng.random() < 0.5:
            sentence = _DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group(0)))), sentence)
        return sentence

    def _body(self, lead: str, fixed: list[str]) -> str:
        """Mix the article's own sentences into filler until it is 600-1200 characters long."""
        rng = self._rng
        target = rng.randint(600, 1200)
        sentences = list(fixed)
        length = len(lead) + sum(len(s) for s in sentences)
        misses = 0
        while length < target and misses < 20:
            sentence = self._neutral()
            if length + len(sentence) > 1200:
                misses += 1
                continue
            sentences.insert(rng.randint(0, len(sentences)), sentence)
            length += len(sentence)
        paragraphs: list[str] = []
        position = 0
        sentences.insert(0, lead)
        while position < len(sentences):
            size = rng.randint(1, 4)
            paragraphs.append("".join(sentences[position : position + size]))
            position += size
        return "\n".join(paragraphs)

    def _title(self, main: _Person | None, city: str, topic: str, words: list[str]) -> str:
        """Return a headline in the styles the fixtures show."""
        rng = self._rng
        if words and rng.random() < 0.3:
            word = rng.choice(words)
            return {
                "振兴": f"{city}奋力谱写全面振兴新篇章",
                "营商环境": f"{city}市持续优化营商环境",
                "城市品质": f"{city}市全面提升城市品质",
                "于静": "【新时代的奋斗者】中车大连机车车辆有限公司于静——追求完美技术的“钢铁裁缝”",
            }[word]
        roll = rng.random()
        if main is not None and roll < 0.4:
            if rng.random() < 0.5:
                return f"{main.name}：{rng.choice(self._corpus.slogans)}"
            return f"{main.name}在{rng.choice(CITIES)}调研时强调"
        if roll < 0.75:
            headline = rng.choice(self._corpus.headlines)
            if "{P}" in headline:
                headline = headline.replace("{P}", main.name if main else "省委书记")
            return headline.replace("沈阳", city)
        return f"{city}市{topic}召开"


# --------------------------------------------------------------------------------------------
# Handler latency with a bot that never leaves the process
# --------------------------------------------------------------------------------------------

BOT_USER: dict[str, Any] = {
    "id": 1,
    "is_bot": True,
    "first_name": "Newsbot Bench",
    "username": "newsbot_bench_bot",
}


class OfflineRequest(BaseRequest):
    """A Bot API transport that answers every call at once with a canned success."""

    def __init__(self) -> None:
        self._message_ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        """Return None: nothing here ever waits."""
        return None

    async def initialize(self) -> None:
        """Do nothing: there is no connection pool."""

    async def shutdown(self) -> None:
        """Do nothing: there is no connection pool."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer like Telegram would: the bot for getMe, the message for a send or an edit."""
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint == "getUpdates":
            result = []
        elif endpoint in ("sendMessage", "editMessageText"):
            chat_id = int(str(params.get("chat_id", CHAT_ID)))
            result = {
                "message_id": params.get("message_id") or next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                result["reply_markup"] = params["reply_markup"]
        return 200, json.dumps({"ok": True, "result": result}).encode()


Handler = Callable[[Update, Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Timing:
    """The latencies of one benchmarked query, in milliseconds."""

    label: str
    samples: tuple[float, ...]
    target: float = TARGET_P99_MS

    @property
    def p50(self) -> float:
        """Return the median."""
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        """Return the 99th percentile."""
        return percentile(self.samples, 99)


def bench_queries(summary_ids: Sequence[int]) -> list[tuple[str, list[str]]]:
    """Return the benchmarked commands: a label and the texts to send, used in turn."""
    return [
        ("/latest", ["/latest"]),
        ("/latest 30", ["/latest 30"]),
        ("/search 营商环境 (3+ chars, common)", ["/search 营商环境"]),
        ("/search 沈阳市 (3+ chars, very common)", ["/search 沈阳市"]),
        ("/search 城市品质 (3+ chars, rare)", ["/search 城市品质"]),
        ("/search 一个不存在的词语 (no match)", ["/search 一个不存在的词语"]),
        ("/search 振兴 (2 chars, common)", ["/search 振兴"]),
        ("/search 于静 (2 chars, rare)", ["/search 于静"]),
        ("/search 振兴 2023-01..2023-06", ["/search 振兴 2023-01..2023-06"]),
        ("/search 营商环境 2020..2021", ["/search 营商环境 2020..2021"]),
        ("/search 易炼红 振兴 (two words)", ["/search 易炼红 振兴"]),
        ("/speaker 易炼红", ["/speaker 易炼红"]),
        ("/speaker yilianhong", ["/speaker yilianhong"]),
        ("/speaker 沈阳市委书记", ["/speaker 沈阳市委书记"]),
        ("/speakers", ["/speakers"]),
        ("/summary ID", [f"/summary {i}" for i in summary_ids]),
    ]


HANDLERS: dict[str, Handler] = {
    "latest": cmd_latest,
    "search": cmd_search,
    "speaker": cmd_speaker,
    "speakers": cmd_speakers,
    "summary": cmd_summary,
}


def inline_queries() -> list[tuple[str, str, str]]:
    """Return the benchmarked inline queries: a label, the query and the offset."""
    return [
        ("inline @ (empty: latest)", "", ""),
        ("inline @ 易炼红 (his speeches first)", "易炼红", ""),
        ("inline @ 营商环境", "营商环境", ""),
        ("inline @ 振兴, page 3", "振兴", "40"),
    ]


def feed_paths() -> list[tuple[str, str, bool]]:
    """Return the benchmarked feeds: a label, the path, and whether the GET is conditional."""
    return [
        ("GET /feeds/latest.atom", "/feeds/latest.atom", False),
        ("GET /feeds/latest.atom, If-None-Match (304)", "/feeds/latest.atom", True),
        (
            "GET /feeds/speaker/易炼红.atom",
            "/feeds/speaker/%E6%98%93%E7%82%BC%E7%BA%A2.atom",
            False,
        ),
        (
            "GET /feeds/search.atom?q=营商环境",
            "/feeds/search.atom?q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83",
            False,
        ),
    ]


def inline_update(bot: Bot, query: str, offset: str, update_id: int) -> Update:
    """Return the Update Telegram would send for a user typing `@bot query` in some chat."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "测试用户", "language_code": "zh-hans"}
    data = {
        "update_id": update_id,
        "inline_query": {
            "id": str(update_id),
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": "supergroup",
        },
    }
    return Update.de_json(data, bot)


def command_update(bot: Bot, text: str, update_id: int) -> Update:
    """Return the Update Telegram would send for a user typing `text` in a private chat."""
    user = {"id": CHAT_ID, "is_bot": False, "first_name": "测试用户", "language_code": "zh-hans"}
    command = text.split()[0]
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": CHAT_ID, "type": "private", "first_name": "测试用户"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }
    return Update.de_json(data, bot)


async def time_handlers(db: Path | str, calls: int = CALLS, warmup: int = WARMUP) -> list[Timing]:
    """Time each benchmarked command's real handler against the database, offline."""
    store = await open_store(db)
    try:
        stored = await store.count_articles()
        # /summary asks for ids spread over the archive, not for one row the cache keeps warm.
        summary_ids = random.Random(SEED).sample(range(1, stored + 1), min(50, stored))
        app = (
            ApplicationBuilder()
            .token("1:x")
            .request(OfflineRequest())
            .get_updates_request(OfflineRequest())
            .context_types(CONTEXT_TYPES)
            .updater(None)
            .build()
        )
        app.bot_data.store = store
        timings: list[Timing] = []
        update_ids = itertools.count(1)
        async with app:
            for label, texts in bench_queries(summary_ids):
                samples: list[float] = []
                for call in range(warmup + calls):
                    text = texts[call % len(texts)]
                    update = command_update(app.bot, text, next(update_ids))
                    context = CallbackContext.from_update(update, app)
                    context.args = text.split()[1:]
                    handler = HANDLERS[text.split()[0].removeprefix("/")]
                    started = time.perf_counter()
                    await handler(update, context)
                    elapsed = (time.perf_counter() - started) * 1000
                    if call >= warmup:
                        samples.append(elapsed)
                target = FAST_TARGET_P99_MS if label in FAST_QUERIES else TARGET_P99_MS
                timings.append(Timing(label, tuple(samples), target))
            for label, query, offset in inline_queries():
                samples = []
                for call in range(warmup + calls):
                    update = inline_update(app.bot, query, offset, next(update_ids))
                    context = CallbackContext.from_update(update, app)
                    started = time.perf_counter()
                    await on_inline_query(update, context)
                    elapsed = (time.perf_counter() - started) * 1000
                    if call >= warmup:
                        samples.append(elapsed)
                timings.append(Timing(label, tuple(samples)))
            timings += await time_feeds(app.bot_data, calls, warmup)
            try:
                timings += await time_charts(app, min(calls, CHART_CALLS), next(update_ids))
            finally:
                app.bot_data.renderer.close()
        return timings
    finally:
        await store.close()


async def time_feeds(bot_data: Any, calls: int, warmup: int) -> list[Timing]:
    """Time feed requests through the real feed listener on loopback, with a real HTTP client."""
    import httpx

    runner = await start_web(build_web_app(bot_data), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    timings: list[Timing] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=30) as client:
            for label, path, conditional in feed_paths():
                first = await client.get(path)
                if first.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {first.status_code}")
                headers = {"If-None-Match": first.headers["ETag"]} if conditional else {}
                samples: list[float] = []
                for call in range(warmup + calls):
                    started = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    if conditional and response.status_code == 200:
                        # The busy table's crawl stored an article: the feed changed, so it
                        # was sent again; the next calls ask with its new ETag.
                        headers = {"If-None-Match": response.headers["ETag"]}
                    elif response.status_code != (304 if conditional else 200):
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
                    if call >= warmup:
                        samples.append(elapsed)
                timings.append(Timing(label, tuple(samples)))
    finally:
        await runner.cleanup()
    return timings


async def time_charts(app: Any, calls: int, update_id: int) -> list[Timing]:
    """Time drawing each chart afresh (queries, then the PNG in the worker), and /latest meanwhile.

    The cache is emptied before every call, so each one queries and renders.
    """
    bot_data = app.bot_data
    window = last_months(datetime.now(UTC), bot_data.tz)
    # The leader who spoke most in the window: one with the most to draw.
    top = await bot_data.store.top_speakers(window[0], limit=1)
    if not top:
        raise RuntimeError("nobody spoke in the last 24 months of the archive")
    person = top[0][0]
    update = command_update(app.bot, f"/chart {person.name}", update_id)
    context = CallbackContext.from_update(update, app)

    async def draw_person() -> None:
        await person_chart(context, person, "zh")

    async def draw_trend() -> None:
        await trend_chart(context, ("振兴",), *window, "zh")

    timings: list[Timing] = []
    for label, draw in (
        ("chart: /chart NAME (24 months by role, the busiest speaker)", draw_person),
        ("chart: /trend 振兴 (24 months, top speakers)", draw_trend),
    ):
        samples: list[float] = []
        for call in range(2 + calls):
            bot_data.charts = ChartCache()
            started = time.perf_counter()
            await draw()
            elapsed = (time.perf_counter() - started) * 1000
            if bot_data.charts.renders != 1:
                raise RuntimeError(f"{label}: drew nothing (no data in the last 24 months?)")
            if call >= 2:
                samples.append(elapsed)
        timings.append(Timing(label, tuple(samples), CHART_TARGET_P99_MS))
    # The PNG alone (the worker process's share of the above), for 24 months of four roles.
    months = months_between(*window, bot_data.tz)
    data = MonthSeries(
        tuple(months),
        {
            role: [(i * 7 + n) % 40 for i in range(len(months))]
            for n, role in enumerate(ROLE_COLOURS)
        },
    )
    samples = []
    for call in range(2 + calls):
        started = time.perf_counter()
        await bot_data.renderer.render(
            data, title=f"{person.name}：每月出现的文章数", labels={r: r for r in ROLE_COLOURS},
            colours=ROLE_COLOURS, y_label="文章数",
        )  # fmt: skip
        if call >= 2:
            samples.append((time.perf_counter() - started) * 1000)
    timings.append(
        Timing("chart: the PNG alone (worker process)", tuple(samples), CHART_TARGET_P99_MS)
    )
    # Other chats meanwhile: /latest while trend charts are drawn back to back.
    stop = asyncio.Event()

    async def keep_drawing() -> None:
        while not stop.is_set():
            bot_data.charts = ChartCache()
            await draw_trend()

    drawer = asyncio.create_task(keep_drawing())
    samples = []
    try:
        await asyncio.sleep(0.05)
        for call in range(calls * 3):
            latest = command_update(app.bot, "/latest", update_id + 1 + call)
            latest_context = CallbackContext.from_update(latest, app)
            latest_context.args = []
            started = time.perf_counter()
            await cmd_latest(latest, latest_context)
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await drawer
    timings.append(Timing("/latest while charts are drawn", tuple(samples)))
    return timings


# --------------------------------------------------------------------------------------------
# Round trip through the fake Bot API: the whole bot against a bare echo bot
# --------------------------------------------------------------------------------------------

FAKE_TOKEN = "123456789:AAE2eBENCHtokenNotSecret_0123456789ab"


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """Update-in to reply-out latencies of the bot and of an echo bot, in milliseconds."""

    bot: tuple[float, ...]
    echo: tuple[float, ...]

    @property
    def ratio_p50(self) -> float:
        """Return the bot's median over the echo bot's."""
        return percentile(self.bot, 50) / max(percentile(self.echo, 50), 1e-9)

    @property
    def ratio_p99(self) -> float:
        """Return the bot's p99 over the echo bot's."""
        return percentile(self.bot, 99) / max(percentile(self.echo, 99), 1e-9)


def _bench_settings(api: FakeBotApi, db: Path | str, sources: Path) -> Settings:
    """Return the bot's settings for a run against the fake Bot API."""
    return load_settings(
        {
            "NEWSBOT_TOKEN": FAKE_TOKEN,
            "NEWSBOT_API_URL": api.root_url,
            "NEWSBOT_DB": str(db),
            "NEWSBOT_SOURCES": str(sources),
            "NEWSBOT_LOG_LEVEL": "WARNING",
        },
        dotenv=None,
    )


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[None]:
    """Run the whole bot (run_bot, as `newsbot run` does) in this event loop meanwhile."""
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, stop, ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        waiter.cancel()
        if task.done():
            task.result()  # raises what stopped the start
        task.cancel()
        raise RuntimeError("the bot did not start within 30 s")
    try:
        yield
    finally:
        stop.set()
        # A crawl under way (jieba on a busy machine) finishes before the bot stops.
        await asyncio.wait_for(task, timeout=60)


async def round_trip(db: Path | str, scratch: Path, count: int = ROUND_TRIPS) -> RoundTrip:
    """Send /latest `count` times to the real bot, then to an echo bot, through the fake API."""
    api = FakeBotApi(FAKE_TOKEN, global_rate=None, group_per_minute=None, private_rate=None)
    api.run_in_thread()
    try:
        sources = scratch / "sources.toml"
        sources.write_text("", encoding="utf-8")
        async with running_bot(_bench_settings(api, db, sources)):
            bot_times = await _push_and_wait(api, CHAT_ID, "/latest", count)

        echo = (
            ApplicationBuilder()
            .token(FAKE_TOKEN)
            .base_url(f"{api.root_url}/bot")
            .request(HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15))
            .get_updates_request(HTTPXRequest(read_timeout=POLL_TIMEOUT + 10))
            .build()
        )
        echo.add_handler(MessageHandler(filters.ALL, _echo))
        async with echo:
            assert echo.updater is not None
            await echo.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES)
            await echo.start()
            try:
                echo_times = await _push_and_wait(api, CHAT_ID + 1, "/latest", count)
            finally:
                await echo.updater.stop()
                await echo.stop()
        return RoundTrip(tuple(bot_times), tuple(echo_times))
    finally:
        api.stop_thread()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the text back: the least a bot can do with an update."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text, do_quote=False)


async def _push_and_wait(api: FakeBotApi, chat_id: int, text: str, count: int) -> list[float]:
    """Push `text` `count` times (after a warm-up), each after the last reply; return latencies.

    A latency runs from the push (the update is there for the long poll to take) to the
    arrival of the bot's sendMessage at the fake: the fake's own checking of the reply's HTML
    (longer for /latest than for an echo) is left out.
    """
    latencies: list[float] = []
    for turn in range(WARMUP + count):
        before = len(api.calls_to("sendMessage"))
        pushed = time.time()
        api.push_text(chat_id, text)
        # Waiting for the recorded call, not the message: the fake records the message first.
        calls = await api.wait_for_calls("sendMessage", before + 1, timeout=15)
        reply = calls[before]
        if reply.status != 200 or str(reply.params.get("chat_id")) != str(chat_id):
            raise RuntimeError(f"unexpected reply to {text!r}: {reply.status} {reply.response}")
        # Both clocks are time.time(); the fake stamps each call when its request arrives.
        arrived = reply.time
        if turn >= WARMUP:
            latencies.append((arrived - pushed) * 1000)
        await asyncio.sleep(max(0.0, ROUND_TRIP_INTERVAL - (time.time() - pushed)))
    return latencies


# --------------------------------------------------------------------------------------------
# Busy: the same handlers while the bot crawls and answers other chats in this process
# --------------------------------------------------------------------------------------------

# Updates a second from other chats, and how many chats they come from.
BUSY_RATE = 20.0
BUSY_CHATS = 50
BUSY_FIRST_CHAT = 20_001
# A new article on the fake site every this many seconds, and a crawl every CRAWL_SECONDS:
# far more than the few hundred a day of the real sources, so that every stage of a crawl
# (fetch, parse, jieba, the store's writes) overlaps the measurement, which lasts minutes.
# A crawl of five articles takes a few seconds on a busy 2-core machine.
PUBLISH_SECONDS = 3.0
CRAWL_SECONDS = 15.0
# The channel whose list page the rolling site rewrites, and the articles it starts from.
ROLLING_CHANNEL = "/network/liaoningnews/lnnewsshizheng"
ROLLING_LIST_LENGTH = 20
_LIST_ENTRY = re.compile(
    r"\s*<li><a href=\"[^\"]+\"[^>]*>[^<]*</a><span class=\"time\">[^<]*</span></li>"
)
_PAGER = re.compile(r"<div class=\"page\">.*?</div>")


def busy_texts(summary_ids: Sequence[int]) -> list[str]:
    """Return what the other chats send, in turn: a reader's everyday commands, and /summary."""
    everyday = ("/latest", "/search 营商环境", "/latest 30", "/search 振兴", "/speaker 易炼红")
    texts = [
        text
        for n, article_id in enumerate(summary_ids)
        for text in (everyday[n % len(everyday)], f"/summary {article_id}")
    ]
    return texts or list(everyday)


class RollingSite:
    """The fake news site, with a list page that gains a new article every so often.

    The new articles are the channel's saved pages with a numbered title, so each one is new
    to the crawler (URL and fingerprint) and is parsed, analysed and stored like a real one.
    """

    def __init__(self) -> None:
        self.site = FakeNewsSite(SITE)
        self.published = 0
        # New to a database that an earlier run crawled into (PostgreSQL keeps what it stored).
        self._run = int(time.time())
        self._entries: list[str] = []  # list items, newest first
        self._list_page = (
            SITE / ROLLING_CHANNEL.lstrip("/") / "list" / "indexHome.shtml"
        ).read_text(encoding="utf-8")
        profile = get_profile("nen")
        self._templates: list[tuple[str, str]] = []
        for page in sorted((SITE / ROLLING_CHANNEL.lstrip("/")).glob("20*/*/*/*.shtml")):
            html = page.read_text(encoding="utf-8")
            title = profile.parse_article(html, f"https://liaoning.nen.com.cn/{page.name}").title
            if title and title in html:
                self._templates.append((html, title))
        if not self._templates:
            raise RuntimeError(f"no saved articles under {ROLLING_CHANNEL} to publish")

    @property
    def list_path(self) -> str:
        """Return the path of the list page the crawler reads."""
        return f"{ROLLING_CHANNEL}/list/indexHome.shtml"

    @property
    def source_name(self) -> str:
        """Return the name of the source in sources_toml(), new to every run."""
        return f"bench-rolling-{self._run}"

    def start(self) -> str:
        """Serve the site on loopback (its own thread), one article already up; return its URL."""
        base = self.site.run_in_thread()
        self.publish()
        return base

    def stop(self) -> None:
        """Stop serving."""
        self.site.stop_thread()

    def sources_toml(self) -> str:
        """Return a sources.toml with this site's rolling list as the one source."""
        return (
            "[[source]]\n"
            # A name of its own per run: on PostgreSQL an earlier run's bot may still hold the
            # source's crawl lease (its interval plus a minute) after it stopped.
            f'name = "{self.source_name}"\n'
            'title = "东北新闻网·辽宁时政要闻"\n'
            'profile = "nen"\n'
            f'lists = ["{self.site.url(self.list_path)}"]\n'
            f"interval_minutes = {CRAWL_SECONDS / 60!r}\n"
            "max_pages = 1\n"
        )

    def publish(self) -> None:
        """Put one more article up and at the top of the list page."""
        self.published += 1
        html, title = self._templates[self.published % len(self._templates)]
        fresh = f"{title}（{self._run}之{self.published}）"
        now = datetime.now(UTC) + timedelta(hours=8)
        number = 900_000_000_000_000_000 + self._run * 10_000 + self.published
        path = f"{ROLLING_CHANNEL}/{now:%Y/%m/%d}/{number}.shtml"
        self.site.add_page(path, html.replace(title, fresh).encode("utf-8"))
        entry = (
            f'\n<li><a href="{path}" target="_blank">{escape(fresh)}</a>'
            f'<span class="time">{now:%Y-%m-%d %H:%M}</span></li>'
        )
        self._entries = [entry, *self._entries][:ROLLING_LIST_LENGTH]
        page = _PAGER.sub("", _LIST_ENTRY.sub("", self._list_page))
        page = page.replace("<ul>", "<ul>" + "".join(self._entries), 1)
        self.site.add_page(self.list_path, page.encode("utf-8"))

    async def keep_publishing(self) -> None:
        """Publish an article every PUBLISH_SECONDS until cancelled."""
        while True:
            await asyncio.sleep(PUBLISH_SECONDS)
            self.publish()


class ChatLoad:
    """A steady stream of commands from other chats, pushed through the fake Bot API."""

    def __init__(self, api: FakeBotApi, texts: Sequence[str]) -> None:
        self.api = api
        self.texts = texts
        self.pushed: list[float] = []  # when each update was pushed (time.time())

    @property
    def chats(self) -> range:
        """Return the chat ids the load comes from."""
        return range(BUSY_FIRST_CHAT, BUSY_FIRST_CHAT + BUSY_CHATS)

    async def run(self) -> None:
        """Push BUSY_RATE updates a second on a fixed schedule (no drift) until cancelled."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n in itertools.count():
            await asyncio.sleep(max(0.0, started + n / BUSY_RATE - loop.time()))
            chat = self.chats[n % BUSY_CHATS]
            self.api.push_text(chat, self.texts[n % len(self.texts)])
            self.pushed.append(time.time())

    def pushed_between(self, start: float, end: float) -> int:
        """Return how many updates were pushed in this time span."""
        return sum(1 for t in self.pushed if start <= t <= end)

    def answered_between(self, start: float, end: float) -> int:
        """Return how many replies to the other chats reached the fake in this time span."""
        chats = {str(c) for c in self.chats}
        return sum(
            1
            for call in self.api.calls_to("sendMessage")
            if call.status == 200
            and start <= call.time <= end
            and str(call.params.get("chat_id")) in chats
        )


async def _drain(api: FakeBotApi, timeout: float = 60.0) -> None:
    """Wait until the bot has taken every pushed update and sent nothing for a second."""
    deadline = time.monotonic() + timeout
    sent = -1
    while time.monotonic() < deadline:
        now_sent = len(api.calls_to("sendMessage"))
        if not api.pending_updates and now_sent == sent:
            return
        sent = now_sent
        await asyncio.sleep(1.0)


@dataclass(frozen=True, slots=True)
class BusyRun:
    """The handler timings taken while the bot crawled and answered other chats."""

    timings: list[Timing]
    seconds: float  # how long the measurement took
    pushed: int  # updates from other chats pushed meanwhile
    answered: int  # replies to them that arrived meanwhile
    stored: int  # articles the crawl stored meanwhile


async def time_busy(
    db: Path | str, scratch: Path, calls: int = CALLS, warmup: int = WARMUP
) -> BusyRun:
    """Time the handlers (time_handlers) while the real bot crawls and answers 20 updates/s."""
    api = FakeBotApi(FAKE_TOKEN, global_rate=None, group_per_minute=None, private_rate=None)
    api.run_in_thread()
    site = RollingSite()
    try:
        site.start()
        sources = scratch / "busy-sources.toml"
        sources.write_text(site.sources_toml(), encoding="utf-8")
        counter = await open_store(db)
        try:
            archived = await counter.count_articles()
            summary_ids = random.Random(SEED + 1).sample(range(1, archived + 1), min(50, archived))
            load = ChatLoad(api, busy_texts(summary_ids))
            async with running_bot(_bench_settings(api, db, sources)):
                tasks = [
                    asyncio.create_task(site.keep_publishing()),
                    asyncio.create_task(load.run()),
                ]
                try:
                    # The measurement starts once the crawl has stored its first articles.
                    deadline = time.monotonic() + 60
                    while await counter.count_articles() == archived:
                        if time.monotonic() > deadline:
                            raise RuntimeError("the crawl stored nothing within 60 s")
                        await asyncio.sleep(0.2)
                    before = await counter.count_articles()
                    start = time.time()
                    timings = await time_handlers(db, calls, warmup)
                    end = time.time()
                    after = await counter.count_articles()
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                    # Stopping with updates still queued would answer them from a closed store.
                    await _drain(api)
        finally:
            await counter.close()
        return BusyRun(
            timings,
            seconds=end - start,
            pushed=load.pushed_between(start, end),
            answered=load.answered_between(start, end),
            stored=after - before,
        )
    finally:
        site.stop()
        api.stop_thread()


# --------------------------------------------------------------------------------------------
# The archive's size (#13): database bytes per article, against the text it stores
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArchiveSize:
    """The database's bytes, its articles, and the UTF-8 bytes of their titles and bodies."""

    database_bytes: int
    articles: int
    text_bytes: int

    @property
    def per_article(self) -> float:
        """Return the database bytes per article."""
        return self.database_bytes / max(self.articles, 1)

    @property
    def ratio(self) -> float:
        """Return the database size over the size of the text it stores."""
        return self.database_bytes / max(self.text_bytes, 1)


def sqlite_size(path: Path) -> ArchiveSize:
    """Measure a SQLite archive: the file and its -wal, over its articles' title and body."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        articles, text = con.execute(
            "SELECT count(*), coalesce(sum(length(CAST(title AS BLOB)) "
            "+ length(CAST(body AS BLOB))), 0) FROM articles"
        ).fetchone()
    finally:
        con.close()
    wal = Path(f"{path}-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return ArchiveSize(size, int(articles), int(text))


async def postgres_size(url: str) -> ArchiveSize:
    """Measure a PostgreSQL archive: pg_database_size, over its articles' title and body."""
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        row = await con.fetchrow(
            "SELECT pg_database_size(current_database()) AS size, count(*) AS articles, "
            "coalesce(sum(octet_length(title) + octet_length(body)), 0) AS text FROM articles"
        )
    finally:
        await con.close()
    assert row is not None
    return ArchiveSize(int(row["size"]), int(row["articles"]), int(row["text"]))


async def warm_postgres(url: str) -> str:
    """Read the archive's tables and indexes into the OS page cache, as a running bot has them.

    A database just copied (or the machine just started) has them on disk only; the SQLite
    runs time a fresh copy of their file, which the copy leaves in the cache likewise. Left
    out: the TOAST of articles_search, whose bulk is every row's keys (no query reads them;
    the GIN index holds them) and which alone would not fit beside the rest. Returns what
    was read, for the report.
    """
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        try:
            await con.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except asyncpg.PostgresError as exc:
            return f"not read into the cache first (no pg_prewarm: {type(exc).__name__})"
        started = time.perf_counter()
        blocks = await con.fetchval(
            "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0) FROM pg_class c "
            "WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p' "
            "AND (c.relnamespace = 'public'::regnamespace OR c.oid IN ("
            "  SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            "  AND relname <> 'articles_search'"
            "  UNION SELECT indexrelid FROM pg_index WHERE indrelid IN ("
            "    SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            "    AND relname <> 'articles_search')))"
        )
        seconds = time.perf_counter() - started
    finally:
        await con.close()
    return (
        f"read into the OS page cache first (pg_prewarm, {int(blocks) * 8 / 1024:,.0f} MB in "
        f"{seconds:.0f} s: every table and index but articles_search's TOAST)"
    )


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def run(
    out: TextIO,
    *,
    articles: int = DEFAULT_ARTICLES,
    mentions: int = DEFAULT_MENTIONS,
    workdir: Path | None = None,
    db: str | None = None,
    memory_phase: Callable[[Path | str, Path], list[str]] | None = None,
) -> int:
    """Build (or reuse) the archive, time the handlers idle and busy; 1 if a p99 misses.

    `memory_phase` (benchmarks.memory.memory_phase, passed in: that module builds on this one)
    measures the bot alone on the same database and returns the report's memory paragraph.

    With `db` (a postgresql:// URL) the archive is copied there once (`newsbot copy-db`, which
    copies nothing twice) and timed on PostgreSQL instead of a scratch copy of the file.
    """
    if db is not None and not is_postgres_url(db):
        print("newsbot bench query: --db takes a postgresql:// URL", file=sys.stderr)
        return 2
    # Opt in to PTB 23's timedelta durations before PTB builds any error or request.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base = workdir if workdir is not None else Path.cwd()
    stats = ensure_db(base, articles, mentions, show_progress=True)
    copied: str | None = None
    with tempfile.TemporaryDirectory(prefix="bench-query-", dir=stats.path.parent) as scratch:
        target: Path | str
        if db is not None:
            copy_seconds = asyncio.run(_copy_archive(stats.path, db))
            copied = f"in {copy_seconds:.1f} s" if copy_seconds else "by an earlier run"
            size = asyncio.run(postgres_size(db))
            backend = f"PostgreSQL ({redact_target(db)}), {asyncio.run(warm_postgres(db))}"
            target = db
        else:
            size = sqlite_size(stats.path)
            backend = "SQLite (a scratch copy of the file)"
            # The handlers write (search history), and so does the bot; the archive stays clean.
            target = Path(scratch) / "work.db"
            shutil.copyfile(stats.path, target)
        with _phase("the idle table"):
            timings = asyncio.run(time_handlers(target, calls=CALLS, warmup=WARMUP))
        with _phase("the round trip"):
            trip = asyncio.run(round_trip(target, Path(scratch), count=ROUND_TRIPS))
        with _phase("the busy table"):
            busy = asyncio.run(time_busy(target, Path(scratch), calls=CALLS, warmup=WARMUP))
        # The bot alone, as `newsbot run` in a process of its own: this process's peak below
        # also counts the harness (the fake Bot API keeps every message it was sent).
        memory = None
        if memory_phase is not None:
            with _phase("the bot's memory"):
                memory = memory_phase(target, Path(scratch))
    # Linux counts ru_maxrss in KiB. The archive was built in a process of its own.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if copied is not None:
        print(f"archive copied to PostgreSQL {redact_target(str(db))} {copied}\n", file=out)
    _report(out, stats, size, timings, trip, busy, memory, peak, backend)
    return 0 if all(t.p99 < t.target for t in [*timings, *busy.timings]) else 1


@contextlib.contextmanager
def _phase(name: str) -> Iterator[None]:
    """Say on stderr when a phase starts and ends (a run takes half an hour); name it in errors."""
    started = time.perf_counter()
    print(f"bench query: {name}...", file=sys.stderr, flush=True)
    try:
        yield
    except StoreError as exc:
        # `newsbot bench` prints a store error as one line: say which phase met it.
        raise type(exc)(f"{name}: {exc}") from None
    seconds = time.perf_counter() - started
    print(f"bench query: {name} done in {seconds:.0f} s", file=sys.stderr, flush=True)


async def _copy_archive(archive: Path, db: str) -> float:
    """Copy the benchmark archive into the PostgreSQL database; return the seconds it took."""
    from storage.copy import copy_store
    from storage.postgres import PostgresStore

    started = time.perf_counter()
    source = await SqliteStore.open(archive)
    try:
        target = await open_store(db)
        try:
            assert isinstance(target, PostgresStore)
            archived = await source.count_articles()
            # An earlier run copied it (copy-db would re-read 1.2M rows to say so); its busy
            # table's crawl stored a few articles more.
            if archived > 0 and await target.count_articles() >= archived:
                return 0.0
            await copy_store(source, target, Progress(sys.stderr))
            # What autovacuum gives a database that has been running: statistics, and the
            # visibility map that lets counts read an index alone.
            await target._execute("VACUUM ANALYZE")
        finally:
            await target.close()
    finally:
        await source.close()
    return time.perf_counter() - started


def _report(
    out: TextIO,
    stats: GenerationStats,
    size: ArchiveSize,
    timings: list[Timing],
    trip: RoundTrip,
    busy: BusyRun,
    memory: list[str] | None,
    peak_bytes: int,
    backend: str,
) -> None:
    how = (
        f"reused (built in {stats.seconds:.1f} s)"
        if stats.reused
        else f"generated in {stats.seconds:.1f} s"
    )
    print("## newsbot bench query\n", file=out)
    print(
        f"archive: {stats.articles:,} articles, {stats.mentions:,} mentions, "
        f"{stats.people:,} people; {how}; {stats.size_bytes / 1e6:,.0f} MB at {stats.path}\n",
        file=out,
    )
    print(f"database: {backend}\n", file=out)
    print(
        f"database size: {size.database_bytes / 1e6:,.1f} MB for {size.articles:,} articles, "
        f"{size.per_article:,.0f} bytes per article, {size.ratio:.2f}x the UTF-8 size of "
        f"the stored titles and bodies ({size.text_bytes / max(size.articles, 1):,.0f} "
        "bytes per article)\n",
        file=out,
    )
    if memory is None:
        memory = [
            "memory of the bot process alone: not measured (no memory phase given)",
            f"peak memory of this whole benchmark process: {peak_bytes / 2**20:,.0f} MB "
            "(ru_maxrss)",
        ]
    print("\n".join(memory) + "\n", file=out)
    print(
        f"handler latency, idle, over {CALLS} calls each after {WARMUP} warm-up calls:\n",
        file=out,
    )
    _table(out, timings)
    print(
        f"\nhandler latency, busy: the same calls while the bot (run_bot, in this process) "
        f"crawls a fake site publishing an article every {PUBLISH_SECONDS:g} s (a crawl every "
        f"{CRAWL_SECONDS:g} s) and answers {BUSY_RATE:g} updates a second from "
        f"{BUSY_CHATS} other chats through the fake Bot API. In the {busy.seconds:.1f} s "
        f"measured: {busy.pushed:,} updates pushed, {busy.answered:,} replies sent, "
        f"{busy.stored:,} articles stored.\n",
        file=out,
    )
    _table(out, busy.timings, busy=True)
    print(
        f"\nround trip /latest through the fake Bot API ({len(trip.bot)} sequential updates, "
        f"one every {ROUND_TRIP_INTERVAL * 1000:.0f} ms or slower):\n",
        file=out,
    )
    print("| bot | p50 ms | p99 ms |", file=out)
    print("|---|---:|---:|", file=out)
    for name, samples in (("newsbot (run_bot)", trip.bot), ("echo Application", trip.echo)):
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(f"| {name} | {p50:.2f} | {p99:.2f} |", file=out)
    print(
        f"\nratio bot/echo: p50 {trip.ratio_p50:.2f}x, p99 {trip.ratio_p99:.2f}x (aim < 1.5x)",
        file=out,
    )


def _table(out: TextIO, timings: list[Timing], *, busy: bool = False) -> None:
    """Print one table of p50/p99 per query, and whether every p99 met its target."""
    when = "busy " if busy else ""
    print(f"| query | {when}p50 ms | {when}p99 ms |", file=out)
    print("|---|---:|---:|", file=out)
    for timing in timings:
        flag = "" if timing.p99 < timing.target else " ✗"
        print(f"| {timing.label} | {timing.p50:.2f} | {timing.p99:.2f}{flag} |", file=out)
    missed = [t.label for t in timings if t.p99 >= t.target]
    print(
        f"\n{when}target p99 < {TARGET_P99_MS:.0f} ms ({', '.join(sorted(FAST_QUERIES))}: "
        f"< {FAST_TARGET_P99_MS:.0f} ms; charts: < {CHART_TARGET_P99_MS:.0f} ms, "
        f"{CHART_CALLS} fresh draws each): "
        + ("met by every query" if not missed else "MISSED by " + ", ".join(missed)),
        file=out,
    )


if __name__ == "__main__":
    raise SystemExit(run(sys.stdout))
