"""`newsbot group-stories`: group an archive stored before stories into stories, once."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.config import Settings
from bot.ingest_cli import Progress
from storage import open_store, redact_target


async def group_stories(settings: Settings, batch: int, out: TextIO) -> int:
    """Sketch every article stored without a sketch and group its reprints; 0 when done."""
    store = await open_store(settings.db)
    try:
        bar = Progress(sys.stderr)
        done, reprints = await store.group_stored(
            batch=batch, progress=lambda d, t: bar("stories", d, t)
        )
        stories = await store.count_articles()
    finally:
        await store.close()
    print(
        f"grouped {done} articles of {redact_target(settings.db)}: {reprints} reprints found, "
        f"{stories} stories in all",
        file=out,
    )
    return 0
