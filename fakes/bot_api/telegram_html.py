"""Telegram's HTML parse mode: validate and decode message HTML into text and entities.

Follows TDLib's parser (the tags, attributes, entity decoding and error reasons Telegram
answers with), and measures and trims text the way Telegram does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from fakes.bot_api.protocol import JSONDict

# Telegram trims these around message text (after entity parsing); Unicode spaces such as
# U+3000, common at the start of Chinese paragraphs, are kept.
_TRIM_CHARS = " \t\n\r\v\f"


class HtmlParseError(ValueError):
    """Say why Telegram would refuse the HTML (``Unsupported start tag ...``); see parse_html."""


ALLOWED_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)
_SIMPLE_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# What Telegram takes for a URL, in <a href> links and in inline keyboard url buttons.
URL_RE = re.compile(r"^(?:(?:https?|tg|ton)://\S+|[\w.-]+\.[a-z]{2,}(?:[/?#]\S*)?)$", re.I)


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_start: int
    piece_start: int
    byte_offset: int
    language: str = ""


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at ``text[pos] == '&'`` the way TDLib does; None if it is not one."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            digits, base = text[start:end], 16
        else:
            start = end
            while end < n and text[end].isascii() and text[end].isdigit():
                end += 1
            digits, base = text[start:end], 10
        if not digits or end - pos >= 10:
            return None
        code = int(digits, base)
        # TDLib refuses NUL and anything past the Unicode range; surrogates can't be encoded.
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        return char, end + 1
    return char, end


def _strict_entity_error(text: str, pos: int) -> HtmlParseError:
    """Explain why strict mode refuses the ``&`` at ``text[pos]``."""
    offset = _byte_offset(text, pos)
    match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+)(;?)", text[pos:])
    if match and match.group(2):
        return HtmlParseError(f'Unsupported HTML entity "{match.group(0)}" at byte offset {offset}')
    if match and _decode_html_entity(text, pos) is not None:
        return HtmlParseError(
            f'Unterminated HTML entity "{match.group(0)}" at byte offset {offset}'
        )
    return HtmlParseError(f'Character "&" at byte offset {offset} must be escaped as "&amp;"')


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (plain text, entities) or raise :class:`HtmlParseError`.

    Follows TDLib's ``parse_html``: the same tags, attributes, entity decoding and error
    reasons (with UTF-8 byte offsets). ``strict=True`` additionally rejects what Telegram
    silently keeps literally: unknown entities (``&nbsp;``), a bare ``&`` and entities without
    the trailing ``;``. Whitespace trimming and length checks are done by the caller.
    """
    n = len(text)
    pieces: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None and (not strict or text[decoded[1] - 1] == ";"):
                pieces.append(decoded[0])
                utf16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise _strict_entity_error(text, i)
        if char != "<":
            pieces.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        begin_bytes = _byte_offset(text, begin)
        i += 1
        if i >= n or text[i] != "/":
            i = _parse_start_tag(text, i, begin_bytes, stack, utf16, len(pieces), strict)
            continue

        # An end tag: </name> (the name may be omitted, as TDLib allows "</>").
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin_bytes}")
        i += 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        end_name = text[name_start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin_bytes}")
        i += 1
        tag = stack.pop()
        if end_name and end_name.lower() != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {begin_bytes}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        _close_tag(tag, stack, pieces, utf16, entities)

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(pieces), entities


def _parse_start_tag(
    text: str,
    i: int,
    begin_bytes: int,
    stack: list[_OpenTag],
    utf16: int,
    piece_count: int,
    strict: bool,
) -> int:
    """Parse ``<name attr=...>`` starting after ``<``; push it and return the index after ``>``."""
    n = len(text)
    name_start = i
    while i < n and not text[i].isspace() and text[i] != ">":
        i += 1
    if i >= n:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
    name = text[name_start:i].lower()
    if name not in ALLOWED_HTML_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {begin_bytes}')

    argument = ""
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
        if text[i] == ">":
            break
        attr_start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        attr = text[attr_start:i].lower()
        if not attr:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{name}" at byte offset {begin_bytes}'
            )
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
        if text[i] != "=":
            if name == "blockquote" and attr == "expandable":
                argument = "expandable"
                continue
            raise HtmlParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {begin_bytes}'
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {begin_bytes}')
        if text[i] not in "'\"":
            # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
            token_start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        else:
            quote = text[i]
            i += 1
            chars: list[str] = []
            while i < n and text[i] != quote:
                if text[i] == "&":
                    decoded = _decode_html_entity(text, i)
                    if decoded is not None and (not strict or text[decoded[1] - 1] == ";"):
                        chars.append(decoded[0])
                        i = decoded[1]
                        continue
                    if strict:
                        raise _strict_entity_error(text, i)
                chars.append(text[i])
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            i += 1
            value = "".join(chars)

        if name == "a" and attr == "href":
            argument = value
        elif name == "code" and attr == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif name == "span" and attr == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif name == "tg-emoji" and attr == "emoji-id":
            argument = value
        # Other attributes are ignored, as Telegram does.

    if name == "span" and argument != "spoiler":
        raise HtmlParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
        )
    stack.append(_OpenTag(name, argument, utf16, piece_count, begin_bytes))
    return i + 1


def _close_tag(
    tag: _OpenTag,
    stack: list[_OpenTag],
    pieces: list[str],
    utf16: int,
    entities: list[JSONDict],
) -> None:
    """Turn a closed tag into an entity (Telegram drops empty ones)."""
    length = utf16 - tag.utf16_start
    if tag.name == "tg-emoji" and (not tag.argument.isdigit() or int(tag.argument) == 0):
        raise HtmlParseError("Invalid custom emoji identifier specified")
    # <pre><code class="language-x"> sets the language of the enclosing pre entity.
    if (
        tag.name == "code"
        and tag.argument
        and stack
        and stack[-1].name == "pre"
        and stack[-1].utf16_start == tag.utf16_start
    ):
        stack[-1].language = tag.argument
        return
    if length <= 0:
        return
    entity: JSONDict = {"offset": tag.utf16_start, "length": length}
    if tag.name in _SIMPLE_TAG_ENTITY:
        entity["type"] = _SIMPLE_TAG_ENTITY[tag.name]
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.language:
            entity["language"] = tag.language
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    else:  # "a"
        url = tag.argument or "".join(pieces[tag.piece_start :])
        # Telegram silently drops links whose URL it can't parse instead of failing.
        if not URL_RE.match(url.strip()):
            return
        entity["type"] = "text_link"
        entity["url"] = url.strip()
    entities.append(entity)


def trim_text(text: str, entities: Iterable[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim leading/trailing whitespace like Telegram does, shifting and clipping entities."""
    left = text.lstrip(_TRIM_CHARS)
    lead16 = utf16_len(text) - utf16_len(left)
    result = left.rstrip(_TRIM_CHARS)
    total16 = utf16_len(result)
    trimmed: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead16, 0)
        end = min(entity["offset"] + entity["length"] - lead16, total16)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return result, trimmed
