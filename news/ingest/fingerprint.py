"""A fingerprint of an article's normalised title and body, for spotting republished stories."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Everything that is not a letter or a digit: spaces, punctuation (full- and half-width).
_NOISE_RE = re.compile(r"[\W_]+", re.UNICODE)


def normalise_for_fingerprint(text: str) -> str:
    """Fold width and case and drop whitespace and punctuation."""
    return _NOISE_RE.sub("", unicodedata.normalize("NFKC", text).lower())


def fingerprint(title: str, body: str) -> str:
    """Return a stable hash of the normalised title and body."""
    material = normalise_for_fingerprint(title) + "\x00" + normalise_for_fingerprint(body)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
