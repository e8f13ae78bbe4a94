"""Portable SQL on asyncpg: `?` placeholders turned into `$n`, row counts read from statuses."""

from __future__ import annotations

import re
from functools import lru_cache

_PLACEHOLDER_RE = re.compile(r"\?")


@lru_cache(maxsize=512)
def pg(sql: str) -> str:
    """Turn the `?` placeholders of portable SQL into asyncpg's `$1, $2, …` (none in literals)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER_RE.sub(lambda _m: f"${next(counter)}", sql)


def rowcount(status: str) -> int:
    """Return the row count from an asyncpg command status ('UPDATE 3', 'INSERT 0 1')."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0
