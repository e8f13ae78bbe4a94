"""The agreement reader: an article body built from what several extractors agree on.

Every extractor's output (our own block run, readability-lxml, trafilatura in two modes) is
mapped back onto the page's blocks (node_blocks of <body>, in document order), so agreement is
counted per block and "next to" means next to on the page. Blocks that at least two readers
hold form the core; prose blocks next to the core join it; furniture, link lists, 来源 and
责任编辑 lines never do. A reader whose text disagrees with all the others wins only when its
own text is clearly the page's prose (see read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from news.ingest.sources.boilerplate import Block, is_boilerplate, is_end_marker

_SPACES = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u200b\ufeff]+")

# Votes each reader casts for a block it holds. Trafilatura's two modes read the page with the
# same rules, so together they count as one reader: the core needs two independent readers.
WEIGHTS: Mapping[str, float] = {
    "blocks": 1.0,
    "readability": 1.0,
    "trafilatura": 0.5,
    "trafilatura-precision": 0.5,
}
CORE_VOTES = 2.0
# A block this short matches a reader's text only right where that reader's text goes on after
# the previous block it held: short strings ("新华社", "图片") occur anywhere.
_SHORT_KEY = 16
_SHORT_SLACK = 24
# Link-heavy or furniture blocks between two core blocks split the core into separate runs
# (the story, then a related-news box both libraries kept).
_SPLIT_GAP = 3
# A reader alone against all the others: its own blocks must be this much prose, and outweigh
# the agreed core this many times over.
_SOLE_MIN_PROSE = 300
_SOLE_FACTOR = 2.0
_SOLE_SHARE = 0.75
# A core run this few blocks from the story's run joins it when it is prose (a caption printed
# above the story with advertisement links between).
_NEAR = 12
_NEAR_PROSE_SHARE = 0.5
# Comments, reader boxes and a forum's rules start with a heading; nothing after one joins the
# story. Matched with the spaces taken out ("郑 重 声 明").
_STOP_HEADING = re.compile(
    r"^(?:网友评论|读者评论|最新评论|热门评论|评论区|发表评论|我要评论|全部评论|相关评论|留言板"
    r"|评论[(（]?\d*[)）]?|郑重声明|免责声明|特别声明|版权声明|法律声明"
    # A blog's count over its comments: "《播客热潮…》已有1件评论", "共12条评论", "3 Comments".
    r"|(?:《[^》]{1,40}》)?(?:已有|共有?)?\d+(?:件|条|篇|个)(?:网友)?评论|\d+(?:comments?|responses?))[:：]?$",
    re.IGNORECASE,
)
_STOP_MAX = 60
# A post's sign-off, or the head of the next post: a short line giving a time of day and who
# posted ("发布时间 2005/05/17 22:11:42 by 眉间尺", "由海姑娘张贴 @ 2005-06-14 03:25"), or a blog's
# footer ("本文发表于…, 已被阅读178次"). On a thread or a blog's page the article is the first
# post: after its prose, such a line ends it (replies and older posts follow).
_POSTER = re.compile(
    r"由\s*\S{1,20}?\s*张贴|\bby\s+\S|posted\s+(?:by|at|on)\b|发表于|于.{0,30}发表",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?<!\d)\d{1,2}\s*[:：]\s*\d{2}(?!\d)")
_BLOG_FOOTER = re.compile(r"本文发表于.{0,40}(?:阅读|浏览)\s*\d+\s*次|(?:已被|已)阅读\s*\d+\s*次")
_SIGNOFF_MAX = 80
_SIGNOFF_MIN_PROSE = 100
_LINKED_PROSE = 50
_CAPTION_MAX = 60
# 来源/稿源 lines and their kin, alone on a line: fields, never story.
_FIELD_LINE = re.compile(
    r"^[\[【(（]?\s*(?:来源|稿源|文章来源|信息来源|出处|作者|译者?|翻译|摄影|编辑|责任编辑|责编|审核|校对|原标题"
    r"|发布时间|发布日期|点击数?|浏览次?数?)\s*[:：]"
)
_FIELD_LINE_MAX = 60
# Prose with more of its text in links than this is a link list's teaser, not story.
_PROSE_LINK_RATIO = 0.3


@dataclass(frozen=True, slots=True)
class Reading:
    """The agreed body: its paragraphs, the page blocks it came from, and how it was decided."""

    paragraphs: list[str]
    window: tuple[int, int]  # [first, last + 1) of the blocks kept, for the head and tail fields
    how: str  # "agreement", or "alone:<reader>" when one reader's clear prose won


def key(text: str) -> str:
    """Return text without any whitespace: the form blocks and reader outputs are matched in."""
    return _SPACES.sub("", text)


def block_keys(blocks: Sequence[Block]) -> list[str]:
    """Return each block's key (its text without whitespace), for holdings."""
    return [key(block.text) for block in blocks]


def holdings(keys: Sequence[str], text: str) -> list[bool]:
    """Tell, for each block (by its key), whether a reader's text holds it, in document order."""
    whole = key(text)
    held = [False] * len(keys)
    if not whole:
        return held
    cursor = 0
    for index, wanted in enumerate(keys):
        if not wanted:
            continue
        if len(wanted) < _SHORT_KEY:
            found = whole.find(wanted, cursor, cursor + len(wanted) + _SHORT_SLACK)
        else:
            found = whole.find(wanted, cursor)
            if found < 0:
                # The reader moved it (a lead printed above the headline): held, cursor kept.
                held[index] = whole.find(wanted) >= 0
                continue
        if found >= 0:
            held[index] = True
            cursor = found + len(wanted)
    return held


def is_story_line(block: Block, is_prose: Callable[[str], bool]) -> bool:
    """Tell whether a block next to the core may join it: unlinked prose, no field or furniture."""
    text = block.text
    if block.link_heavy or block.link_ratio >= _PROSE_LINK_RATIO:
        return False
    if is_stop(text) or is_boilerplate(text) or is_field(text):
        return False
    return is_prose(text)


def is_field(text: str) -> bool:
    """Tell whether a line is a labelled field (来源：…, 责任编辑：…), however it is bracketed."""
    return len(text) <= _FIELD_LINE_MAX and _FIELD_LINE.match(text) is not None


def is_stop(text: str) -> bool:
    """Tell whether a line ends the story: a comments or rules heading, the trailing list."""
    return is_end_marker(text) or (
        len(text) <= _STOP_MAX and _STOP_HEADING.match(key(text)) is not None
    )


def is_signoff(text: str) -> bool:
    """Tell whether a short line signs a post off or heads the next post (see _POSTER)."""
    if len(text) > _SIGNOFF_MAX or text.rstrip().endswith(("。", "！", "？")):
        return False  # a sentence that says when someone published something is story
    if _BLOG_FOOTER.search(text):
        return True
    return _POSTER.search(text) is not None and _CLOCK.search(text) is not None


def _first_post_end(
    first: int, last: int, blocks: Sequence[Block], is_prose: Callable[[str], bool]
) -> int:
    """Return the last block of [first, last] before a sign-off that follows the story's prose."""
    prose = 0
    for index in range(first, last + 1):
        block = blocks[index]
        if prose >= _SIGNOFF_MIN_PROSE and is_signoff(block.text):
            return index - 1
        if not block.link_heavy and is_prose(block.text):
            prose += len(block.text)
    return last


def _is_filler(block: Block, is_prose: Callable[[str], bool]) -> bool:
    """Tell whether a block inside the story's span is navigation or furniture.

    A paragraph whose references are linked (scripture, laws) is no link list: prose of some
    length stays whatever its links.
    """
    if is_boilerplate(block.text):
        return True
    return block.link_heavy and not (len(block.text) >= _LINKED_PROSE and is_prose(block.text))


def _is_caption(block: Block) -> bool:
    """Tell whether a short unlinked line may sit inside the story: a caption or subheading."""
    text = block.text
    return (
        len(text) <= _CAPTION_MAX
        and not block.link_chars
        and not (is_stop(text) or is_boilerplate(text) or is_field(text))
    )


def _core_runs(
    core: list[int], blocks: Sequence[Block], is_prose: Callable[[str], bool]
) -> list[tuple[int, int]]:
    """Split the core blocks into runs [first, last] wherever navigation or a stop lies between."""
    runs: list[tuple[int, int]] = []
    first = last = core[0]
    for index in core[1:]:
        between = blocks[last + 1 : index]
        fillers = sum(_is_filler(block, is_prose) for block in between)
        if fillers >= _SPLIT_GAP or any(is_stop(block.text) for block in between):
            runs.append((first, last))
            first = index
        last = index
    runs.append((first, last))
    return runs


def _prose_chars(
    blocks: Sequence[Block], indexes: Sequence[int], is_prose: Callable[[str], bool]
) -> int:
    """Return how many characters of the given blocks are unlinked prose."""
    return sum(
        len(blocks[i].text)
        for i in indexes
        if not blocks[i].link_heavy
        and blocks[i].link_ratio < _PROSE_LINK_RATIO
        and is_prose(blocks[i].text)
    )


def read(
    blocks: Sequence[Block],
    held: Mapping[str, list[bool]],
    is_prose: Callable[[str], bool],
) -> Reading | None:
    """Build the body from the readers' holdings; None when no two readers agree on any prose.

    held maps each reader's name to holdings(block_keys(blocks), its text). The core's
    heaviest run is the story, with the prose runs near it; the blocks between its first and
    last core block stay unless they are links or furniture (captions and subheadings inside
    the story); prose blocks next to it join.
    """
    is_prose = cache(is_prose)  # every rule below asks it again of the same lines
    votes = [
        sum(WEIGHTS.get(name, 1.0) for name, marks in held.items() if marks[index])
        for index in range(len(blocks))
    ]
    core = [
        index
        for index, block in enumerate(blocks)
        if votes[index] >= CORE_VOTES and not block.link_heavy
    ]
    story = _story_span(core, blocks, is_prose) if core else None
    core_prose = (
        0 if story is None else _prose_chars(blocks, range(story[0], story[1] + 1), is_prose)
    )
    sole = _sole_reader(blocks, held, votes, core_prose, is_prose)
    if sole is not None:
        name, (first, last) = sole
        last = _first_post_end(first, last, blocks, is_prose)
        kept = [
            i
            for i in range(first, last + 1)
            if held[name][i] and not _is_filler(blocks[i], is_prose)
        ]
        return Reading(_texts(blocks, kept), (first, last + 1), f"alone:{name}")
    if story is None or core_prose == 0:
        return None
    first, last = story
    while first > 0 and is_story_line(blocks[first - 1], is_prose):
        first -= 1
    while last + 1 < len(blocks):
        if is_story_line(blocks[last + 1], is_prose):
            last += 1
        elif (
            last + 2 < len(blocks)
            and _is_caption(blocks[last + 1])
            and is_story_line(blocks[last + 2], is_prose)
        ):
            last += 2  # a caption or subheading between two paragraphs of the story
        else:
            break
    last = _first_post_end(first, last, blocks, is_prose)
    kept = [
        index
        for index in range(first, last + 1)
        if not _is_filler(blocks[index], is_prose) and not is_field(blocks[index].text)
    ]
    return Reading(_texts(blocks, kept), (first, last + 1), "agreement")


def _story_span(
    core: list[int], blocks: Sequence[Block], is_prose: Callable[[str], bool]
) -> tuple[int, int]:
    """Return [first, last] of the heaviest core run, widened to the prose runs near it."""
    runs = _core_runs(core, blocks, is_prose)

    def prose(run: tuple[int, int]) -> int:
        return _prose_chars(blocks, range(run[0], run[1] + 1), is_prose)

    main = max(range(len(runs)), key=lambda index: prose(runs[index]))
    first, last = runs[main]
    for step in (-1, 1):
        index = main + step
        while 0 <= index < len(runs):
            run = runs[index]
            between = range(run[1] + 1, first) if step < 0 else range(last + 1, run[0])
            text = sum(len(blocks[i].text) for i in range(run[0], run[1] + 1))
            if (
                len(between) > _NEAR
                or any(is_stop(blocks[i].text) for i in between)
                or prose(run) < _NEAR_PROSE_SHARE * text
            ):
                break
            first, last = min(first, run[0]), max(last, run[1])
            index += step
    return first, last


def _sole_reader(
    blocks: Sequence[Block],
    held: Mapping[str, list[bool]],
    votes: list[float],
    core_prose: int,
    is_prose: Callable[[str], bool],
) -> tuple[str, tuple[int, int]] | None:
    """Return the reader that alone holds clearly more prose than the core, and its span."""
    best: tuple[int, str, tuple[int, int]] | None = None
    for name, marks in held.items():
        # Trafilatura's two modes are one reader: what both hold, no other reader holds.
        family = [other for other in held if _family(other) == _family(name)]
        own = [
            sum(WEIGHTS.get(other, 1.0) for other in family if held[other][i])
            for i in range(len(marks))
        ]
        alone = [i for i, mark in enumerate(marks) if mark and votes[i] <= own[i]]
        if not alone:
            continue
        prose = _prose_chars(blocks, alone, is_prose)
        mine = [i for i, mark in enumerate(marks) if mark]
        total = sum(len(blocks[i].text) for i in mine if not blocks[i].link_heavy)
        if (
            prose >= _SOLE_MIN_PROSE
            and prose >= _SOLE_FACTOR * core_prose
            and prose >= _SOLE_SHARE * total
            and (best is None or prose > best[0])
        ):
            best = (prose, name, (mine[0], mine[-1]))
    return None if best is None else (best[1], best[2])


def _family(reader: str) -> str:
    """Return the library a reader is a mode of ("trafilatura-precision" -> "trafilatura")."""
    return reader.split("-", 1)[0]


def _texts(blocks: Sequence[Block], indexes: Sequence[int]) -> list[str]:
    """Return the texts of the given blocks, in order."""
    return [blocks[index].text for index in indexes]
