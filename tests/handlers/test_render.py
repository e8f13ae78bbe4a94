"""HTML escaping and splitting: every message is valid and at most 4096 visible characters."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from handlers.render import (
    check_callback_data,
    esc,
    highlight,
    link,
    split_html,
    utf16_len,
    visible_length,
)


class TagBalance(HTMLParser):
    """Check that every tag opened in a fragment is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def balanced(fragment: str) -> bool:
    checker = TagBalance()
    checker.feed(fragment)
    checker.close()
    return checker.ok and not checker.stack


def test_escape_and_link() -> None:
    assert esc('<b>&"') == "&lt;b&gt;&amp;&quot;"
    assert link("https://x.cn/?a=1&b=2", "A<B") == '<a href="https://x.cn/?a=1&amp;b=2">A&lt;B</a>'


def test_visible_length_counts_utf16_after_entities() -> None:
    assert visible_length("<b>&lt;a&gt;</b>") == 3
    assert visible_length("😀") == 2
    assert utf16_len("振兴") == 2


def test_blocks_pack_without_splitting_a_block() -> None:
    blocks = [f"<b>{i}.</b> " + esc("新闻" * 100) for i in range(100)]
    messages = split_html(blocks)
    assert len(messages) > 1
    for message in messages:
        assert visible_length(message) <= 4096
        assert balanced(message)
    assert "\n".join(messages) == "\n".join(blocks)


@pytest.mark.parametrize("unit", ["字", "a", "😀", "&amp;", "<"])
def test_one_huge_block_is_cut_and_tags_reopened(unit: str) -> None:
    inner = esc(unit) if unit == "<" else unit
    block = "<b>" + "<i>" + inner * 9000 + "</i></b>"
    messages = split_html([block])
    assert len(messages) >= 2
    for message in messages:
        assert 0 < visible_length(message) <= 4096
        assert balanced(message)
        assert not re.search(r"&[a-z]*$", message)  # never cut inside an entity


def test_cut_prefers_sentence_end() -> None:
    sentence = "辽宁振兴发展取得新成效。"
    messages = split_html([esc(sentence * 800)])
    assert all(m.endswith("。") for m in messages)


def test_callback_data_limit() -> None:
    assert check_callback_data("sum:123") == "sum:123"
    with pytest.raises(ValueError):
        check_callback_data("x" * 65)
    with pytest.raises(ValueError):
        check_callback_data("摘" * 22)  # 66 bytes in UTF-8


def test_highlight_matches_across_scripts_and_keeps_the_texts_characters() -> None:
    assert "<b>全面振興</b>" in highlight("推動東北全面振興取得新突破。", ["全面振兴"])
    assert "<b>全面振兴</b>" in highlight("推动东北全面振兴取得新突破。", ["全面振興"])
    assert "<b>Ｂ５</b>" in highlight("版本 Ｂ５ 发布。", ["b5"])  # full width folds too
