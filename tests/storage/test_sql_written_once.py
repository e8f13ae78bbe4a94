"""Each SQL statement of storage/ is written once: a copy is a query changed in one place only."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"
_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "WITH")


def sql_literals() -> dict[str, list[str]]:
    """Return every SQL string literal of storage/ (f-strings as their skeleton) by place."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(STORAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
                )
            else:
                continue
            folded = " ".join(re.sub(r"\$\d+", "?", text).split())
            # A migration script is history, kept as it shipped on each backend; its single
            # statements are the queries that count.
            script = ";" in folded.rstrip("; ")
            if folded.upper().startswith(_VERBS) and len(folded) > 40 and not script:
                found[folded].append(f"{path.relative_to(STORAGE.parent)}:{node.lineno}")
    return found


def test_storage_writes_each_sql_statement_once() -> None:
    literals = sql_literals()
    assert len(literals) > 50  # the walk sees the store's queries
    twice = {sql[:80]: places for sql, places in literals.items() if len(places) > 1}
    assert twice == {}
