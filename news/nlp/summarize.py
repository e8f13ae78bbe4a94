"""Faithful, deterministic, extractive summaries of Chinese news articles (pure: no I/O)."""

# A summary is made only of sentences of the article body, copied verbatim and kept in article
# order. Two edits are allowed and nothing else:
# - leading/trailing whitespace (U+3000 indents) and stray leading punctuation are trimmed, and
#   the lead sentence may lose a byline/dateline prefix (本报讯 记者X报道, 新华社沈阳3月1日电
#   (记者X), (XX记者X)): what remains is still a verbatim substring of the body;
# - when even the best sentence is longer than ``max_chars``, that one sentence is cut at the
#   last clause boundary (，；：, then 、) that fits and "…" (U+2026) is appended. That "…" is
#   the only character of a summary that is not in the article.
#
# Sentences are scored by position (the lead — first sentence of the first substantive paragraph —
# above all), cue words of the main statements (强调/指出/要求/表示 …) and of who did what
# (召开/主持/出席/调研 …), character-bigram overlap with the title, length and completeness; site
# furniture (bylines, 责任编辑/来源 lines, disclaimers, app/WeChat promotion, photo captions,
# "更多>>" headline lists, headings and very short fragments) is never a candidate.
#
# Keywords come from jieba's TextRank; jieba is imported and its dictionary loaded lazily, once, on
# the first call that asks for keywords (it takes a while), so ``keywords=False`` never touches it.

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ELLIPSIS", "Summary", "split_sentences", "summarize"]

ELLIPSIS = "…"

_CJK = r"\u3400-\u9fff\uf900-\ufaff"

# Sentence stops; the corpus normalised full-width punctuation to ASCII in many texts.
_STOPS = frozenset("。！？!?")
# Closing marks that belong to the sentence they follow: 。” 。」 ！） …
_CLOSERS = frozenset("”」』’）)》】\"'")
_QUOTE_OPEN = frozenset("“「『")
_QUOTE_CLOSE = frozenset("”」』")
_SPACE = " \t\r\n\u00a0\u3000\u2002\u2003\u200b\ufeff"
# A sentence never starts with these: they are the tail of the previous segment or of markup
# ("）江苏省委常委…" after a removed link); trimming them keeps the text a verbatim substring.
_LEADING_JUNK = _SPACE + "）)】」』”’，,、；;：:。.！!？?·•-—|｜*※"

# --- what is never summary text -------------------------------------------------------------

# "更多>>时政要闻" opens the headline list after every 2018 nen.com.cn article.
_END_MARKER = re.compile(r"^更多\s*(?:》|>)|更多\s*(?:>>|»|＞＞)")
_DISCLAIMER = re.compile(
    r"本网站有关内容转载自|如果您认为转载内容侵犯了您的权益|请您来信来电.{0,40}声明"
    r"|收到信息核实后\s*24\s*小时内删除|未经授权.{0,8}(?:转载|复制|使用)|版权所有|凡本网注明"
    r"|互联网新闻信息服务许可证|ICP备\d|网安备\s*\d|本文仅代表作者|不代表本网"
    r"|\$\{"  # an unfilled template placeholder of the nested SSI documents
)
_PROMO = re.compile(
    r"微信订阅号|微信公众号|官方微信|官方微博|法人微博|手机版|新闻客户端|东北新闻网微|北斗融媒"
    r"|下载.{0,8}客户端|客户端下载|(?:扫码|扫一扫|扫描二维码|长按二维码|长按识别).{0,12}"
    r"(?:关注|下载|订阅|阅读|观看)|(?:点击|详情请点击).{0,8}(?:链接|查看|阅读|进入)"
)
_EDITOR_OR_SOURCE = re.compile(
    r"(?:责任编辑|责编|編輯|编辑|来源|來源|作者|通讯员|摄影|校对|审核|监制)\s*[:：]"
)
_EDITOR_OR_SOURCE_MAX = 60  # a real sentence may say "来源:" deep inside; bylines are short
_CAPTION = re.compile(
    r"^(?:图为|上图|下图|左图|右图|图片|资料图|配图|图\s*[:：]|▲|△|■)"
    r"|[(（]\s*(?:[^()（）]{0,20}\s)?(?:摄影?|图|视频)\s*[)）]$"
    r"|[(（]\s*(?:摄影|图片|视频|记者)[^()（）]{0,30}[)）]\s*$"
)
_TITLE_LINE = re.compile(r"^[(（]?\s*原标题")
_LIST_ITEM = re.compile(r"^(?:[-·•●○◆◇■□▪>»]|\d{1,2}[.、)）])\s*")
_HEADING_MAX = 80  # a line with no sentence stop and at most this long is a heading or label

# Byline/dateline prefixes of the lead sentence (stripped from the lead only).
_LEAD_PREFIXES = (
    re.compile(
        r"^(?:本报|本网|本台|本刊|东北新闻网|北国网|新华社|新华网|中新社|中新网|人民网|央视网"
        r"|央广网|光明网|辽宁日报|沈阳日报|大连日报)[^\s,，。:：()（）]{0,16}?[讯电]\s*[:：]?\s*"
    ),
    re.compile(
        r"^[(（【\[][^()（）【】\[\]]{0,40}?(?:记者|通讯员|讯|电)[^()（）【】\[\]]{0,40}[)）】\]]\s*"
    ),
    re.compile(
        r"^(?:本报|本网)?(?:见习)?(?:记者|通讯员)\s*[:：]?\s*[" + _CJK + r"·、,，\s]{2,40}?"
        r"(?:报道|摄影|摄)\s*[:：]?\s*"
    ),
)

# --- what makes a sentence summary-worthy ---------------------------------------------------

# The main statements of a leader article (the brief: 强调/指出/要求/表示), then other speech.
_MAIN_CUES = re.compile(r"强调|強調|指出|要求|表示")
_MINOR_CUES = re.compile(r"提出|认为|認為|讲话|講話|致辞|致辭|部署|通报|通報|希望|说|說|宣布")
_ACTION_CUES = re.compile(
    r"召开|召開|举行|舉行|主持|出席|调研|調研|考察|会见|會見|座谈|座談|开幕|開幕|启动|啟動"
    r"|签约|簽約|揭牌|发布|發布|印发|审议|審議|通过|通過|开工|開工|视察|視察|慰问|慰問"
)
_CUE_FRONT = 24  # "易炼红在讲话中指出," — the speaker sits in front of the cue
_DATE_START = re.compile(r"^(?:\d{4}年)?\s*\d{1,2}\s*月\s*\d{1,2}\s*日|^(?:今天|昨天|近日|日前)")
# "市领导A、B、C参加会议。" names people present; it says nothing about what happened.
_ATTENDANCE = re.compile(r"(?:参加|出席|列席|陪同|参会|參加)[^，,。；;]{0,8}[。！!]?[”」)）]?$")
_CONTEXT_START = re.compile(r"^(?:他|她|他们|她们|这|此|其|该|同时|此外|另外|但|而|因此|所以|对此)")
_INTERVIEW = re.compile(r"^(?:记者|主持人|问|答)\s*[:：]")

_MIN_CHARS = 8  # Chinese characters/digits/letters: fewer is a fragment, not a sentence
_MIN_INCOMPLETE = 20  # an unterminated tail must be substantial to count at all
_LEAD_MIN = 30  # a paragraph shorter than this is not yet the lead ("春潮声声、踔厉奋发。")
_REDUNDANT = 0.5  # bigram Jaccard above which a sentence repeats one already chosen
_CUT_MIN_SHARE = 3  # a clause cut keeps at least max_chars // 3 characters when it can
_FILLER_SHARE = 0.1  # below this share of the best score a sentence is not worth the space
_WORD = re.compile(r"[" + _CJK + r"0-9A-Za-z]")
_CLAUSE = re.compile(r"[，,；;：:]")
_LIST_CLAUSE = re.compile(r"[、]")


@dataclass(frozen=True, slots=True)
class Summary:
    """An extractive summary: its text, the sentences it joins, and the article's keywords."""

    # Every sentence is a verbatim sentence of the body except that the last one may end with
    # ``ELLIPSIS`` when a single over-long sentence had to be cut at a clause boundary.

    text: str
    sentences: tuple[str, ...]
    keywords: tuple[str, ...]


EMPTY = Summary("", (), ())


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A sentence that may go into a summary, with what scoring needs to know of its place."""

    text: str
    index: int  # position among all candidates, in article order
    first_in_paragraph: bool
    complete: bool
    lead: bool


# --- sentences ------------------------------------------------------------------------------


def _ascii_word_end(text: str, i: int) -> bool:
    """Tell whether an ASCII !/? closes a Latin word ("Yahoo!", "${name!"), not a sentence."""
    return text[i] in "!?" and i > 0 and (text[i - 1].isascii() and text[i - 1].isalnum())


def _split(text: str, quote_aware: bool) -> tuple[list[tuple[str, bool]], bool]:
    """Cut text after each stop (with its closing quotes); also report unbalanced quotes."""
    pieces: list[tuple[str, bool]] = []
    start = 0
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in _QUOTE_OPEN:
            depth += 1
        elif char in _QUOTE_CLOSE:
            depth = max(0, depth - 1)
        elif char in _STOPS and not _ascii_word_end(text, i):
            end = i + 1
            while end < n and text[end] in _STOPS:
                end += 1
            after = depth
            while end < n and text[end] in _CLOSERS:
                if text[end] in _QUOTE_CLOSE:
                    after = max(0, after - 1)
                end += 1
            depth = after
            # Inside a quotation a stop ends a sentence of the quote, not of the article:
            # “A。B。”韩立明说 stays together up to the closing mark.
            if not quote_aware or depth == 0:
                pieces.append((text[start:end], True))
                start = end
                depth = 0
            i = end
            continue
        i += 1
    if start < n:
        pieces.append((text[start:], False))
    return pieces, depth > 0


def split_sentences(text: str) -> list[tuple[str, bool]]:
    """Split one paragraph into (sentence, ends-with-a-stop) pairs, keeping every character."""
    pieces, unbalanced = _split(text, quote_aware=True)
    if unbalanced:
        # A quote that never closes (a truncated text, a typo) would swallow the paragraph.
        pieces, _ = _split(text, quote_aware=False)
    return pieces


def _word_chars(text: str) -> int:
    return len(_WORD.findall(text))


def _is_furniture(text: str) -> bool:
    """Tell whether a line or sentence is site furniture rather than article text."""
    if _DISCLAIMER.search(text) or _PROMO.search(text) or _TITLE_LINE.match(text):
        return True
    if len(text) <= _EDITOR_OR_SOURCE_MAX and _EDITOR_OR_SOURCE.search(text):
        return True
    return _CAPTION.search(text) is not None


def _has_stop(text: str) -> bool:
    return any(char in _STOPS for char in text)


def _body_lines(paragraphs: Sequence[str]) -> list[str]:
    """Return the lines of the body that can hold article text, stopping at "更多>>"."""
    lines: list[str] = []
    for paragraph in paragraphs:
        for raw in paragraph.splitlines():
            line = raw.strip(_SPACE)
            marker = _END_MARKER.search(line)
            if marker is not None:
                line = line[: marker.start()].strip(_SPACE)
                if line and not _is_furniture(line):
                    lines.append(line)
                return lines
            if not line or _is_furniture(line):
                continue
            # Headlines, subtitles, datelines, bylines and related-link lists carry no stop.
            if not _has_stop(line) and len(line) <= _HEADING_MAX:
                continue
            if _LIST_ITEM.match(line) and len(line) <= _HEADING_MAX + 20:
                continue
            lines.append(line)
    return lines


def _strip_lead_prefix(text: str) -> str:
    """Drop a byline/dateline prefix (本报讯 记者X报道, 新华社…电) from the lead sentence."""
    for _ in range(3):
        before = text
        for pattern in _LEAD_PREFIXES:
            match = pattern.match(text)
            if match is not None and _word_chars(text[match.end() :]) >= _MIN_CHARS:
                text = text[match.end() :].lstrip(_LEADING_JUNK)
        if text == before:
            break
    return text


def _candidates(lines: list[str]) -> list[_Candidate]:
    """Return the sentences of the body that may go into a summary, in article order."""
    result: list[_Candidate] = []
    lead_seen = False
    for line in lines:
        is_lead_paragraph = not lead_seen and _word_chars(line) >= _LEAD_MIN
        first = True
        for raw, complete in split_sentences(line):
            text = raw.strip(_SPACE).lstrip(_LEADING_JUNK).rstrip(_SPACE)
            lead = is_lead_paragraph and first
            if lead:
                text = _strip_lead_prefix(text)
            if _word_chars(text) < _MIN_CHARS or _is_furniture(text):
                continue
            if not complete and _word_chars(text) < _MIN_INCOMPLETE:
                continue
            result.append(_Candidate(text, len(result), first, complete, lead))
            lead_seen = lead_seen or lead
            first = False
    return result


# --- scoring and selection ------------------------------------------------------------------


def _bigrams(text: str) -> set[str]:
    chars = _WORD.findall(text)
    return {chars[i] + chars[i + 1] for i in range(len(chars) - 1)}


def _length_factor(length: int, max_chars: int) -> float:
    if length < 20:
        return 0.4
    if length < 30:
        return 0.8
    if length <= min(120, max_chars):
        return 1.0
    if length <= max_chars:
        return 0.85
    return 0.6  # usable only cut at a clause boundary


def _score(candidate: _Candidate, title_bigrams: set[str], max_chars: int) -> float:
    """Rate how much a sentence says about the article; higher is better."""
    text = candidate.text
    score = 1.0 / (1.0 + 0.12 * candidate.index)
    if candidate.lead:
        score += 3.0
    elif candidate.first_in_paragraph:
        score += 0.3
    main = _MAIN_CUES.search(text)
    if main is not None:
        score += 1.2 + (0.5 if main.start() <= _CUE_FRONT else 0.0)
    elif _MINOR_CUES.search(text[:_CUE_FRONT]):
        score += 0.5
    if _ACTION_CUES.search(text) and _DATE_START.match(text):
        score += 0.6  # "7月2日,…曾维到浑南区调研": who did what, when
    if title_bigrams:
        score += 2.0 * len(_bigrams(text) & title_bigrams) / len(title_bigrams)
    score *= _length_factor(len(text), max_chars)
    if not candidate.complete:
        score *= 0.3
    if text[-1:] in "？?" or _INTERVIEW.match(text):
        score *= 0.5
    if text.count("、") >= 2 and _ATTENDANCE.search(text):
        score *= 0.3
    if _CONTEXT_START.match(text):
        score *= 0.85  # leans on the sentence before it
    return score


def _cut(text: str, max_chars: int) -> str:
    """Cut a sentence at the last clause boundary that fits max_chars with "…" appended."""
    limit = max_chars - len(ELLIPSIS)
    if limit <= 0:
        return ""
    floor = max(1, max_chars // _CUT_MIN_SHARE)
    for boundary in (_CLAUSE, _LIST_CLAUSE):
        best = -1
        depth = 0
        for position, char in enumerate(text[: limit + 1]):
            if char in _QUOTE_OPEN:
                depth += 1
            elif char in _QUOTE_CLOSE:
                depth = max(0, depth - 1)
            # Cutting inside “…” would leave an open quote; the mark itself is dropped.
            elif depth == 0 and boundary.match(char) and floor <= position <= limit:
                best = position
        if best > 0:
            return text[:best].rstrip(_SPACE) + ELLIPSIS
    return text[:limit].rstrip(_SPACE) + ELLIPSIS  # one endless clause: a hard cut


def _select(candidates: list[_Candidate], title: str, max_chars: int) -> tuple[str, ...]:
    """Pick the best sentences that fit max_chars and return them in article order."""
    title_bigrams = _bigrams(title)
    scores = [_score(c, title_bigrams, max_chars) for c in candidates]  # indexed by c.index
    ranked = sorted(candidates, key=lambda c: (-scores[c.index], c.index))
    # Unterminated tails (a text cut mid-sentence) are used only when nothing else exists.
    complete = [c for c in ranked if c.complete]
    ranked = complete or ranked
    best = ranked[0]
    if len(best.text) > max_chars:
        cut = _cut(best.text, max_chars)
        return (cut,) if cut else ()
    chosen: list[_Candidate] = [best]
    chosen_bigrams = [_bigrams(best.text)]
    used = len(best.text)
    floor = _FILLER_SHARE * scores[best.index]
    for candidate in ranked[1:]:
        if used + len(candidate.text) > max_chars:
            continue
        if _CONTEXT_START.match(candidate.text) and not any(
            c.index == candidate.index - 1 for c in chosen
        ):
            continue  # "这是他想…" means nothing without the sentence before it
        if scores[candidate.index] < floor:
            break  # ranked by score: nothing after this one is worth more
        grams = _bigrams(candidate.text)
        if any(len(grams & g) > _REDUNDANT * len(grams | g) for g in chosen_bigrams):
            continue
        chosen.append(candidate)
        chosen_bigrams.append(grams)
        used += len(candidate.text)
    chosen.sort(key=lambda c: c.index)
    return tuple(c.text for c in chosen)


# --- keywords -------------------------------------------------------------------------------

# TextRank over the nouns, verbs and proper names; reporting verbs and meeting words rank high
# in every leader article and say nothing about this one.
_KEYWORD_POS = ("n", "nr", "ns", "nt", "nz", "vn", "v")
_KEYWORD_STOP_WORDS = (
    "强调 指出 要求 表示 讲话 会议 召开 举行 出席 主持 参加 进行 工作 记者 报道 同志 有关 实现"
    " 推进 推动 加强 坚持 做好 开展 发展 全面 落实 贯彻 学习"
    # the same in traditional characters (big5 pages are left as they are)
    " 強調 講話 會議 召開 舉行 參加 進行 記者 報道 實現 推進 推動 加強 堅持 開展 發展 落實"
    " 貫徹 學習"
)
_KEYWORD_STOP = frozenset(_KEYWORD_STOP_WORDS.split())
_KEYWORD_COUNT = 5
# TextRank's time grows with the text, nearly all of it in jieba's HMM POS tagger (which is
# what finds names outside its dictionary: 易炼红, 霍步刚). An article states its topic early,
# so the keywords read the title and the body up to this length.
_KEYWORD_TEXT_MAX = 1000
_jieba_lock = threading.Lock()
_extractor: Callable[[str], list[str]] | None = None


def _keyword_extractor() -> Callable[[str], list[str]]:
    """Load jieba once, quietly, and return a TextRank keyword function."""
    global _extractor
    with _jieba_lock:
        if _extractor is None:
            with warnings.catch_warnings():
                # jieba 0.42 leaves idf.txt open (ResourceWarning) and may import
                # pkg_resources (DeprecationWarning): neither is ours to fix.
                warnings.simplefilter("ignore")
                import jieba
                import jieba.analyse

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
            ranker = jieba.analyse.TextRank()
            ranker.stop_words = frozenset(ranker.stop_words) | _KEYWORD_STOP

            def extract(text: str) -> list[str]:
                words = ranker.textrank(text, topK=_KEYWORD_COUNT, allowPOS=_KEYWORD_POS)
                return [str(word) for word in words]

            _extractor = extract
        return _extractor


def keywords_of(text: str) -> tuple[str, ...]:
    """Return the top TextRank keywords (nouns, verbs, names) of a text, best first."""
    if not text.strip():
        return ()
    return tuple(_keyword_extractor()(text[:_KEYWORD_TEXT_MAX]))


# --- entry point ----------------------------------------------------------------------------


def summarize(
    title: str, paragraphs: Sequence[str], *, max_chars: int = 150, keywords: bool = True
) -> Summary:
    """Summarise an article in at most max_chars characters of its own sentences."""
    lines = _body_lines(paragraphs)
    candidates = _candidates(lines)
    if not candidates or max_chars <= 0:
        return EMPTY
    sentences = _select(candidates, title.strip(_SPACE), max_chars)
    found: tuple[str, ...] = ()
    if keywords:
        found = keywords_of("\n".join([title, *lines]))
    return Summary("".join(sentences), sentences, found)
