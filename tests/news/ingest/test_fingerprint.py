"""Fingerprints ignore width, spacing and punctuation but not words."""

from __future__ import annotations

from news.ingest.fingerprint import fingerprint


def test_same_story_different_spacing_and_punctuation() -> None:
    a = fingerprint("辽宁：振兴发展", "　　3月1日，沈阳市召开会议。\n他强调，要大干实干。")
    b = fingerprint("辽宁:振兴发展", "3月1日,沈阳市召开会议. 他强调,要大干实干.")
    assert a == b


def test_different_story() -> None:
    assert fingerprint("辽宁振兴", "沈阳市召开会议") != fingerprint("辽宁振兴", "大连市召开会议")
