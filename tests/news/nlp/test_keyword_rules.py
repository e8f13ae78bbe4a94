"""Keyword rules: every word, `-词` leaves out, traditional folds to simplified; office ranks."""

from __future__ import annotations

import pytest

from news.models import KeywordRule
from news.nlp.keyword_rules import KeywordRuleError, fold_for_match, parse_rule
from news.nlp.offices import UNRANKED, office_rank


def test_a_rule_is_read_folded_and_stored_as_text() -> None:
    rule = parse_rule("營商環境  沈阳 -招聘 营商环境")
    assert rule == KeywordRule(("营商环境", "沈阳"), ("招聘",))
    assert rule.text == "营商环境 沈阳 -招聘"
    assert KeywordRule.stored(rule.text) == rule
    assert KeywordRule.stored("振兴") == KeywordRule(("振兴",))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "usage"),
        ("-招聘", "only_exclusions"),
        ("-招聘 -广告", "only_exclusions"),
        ("长" * 21, "too_long"),
        ("一 二 三 四 五 六", "too_many"),
        ("营商 -营商", "contradiction"),
        ("!!!", "usage"),
    ],
)
def test_rules_that_cannot_be_followed(raw: str, reason: str) -> None:
    with pytest.raises(KeywordRuleError) as caught:
        parse_rule(raw)
    assert caught.value.reason == reason


def test_matching_title_or_body_and_exclusions() -> None:
    rule = parse_rule("营商环境 沈阳 -招聘")
    title = fold_for_match("沈阳優化營商環境")
    assert rule.matches(title, "", in_body=False)
    assert not rule.matches(fold_for_match("优化营商环境"), "沈阳", in_body=False)
    assert rule.matches(fold_for_match("优化营商环境"), "沈阳", in_body=True)
    # An excluded word leaves the article out wherever it is.
    assert not rule.matches(title, fold_for_match("专场招聘会"), in_body=False)


def test_offices_rank_highest_first() -> None:
    ranks = [
        office_rank(t)
        for t in ("辽宁省委书记", "省长", "省委副书记", "省委常委、沈阳市委书记", "副市长", "")
    ]
    assert ranks == sorted(ranks)
    assert office_rank("副省长") > office_rank("省长")
    assert office_rank("") == UNRANKED
