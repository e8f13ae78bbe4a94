"""Extractive summaries on real texts: verbatim, in order, short, free of site furniture."""

# Fixtures (bytes as in /work/shared/corpus):
# - fakes/data/seed_2018-03-01_yilianhong_chengshipinzhi.txt: the 2018 nen.com.cn article the
#   project started from, with the site's boilerplate and the "更多>>时政要闻" headline list;
# - texts/*.txt: "leader spoke" texts from /work/shared/corpus/leaders/ (shenyang.gov.cn,
#   big5.cri.cn in traditional characters, news.lnd.com.cn, liaoning.nen.com.cn, …), cut at about
#   700 characters, many with ASCII `,` `:` for `，` `：`;
# - pages/cwce_*.truth.json: hand-labelled bodies of the Chinese-Web-Content-Extraction-Dataset
#   (MIT).

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot.summarize_cli import run
from fakes import SEED_ARTICLE as SEED
from fakes import TEXTS
from news.nlp.summarize import ELLIPSIS, Summary, split_sentences, summarize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LEADER_TEXTS = sorted(TEXTS.glob("*.txt"))
TRUTHS = sorted((FIXTURES / "pages").glob("cwce_*.truth.json"))

# Never in a summary: bylines, editor/source lines, disclaimers, promotion, captions, lists.
BOILERPLATE = (
    "责任编辑",
    "责编",
    "来源:",
    "来源：",
    "本报讯",
    "本网讯",
    "本网站有关内容转载自",
    "请您来信来电",
    "声明",
    "微信订阅号",
    "手机版",
    "法人微博",
    "客户端",
    "扫码",
    "更多>>",
    "图为",
    # A photo credit (摄影：…), not the word: a 摄影机 (camera) is news text (cwce_6dc2d508).
    "摄影：",
    "摄影:",
    "原标题",
    "详情请点击",
    "版权所",
    "订票热线",
)
_SPACE = re.compile(r"[\s\u3000\u00a0]+")


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _title_and_body(path: Path) -> tuple[str, list[str]]:
    """Read a corpus text: its first line is the title when it reads like one (no stop)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[0].strip()
    if first and len(first) <= 60 and not re.search(r"[。！？!?]", first):
        return first, lines[1:]
    return "", lines


def _truth_body(path: Path) -> list[str]:
    content: str = json.loads(path.read_text(encoding="utf-8"))["content"]
    return content.splitlines()


def _cases() -> list[tuple[str, str, list[str]]]:
    cases = [("seed", *_title_and_body(SEED))]
    cases += [(path.name, *_title_and_body(path)) for path in LEADER_TEXTS]
    cases += [(path.name, "", _truth_body(path)) for path in TRUTHS]
    return cases


CASES = _cases()


def _check_faithful(summary: Summary, paragraphs: list[str], max_chars: int) -> None:
    """Assert the invariants of every summary against the body it was made from."""
    body = _squash("\n".join(paragraphs))
    assert summary.text == "".join(summary.sentences)
    assert 0 < len(summary.text) <= max_chars
    positions: list[int] = []
    for number, sentence in enumerate(summary.sentences):
        verbatim = sentence
        if sentence.endswith(ELLIPSIS):
            # A cut sentence is the only kind that may end in "…", and it stands alone.
            assert number == 0 and len(summary.sentences) == 1
            verbatim = sentence[: -len(ELLIPSIS)]
        assert sentence == sentence.strip(), sentence
        squashed = _squash(verbatim)
        assert squashed in body, sentence
        positions.append(body.index(squashed))
    assert positions == sorted(positions), "sentences out of article order"
    for marker in BOILERPLATE:
        assert marker not in summary.text, marker


def test_fixtures_are_present() -> None:
    assert SEED.is_file()
    assert len(LEADER_TEXTS) >= 5
    assert len(TRUTHS) >= 5


@pytest.mark.parametrize("max_chars", [60, 150, 300])
@pytest.mark.parametrize(("name", "title", "paragraphs"), CASES, ids=[c[0] for c in CASES])
def test_summary_is_verbatim_ordered_and_short(
    name: str, title: str, paragraphs: list[str], max_chars: int
) -> None:
    summary = summarize(title, paragraphs, max_chars=max_chars, keywords=False)
    _check_faithful(summary, paragraphs, max_chars)
    assert summary.keywords == ()


@pytest.mark.parametrize(("name", "title", "paragraphs"), CASES, ids=[c[0] for c in CASES])
def test_summary_is_deterministic(name: str, title: str, paragraphs: list[str]) -> None:
    first = summarize(title, paragraphs)
    again = summarize(title, list(paragraphs))
    assert first == again
    assert 0 < len(first.keywords) <= 5
    assert len(set(first.keywords)) == len(first.keywords)


def test_seed_summary_names_the_speaker_and_the_topic() -> None:
    title, paragraphs = _title_and_body(SEED)
    summary = summarize(title, paragraphs)
    assert "易炼红" in summary.text
    assert "城市品质" in summary.text
    # The lead comes first: the meeting, who spoke, what he stressed.
    assert summary.sentences[0].startswith("3月1日,沈阳市召开城市品质提升工作部署会议")
    assert {"城市", "品质"} <= set(summary.keywords)


def test_seed_headline_list_and_footer_never_count() -> None:
    title, paragraphs = _title_and_body(SEED)
    summary = summarize(title, paragraphs, max_chars=2000, keywords=False)
    assert "沈阳人才新政" not in summary.text  # a headline of the "更多>>时政要闻" list
    assert "易炼红:以大干实干" not in summary.text  # a related link
    assert "24小时内删除" not in summary.text


def test_too_long_best_sentence_is_cut_at_a_clause_boundary() -> None:
    title, paragraphs = _title_and_body(SEED)
    summary = summarize(title, paragraphs, max_chars=60, keywords=False)
    (sentence,) = summary.sentences
    assert sentence.endswith(ELLIPSIS) and len(sentence) <= 60
    prefix = sentence[: -len(ELLIPSIS)]
    body = "\n".join(paragraphs)
    assert prefix in body
    assert body[body.index(prefix) + len(prefix)] in "，,；;：:、"
    assert "易炼红" in prefix


def test_lead_loses_its_byline_prefix_only() -> None:
    lnd = summarize(*_title_and_body(TEXTS / "lnd_news_2026-01-27_030544224.txt"))
    assert lnd.sentences[0].startswith("1月26日,省委书记许昆林")
    dalian_news = TEXTS / "lnchinanews_2024-03-22_xiongmaoping.txt"
    lnc = summarize(*_title_and_body(dalian_news))
    assert lnc.sentences[0].startswith("3月21日,市委常委会召开会议")
    made_up = summarize(
        "",
        ["新华社沈阳3月1日电(记者 张三)沈阳市今天召开城市品质提升工作部署会议,部署全年工作。"],
    )
    assert made_up.text == "沈阳市今天召开城市品质提升工作部署会议,部署全年工作。"


def test_main_statements_are_preferred() -> None:
    path = TEXTS / "syd-gov_gzdt_2025-06-26_huobugang.txt"
    summary = summarize(*_title_and_body(path), keywords=False)
    assert summary.sentences[0].startswith("6月25日,省委常委、市委书记霍步刚到新民市、辽中区调研")
    assert any("强调" in sentence for sentence in summary.sentences)


def test_traditional_characters_are_left_as_they_are() -> None:
    path = TEXTS / "big5cri_2018-07-27_jiangyouwei.txt"
    summary = summarize(*_title_and_body(path))
    assert "瀋陽市政協" in summary.text
    assert "沈阳" not in summary.text


def test_one_giant_paragraph_and_fullwidth_punctuation() -> None:
    title, paragraphs = _title_and_body(SEED)
    article = [p.strip() for p in paragraphs[4:10]]  # lead … 姜有为's paragraph
    giant = "".join(article).replace(",", "，").replace(":", "：")
    split = summarize(title, [p.replace(",", "，") for p in article], keywords=False)
    whole = summarize(title, [giant], keywords=False)
    _check_faithful(whole, [giant], 150)
    assert whole.sentences[0].startswith("3月1日，沈阳市召开城市品质提升工作部署会议")
    assert whole.text == split.text


def test_furniture_never_wins_even_when_it_matches_the_title() -> None:
    paragraphs = [
        "本报讯 记者王五报道",
        "图为易炼红在城市品质提升工作部署会议上讲话。(摄影 赵六)",
        "3月1日,沈阳市召开城市品质提升工作部署会议,易炼红出席会议并讲话。",
        "易炼红强调,提升城市品质,工作必须再聚焦。",
        "扫码下载东北新闻网客户端,第一时间了解城市品质提升工作部署会议。",
        "东北新闻网 微信订阅号",
        "来源:沈阳日报",
        "责任编辑:李四",
        "*本网站有关内容转载自合法授权网站,如果您认为转载内容侵犯了您的权益,",
        "请您来信来电(024-31885629)声明,本网站将在收到信息核实后24小时内删除相关内容。",
        "更多>>时政要闻",
        "- 易炼红强调:城市品质提升工作部署会议必须再聚焦城市品质。",
    ]
    summary = summarize("易炼红:城市品质提升工作部署会议", paragraphs, max_chars=500)
    assert summary.sentences == (
        "3月1日,沈阳市召开城市品质提升工作部署会议,易炼红出席会议并讲话。",
        "易炼红强调,提升城市品质,工作必须再聚焦。",
    )


@pytest.mark.parametrize(
    "paragraphs",
    [[], [""], ["   ", "\u3000\u3000"], ["责任编辑:李四", "来源:沈阳日报"], ["好。", "是的!"]],
)
def test_empty_or_furniture_only_body_gives_an_empty_summary(paragraphs: list[str]) -> None:
    assert summarize("标题", paragraphs) == Summary("", (), ())
    assert summarize("", paragraphs, max_chars=0) == Summary("", (), ())


def test_sentences_end_at_stops_and_closing_quotes() -> None:
    text = "他说:“要干。”随后离开!他问:“行吗?”“行。”他又说,“先干。再说。”最后没有句号"
    assert split_sentences(text) == [
        ("他说:“要干。”", True),
        ("随后离开!", True),
        ("他问:“行吗?”", True),
        ("“行。”", True),
        ("他又说,“先干。再说。”", True),
        ("最后没有句号", False),
    ]
    # A quote that never closes does not swallow the rest of the paragraph.
    assert [s for s, _ in split_sentences("他说:“要干。随后离开。")] == [
        "他说:“要干。",
        "随后离开。",
    ]
    assert split_sentences('东北新闻网${channel_name!""}') == [
        ('东北新闻网${channel_name!""}', False)
    ]


def test_cli_prints_summary_blank_line_and_keywords() -> None:
    out = io.StringIO()
    assert run(SEED, out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "易炼红" in lines[0] and len(lines[0]) <= 150
    assert lines[1] == ""
    assert lines[2].startswith("关键词: ") and "城市" in lines[2]


def test_cli_reads_nen_and_gb2312_pages(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run(FIXTURES / "nen" / "nen_nongye_2024-10-28_gaosuzhinongmin.excerpt.html", out) == 0
    assert "高素质农民" in out.getvalue()
    assert "责任编辑" not in out.getvalue()
    out = io.StringIO()
    # GB2312 bytes: UTF-8 fails, GB18030 reads them.
    assert run(FIXTURES / "pages" / "cwce_people-js_b26fbb82.html", out, max_chars=80) == 0
    first = out.getvalue().splitlines()[0]
    assert "返校" in first and len(first) <= 80


def test_cli_reports_missing_and_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert run(empty, io.StringIO()) == 1
    assert run(tmp_path / "missing.txt", io.StringIO()) == 2
