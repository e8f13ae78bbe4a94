"""Imports run one way: bot -> handlers -> {storage, news}; storage -> news.models only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "news")

# For each package, the top-level project packages it must never import.
FORBIDDEN = {
    "news": {"bot", "handlers", "storage", "telegram", "aiosqlite"},
    "storage": {"bot", "handlers", "telegram"},
    "handlers": {"bot"},
}


def imported_modules(path: Path) -> set[str]:
    """Return every module name a file imports (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_run_one_way() -> None:
    wrong: list[str] = []
    checked = 0
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            checked += 1
            for name in imported_modules(path):
                top = name.split(".")[0]
                if top in FORBIDDEN.get(package, set()):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
                if package == "storage" and top == "news" and not name.startswith("news.models"):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name} (only news.models)")
    assert checked > 10
    assert wrong == []


def test_nothing_imports_bot_outside_bot() -> None:
    for package in ("handlers", "storage", "news"):
        for path in (ROOT / package).rglob("*.py"):
            assert not any(n.split(".")[0] == "bot" for n in imported_modules(path)), path
