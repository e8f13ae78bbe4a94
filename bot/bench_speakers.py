"""Benchmark the leader extractor: who spoke, on the labelled leader texts; name recall on CLUENER.

Targets (exit 1 when one is missed): precision and recall of 'spoke' >= 0.95 on
<corpus>/leaders/labels.json, and nobody from a not_spoke list reported as having spoken.
Precision counts as false only people the labels say did not speak; people in neither list are
ambiguous by the labels' own definition, so they are listed (column 'unlabelled') and counted
in a strict precision that is reported but not a target.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from news.nlp.speakers import extract_people, find_names

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
TARGET = 0.95
CLUENER_FILE = Path("ner") / "cluener2020_dev_labelled.jsonl"


@dataclass(frozen=True, slots=True)
class FileScore:
    """Who spoke in one labelled file: expected, found, and the differences."""

    file: str
    expected: tuple[str, ...]
    found: tuple[str, ...]
    missed: tuple[str, ...]
    false: tuple[str, ...]  # found speaking, labelled not_spoke
    unlabelled: tuple[str, ...]  # found speaking, in neither list (ambiguous)


@dataclass(frozen=True, slots=True)
class SpokeScore:
    """Totals of 'spoke' over a labelled set."""

    files: tuple[FileScore, ...]

    @property
    def true_positives(self) -> int:
        """Count speakers found that the labels expect."""
        return sum(len(f.expected) - len(f.missed) for f in self.files)

    @property
    def expected(self) -> int:
        """Count the speakers the labels expect."""
        return sum(len(f.expected) for f in self.files)

    @property
    def false(self) -> int:
        """Count people reported as speaking whom the labels list as not_spoke."""
        return sum(len(f.false) for f in self.files)

    @property
    def unlabelled(self) -> int:
        """Count people reported as speaking who are in neither list."""
        return sum(len(f.unlabelled) for f in self.files)

    @property
    def precision(self) -> float:
        """Return precision over labelled people (the target)."""
        found = self.true_positives + self.false
        return self.true_positives / found if found else 1.0

    @property
    def strict_precision(self) -> float:
        """Return precision counting every unlabelled speaker as false."""
        found = self.true_positives + self.false + self.unlabelled
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Return recall of the expected speakers."""
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def passed(self) -> bool:
        """Return whether precision and recall reach the target and no not_spoke person spoke."""
        return self.precision >= TARGET and self.recall >= TARGET and self.false == 0


@dataclass(frozen=True, slots=True)
class NameRecall:
    """How many gold CLUENER person names the extractors find."""

    gold: int
    by_extract_people: int
    by_find_names: int
    reported_by_extract_people: int
    reported_by_find_names: int


def score_leaders(leaders_dir: Path) -> SpokeScore:
    """Score extract_people's 'spoke' on leaders_dir/labels.json and the files it names."""
    labels = json.loads((leaders_dir / "labels.json").read_text(encoding="utf-8"))
    files: list[FileScore] = []
    for file, label in labels.items():
        if file.startswith("_"):
            continue
        text = (leaders_dir / file).read_text(encoding="utf-8")
        found = [m.name for m in extract_people(text) if "spoke" in m.roles]
        expected = list(label["spoke"])
        not_spoke = set(label["not_spoke"])
        files.append(
            FileScore(
                file=file,
                expected=tuple(expected),
                found=tuple(found),
                missed=tuple(n for n in expected if n not in found),
                false=tuple(n for n in found if n in not_spoke),
                unlabelled=tuple(n for n in found if n not in expected and n not in not_spoke),
            )
        )
    return SpokeScore(tuple(files))


def name_recall(jsonl: Path) -> NameRecall:
    """Count the CLUENER2020 `name` spans that extract_people and find_names find."""
    gold = by_extract = by_find = reported_extract = reported_find = 0
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            names = set(record.get("label", {}).get("name", {}))
            extracted = {m.name for m in extract_people(record["text"])}
            found = set(find_names(record["text"]))
            gold += len(names)
            by_extract += len(names & extracted)
            by_find += len(names & found)
            reported_extract += len(extracted)
            reported_find += len(found)
    return NameRecall(gold, by_extract, by_find, reported_extract, reported_find)


def run(corpus: Path, out: TextIO) -> int:
    """Print the speakers benchmark for corpus; return 1 if a target is missed, else 0."""
    labels = corpus / "leaders" / "labels.json"
    if not labels.is_file():
        print(f"no labelled leader texts: {labels} not found", file=out)
        return 1
    score = score_leaders(corpus / "leaders")
    _print_table(score, out)
    passed = score.passed
    print(
        f"\nspoke: expected {score.expected}, found {score.true_positives}, "
        f"false (labelled not_spoke) {score.false}, unlabelled {score.unlabelled}",
        file=out,
    )
    print(
        f"precision {score.precision:.3f} (target {TARGET})   recall {score.recall:.3f} "
        f"(target {TARGET})   strict precision, unlabelled counted false: "
        f"{score.strict_precision:.3f} (no target)",
        file=out,
    )
    print(f"spoke targets: {'met' if passed else 'MISSED'}", file=out)

    jsonl = corpus / CLUENER_FILE
    if jsonl.is_file():
        recall = name_recall(jsonl)
        print(f"\nCLUENER2020 dev name recall ({recall.gold} gold names, no target):", file=out)
        for label, hits, reported in (
            ("extract_people", recall.by_extract_people, recall.reported_by_extract_people),
            ("find_names", recall.by_find_names, recall.reported_by_find_names),
        ):
            share = hits / recall.gold if recall.gold else 0.0
            print(
                f"  {label:<15} {hits:>4} found ({share:.1%}), {reported} names reported",
                file=out,
            )
    else:
        print(f"\nCLUENER2020: {jsonl} not found, name recall skipped", file=out)
    return 0 if passed else 1


def _print_table(score: SpokeScore, out: TextIO) -> None:
    headers = ("file", "expected spoke", "found spoke", "missed", "false", "unlabelled")
    rows = [
        (
            f.file,
            "、".join(f.expected) or "-",
            "、".join(f.found) or "-",
            "、".join(f.missed) or "-",
            "、".join(f.false) or "-",
            "、".join(f.unlabelled) or "-",
        )
        for f in score.files
    ]
    widths = [max(_width(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    for row in (headers, *rows):
        cells = (cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row))
        print("  ".join(cells).rstrip(), file=out)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


if __name__ == "__main__":
    raise SystemExit(run(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS, sys.stdout))
