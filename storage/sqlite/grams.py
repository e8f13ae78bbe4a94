"""The bigram index of SQLite's search: an article's bigrams, and FTS5 queries for a word."""

from __future__ import annotations

from storage.fulltext import LETTER_RUNS

# An article's entry in the bigram index, keyed by its search key (storage.sqlite.search_keys).
ADD_GRAMS = "INSERT INTO articles_grams (rowid, grams) VALUES (?, ?)"
DELETE_GRAMS = "INSERT INTO articles_grams (articles_grams, rowid, grams) VALUES ('delete', ?, ?)"
SET_SEARCH_KEY = "UPDATE articles SET search_key = ? WHERE id = ?"


def index_grams(text: str) -> str:
    """Return the text's overlapping character bigrams plus each run's last character."""
    grams: list[str] = []
    for run in LETTER_RUNS.findall(text.lower()):
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
        grams.append(run[-1])  # so a one-character query finds a run's last character too
    return " ".join(grams)


def fts_phrase(word: str) -> str:
    """Quote a user's word as an FTS5 string: its quotes doubled, its operators inert."""
    return '"' + word.replace('"', '""') + '"'


def gram_query(word: str) -> str | None:
    """Return the bigram-index query for a 1-2 character word, or None if it has no letters."""
    runs = LETTER_RUNS.findall(word.lower())
    if not runs:
        return None
    terms = []
    for run in runs:
        if len(run) == 1:
            terms.append(fts_phrase(run) + " *")  # any bigram starting with it, or a lone last char
        else:
            terms.append(fts_phrase(run[:2]))
    return " AND ".join(terms)


def long_word_query(word: str) -> str | None:
    """Return the bigram-index query for a word of 3+ characters: every bigram of its runs.

    An article holding them all may still not hold the word (the bigrams may lie apart), so
    the caller checks the text too. None if the word has no letters or digits.
    """
    runs = LETTER_RUNS.findall(word.lower())
    if not runs:
        return None
    terms: dict[str, None] = {}
    for run in runs:
        if len(run) == 1:
            terms[fts_phrase(run) + " *"] = None
        for i in range(len(run) - 1):
            terms[fts_phrase(run[i : i + 2])] = None
    return " AND ".join(terms)


# A statement's entry in /said's bigram index, keyed by its statement key (storage.said).
ADD_SAID_GRAMS = "INSERT INTO statements_grams (rowid, grams) VALUES (?, ?)"
# Contentless FTS5 (before SQLite 3.43) forgets a row only when given the very tokens it holds.
DELETE_SAID_GRAMS = (
    "INSERT INTO statements_grams (statements_grams, rowid, grams) VALUES ('delete', ?, ?)"
)


def speaker_token(person_id: int) -> str:
    """Return the token that marks a speaker's statements in the index (no bigram is as long)."""
    return f"p{person_id}"


def said_grams(person_id: int, text: str) -> str:
    """Return a statement's index entry: its bigrams (index_grams) and its speaker's token."""
    return index_grams(text) + " " + speaker_token(person_id)
