"""Fold Chinese text to one form: simplified characters (OpenCC t2s), half-width ASCII."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

# Full-width ASCII forms (！ to ～) sit at a fixed offset from their ASCII forms; the ideographic
# space folds to a space.
_HALFWIDTH = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


# The one converter of the process: the speaker finder, the search indexes and the handlers
# share its dictionaries, loaded on first use.
@lru_cache(maxsize=1)
def _t2s() -> _Converter:
    import opencc  # loads its dictionaries from package data, once

    converter: _Converter = opencc.OpenCC("t2s")
    return converter


# The OpenCC package is pure Python, so converting is slow, and almost every article is
# simplified already: a text in which no entry of the dictionaries that replaces something can
# match comes out of the converter unchanged. Such an entry holds a character that the character
# table replaces (traditional, rare in simplified text), or it is one of a few dozen phrases like
# 沈默 (沈 alone stays: 沈阳) that are looked for whole.
@lru_cache(maxsize=1)
def _t2s_triggers() -> tuple[frozenset[str], tuple[str, ...]] | None:
    """Return what a text must hold for t2s to change it: a character or a phrase; None: unknown."""
    chain = getattr(_t2s(), "_dict_chain_data", None)
    if not isinstance(chain, list) or not chain:
        return None
    changes: list[tuple[str, str]] = []
    try:
        for group in chain:
            for _longest, _shortest, mapping in group:
                for key, value in mapping.items():
                    first = value.split(" ")[0]  # what the converter picks of several
                    if first != key:
                        changes.append((key, first))
    except (TypeError, ValueError):
        return None  # another layout of the package's data: always convert
    chars = frozenset(key for key, _value in changes if len(key) == 1)
    phrases = tuple(key for key, _value in changes if len(key) > 1 and chars.isdisjoint(key))
    return chars, phrases


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters in text to simplified ones (OpenCC t2s)."""
    return _t2s().convert(text) if text else text


def to_halfwidth(text: str) -> str:
    """Fold full-width ASCII forms (，：！ＡＢ１２) and the ideographic space to half-width."""
    # One character for one: offsets found in the result index the original text too.
    return text.translate(_HALFWIDTH)


def search_form(text: str) -> str:
    """Return the form of text that search indexes hold and queries are matched in."""
    # Simplified and half-width, so 全面振興 and 全面振兴 are one word. Every backend calls this
    # for every index write and every query (articles, keyword follows): the index and the
    # query must agree exactly.
    return to_halfwidth(simplified(text)) if text else text


def simplified(text: str) -> str:
    """Return text in simplified characters, converting only a text that t2s would change."""
    triggers = _t2s_triggers()
    if (
        triggers is None
        or not triggers[0].isdisjoint(text)
        or any(phrase in text for phrase in triggers[1])
    ):
        return _t2s().convert(text)
    return text


def stored_search_form(text: str) -> str | None:
    """Return search_form(text) to store next to text, or None where it is text itself."""
    folded = search_form(text)
    return None if folded == text else folded


def aligned_search_form(text: str) -> str:
    """Return search_form(text) with exactly one character per character of text."""
    # Offsets found in the result index the text too (snippets in the article's own
    # characters). OpenCC may turn a phrase into one of another length; then each character is
    # converted on its own.
    folded = search_form(text)
    if len(folded) == len(text):
        return folded
    chars = [search_form(ch) for ch in text]
    return "".join(c if len(c) == 1 else ch for c, ch in zip(chars, text, strict=True))
