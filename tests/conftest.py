"""Suite-wide set-up: tests reach only loopback; shared fixtures for settings and stores."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

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


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[object]:
    """Open a Store on a real SQLite file in tmp_path."""
    from storage import Store

    opened = await Store.open(tmp_path / "newsbot.db")
    try:
        yield opened
    finally:
        await opened.close()
