"""Read a NEWSBOT_DB value: a file path is SQLite, a postgresql:// URL is PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from storage.errors import StoreError

# `scheme:` at the start: a URL (or a typo of one), never a file name to create.
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
POSTGRES_FORM = "postgresql://user[:password]@host[:port]/dbname"


def looks_like_url(target: str | Path) -> bool:
    """Return whether a NEWSBOT_DB value starts with a URL scheme (a drive letter does not)."""
    text = str(target)
    return bool(_SCHEME_RE.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)


def is_postgres_url(target: str | Path) -> bool:
    """Return whether a NEWSBOT_DB value names a PostgreSQL database."""
    return str(target).startswith("postgresql://")


def redact_target(target: str | Path) -> str:
    """Return the target as it may be shown: a URL's password replaced by ***."""
    text = str(target)
    if not looks_like_url(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def check_target(target: str | Path) -> None:
    """Raise StoreError (one line, no password) unless the target is a path or a postgresql URL."""
    text = str(target)
    if not looks_like_url(text):
        return
    shown = redact_target(text)
    problem = f"NEWSBOT_DB: {shown!r} is not a file path or a {POSTGRES_FORM} URL"
    if not is_postgres_url(text):
        raise StoreError(problem)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise StoreError(f"{problem} (bad port)") from None
    dbname = parts.path.removeprefix("/")
    if not parts.hostname or not dbname or "/" in dbname or parts.query or parts.fragment:
        raise StoreError(problem)
    del port
