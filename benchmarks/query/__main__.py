"""Run `newsbot bench query` with its defaults: `python -m benchmarks.query`."""

from __future__ import annotations

import sys

from benchmarks.query.report import run

raise SystemExit(run(sys.stdout))
