"""Search-index helpers: the bigram tokens of a text and safe FTS5 query strings."""

from __future__ import annotations

import re

# What the bigram index keeps: letters and digits (CJK included); everything else splits runs.
_RUN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def index_grams(text: str) -> str:
    """Return the text's overlapping character bigrams plus each run's last character."""
    grams: list[str] = []
    for run in _RUN_RE.findall(text.lower()):
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        grams.append(run[-1])  # so a one-character query finds a run's last character too
    return " ".join(grams)


def fts_phrase(word: str) -> str:
    """Quote a user's word as an FTS5 string: its quotes doubled, its operators inert."""
    return '"' + word.replace('"', '""') + '"'


def gram_query(word: str) -> str | None:
    """Return the bigram-index query for a 1-2 character word, or None if it has no letters."""
    runs = _RUN_RE.findall(word.lower())
    if not runs:
        return None
    terms = []
    for run in runs:
        if len(run) == 1:
            terms.append(fts_phrase(run) + " *")  # any bigram starting with it, or a lone last char
        else:
            terms.append(fts_phrase(run[:2]))
    return " AND ".join(terms)
