"""The bot keeps its start-up objects out of later garbage collections, once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_startup_objects_are_frozen_once_and_later_garbage_is_still_collected() -> None:
    # A process of its own: freezing is for the life of a process, and pytest's must not be.
    script = textwrap.dedent(
        """
        import gc
        import handlers, bot.app
        assert gc.get_freeze_count() == 0
        bot.app.freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 100_000, frozen
        bot.app.freeze_startup_heap()
        assert gc.get_freeze_count() == frozen
        # A cycle made after start-up is still found and freed by a full collection.
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
        print(frozen)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100_000
