"""Suite-wide set-up: tests reach only loopback; shared fixtures for settings and stores."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.netguard import install_loopback_guard

# Any test that tries to reach a non-loopback address fails, before a packet leaves.
install_loopback_guard()
# PTB 22 warns when it builds RetryAfter with an int; filterwarnings=error would turn every 429
# into that warning. Opting in to timedelta durations is what PTB 23 will do anyway.
os.environ["PTB_TIMEDELTA"] = "true"

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    """Return the folder of saved pages and truth files."""
    return FIXTURES


# --- the two backends -------------------------------------------------------------------
# Tests marked both_backends that use `backend` (directly or through db_target / store) run
# once on SQLite and once on PostgreSQL; every other test gets SQLite.

PG_ENV = "NEWSBOT_TEST_POSTGRES"
_LEFT_OUT = pytest.StashKey[int]()
PG_SKIP = (
    f"PostgreSQL backend not tested: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/postgres "
    "(an admin URL) to run these tests on it too"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the test on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: run the test on PostgreSQL alone")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres_only"):
        metafunc.parametrize("backend", ["postgresql"], indirect=True)
    elif metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def _on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("backend") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Without a server the PostgreSQL runs are left out, and the summary says so in one line
    # (one skip line per test would bury the rest of the report).
    if os.environ.get(PG_ENV, "").strip():
        return
    left_out = [item for item in items if _on_postgres(item)]
    if left_out:
        items[:] = [item for item in items if not _on_postgres(item)]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_LEFT_OUT] = len(left_out)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    left_out = config.stash.get(_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"SKIPPED {left_out} tests: {PG_SKIP}")


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Name the backend this test runs on: "sqlite" unless parametrised."""
    return str(getattr(request, "param", "sqlite"))


def _run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end in a thread of its own (a test's event loop may be running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


class PgServer:
    """The PostgreSQL server of NEWSBOT_TEST_POSTGRES: creates and drops this run's databases."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"newsbot_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.created: list[str] = []

    def url_of(self, name: str) -> str:
        """Return the URL of one of this run's databases."""
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        con = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await con.execute(sql)
        finally:
            await con.close()

    async def create(self) -> str:
        """Create an empty database with a name no other run uses; return its URL."""
        name = f"{self.prefix}_{len(self.created)}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_of(name)

    async def drop(self, url: str) -> None:
        """Drop one of this run's databases (closing whatever still holds it open)."""
        name = url.rsplit("/", 1)[1]
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    """Return the test PostgreSQL server, None without NEWSBOT_TEST_POSTGRES; fail if it is down."""
    admin_url = os.environ.get(PG_ENV, "").strip()
    if not admin_url:
        yield None
        return
    server = PgServer(admin_url)
    try:
        _run_apart(server._admin("SELECT 1"))
    except Exception as exc:  # any failure to connect: a set variable means "test it"
        from storage import redact_target

        pytest.fail(
            f"{PG_ENV} is set but {redact_target(admin_url)} cannot be reached: "
            f"{type(exc).__name__}: {exc}",
            pytrace=False,
        )
    yield server
    for name in list(server.created):
        _run_apart(server.drop(server.url_of(name)))


@pytest.fixture
async def db_target(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """Return a fresh NEWSBOT_DB for this test: an SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield str(tmp_path / "newsbot.db")
        return
    server: PgServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip(PG_SKIP)
    url = await server.create()
    try:
        yield url
    finally:
        await server.drop(url)


@pytest.fixture
async def store(db_target: str) -> AsyncIterator[object]:
    """Open the store on this test's database (SQLite, or PostgreSQL when parametrised)."""
    from storage import open_store

    opened = await open_store(db_target)
    try:
        yield opened
    finally:
        await opened.close()
