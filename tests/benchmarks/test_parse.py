"""The parse benchmark's bookkeeping: the tuned/unseen split, truth days, author matching, and
one short run over a two-page corpus built from the fixture pages."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import pytest

from benchmarks import parse as bench_parse

ADDED = [f"cwce_{n:08x}" for n in (0x05E98007, 0x0D931936, 0x0EF8393B, 0x2397C95D)]


def test_split_is_by_name_alone_and_alternates_over_the_added_pages() -> None:
    names = ["cwce_bynr-gov_500b350d", *ADDED]
    halves = [bench_parse.split_half(name, names) for name in ADDED]
    assert halves == ["tuned", "unseen", "tuned", "unseen"]
    # The five first pages, named after their site, were tuned on before the split existed.
    assert bench_parse.split_half("cwce_bynr-gov_500b350d", names) == "tuned"


@pytest.mark.parametrize(
    ("label", "day"),
    [
        ("2005-5-7 21:23:57", date(2005, 5, 7)),
        ("2022-02-11 09:52", date(2022, 2, 11)),
        ("2005-08-16", date(2005, 8, 16)),
        ("1998-3", None),
        ("2018", None),
        ("UNKNOWN", None),
        ("刘涛", None),
    ],
)
def test_truth_day(label: str, day: date | None) -> None:
    assert bench_parse.truth_day(label) == day


@pytest.mark.parametrize(
    ("found", "label", "ok"),
    [
        ("伊琳、李清芬", "伊琳  李清芬", True),
        ("周思博", "周思博 (Joel Spolsky)", True),
        ("罗科苏盈", "罗科苏盈", True),
        ("", "茉莉", False),
        ("大汉网络", "袁源", False),
        ("袁源", "UNKNOWN", None),
    ],
)
def test_author_ok(found: str, label: str, ok: bool | None) -> None:
    assert bench_parse.author_ok(found, label) is ok


def test_run_on_a_small_corpus_prints_both_tables(fixtures: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for suffix in (".html", ".truth.json"):
        shutil.copy(fixtures / "pages" / f"cwce_bynr-gov_500b350d{suffix}", pages)
    shutil.copy(fixtures / "pages" / "gne_shanxi_1.html", pages)
    (tmp_path / "nen").mkdir()  # its truth file is found in tests/fixtures/nen
    shutil.copy(
        fixtures / "nen" / "nen_nongye_2024-10-28_gaosuzhinongmin.excerpt.html", tmp_path / "nen"
    )
    out = io.StringIO()
    status = bench_parse.run(tmp_path, out, min_seconds=0.01)
    text = out.getvalue()
    assert status == 0, text
    assert "cwce_bynr-gov_500b350d" in text and "tuned" in text
    assert "tuned half: 1 article pages" in text
    assert "readability" in text and "trafilatura-precision" in text and "htmldate" in text
    assert "blocks                 mean body F1" in text  # our own block run, alone
    assert "pages below 0.8 (generic profile), with the reader that was right:\n  none" in text
    assert "CPU time" in text
    assert "gne_shanxi_1.html" in text  # unlabelled pages stay in the first table
    assert "throughput on 1 nen article pages" in text


def test_low_pages_name_the_reader_that_was_right() -> None:
    page = bench_parse.Labelled("cwce_0000000a", "unseen", "", "", {}, {"generic": 0.5}, {})
    page.how = "agreement"
    page.readers = {"blocks": 0.4, "readability": 0.96, "trafilatura": 0.7}
    good = bench_parse.Labelled("cwce_0000000b", "tuned", "", "", {}, {"generic": 0.99}, {})
    out = io.StringIO()
    bench_parse.print_low_pages([page, good], out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # the heading and one page
    assert lines[2].startswith("  cwce_0000000a (unseen): generic 0.500 by agreement;")
    assert lines[2].endswith("right: readability")


def test_family_fixtures_table_reads_each_page_both_ways() -> None:
    out = io.StringIO()
    bench_parse.compare_families(bench_parse.FAMILY_DIR, out)
    text = out.getvalue()
    pages = bench_parse.load_family_pages(bench_parse.FAMILY_DIR)
    assert pages and "family fixtures (province/)" in text
    for page in pages:
        assert f"\n{page.folder} " in text
    assert f"  family   titles {len(pages)}/{len(pages)}" in text
    assert "body F1 against the family profile's body, mean: generic" in text
