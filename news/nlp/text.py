"""Split Chinese text into sentences: their spans, and the sentences themselves."""

from __future__ import annotations

import re

# Closing quotes and brackets that belong to the sentence their end mark closes: 他说:“好。”
_CLOSERS = "”’」』）)》】\"'"
_SENTENCE_END = re.compile(r"[。！？!?]+|[；;]|\n")
_SENTENCE_END_NO_SEMICOLON = re.compile(r"[。！？!?]+|\n")


def sentence_spans(text: str, *, semicolons: bool = True) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of text, ending at 。！？；!?; or a newline."""
    # A closing quote or bracket right after the end mark stays with its sentence. Spans keep their
    # end mark, never the newline, and blank stretches yield no span.
    pattern = _SENTENCE_END if semicolons else _SENTENCE_END_NO_SEMICOLON
    spans: list[tuple[int, int]] = []
    start = 0
    for match in pattern.finditer(text):
        end = match.end()
        if match.group() == "\n":
            end = match.start()
        else:
            while end < len(text) and text[end] in _CLOSERS:
                end += 1
        _append_span(text, start, end, spans)
        start = max(end, match.end())
    _append_span(text, start, len(text), spans)
    return spans


def split_sentences(text: str, *, semicolons: bool = True) -> list[str]:
    """Split text into stripped sentences at 。！？；!?; and newlines (see sentence_spans)."""
    return [text[start:end] for start, end in sentence_spans(text, semicolons=semicolons)]


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
