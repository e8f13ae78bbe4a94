"""Imports run one way: bot -> handlers -> {storage, news}; storage -> news.models, nlp.fold."""

# The shipped tools: fakes (imports only storage and news, for the archive seeder), and above the
# bot demo and benchmarks (they compose bot.app with the fakes; the bot imports none of them and
# finds their `newsbot` commands as entry points). No product module imports the test tree, no
# product module imports one that imports it back, and no two packages import each other, lazy
# imports inside functions included.

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "news")
TOOLS = ("fakes", "demo", "benchmarks")
PRODUCT = PACKAGES + TOOLS

# The only modules of news that storage may import: the models it returns, and the text folding
# its search indexes hold text in.
STORAGE_NEWS = ("news.models", "news.nlp.fold", "news.stories")

# For each package, the top-level project packages it must never import.
FORBIDDEN = {
    "bot": {*TOOLS},
    "news": {"bot", "handlers", "storage", "telegram", "aiosqlite", *TOOLS},
    "storage": {"bot", "handlers", "telegram", *TOOLS},
    "handlers": {"bot", *TOOLS},
    "fakes": {"bot", "handlers", "telegram", "demo", "benchmarks"},
    "demo": {"benchmarks"},
    "benchmarks": {"demo"},
}


def imported_modules(path: Path) -> set[str]:
    """Return every module name a file imports (absolute names), in functions too."""
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
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            checked += 1
            for name in imported_modules(path):
                top = name.split(".")[0]
                if top in FORBIDDEN.get(package, set()):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
                if package == "storage" and top == "news" and name not in STORAGE_NEWS:
                    wrong.append(f"{path.relative_to(ROOT)} imports {name} (only {STORAGE_NEWS})")
    assert checked > 10
    assert wrong == []


def test_nothing_imports_bot_outside_bot() -> None:
    for package in ("handlers", "storage", "news"):
        for path in (ROOT / package).rglob("*.py"):
            assert not any(n.split(".")[0] == "bot" for n in imported_modules(path)), path


def test_no_product_module_imports_tests() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "tests"
    ]
    assert wrong == []


def module_name(path: Path) -> str:
    """Return the dotted name of a product file (a package's __init__ is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_import_graph() -> dict[str, set[str]]:
    """Return, for each product module, the product modules it imports (lazily or not)."""
    # `from a.b import c` counts as importing the module a.b.c when there is one, else a.b. The
    # package __init__ that Python runs on the way to a submodule is not counted: a package that
    # re-exports its modules would otherwise be a circle with each of them.
    files = {module_name(p): p for package in PRODUCT for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in files)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    if submodule in files:
                        targets.add(submodule)
                    elif node.module in files:
                        targets.add(node.module)
        targets.discard(name)
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return each circle of imports as the path around it (depth-first, one per back edge)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_no_import_cycle_in_the_product() -> None:
    graph = product_import_graph()
    assert {"storage.store", "storage.ledger", "demo.harness", "fakes.archive"} <= set(graph)
    assert "storage.ledger" in graph["storage.store"]  # the walk sees real imports
    assert [" -> ".join(cycle) for cycle in import_cycles(graph)] == []


def test_the_cycle_check_finds_a_lazy_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]


def package_import_graph() -> dict[str, set[str]]:
    """Return, for each product package, the other product packages it imports (lazily or not)."""
    graph: dict[str, set[str]] = {}
    for package in PRODUCT:
        graph[package] = {
            top
            for path in (ROOT / package).rglob("*.py")
            for name in imported_modules(path)
            if (top := name.split(".")[0]) in PRODUCT and top != package
        }
    return graph


def back_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Return each pair of packages that import each other, as "a <-> b"."""
    return sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and a in graph[b])


def test_no_two_packages_import_each_other() -> None:
    graph = package_import_graph()
    assert {"bot", "fakes"} <= graph["demo"]  # the walk sees real imports
    assert back_arrows(graph) == []


def test_the_back_arrow_check_finds_a_pair() -> None:
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": set()}
    assert back_arrows(graph) == ["a <-> b"]
