"""`newsbot bench backfill` at a tiny size: every table printed, nothing stored twice."""

from __future__ import annotations

import io

from benchmarks import backfill


def test_the_backfill_bench_runs_at_a_tiny_size() -> None:
    out = io.StringIO()
    assert backfill.run(out, articles=70, sample=7, years=1) == 0, out.getvalue()
    text = out.getvalue()
    [row] = [line for line in text.splitlines() if line.startswith("| SQLite |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "70 of 70" and cells[7] == "0"  # all stored, none twice
    for stage in ("fetch", "decode", "parse", "who-spoke analysis", "store", "index"):
        assert f"| {stage} |" in text
    assert "A polite ten-year backfill of the shipped catalogue (26 sources" in text
