"""How high an office is, from the title a leader is written with (for digests by leader)."""

from __future__ import annotations

import re

# Highest first. A title is ranked by the first pattern it matches; national leaders
# quoted in Liaoning news rank above the province's own.
_RANKS: tuple[str, ...] = (
    r"总书记|国家主席|国务院总理",
    r"中央政治局常委",
    r"中央政治局委员|国务委员|副总理",
    r"省委书记",
    r"(?<!副)省长",
    r"省人大常委会主任|省政协主席",
    r"省委副书记",
    r"省委常委",
    r"副省长|省人大常委会副主任|省政协副主席",
    r"市委书记",
    r"(?<!副)市长",
    r"市人大常委会主任|市政协主席",
    r"市委副书记|市委常委|副市长",
    r"厅长|局长|主任|书记",
)
_PATTERNS = tuple(re.compile(p) for p in _RANKS)
UNRANKED = len(_PATTERNS)


def office_rank(title: str) -> int:
    """Return the rank of an office title, 0 the highest; UNRANKED for none known."""
    for rank, pattern in enumerate(_PATTERNS):
        if pattern.search(title or ""):
            return rank
    return UNRANKED
