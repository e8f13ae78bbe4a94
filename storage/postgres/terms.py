"""The term index of PostgreSQL's search: an article's text and keys, and what a word needs."""

from __future__ import annotations

from typing import Any

from news.nlp.fold import search_form
from storage.database import Transaction
from storage.fulltext import LETTER_RUNS


def search_text(title: str, body: str) -> str:
    """Return the text the PostgreSQL search index holds for an article (case folded).

    Every index write goes through here, so that a normalisation (say, traditional to
    simplified) applies to the trigram and the bigram index alike.
    """
    return search_form(title + "\n" + body).lower()


def gram_terms(text: str) -> list[str]:
    """Return the distinct characters and character bigrams of the text's letter runs.

    What PostgreSQL's index held before its sixth migration (index_terms since); kept to
    build such a database in tests.

    A one-character word is in a text exactly when it is one of these characters (SQLite's
    `"c" *` prefix query over bigrams and last characters says the same), a two-letter word
    exactly when it is one of these bigrams.
    """
    terms: dict[str, None] = {}
    for run in LETTER_RUNS.findall(text.lower()):
        for i, char in enumerate(run):
            terms[char] = None
            if i + 1 < len(run):
                terms[run[i : i + 2]] = None
    return list(terms)


# The longest substrings the PostgreSQL term index holds. A word of one letter run up to this
# long is matched by the index alone; a longer run by all its pieces of this length, then by
# LIKE on the text. Four covers most Chinese words and phrases (营商环境, 全面振兴).
TERM_CHARS = 4


def index_terms(text: str) -> list[str]:
    """Return the distinct 1- to TERM_CHARS-character substrings of the text's letter runs."""
    terms: dict[str, None] = {}
    for run in LETTER_RUNS.findall(text.lower()):
        for size in range(1, min(TERM_CHARS, len(run)) + 1):
            terms.update(dict.fromkeys(run[i : i + size] for i in range(len(run) - size + 1)))
    return list(terms)


# A term's key for PostgreSQL's index: its 1-4 letters' code points, 16 bits each from the top,
# zero-padded (no letter is U+0000, so lengths never collide), as a signed 64-bit integer. GIN
# builds and compares BIGINT keys about twice as fast as TEXT ones (no collation, no palloc per
# key). A letter outside the BMP (rare in Chinese news) is folded into 2,048 surrogate codes
# that no text holds, so its key may be shared: a word holding one is also checked by LIKE.
_KEY_BITS = 16
_WIDE_FOLD = 0xD800
_SIGN = 1 << 63


def _key_code(code: int) -> int:
    return code if code <= 0xFFFF else _WIDE_FOLD | (code & 0x7FF)


def term_key(term: str) -> int:
    """Return the index key of a term of 1 to TERM_CHARS letters (see _KEY_BITS)."""
    key = 0
    for place, char in enumerate(term):
        key |= _key_code(ord(char)) << (_KEY_BITS * (TERM_CHARS - 1 - place))
    return key - (1 << 64) if key >= _SIGN else key


def term_keys(text: str) -> Any:
    """Return the distinct keys of index_terms(text) as a numpy int64 array.

    What copy-db and every index write store: numpy builds an article's ~2,000 keys in a
    tenth of the time the substrings take in Python.
    """
    import numpy as np

    runs = LETTER_RUNS.findall(text.lower())
    if not runs:
        return np.empty(0, dtype=np.int64)
    # U+0000 between runs: no term spans it.
    codes = np.frombuffer("\0".join(runs).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    wide = codes > 0xFFFF
    if wide.any():
        codes[wide] = _WIDE_FOLD | (codes[wide] & 0x7FF)
    count = len(codes)
    padded = np.concatenate([codes, np.zeros(TERM_CHARS - 1, dtype=np.uint64)])
    key = np.zeros(count, dtype=np.uint64)
    whole = np.ones(count, dtype=bool)
    pieces = []
    for place in range(TERM_CHARS):
        letter = padded[place : place + count]
        whole &= letter != 0
        key |= letter << np.uint64(_KEY_BITS * (TERM_CHARS - 1 - place))
        pieces.append(key[whole])
    return np.unique(np.concatenate(pieces)).view(np.int64)


def word_terms(word: str) -> tuple[list[str], bool] | None:
    """Return the index terms a text holding the word holds, and whether they prove it does.

    None when the word has no letter or digit, which no index term holds.
    """
    lowered = word.lower()
    runs = LETTER_RUNS.findall(lowered)
    if not runs:
        return None
    terms: list[str] = []
    for run in runs:
        if len(run) <= TERM_CHARS:
            pieces = [run]
        else:
            pieces = [run[i : i + TERM_CHARS] for i in range(len(run) - TERM_CHARS + 1)]
        terms.extend(p for p in pieces if p not in terms)
    proved = runs == [lowered] and len(lowered) <= TERM_CHARS
    return terms, proved and all(ord(c) <= 0xFFFF for c in lowered)  # see _KEY_BITS


def like_pattern(word: str) -> str:
    r"""Return a LIKE pattern matching the (case-folded) word anywhere, its % _ \ inert."""
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def month_key(published_at: str) -> int:
    """Return the index key of an article's month: months since year 0, below every term's key.

    A term's key has its first letter in the top 16 bits (term_key), so it is
    at least 2**48 or negative, and never a month's.
    """
    return int(published_at[:4]) * 12 + int(published_at[5:7]) - 1


# The articles_search columns a search_record fills, in its order (`newsbot copy-db` COPYs them).
SEARCH_COLUMNS = ("id", "published_at", "text", "terms")


def search_record(
    article_id: int, published_at: str, title: str, body: str
) -> tuple[int, str, str, list[int]]:
    """Return an article's articles_search row: every index write (and copy-db) builds it here."""
    text = search_text(title, body)
    return (article_id, published_at, text, search_keys(text, published_at).tolist())


def search_keys(text: str, published_at: str) -> Any:
    """Return the keys an article's row holds (its terms' and its month's), a numpy array."""
    import numpy as np

    return np.append(term_keys(text), np.int64(month_key(published_at)))


async def write_search_row(
    tx: Transaction, article_id: int, published_at: str, title: str, body: str
) -> None:
    """Index one article for search (insert or replace)."""
    await tx.execute(
        "INSERT INTO articles_search (id, published_at, text, terms) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET published_at = excluded.published_at, "
        "text = excluded.text, terms = excluded.terms",
        search_record(article_id, published_at, title, body),
    )


def said_keys(person_id: int, text: str) -> list[int]:
    """Return a statement's index keys (storage.said): its terms' and its speaker's id.

    A person's id is small and positive, below every term's key (term_key), as a month's is
    in articles_search; no statement row holds a month.
    """
    import numpy as np

    keys: list[int] = np.append(term_keys(text), np.int64(person_id)).tolist()
    return keys
