"""The agreement reader of the generic profile: core, neighbours, lone readers (issue 28).

The rules are tested twice: on block lists with made-up holdings (one rule each), and on saved
pages of the Chinese-Web-Content-Extraction-Dataset (MIT, commit 99d0ef08, shared/corpus/pages,
copied byte for byte to tests/fixtures/pages with their truth files), all from the half the
rules were written on ("tuned" in `newsbot bench parse`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from news.ingest.decode import decode_html
from news.ingest.sources import agreement, generic
from news.ingest.sources.boilerplate import Block

PROSE = [
    "沈阳市今年持续推进老旧小区改造工程，计划完成改造小区二百余个，惠及居民八万余户，居民普遍欢迎。",
    "市住房和城乡建设局有关负责人介绍，改造坚持先民生后提升的原则，优先解决群众反映强烈的问题。",
    "据了解，全部工程预计在十月底前完工，届时将组织第三方机构开展质量评估，评估结果向社会公开。",
    "施工期间设置临时通道，尽量减少对居民出行的影响，同时安排专人负责现场安全和文明施工工作。",
]


def is_prose(text: str) -> bool:
    """The generic profile's own test of running text."""
    return generic._is_prose(text)


def held(page: list[Block], **readers: set[int]) -> dict[str, list[bool]]:
    """Build holdings from the block indexes each reader holds."""
    return {
        name.replace("_", "-"): [index in indexes for index in range(len(page))]
        for name, indexes in readers.items()
    }


def link(text: str) -> Block:
    """Return a block that is all link text."""
    return Block(text, len(text))


def test_blocks_two_readers_hold_form_the_core_and_prose_neighbours_join() -> None:
    blocks = [link("首页"), Block(PROSE[0]), Block(PROSE[1]), Block(PROSE[2]), link("下一篇新闻")]
    # Only our run holds the lead; readability and trafilatura hold the rest.
    reading = agreement.read(
        blocks,
        held(blocks, blocks={1, 2, 3}, readability={2, 3}, trafilatura={2, 3}),
        is_prose,
    )
    assert reading is not None and reading.how == "agreement"
    assert reading.paragraphs == PROSE[:3]
    assert reading.window == (1, 4)


def test_trafilatura_in_both_modes_is_one_reader() -> None:
    blocks = [Block(PROSE[0]), Block(PROSE[1])]
    holdings = held(blocks, blocks=set(), trafilatura={0, 1}, trafilatura_precision={0, 1})
    assert agreement.read(blocks, holdings, is_prose) is None  # no two readers agree


@pytest.mark.parametrize(
    "line",
    [
        "责任编辑：王晓",
        "来源：辽宁日报",
        "【来源：新华社】",
        "版权所有 © 2019 东北新闻网",
        "上一篇：沈阳地铁六号线开通",
    ],
)
def test_furniture_and_field_lines_next_to_the_core_never_join(line: str) -> None:
    blocks = [Block(PROSE[0]), Block(PROSE[1]), Block(line), Block(PROSE[2])]
    reading = agreement.read(
        blocks, held(blocks, blocks={0, 1, 2, 3}, readability={0, 1}), is_prose
    )
    assert reading is not None
    assert line not in reading.paragraphs
    assert PROSE[2] not in reading.paragraphs  # the story ended at the field line


def test_links_and_short_labels_next_to_the_core_never_join() -> None:
    blocks = [Block("图片新闻"), Block(PROSE[0]), Block(PROSE[1]), link(PROSE[2])]
    reading = agreement.read(
        blocks, held(blocks, blocks={0, 1, 2, 3}, readability={1, 2}), is_prose
    )
    assert reading is not None and reading.paragraphs == PROSE[:2]


def test_a_comments_heading_ends_the_story() -> None:
    comment = "这个改造工程真是好事，希望我们小区也能早日列入改造名单，楼里的老人上下楼太难了。"
    blocks = [Block(PROSE[0]), Block(PROSE[1]), Block("网友评论"), Block(comment)]
    reading = agreement.read(
        blocks, held(blocks, blocks={0, 1, 3}, readability={0, 1, 3}), is_prose
    )
    assert reading is not None and reading.paragraphs == PROSE[:2]


def test_captions_and_subheadings_inside_the_story_are_kept() -> None:
    blocks = [
        Block(PROSE[0]),
        Block("图为改造后的皇姑区某小区"),
        Block(PROSE[1]),
        Block("小标题"),
        Block(PROSE[2]),
    ]
    reading = agreement.read(
        blocks, held(blocks, blocks={0, 1, 2, 3, 4}, readability={0, 2, 4}), is_prose
    )
    assert reading is not None and reading.paragraphs == [block.text for block in blocks]


def test_a_reader_alone_wins_only_on_clear_prose() -> None:
    story = [Block(text) for text in PROSE] * 2
    menu = [Block("新闻中心"), Block("关于我们"), Block("联系我们")]
    blocks = [*menu, *story]
    mine = set(range(3, len(blocks)))
    # The libraries agree on the menu (no prose): our run of eight paragraphs wins alone.
    reading = agreement.read(
        blocks, held(blocks, blocks=mine, readability={0, 1, 2}, trafilatura={0, 1, 2}), is_prose
    )
    assert reading is not None and reading.how == "alone:blocks"
    assert reading.paragraphs == [block.text for block in story]
    # Against an agreed core of real prose, one reader's extra block is no win.
    reading = agreement.read(
        blocks,
        held(blocks, blocks=mine, readability={3, 4, 5, 6}, trafilatura={3, 4, 5, 6}),
        is_prose,
    )
    assert reading is not None and reading.how == "agreement"


def test_holdings_match_in_page_order_and_short_lines_only_in_place() -> None:
    blocks = [Block("新华社"), Block(PROSE[0]), Block("新华社"), Block(PROSE[1])]
    # A reader whose text names 新华社 only inside a sentence holds neither short line.
    text = PROSE[0] + "\n" + PROSE[1].replace("优先解决", "新华社优先解决")
    assert agreement.holdings(agreement.block_keys(blocks), text) == [False, True, False, False]
    # Whitespace does not count: a reader that joins or splits lines differently still holds.
    split = PROSE[0][:20] + "\n\n" + PROSE[0][20:] + " " + PROSE[1]
    assert agreement.holdings(agreement.block_keys(blocks), split) == [False, True, False, True]


# --- saved pages ---------------------------------------------------------------------------


def bigram_f1(predicted: str, truth: str) -> float:
    """Character-bigram F1, whitespace ignored (the benchmark's measure)."""

    def grams(text: str) -> Counter[str]:
        text = re.sub(r"\s+", "", text)
        return Counter(text[i : i + 2] for i in range(len(text) - 1))

    left, right = grams(predicted), grams(truth)
    overlap = sum((left & right).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(left.values()), overlap / sum(right.values())
    return 2 * precision * recall / (precision + recall)


def read(fixtures: Path, stem: str) -> tuple[list[str], str, float]:
    """Read a saved page: its body, how it was decided, its F1 against the truth file."""
    html = decode_html((fixtures / "pages" / f"{stem}.html").read_bytes())
    body = generic.read_body(html, f"http://127.0.0.1/{stem}.html")
    how, _ = generic.body_candidates(html, f"http://127.0.0.1/{stem}.html")
    truth = json.loads((fixtures / "pages" / f"{stem}.truth.json").read_text(encoding="utf-8"))
    return body, how, bigram_f1("\n".join(body), truth["content"])


def test_a_caption_above_advertisement_links_joins_the_story(fixtures: Path) -> None:
    # ent.southcn.com 2007: the cover photo's caption, four advertisement links, then the story.
    body, how, f1 = read(fixtures, "cwce_c25d25c2")
    assert how == "agreement"
    assert body[0].startswith("新专辑《FunnyGirl》封面上有薛凯琪")
    assert not any("前列腺" in text or "补肾" in text for text in body)
    assert body[-1].startswith("在华语音乐传媒大奖的提名名单中")  # 来源 and 发表评论 stay out
    assert f1 > 0.97


def test_a_paragraph_with_linked_references_stays_in_the_story(fixtures: Path) -> None:
    # cclw.net lesson: a scripture-reference paragraph is mostly link text.
    body, _, f1 = read(fixtures, "cwce_d7605742")
    assert any(text.startswith("3.花时间背诵经文") for text in body)
    assert f1 > 0.95


def test_a_forum_post_ends_at_the_forum_rules(fixtures: Path) -> None:
    body, _, f1 = read(fixtures, "cwce_9b1e5dcb")
    assert not any("郑" in text and "声" in text for text in body)
    assert not any("禁止" in text for text in body)
    assert f1 > 0.99


def test_our_run_alone_wins_where_the_libraries_find_no_prose(fixtures: Path) -> None:
    # Every library scores 0 on this page; our own block run holds the whole story.
    _, how, f1 = read(fixtures, "cwce_6dc2d508")
    assert how == "alone:blocks"
    assert f1 > 0.99


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><ul><li><a href='/a'>首页</a></li><li><a href='/b'>新闻</a></li></ul>"
        "</body></html>",
    ],
)
def test_read_body_of_a_page_without_article_text_is_empty(html: str) -> None:
    assert generic.read_body(html, "http://127.0.0.1/empty.html") == []


def test_trafilatura_alone_in_both_modes_may_win_on_clear_prose() -> None:
    story = [Block(text) for text in PROSE] * 2
    blocks = [Block("新闻中心"), Block("关于我们"), *story]
    both = set(range(2, len(blocks)))
    reading = agreement.read(
        blocks,
        held(
            blocks, blocks={0, 1}, readability={0, 1}, trafilatura=both, trafilatura_precision=both
        ),
        is_prose,
    )
    assert reading is not None and reading.how == "alone:trafilatura"
    assert reading.paragraphs == [block.text for block in story]
