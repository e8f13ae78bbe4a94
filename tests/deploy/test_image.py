"""The container image, built with podman and run as an operator would, until it answers /latest.

The base image `debian:bookworm-slim` comes from deploy/base-image.sh (debootstrap) when it is
not already there, since the build machines reach no registry. The image is built once per run
and podman's layer cache makes a rebuild take seconds unless pyproject.toml changed. The
container runs with host networking against the fake Bot API and a fake news site on loopback,
its database on a volume (SQLite) or the machine's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes import SITE
from fakes.bot_api import FakeBotApi
from fakes.news_site import FakeNewsSite
from tests.conftest import PG_SKIP, PgServer
from tests.e2e.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/newsbot:test"
BASE = "docker.io/library/debian:bookworm-slim"
# The host's CA bundle, for pip inside the build where package traffic passes a TLS-inspecting
# proxy; harmless anywhere else (the bundle is only trusted more widely than certifi's).
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
LIST_PATH = "/network/nennews/newsguonei/list/indexHome.shtml"
USER_ID = 10001

pytestmark = pytest.mark.skipif(
    shutil.which("podman") is None,
    reason="podman is missing: the image is not built (apt-get install podman runc debootstrap)",
)


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run podman with these arguments; fail the test with its output when it fails."""
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"podman {' '.join(args[:2])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done


def run_options() -> list[str]:
    """Return what `podman run` needs on these machines (see ../shared/notes/containers.md)."""
    # crun refuses on the build machines' hybrid cgroups; runc works with ulimits below the host's.
    runtime = ["--runtime", "runc"] if shutil.which("runc") else []
    return [*runtime, "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@pytest.fixture(scope="module")
def image() -> str:
    """Build the image from this checkout (the base image made first if missing); return its tag."""
    if podman("image", "exists", BASE, check=False).returncode != 0:
        if shutil.which("debootstrap") is None or os.geteuid() != 0:
            pytest.skip(f"no {BASE} image, and no debootstrap (as root) to make one")
        subprocess.run([str(ROOT / "deploy" / "base-image.sh"), BASE], check=True, timeout=600)
    build = [
        "build",
        "--pull=never",
        "--isolation=chroot",
        "--network=host",
        "--format=docker",  # HEALTHCHECK is a Docker-format field; OCI images drop it
        "--tag",
        IMAGE,
    ]
    if HOST_CA.is_file():
        build += [
            "-v",
            f"{HOST_CA}:/run/host-ca.crt:ro",
            "--build-arg",
            "PIP_CERT=/run/host-ca.crt",
        ]
    podman(*build, str(ROOT), timeout=1800)
    return IMAGE


def http_get(url: str) -> tuple[int, str]:
    """GET a URL on loopback; return the status and the body (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def wait_until(
    check: Callable[[], object], timeout: float, what: str, logs: Callable[[], str]
) -> None:
    """Poll `check` until true; else fail naming `what`, with the container's log."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s; the container's log:\n{logs()[-4000:]}")
        time.sleep(0.5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def news_site() -> Iterator[str]:
    """Serve the fake news site on loopback from a thread; return its base URL."""
    site = FakeNewsSite(SITE)
    site.run_in_thread()
    try:
        yield site.url(LIST_PATH)
    finally:
        site.stop_thread()


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """Serve a strict fake Bot API on loopback from a thread."""
    api = FakeBotApi(TOKEN)
    api.run_in_thread()
    try:
        yield api
    finally:
        api.stop_thread()


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Return `podman run` options for the database: an SQLite volume, or a PostgreSQL URL."""
    if backend == "sqlite":
        volume = f"newsbot-test-{secrets.token_hex(4)}"
        try:
            yield ["-v", f"{volume}:/var/lib/newsbot"]  # NEWSBOT_DB is the image's default
        finally:
            podman("volume", "rm", "--force", volume, check=False)
        return
    server: PgServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip(PG_SKIP)
    url = asyncio.run(server.create())
    try:
        yield ["-e", f"NEWSBOT_DB={url}"]
    finally:
        asyncio.run(server.drop(url))


@pytest.mark.both_backends
def test_the_image_runs_as_its_own_user_crawls_and_answers_latest(
    image: str, bot_api: FakeBotApi, news_site: str, database: list[str], tmp_path: Path
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "nen-guonei"\ntitle = "东北新闻网·国内"\nprofile = "nen"\n'
        f'lists = ["{news_site}"]\ninterval_minutes = 5\n',
        encoding="utf-8",
    )
    sources.chmod(0o644)  # read by the container's user through the bind mount
    port = free_port()
    name = f"newsbot-test-{secrets.token_hex(4)}"
    podman(
        *run_options(),
        "--detach",
        "--name",
        name,
        "--network=host",
        "-e",
        f"NEWSBOT_TOKEN={TOKEN}",
        "-e",
        f"NEWSBOT_API_URL={bot_api.root_url}",
        "-e",
        f"NEWSBOT_HTTP_LISTEN=127.0.0.1:{port}",
        "-e",
        "NEWSBOT_SOURCES=/etc/newsbot/sources.toml",
        "-v",
        f"{sources}:/etc/newsbot/sources.toml:ro",
        *database,
        image,
    )

    def logs() -> str:
        done = podman("logs", name, check=False)
        return done.stdout + done.stderr

    try:
        healthz = f"http://127.0.0.1:{port}/healthz"
        wait_until(lambda: http_get(healthz)[0] == 200, 180, "no 200 from /healthz", logs)

        def answered_with_news() -> bool:
            replies = bot_api.messages_to(31)
            if replies and "暂时还没有新闻" not in replies[-1].plain_text:
                return True
            bot_api.push_text(31, "/latest 3")
            wait_until(lambda: len(bot_api.messages_to(31)) > len(replies), 30, "no reply", logs)
            time.sleep(1.2)  # about one message a second to a private chat
            return False

        wait_until(answered_with_news, 120, "/latest never listed a crawled article", logs)
        latest = bot_api.messages_to(31)[-1]
        # Headlines from the fake site (the crawl may still be going), with their 摘要 buttons.
        assert latest.plain_text.startswith("最新新闻") and "#1" in latest.plain_text
        assert latest.reply_markup is not None

        # Not root; the health check the image declares passes; /metrics counts what happened.
        assert podman("exec", name, "id", "-u").stdout.strip() == str(USER_ID)
        assert podman("healthcheck", "run", name, check=False).returncode == 0, logs()
        status, metrics = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and 'newsbot_updates_total{command="latest"}' in metrics

        # SIGTERM: a clean stop, exit status 0.
        podman("stop", "--time", "60", name, timeout=90)
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, logs()
        assert "Traceback" not in logs()
    finally:
        podman("rm", "--force", "--volumes", name, check=False)


def test_the_image_holds_the_catalogue_and_no_checkout(image: str) -> None:
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "newsbot"
    assert inspected["Healthcheck"]["Test"] == ["CMD", "newsbot", "health"]
    assert "/var/lib/newsbot" in config["Volumes"]
    # NEWSBOT_SOURCES unset: the catalogue packaged in the wheel, read from site-packages.
    script = (
        "import pathlib, news.ingest; from bot.config import load_settings, load_sources; "
        "s = load_sources(load_settings()); print(len(s), s[0].name); "
        "print(pathlib.Path(news.ingest.__file__).parent); "
        "print(sorted(p.name for p in pathlib.Path.cwd().iterdir()))"
    )
    # --no-healthcheck: one-shot runs need no health timers (podman would ask systemd for them).
    once = [*run_options(), "--rm", "--no-healthcheck"]
    done = podman(*once, "--entrypoint", "python3", image, "-c", script)
    count, package, listing = done.stdout.strip().splitlines()
    assert int(count.split()[0]) >= 10  # the Liaoning catalogue
    assert package.startswith("/opt/newsbot/lib/python3.11/site-packages/")
    assert listing == "[]"  # the working directory is the empty volume, no repository files
    # A setting that stops start-up: one line, exit 2, no traceback.
    done = podman(*once, "-e", "NEWSBOT_TZ=Mars/Olympus", image, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("NEWSBOT_TZ:") and "Traceback" not in done.stderr
