"""Build the query benchmark's synthetic archive, cache it, and copy it to PostgreSQL.

Articles are recombined real sentences from fakes/data around generated and real leaders,
written straight into a file database that the real migrations created, in processes of their
own, and cached under data/bench/. This is the one module of the query benchmark that imports
storage: the others reach the store through the names it re-exports.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import json
import multiprocessing
import random
import re
import sqlite3
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.ingest_cli import Progress
from fakes import LEADERS, SEED_ARTICLE, TEXTS
from news.models import REGIONS
from news.nlp.fold import to_simplified
from news.nlp.people import name_pinyin
from storage import StoreError as StoreError

# Re-exported (`as`) for the benchmark's other modules, so that storage is imported here alone.
from storage import is_postgres_url as is_postgres_url
from storage import open_store as open_store
from storage import redact_target as redact_target
from storage.people import single_titles as _single_titles
from storage.rows import to_db_time
from storage.said import said_form, statement_key
from storage.sqlite import SqliteStore
from storage.sqlite.database import split_sql as _split_sql
from storage.sqlite.grams import ADD_SAID_GRAMS, index_grams, said_grams
from storage.sqlite.schema import PERSON_COUNTS, SCHEMA_VERSION
from storage.sqlite.search_keys import keys_in_date_order

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEADERS_JSON = PROJECT_ROOT / "news" / "nlp" / "data" / "leaders.json"

# Bump when the generated data changes shape, so cached databases are rebuilt.
GENERATOR_VERSION = 3
# `newsbot bench query` without --articles/--mentions; the targets are asked of 1,000,000
# articles and 10,000,000 mentions too.
DEFAULT_ARTICLES = 100_000
DEFAULT_MENTIONS = 1_000_000
SEED = 20181126
YEARS = 8
# Stories reprinted by other outlets: one in REPRINTED_ONE_IN gets 1 to 4 reprints, each a row
# of its own (another source, URL and headline, a little later) with story_id set, outside
# search and mentions as Store.add_article leaves a reprint. The articles count stays the
# number of stories; there are about 60% more rows (2.5 reprints per reprinted story).
REPRINTED_ONE_IN = 4
REPRINT_OUTLETS = (
    ("lnd", "北国网"),
    ("syd", "沈阳网"),
    ("lngov", "辽宁省人民政府网"),
    ("dlxww", "大连新闻网"),
)
# Articles composed and inserted at a time while building the archive.
BATCH = 1000
# FTS5's pending-terms size (bytes) while building, and SQLite's default put back after.
FTS_BUILD_HASHSIZE = 64 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = 1024 * 1024

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
CITIES = REGIONS[1:]  # the 14 cities, in the official order
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
    # Built in a process of its own: SQLite's large build cache and the composer's lists are
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
        con.executemany(
            "INSERT INTO sources (name, title, profile, created_at) VALUES (?, ?, ?, ?)",
            [
                (name, title, "generic" if name != "nen" else "nen", to_db_time(start))
                for name, title in (("nen", "东北新闻网"), *REPRINT_OUTLETS)
            ],
        )
        reprints = _Reprints(articles)
        # B-trees built once from sorted rows beat millions of inserts at random places (the
        # mention indexes by person); the schema's own CREATE INDEX text is replayed after.
        deferred = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('articles', 'article_urls', 'mentions', 'statements')"
        ).fetchall()
        for name, _sql in deferred:
            con.execute(f'DROP INDEX "{name}"')
        # FTS5 writes a segment each time its pending terms pass `hashsize`: fewer, larger
        # segments mean less merging. Put back to the default below.
        for index in ("articles_grams", "statements_grams"):
            con.execute(
                f"INSERT INTO {index} ({index}, rank) VALUES ('hashsize', ?)",
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
            reprints.insert(con, batch)
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
        for index in ("articles_grams", "statements_grams"):
            con.execute(
                f"INSERT INTO {index} ({index}, rank) VALUES ('hashsize', ?)",
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
    # Row by row they would slow every mention's insert; the migration's own back-fill counts
    # them all at once at the end instead (_count_people).
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
    said: list[tuple[int, int, int, str, str, str]]


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
    # /said's rows and index entries, as StatementQueries writes them.
    con.executemany(
        "INSERT INTO statements (id, article_id, person_id, published_at, text) "
        "VALUES (?, ?, ?, ?, ?)",
        [s[:5] for b in batch for s in b.said],
    )
    con.executemany(ADD_SAID_GRAMS, [(s[0], s[5]) for b in batch for s in b.said])


class _Reprints:
    """Reprint rows for some of the generated stories, numbered after the last article."""

    def __init__(self, articles: int) -> None:
        self._rng = random.Random(SEED + 1)  # apart from the articles' own sequence
        self._next_id = articles + 1

    def insert(self, con: sqlite3.Connection, batch: list[_Built]) -> None:
        """Insert the reprints of this batch's stories."""
        rows: list[tuple[Any, ...]] = []
        for built in batch:
            if self._rng.randrange(REPRINTED_ONE_IN):
                continue
            head = built.row
            published = datetime.fromisoformat(head[3])
            for name, title in self._rng.sample(REPRINT_OUTLETS, self._rng.randint(1, 4)):
                later = to_db_time(published + timedelta(minutes=self._rng.randint(5, 600)))
                url = f"https://{name}.example.cn/news/{self._next_id}.html"
                rows.append(
                    (self._next_id, url, f"{head[2]}（{title}）", later, head[4], head[5],
                     head[6], later, f"r{self._next_id}", name, head[0])
                )  # fmt: skip
                self._next_id += 1
        con.executemany(
            "INSERT INTO articles (id, url, title, published_at, source, editor, body, "
            "fetched_at, content_hash, source_name, story_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.executemany(
            "INSERT INTO article_urls (url_key, url, article_id) VALUES (?, ?, ?)",
            [(r[1].split("://", 1)[1], r[1], r[0]) for r in rows],
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
        voiced: list[str] = []
        for word in words:
            for _ in range(rng.choice((1, 1, 2)) if word == "振兴" else 1):
                voiced.append(rng.choice(self._corpus.by_word[word]).replace("{P}", stand_in))
        fixed.extend(voiced)
        said_rows = self._said(article_id, moment, when, mention_rows, main, voiced)
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
        return _Built(
            row, url.split("://", 1)[1], index_grams(title + "\n" + body), mention_rows, said_rows
        )

    def _said(
        self,
        article_id: int,
        moment: datetime,
        when: str,
        mention_rows: list[tuple[int, int, str, str, str, str]],
        main: _Person | None,
        voiced: list[str],
    ) -> list[tuple[int, int, int, str, str, str]]:
        """Return the article's statements rows and index entries, as the store writes them.

        The main speaker's statement also holds the sentences carrying the searched words
        (the body quotes them under that name), so /said finds common and rare words; no
        random draw is added, so the rest of the archive is what it was.
        """
        said: list[tuple[int, int, int, str, str, str]] = []
        used: set[int] = set()
        for index, (_, person_id, role, title, statement, _at) in enumerate(mention_rows):
            if role != "spoke":
                continue
            if main is not None and person_id == main.id and voiced:
                statement = "\n".join([statement, *voiced])
                mention_rows[index] = (article_id, person_id, role, title, statement, when)
            key = statement_key(moment, article_id, person_id)
            while key in used:
                key += 1
            used.add(key)
            text = said_form(statement)
            said.append((key, article_id, person_id, when, text, said_grams(person_id, text)))
        return said

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


async def copy_to_postgres(archive: Path, db: str) -> float:
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
            # An earlier run copied it (copy-db would re-read every row to say so); its busy
            # table's crawl stored a few articles more.
            if archived > 0 and await target.count_articles() >= archived:
                return 0.0
            await copy_store(source, target, Progress(sys.stderr))
            # What autovacuum gives a database that has been running: statistics, and the
            # visibility map that lets counts read an index alone.
            await target.db.execute("VACUUM ANALYZE")
        finally:
            await target.close()
    finally:
        await source.close()
    return time.perf_counter() - started
