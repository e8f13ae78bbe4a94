"""Build Telegram HTML safely: escape everything, and split long texts cleanly under 4096."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.texts import text
from news.nlp.fold import aligned_search_form, search_form

# Telegram counts a message's length after entity parsing, in UTF-16 code units.
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64

_TOKEN_RE = re.compile(r"(<[^>]+>)")
_TAG_NAME_RE = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")


def esc(text: object) -> str:
    """Escape text for Telegram's HTML parse mode (&, <, > and quotes)."""
    return html.escape(str(text), quote=True)


def link(url: str, text: str) -> str:
    """Return an <a> element whose text and URL are both escaped."""
    return f'<a href="{esc(url)}">{esc(text)}</a>'


def bold(text: str) -> str:
    """Return escaped text in bold."""
    return f"<b>{esc(text)}</b>"


def format_date(moment: datetime, tz: ZoneInfo, *, with_year: bool = True) -> str:
    """Show a stored UTC time as a local date and time (2024-10-28 09:54)."""
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_year else "%m-%d %H:%M")


def utf16_len(text: str) -> int:
    """Return the length Telegram sees: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(fragment: str) -> int:
    """Return the length of an HTML fragment after Telegram parses its tags and entities."""
    text = _TOKEN_RE.sub("", fragment)
    return utf16_len(html.unescape(text))


def check_callback_data(data: str) -> str:
    """Return callback data unchanged, or raise ValueError if Telegram would refuse it."""
    if not data or len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data must be 1-64 bytes: {data!r}")
    return data


def split_html(blocks: Iterable[str], limit: int = MESSAGE_LIMIT, sep: str = "\n") -> list[str]:
    """Pack well-formed HTML blocks into messages of at most `limit` visible characters."""
    # Blocks are kept whole where they fit; a block longer than a message is cut at a line or
    # sentence break, closing and reopening its open tags so every message stays valid.
    messages: list[str] = []
    current = ""
    current_len = 0
    sep_len = utf16_len(sep)
    for block in blocks:
        pieces = [block] if visible_length(block) <= limit else _cut_block(block, limit)
        for piece in pieces:
            piece_len = visible_length(piece)
            if current and current_len + sep_len + piece_len <= limit:
                current += sep + piece
                current_len += sep_len + piece_len
            else:
                if current:
                    messages.append(current)
                current, current_len = piece, piece_len
    if current:
        messages.append(current)
    return messages


def _cut_block(block: str, limit: int) -> list[str]:
    """Cut one oversized HTML block into valid pieces of at most `limit` visible characters."""
    pieces: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, full opening tag)
    buffer = ""
    length = 0

    def close_all() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def reopen_all() -> str:
        return "".join(tag for _, tag in open_tags)

    for token in _TOKEN_RE.split(block):
        if not token:
            continue
        if token.startswith("<"):
            match = _TAG_NAME_RE.match(token)
            if match:
                closing, name = match.group(1), match.group(2).lower()
                if closing:
                    for index in range(len(open_tags) - 1, -1, -1):
                        if open_tags[index][0] == name:
                            del open_tags[index]
                            break
                else:
                    open_tags.append((name, token))
            buffer += token
            continue
        text = html.unescape(token)
        while text:
            room = limit - length
            if utf16_len(text) <= room:
                buffer += html.escape(text, quote=False)
                length += utf16_len(text)
                break
            cut = _best_cut(text, room)
            if cut == 0 and length == 0:
                cut = max(1, room)  # a single unbreakable run: cut hard
            if cut:
                buffer += html.escape(text[:cut], quote=False)
                text = text[cut:]
            pieces.append(buffer + close_all())
            buffer, length = reopen_all(), 0
    if visible_length(buffer) > 0:
        pieces.append(buffer)
    return pieces


def _best_cut(text: str, room: int) -> int:
    """Return where to cut `text` to fit `room` UTF-16 units, preferring a line or sentence end."""
    if room <= 0:
        return 0
    fit = 0
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > room:
            break
        fit = index + 1
    window = text[:fit]
    for marks in ("\n", "。！？!?；;", "，,、 "):
        best = max(window.rfind(mark) for mark in marks)
        if best >= fit // 2:
            return best + 1
    return fit


def shorten(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, ending with … when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


def _case_fold(text: str) -> str:
    """Return text in lower case, or as it is where lower case would change its length (İ)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text


def highlight(text: str, words: Sequence[str], width: int = 80) -> str:
    """Return escaped HTML of the passage around the first match, with every word in bold."""
    # Words match in search form (振兴 finds 振興) but the passage keeps the text's own characters.
    flat = " ".join(text.split())
    words = [search_form(w).lower() for w in words]
    # Folding a whole body is slow (OpenCC is pure Python), and a page shows several bodies:
    # most texts are simplified and hold a word as written, and only the others are folded
    # whole; the passage shown is folded on its own, to bold 振興 for 振兴.
    hits = [i for i in (_case_fold(flat).find(w) for w in words if w) if i >= 0]
    if not hits:
        hits = [i for i in (_case_fold(aligned_search_form(flat)).find(w) for w in words if w)]
        hits = [i for i in hits if i >= 0]
    if not hits:
        return esc(shorten(flat, width))
    first = min(hits)
    start = max(0, first - width // 3)
    end = min(len(flat), start + width)
    window = flat[start:end]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if w))
    pieces: list[str] = []
    cursor = 0
    for match in pattern.finditer(_case_fold(aligned_search_form(window))):
        pieces.append(esc(window[cursor : match.start()]))
        pieces.append(f"<b>{esc(window[match.start() : match.end()])}</b>")
        cursor = match.end()
    pieces.append(esc(window[cursor:]))
    return ("…" if start > 0 else "") + "".join(pieces) + ("…" if end < len(flat) else "")


# Other outlets a list line names before the rest become a count (a line stays short: 30
# headlines with their outlets fit one message).
ALSO_NAMED = 2


def also_in(names: Sequence[str], lang: str) -> str:
    """Return the "也见于：北国网 · 沈阳网" line of a story's other outlets, as plain text."""
    if not names:
        return ""
    shown = " · ".join(names[:ALSO_NAMED])
    if len(names) > ALSO_NAMED:
        shown = text(lang, "also_more", names=shown, n=len(names), more=len(names) - ALSO_NAMED)
    return text(lang, "also_in", names=shown)
