"""Followed keywords as rules: every word must appear, `-词` leaves an article out, forms folded."""

from __future__ import annotations

from dataclasses import dataclass

from news.nlp.fold import search_form

MAX_WORD_CHARS = 20
MAX_WORDS = 5


class KeywordRuleError(ValueError):
    """A keyword rule that cannot be followed; `reason` names which (a texts.py key suffix)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Words an article must all hold, and words that leave it out, in search_form, lower case."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Return the rule as stored and shown: the words, then each exclusion with a minus."""
        return " ".join((*self.include, *("-" + w for w in self.exclude)))

    def matches(self, title: str, body: str, *, in_body: bool) -> bool:
        """Return whether an article fires the rule (title and body already in fold_for_match).

        The words are looked for in the title, or in title and body with `in_body`; an
        excluded word leaves the article out wherever it appears.
        """
        where = f"{title}\n{body}" if in_body else title
        if not all(word in where for word in self.include):
            return False
        return not any(word in title or word in body for word in self.exclude)


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


def stored_rule(text: str) -> KeywordRule:
    """Read a rule back from its stored text (a plain word, as older rows hold, is one too)."""
    words = text.split()
    return KeywordRule(
        tuple(w for w in words if not w.startswith("-")),
        tuple(w[1:] for w in words if w.startswith("-") and len(w) > 1),
    )
