"""Followed keywords read as rules (news.models.KeywordRule): every word, no `-词`, forms folded."""

from __future__ import annotations

from news.models import KeywordRule
from news.nlp.fold import search_form

MAX_WORD_CHARS = 20
MAX_WORDS = 5


class KeywordRuleError(ValueError):
    """A keyword rule that cannot be followed; `reason` names which (a texts.py key suffix)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fold_for_match(text: str) -> str:
    """Return text in the form rules are matched in: simplified, half-width, lower case."""
    return search_form(text).lower()


def parse_rule(raw: str) -> KeywordRule:
    """Read `营商环境 沈阳 -招聘` into a rule; raise KeywordRuleError for what cannot be one."""
    include: list[str] = []
    exclude: list[str] = []
    for token in fold_for_match(raw).split():
        negative = token.startswith("-")
        word = token.lstrip("-")
        if not word or not any(ch.isalnum() for ch in word):
            raise KeywordRuleError("usage")
        if len(word) > MAX_WORD_CHARS:
            raise KeywordRuleError("too_long")
        bucket = exclude if negative else include
        if word not in bucket:
            bucket.append(word)
    if not include and not exclude:
        raise KeywordRuleError("usage")
    if not include:
        raise KeywordRuleError("only_exclusions")
    if len(include) + len(exclude) > MAX_WORDS:
        raise KeywordRuleError("too_many")
    if set(include) & set(exclude):
        raise KeywordRuleError("contradiction")
    return KeywordRule(tuple(include), tuple(exclude))
