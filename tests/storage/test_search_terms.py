"""The PostgreSQL index terms: every 1- to 4-letter piece of a text, and what a word needs."""

from __future__ import annotations

from storage.postgres.store import months_between, search_match
from storage.postgres.terms import index_terms, month_key, term_key, term_keys, word_terms


def test_a_text_holds_every_piece_of_its_letter_runs_up_to_four_letters() -> None:
    terms = index_terms("营商环境, NEN")
    assert set(terms) == {
        *"营商环境",
        *("营商", "商环", "环境", "营商环", "商环境", "营商环境"),
        *("n", "e", "ne", "en", "nen"),
    }
    assert len(terms) == len(set(terms))


def test_a_word_is_proved_by_its_term_only_when_it_is_one_short_run() -> None:
    assert word_terms("营商环境") == (["营商环境"], True)
    assert word_terms("沈阳市委书记") == (["沈阳市委", "阳市委书", "市委书记"], False)
    assert word_terms("100%_达标") == (["100", "达标"], False)
    assert word_terms("%") is None
    # A letter outside the BMP shares its key with others (see term_key): LIKE proves it.
    assert word_terms("𠀀城") == (["𠀀城"], False)


def test_a_term_s_key_packs_its_letters_and_no_two_terms_share_one() -> None:
    assert term_key("营") == (0x8425 << 48) - 2**64  # its top bit set: negative
    assert term_key("a") == 0x61 << 48 and term_key("ab") == (0x61 << 48) | (0x62 << 32)
    texts = ["营商环境, NEN", "易炼红在沈阳市委全会上讲话 2018", "İstanbul ǅ x", "", "𠀀𠀁城"]
    for text in texts:
        keys = term_keys(text).tolist()
        assert sorted(keys) == sorted(term_key(t) for t in index_terms(text)), text
        assert len(keys) == len(set(keys))
    terms = {t for text in texts[:3] for t in index_terms(text)}
    assert len({term_key(t) for t in terms}) == len(terms)
    assert all(-(2**63) <= term_key(t) < 2**63 and not 0 <= term_key(t) < 2**48 for t in terms)


def test_a_search_needs_likes_only_for_what_its_terms_do_not_prove() -> None:
    match = search_match(["易炼红", "振興", "沈阳市委书记"])  # 振興 as the index holds it: 振兴
    assert match is not None
    assert match.terms == ("易炼红", "振兴", "沈阳市委", "阳市委书", "市委书记")
    assert match.likes == ("%沈阳市委书记%",)
    assert match.counted == ("易炼红", "沈阳市委书记")
    assert search_match(["%"]) is None  # a short word with no letter matches nothing


def test_months_run_newest_first_across_years() -> None:
    assert months_between("2024-02-03T00:00:00Z", "2023-11-30T23:59:59Z") == [
        "2024-02",
        "2024-01",
        "2023-12",
        "2023-11",
    ]
    assert month_key("2023-06-15T08:00:00Z") == 2023 * 12 + 5
    assert 0 <= month_key("9999-12-31T00:00:00Z") < 2**48  # below every term's key
