"""The loopback guard refuses the outside world before any packet and leaves loopback alone."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import netguard

FAR_ADDRESS = ("10.255.255.1", 80)


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Install the guard (undoing it afterwards unless conftest had it on) and spy on the originals.

    The spies stand in for the real socket calls, so even a broken guard sends nothing: a test
    fails on a non-empty spy list instead of reaching 10.255.255.1 or a DNS server.
    """
    was_installed = netguard.loopback_guard_installed()
    netguard.install_loopback_guard()
    leaked: list[str] = []
    real_connect = netguard._original_connect
    real_getaddrinfo = netguard._original_getaddrinfo
    real_create_connection = netguard._original_create_connection

    def spy_connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not netguard.is_loopback_host(address[0]):
            leaked.append(f"connect {address!r}")
            raise AssertionError(f"guard let connect({address!r}) through")
        real_connect(sock, address)

    def spy_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not netguard.is_loopback_host(host):
            leaked.append(f"getaddrinfo {host!r}")
            raise AssertionError(f"guard let getaddrinfo({host!r}) through")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def spy_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not netguard.is_loopback_host(address[0]):
            leaked.append(f"create_connection {address!r}")
            raise AssertionError(f"guard let create_connection({address!r}) through")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(netguard, "_original_connect", spy_connect)
    monkeypatch.setattr(netguard, "_original_connect_ex", spy_connect)
    monkeypatch.setattr(netguard, "_original_getaddrinfo", spy_getaddrinfo)
    monkeypatch.setattr(netguard, "_original_create_connection", spy_create_connection)
    yield leaked
    if not was_installed:
        netguard.uninstall_loopback_guard()


def test_socket_connect_to_private_address_is_refused(guard: list[str]) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match="non-loopback address"),
    ):
        sock.connect(FAR_ADDRESS)
    assert guard == []


def test_connect_ex_to_private_address_is_refused(guard: list[str]) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match="non-loopback address"),
    ):
        sock.connect_ex(FAR_ADDRESS)
    assert guard == []


def test_create_connection_to_private_address_is_refused(guard: list[str]) -> None:
    with pytest.raises(RuntimeError, match=r"non-loopback address .*10\.255\.255\.1"):
        socket.create_connection(FAR_ADDRESS, timeout=0.1)
    assert guard == []


def test_udp_sendto_private_address_is_refused(guard: list[str]) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(RuntimeError, match="non-loopback address"),
    ):
        sock.sendto(b"x", FAR_ADDRESS)


def test_name_lookup_of_example_com_is_refused(guard: list[str]) -> None:
    with pytest.raises(RuntimeError, match=r"example\.com"):
        socket.getaddrinfo("example.com", 80)
    with pytest.raises(RuntimeError, match=r"example\.com"):
        socket.gethostbyname("example.com")
    with pytest.raises(RuntimeError, match=r"example\.com"):
        socket.create_connection(("example.com", 80), timeout=0.1)
    assert guard == []


async def test_asyncio_connections_are_refused(guard: list[str]) -> None:
    with pytest.raises(RuntimeError, match="non-loopback address"):
        await asyncio.open_connection(*FAR_ADDRESS)
    with pytest.raises(RuntimeError, match=r"example\.com"):
        await asyncio.open_connection("example.com", 80)
    assert guard == []


async def test_httpx_to_example_com_is_refused(guard: list[str]) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(RuntimeError, match=r"example\.com"):
            await client.get("http://example.com/")
    assert guard == []


def test_loopback_tcp_still_works(guard: list[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
        with socket.create_connection(("localhost", port), timeout=2) as client:
            server.accept()[0].close()
    assert guard == []


async def test_loopback_asyncio_still_works(guard: list[str]) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"pong")
        assert await reader.readexactly(4) == b"pong"
        writer.close()
        await writer.wait_closed()
    assert guard == []


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
def test_unix_sockets_still_work(guard: list[str], tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            peer, _ = server.accept()
            with peer:
                client.sendall(b"unix")
                assert peer.recv(4) == b"unix"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("10.255.255.1", False),
        ("0.0.0.0", False),
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert netguard.is_loopback_host(host) is loopback


def test_install_and_uninstall_round_trip() -> None:
    was_installed = netguard.loopback_guard_installed()
    # Briefly lift the conftest guard: this test touches no network, it only compares objects.
    netguard.uninstall_loopback_guard()
    try:
        connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo
        assert "connect" not in socket.socket.__dict__
        netguard.install_loopback_guard()
        netguard.install_loopback_guard()  # idempotent
        assert netguard.loopback_guard_installed()
        assert socket.socket.connect is not connect
        assert socket.getaddrinfo is not getaddrinfo
        netguard.uninstall_loopback_guard()
        assert socket.socket.connect is connect
        assert socket.getaddrinfo is getaddrinfo
        assert "connect" not in socket.socket.__dict__
    finally:
        if was_installed:
            netguard.install_loopback_guard()
