"""Text folding: search_form skips the converter only where it would change nothing."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from news.nlp import fold
from news.nlp.fold import _t2s, _t2s_triggers, search_form


def converted(text: str) -> str:
    """Return what search_form gave before it skipped the converter."""
    return _t2s().convert(text).translate(fold._HALFWIDTH)


@pytest.mark.parametrize(
    "text",
    [
        "全面振興",
        "沈阳振兴",
        "沈默是金",
        "他沈默了",
        "瞭解沈阳",
        "乾隆",
        "反覆",
        "１２３：ＡＢ",
        "",
        "x",
    ],
)
def test_the_same_as_converting(text: str) -> None:
    assert search_form(text) == converted(text)


def test_random_mixes_of_what_the_dictionaries_replace() -> None:
    triggers = _t2s_triggers()
    assert triggers is not None
    chars, phrases = triggers
    pieces = [*sorted(chars)[:400], *phrases, *"沈阳市振兴发展的了人民和著名于后面"]
    rng = random.Random(13)
    for _ in range(2000):
        text = "".join(
            rng.choice(pieces) if rng.random() < 0.1 else rng.choice("沈阳市振兴发展的了人民和，")
            for _ in range(rng.randint(1, 30))
        )
        assert search_form(text) == converted(text), text


def test_simplified_text_skips_the_converter(monkeypatch: pytest.MonkeyPatch) -> None:
    class Refuse:
        def convert(self, text: str) -> str:
            raise AssertionError(f"converted {text!r}")

    _t2s_triggers()  # built from the real dictionaries first
    monkeypatch.setattr(fold, "_t2s", Refuse)
    assert search_form("沈阳市全面振兴新突破：第１步") == "沈阳市全面振兴新突破:第1步"


def imports_opencc(path: Path) -> bool:
    """Return whether a file imports opencc anywhere, in functions too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] == "opencc" for name in names):
            return True
    return False


def test_only_fold_loads_opencc() -> None:
    root = Path(__file__).resolve().parents[3]
    packages = ("bot", "handlers", "storage", "news", "fakes", "demo", "benchmarks")
    importers = [
        path.relative_to(root).as_posix()
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
        if imports_opencc(path)
    ]
    assert importers == ["news/nlp/fold.py"]
