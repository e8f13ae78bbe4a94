"""The fake news site serves files and pages faithfully and misbehaves exactly as told."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fakes.news_site import FakeNewsSite, Fault

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTICLE = "<html><head><title>辽宁新闻</title></head><body><p>正文</p></body></html>".encode()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Lay out a small site tree on disk."""
    (tmp_path / "news" / "2025").mkdir(parents=True)
    (tmp_path / "news" / "2025" / "a.shtml").write_bytes(ARTICLE)
    (tmp_path / "news" / "index.html").write_bytes(b"<html>list</html>")
    (tmp_path / "gbk.html").write_bytes("<p>沈阳</p>".encode("gbk"))
    (tmp_path / "style.css").write_bytes(b"p{}")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    return tmp_path


@pytest.fixture
async def site(root: Path) -> AsyncIterator[FakeNewsSite]:
    """Run the fake site for one test."""
    async with FakeNewsSite(root) as running:
        yield running


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """Give a plain HTTP client with a short timeout."""
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
        yield http


async def test_serves_files_with_content_type_and_charset(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    assert site.base_url.startswith("http://127.0.0.1:")
    response = await client.get(site.url("/news/2025/a.shtml"))
    assert response.status_code == 200
    assert response.content == ARTICLE
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Last-Modified"].endswith("GMT")
    css = await client.get(site.url("/style.css"))
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    png = await client.get(site.url("logo.png"))
    assert png.headers["Content-Type"] == "image/png"


async def test_directory_index_and_404(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    assert (await client.get(site.url("/news/"))).content == b"<html>list</html>"
    assert (await client.get(site.url("/missing.shtml"))).status_code == 404
    assert (await client.get(site.url("/news/../../etc/passwd"))).status_code == 404


async def test_missing_root_serves_only_memory_pages(
    tmp_path: Path, client: httpx.AsyncClient
) -> None:
    async with FakeNewsSite(tmp_path / "does-not-exist") as site:
        assert (await client.get(site.url("/index.html"))).status_code == 404
        site.add_page("/index.html", b"hello", content_type="text/plain")
        response = await client.get(site.url("/index.html"))
    assert response.content == b"hello"
    assert response.headers["Content-Type"] == "text/plain"


async def test_per_file_charset_or_none(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_charset("/gbk.html", "gb2312")
    gbk = await client.get(site.url("/gbk.html"))
    assert gbk.headers["Content-Type"] == "text/html; charset=gb2312"
    assert gbk.content == "<p>沈阳</p>".encode("gbk")
    site.set_charset("/gbk.html", None)
    bare = await client.get(site.url("/gbk.html"))
    assert bare.headers["Content-Type"] == "text/html"


async def test_no_default_charset(root: Path, client: httpx.AsyncClient) -> None:
    async with FakeNewsSite(root, default_charset=None) as site:
        response = await client.get(site.url("/news/2025/a.shtml"))
    assert response.headers["Content-Type"] == "text/html"


async def test_etag_and_last_modified_give_304(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    first = await client.get(site.url("/news/2025/a.shtml"))
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = await client.get(site.url("/news/2025/a.shtml"), headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    by_date = await client.get(
        site.url("/news/2025/a.shtml"), headers={"If-Modified-Since": last_modified}
    )
    assert by_date.status_code == 304
    stale = await client.get(site.url("/news/2025/a.shtml"), headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200
    assert site.hits("/news/2025/a.shtml") == 4
    assert site.last_request_headers("/news/2025/a.shtml")["If-None-Match"] == '"old"'


async def test_changed_page_gets_a_new_etag(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/list.shtml", b"v1")
    etag = (await client.get(site.url("/list.shtml"))).headers["ETag"]
    site.add_page("/list.shtml", b"v2")
    response = await client.get(site.url("/list.shtml"), headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.content == b"v2"


@pytest.mark.parametrize("status", [500, 404, 410, 503])
async def test_status_fault(site: FakeNewsSite, client: httpx.AsyncClient, status: int) -> None:
    site.set_fault("/news/2025/a.shtml", Fault(status=status))
    assert (await client.get(site.url("/news/2025/a.shtml"))).status_code == status


async def test_429_with_retry_after(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/news/2025/a.shtml", Fault(status=429, retry_after="3"))
    response = await client.get(site.url("/news/2025/a.shtml"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


async def test_fail_first_then_succeed_and_clear(
    site: FakeNewsSite, client: httpx.AsyncClient
) -> None:
    site.set_fault("news/2025/a.shtml", Fault(status=500, fail_first=2))
    codes = [(await client.get(site.url("/news/2025/a.shtml"))).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert site.hits("/news/2025/a.shtml") == 3
    site.set_fault("/news/2025/a.shtml", Fault(status=500))
    site.clear_faults()
    assert (await client.get(site.url("/news/2025/a.shtml"))).status_code == 200


async def test_delay_makes_clients_time_out(site: FakeNewsSite) -> None:
    site.set_fault("/news/2025/a.shtml", Fault(delay=5.0))
    async with httpx.AsyncClient(timeout=0.2, trust_env=False) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(site.url("/news/2025/a.shtml"))


async def test_delay_does_not_hold_up_stop(root: Path) -> None:
    site = FakeNewsSite(root)
    await site.start()
    site.set_fault("/slow", Fault(delay=30.0))
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        request = asyncio.create_task(client.get(site.url("/slow")))
        while site.hits("/slow") == 0:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await site.stop()
        # The pending request either fails (connection closed) or gets the page's 404.
        with contextlib.suppress(httpx.HTTPError):
            await request
    assert time.monotonic() - started < 3.0


async def test_connection_reset_mid_body(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.add_page("/big.shtml", b"<p>" + b"x" * 200_000 + b"</p>")
    site.set_fault("/big.shtml", Fault(reset_mid_body=True))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await client.get(site.url("/big.shtml"))


async def test_truncated_body(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/news/2025/a.shtml", Fault(truncate=True))
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        await client.get(site.url("/news/2025/a.shtml"))


@pytest.mark.parametrize("declare_length", [True, False])
async def test_huge_page_is_streamed(
    site: FakeNewsSite, client: httpx.AsyncClient, declare_length: bool
) -> None:
    size = 20 * 1024 * 1024
    site.set_fault("/huge.html", Fault(huge_body=size, huge_content_length=declare_length))
    async with client.stream("GET", site.url("/huge.html")) as response:
        assert response.status_code == 200
        if declare_length:
            assert response.headers["Content-Length"] == str(size)
        else:
            assert "Content-Length" not in response.headers
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > 1024 * 1024:
                break  # the client hangs up early; the fake must cope
    assert received > 1024 * 1024
    # The site still answers after the abandoned 20 MB response.
    assert (await client.get(site.url("/news/2025/a.shtml"))).status_code == 200


async def test_huge_page_can_be_read_whole(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/huge.html", Fault(huge_body=1_000_000))
    response = await client.get(site.url("/huge.html"))
    assert len(response.content) == 1_000_000


async def test_redirects(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/old.shtml", Fault(redirect_to="/news/2025/a.shtml"))
    moved = await client.get(site.url("/old.shtml"), follow_redirects=True)
    assert moved.content == ARTICLE
    assert moved.url.path == "/news/2025/a.shtml"
    site.set_fault("/loop.shtml", Fault(redirect_loop=True))
    loop = await client.get(site.url("/loop.shtml"))
    assert loop.status_code == 302
    assert loop.headers["Location"] == "/loop.shtml"
    with pytest.raises(httpx.TooManyRedirects):
        await client.get(site.url("/loop.shtml"), follow_redirects=True)


async def test_content_type_override(site: FakeNewsSite, client: httpx.AsyncClient) -> None:
    site.set_fault("/gbk.html", Fault(content_type="text/html; charset=utf-8"))
    wrong = await client.get(site.url("/gbk.html"))
    assert wrong.headers["Content-Type"] == "text/html; charset=utf-8"
    assert wrong.content == "<p>沈阳</p>".encode("gbk")
    site.set_fault("/gbk.html", Fault(content_type="text/html"))
    assert (await client.get(site.url("/gbk.html"))).headers["Content-Type"] == "text/html"


async def test_not_started_and_double_start(root: Path) -> None:
    site = FakeNewsSite(root)
    with pytest.raises(RuntimeError, match="not started"):
        _ = site.base_url
    async with site:
        with pytest.raises(RuntimeError, match="already started"):
            await site.start()


def test_run_in_thread(root: Path) -> None:
    site = FakeNewsSite(root)
    base_url = site.run_in_thread()
    try:
        site.add_page("/live.html", b"live")
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            assert client.get(base_url + "/live.html").content == b"live"
            assert client.get(base_url + "/news/2025/a.shtml").content == ARTICLE
        assert site.hits("/live.html") == 1
    finally:
        site.stop_thread()
    with httpx.Client(timeout=1.0, trust_env=False) as client, pytest.raises(httpx.ConnectError):
        client.get(base_url + "/live.html")


def test_command_line(root: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "fakes.news_site", "--root", str(root), "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            assert client.get(f"http://127.0.0.1:{port}/news/2025/a.shtml").content == ARTICLE
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        finally:
            if process.returncode is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
    assert process.returncode == 0
