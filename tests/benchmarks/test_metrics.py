"""`newsbot bench metrics` in small: it fills a ledger, checks the tally and prints one row."""

from __future__ import annotations

import io

from benchmarks import metrics as bench_metrics


def test_a_small_run_prints_its_row_after_checking_the_tally() -> None:
    out = io.StringIO()
    assert bench_metrics.run(out, rows=25_000) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ledger filled: 25,000 rows in ")
    assert lines[1].startswith("| backend | ledger rows |")
    cells = [c.strip() for c in lines[3].strip("|").split("|")]
    assert cells[:2] == ["sqlite", "25,000"]
    assert all(float(c) >= 0 for c in cells[2:])


def test_the_synthetic_ledger_is_mostly_sent_with_a_pending_tail() -> None:
    rows = 30_000
    states = [bench_metrics._state(i, rows) for i in range(rows)]
    assert states.count("failed") == states.count("skipped") == 300
    pending = [i for i, s in enumerate(states) if s == "pending"]
    assert len(pending) == 100 and min(pending) >= rows - bench_metrics.OPEN_WINDOW
