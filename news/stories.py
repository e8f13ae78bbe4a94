"""Stories across outlets: a MinHash of an article's folded body, its LSH bands, and the test.

A reprint (the same text under another headline, with a 来源/原标题/编辑 line added, a paragraph
dropped or cut, in traditional characters) has most of its character shingles in common with
the first copy; a separate report of the same meeting shares names and a sentence or two. The
store keeps each article's signature and its band keys (storage.stories) and asks
`is_same_story` of the candidates the bands find.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from news.models import StorySketch
from news.nlp.fold import simplified

# Characters per shingle: 5 keeps a separate report's shared names and phrases (易炼红, 营商环境)
# from looking like shared sentences, and still survives a changed character here and there.
SHINGLE = 5
NUM_PERM = 64
# 16 bands of 4 rows: a pair with a Jaccard similarity of 0.5 shares a band 64% of the time,
# 0.6 89%, 0.7 99%; a pair that is only one part of the other (a cut reprint) is found by
# containment below, so the bands aim at 0.4–0.5 and the exact test decides.
BANDS = 16
ROWS = NUM_PERM // BANDS
# Fewer shingles than this (a caption, a video page) never groups: too little text to tell.
MIN_SHINGLES = 40
# The decision, chosen on the training half of the labelled set by `newsbot bench stories`
# (the best recall at precision >= 0.99, then the thresholds farthest from every pair): a
# pair is one story when its estimated Jaccard similarity reaches JACCARD, or when the
# shorter text's shingles lie within the longer one's to CONTAINMENT (a paragraph cut, lines
# added). Reprints there have containment 0.88 and up; separate reports, shared boilerplate
# and a series' shared lead 0.39 at most.
JACCARD = 0.90
CONTAINMENT = 0.65
SEED = 1
_MULTIPLIER = 0x100000001B3  # FNV-1a's prime
_MIXER = 0xBF58476D1CE4E5B9  # splitmix64's

# Lines a reprint adds or drops: 来源, 原标题, 编辑, 记者 and the like, and bylines.
_META_LINE = re.compile(
    r"^\s*[\[【（(]?\s*(?:来源|來源|原标题|原標題|原题|编辑|編輯|责任编辑|責任編輯|责编|"
    r"记者|記者|本报记者|本報記者|通讯员|通訊員|作者|撰稿|摄影|攝影|校对|校對|审核|審核|"
    r"主编|主編|新闻来源|稿件来源|文|图)[\s:：／/|丨]"
)
_BYLINE = re.compile(
    r"[（(]\s*(?:本报|本報|新华社|新華社)?\s*(?:记者|記者|通讯员|通訊員)[^）)]{0,40}[）)]"
)
_NOT_LETTER = re.compile(r"[\W_]+", re.UNICODE)


def story_text(body: str) -> str:
    """Return the body as shingled: meta lines and bylines dropped, folded, letters only."""
    kept = [
        line for line in body.splitlines() if line.strip() and not _META_LINE.match(line.strip())
    ]
    text = _BYLINE.sub("", "\n".join(kept))
    # NFKC folds full-width letters and digits as search_form does, in C and at once.
    return _NOT_LETTER.sub("", unicodedata.normalize("NFKC", simplified(text))).lower()


@lru_cache(maxsize=1)
def _template() -> MinHash:
    # The permutations are drawn once: copying them is much cheaper than drawing them again.
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")


def sketch(body: str) -> StorySketch:
    """Return the MinHash sketch of an article's body."""
    hashes = shingle_hashes(story_text(body))
    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=int,
        permutations=_template().permutations,
        scheme="affine32",
    )
    if len(hashes):
        minhash.update_batch(hashes.tolist())
    signature = minhash.hashvalues.astype("<u4").tobytes()
    if len(hashes) < MIN_SHINGLES:
        return StorySketch(signature, len(hashes), ())
    return StorySketch(signature, len(hashes), band_keys(signature))


def shingle_hashes(text: str) -> np.ndarray:
    """Return the distinct 32-bit hashes of the text's SHINGLE-character shingles."""
    # Hashed in numpy over the code points (a polynomial of each window): hashing each shingle
    # in Python (encode, sha1) was most of the cost of storing an article's sketch.
    if len(text) < SHINGLE:
        return np.empty(0, dtype=np.uint64)
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    count = len(points) - SHINGLE + 1
    window = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        window = window * np.uint64(_MULTIPLIER) + points[offset : offset + count]
    window ^= window >> np.uint64(29)
    window *= np.uint64(_MIXER)
    window ^= window >> np.uint64(32)
    return np.unique(window & np.uint64(0xFFFFFFFF))


def band_keys(signature: bytes) -> tuple[int, ...]:
    """Return the signed 64-bit key of each band of a signature (band number included)."""
    keys = []
    for band in range(BANDS):
        part = signature[band * ROWS * 4 : (band + 1) * ROWS * 4]
        digest = hashlib.blake2b(bytes([band]) + part, digest_size=8).digest()
        keys.append(struct.unpack("<q", digest)[0])
    return tuple(keys)


def jaccard(a: bytes, b: bytes) -> float:
    """Return the Jaccard similarity two signatures estimate."""
    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / NUM_PERM


def containment(similarity: float, size_a: int, size_b: int) -> float:
    """Return how much of the smaller shingle set lies in the other, from their Jaccard."""
    if min(size_a, size_b) <= 0:
        return 0.0
    shared = similarity * (size_a + size_b) / (1 + similarity)
    return min(1.0, shared / min(size_a, size_b))


def is_same_story(
    a: StorySketch | tuple[bytes, int],
    b: StorySketch | tuple[bytes, int],
    *,
    jaccard_at: float = JACCARD,
    containment_at: float = CONTAINMENT,
) -> bool:
    """Return whether two sketches are copies of one story (the bands found them first)."""
    sig_a, size_a = (a.signature, a.shingles) if isinstance(a, StorySketch) else a
    sig_b, size_b = (b.signature, b.shingles) if isinstance(b, StorySketch) else b
    if min(size_a, size_b) < MIN_SHINGLES:
        return False
    similarity = jaccard(sig_a, sig_b)
    return similarity >= jaccard_at or containment(similarity, size_a, size_b) >= containment_at
