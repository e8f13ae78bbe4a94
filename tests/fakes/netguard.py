"""Keep tests on loopback: refuse non-loopback connections and DNS look-ups before any packet.

`install_loopback_guard()` patches `socket.socket.connect`, `connect_ex`, `sendto`,
`socket.create_connection` and the name look-ups (`getaddrinfo`, `gethostbyname[_ex]`).
asyncio (and so httpx/anyio and aiohttp) resolves names through `socket.getaddrinfo` and connects
through `sock.connect`, so its event loops are covered without patching them separately.
Unix sockets are left alone.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

# The originals, called through these module globals so a test can swap in a spy and prove
# that a refused call never reached the real socket layer.
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_sendto = socket.socket.sendto
_original_create_connection = socket.create_connection
_original_getaddrinfo = socket.getaddrinfo
_original_gethostbyname = socket.gethostbyname
_original_gethostbyname_ex = socket.gethostbyname_ex

# What uninstall puts back: kept apart from the names above, which tests may swap for spies.
_PRISTINE_FUNCTIONS = {
    "create_connection": socket.create_connection,
    "getaddrinfo": socket.getaddrinfo,
    "gethostbyname": socket.gethostbyname,
    "gethostbyname_ex": socket.gethostbyname_ex,
}

_installed = False


def is_loopback_host(host: str | bytes | None) -> bool:
    """Tell whether host names or is a loopback address (None counts: it binds locally)."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = host.strip().rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _is_numeric(host: str | bytes) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _refuse(what: object) -> RuntimeError:
    return RuntimeError(f"test tried to reach non-loopback address {what!r}")


def _check_socket_address(sock: socket.socket, address: Any) -> None:
    if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
        return
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # netlink, packet sockets and the like are not "the network" for this guard
    if isinstance(address, tuple) and address and is_loopback_host(address[0]):
        return
    raise _refuse(address)


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_socket_address(self, address)
    _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_socket_address(self, address)
    return _original_connect_ex(self, address)


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    # sendto(data, address) or sendto(data, flags, address): the address is always last.
    if args:
        _check_socket_address(self, args[-1])
    return _original_sendto(self, data, *args)


def _guarded_create_connection(
    address: tuple[str, int], *args: Any, **kwargs: Any
) -> socket.socket:
    if not is_loopback_host(address[0]):
        raise _refuse(address)
    return _original_create_connection(address, *args, **kwargs)


def _check_lookup(host: str | bytes | None) -> None:
    # Resolving a numeric address sends nothing; resolving a name may query DNS, so only
    # loopback names are let through.
    if host is None or _is_numeric(host) or is_loopback_host(host):
        return
    raise _refuse(host)


def _guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    _check_lookup(host)
    return _original_getaddrinfo(host, port, *args, **kwargs)


def _guarded_gethostbyname(host: str) -> str:
    _check_lookup(host)
    return _original_gethostbyname(host)


def _guarded_gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
    _check_lookup(host)
    return _original_gethostbyname_ex(host)


_SOCKET_METHODS = {
    "connect": _guarded_connect,
    "connect_ex": _guarded_connect_ex,
    "sendto": _guarded_sendto,
}
# Inherited from _socket.socket unless some other code already overrode them on socket.socket.
_OWN_METHODS = {name: socket.socket.__dict__.get(name) for name in _SOCKET_METHODS}


def install_loopback_guard() -> None:
    """Make every non-loopback connection or name look-up raise RuntimeError (idempotent)."""
    global _installed
    if _installed:
        return
    for name, guarded in _SOCKET_METHODS.items():
        setattr(socket.socket, name, guarded)
    socket.create_connection = _guarded_create_connection  # type: ignore[assignment]
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.gethostbyname = _guarded_gethostbyname
    socket.gethostbyname_ex = _guarded_gethostbyname_ex
    _installed = True


def uninstall_loopback_guard() -> None:
    """Restore the real socket functions."""
    global _installed
    if not _installed:
        return
    for name, own in _OWN_METHODS.items():
        if own is None:
            delattr(socket.socket, name)
        else:
            setattr(socket.socket, name, own)
    for name, function in _PRISTINE_FUNCTIONS.items():
        setattr(socket, name, function)
    _installed = False


def loopback_guard_installed() -> bool:
    """Tell whether install_loopback_guard() is in effect."""
    return _installed
