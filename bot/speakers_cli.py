"""Print, as JSON, the people a plain-text or HTML article names and what they did in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from selectolax.lexbor import LexborHTMLParser

from news.nlp.people import extract_people

_HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".xhtml"})
_HTML_SNIFF = ("<!doctype", "<html", "<head", "<body", "<meta", "<div", "<p")
_INLINE_TAGS = ["a", "b", "strong", "i", "em", "u", "font", "span", "small", "big", "sub", "sup"]


def decode(data: bytes) -> str:
    """Decode page bytes as UTF-8, else as gb18030 (the GBK pages of the older nen.com.cn)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML page, one block per line."""
    # selectolax 1.x removed the Modest backend (selectolax.parser raises on import): use Lexbor.
    tree = LexborHTMLParser(html)
    # Script and style bodies are text nodes too; they would only add noise.
    tree.strip_tags(["script", "style", "noscript"])
    # Without this, 市长<b>王新伟</b>讲话 would come out as three lines and the title, the name
    # and the verb would no longer be one clause.
    tree.unwrap_tags(_INLINE_TAGS)
    tree.merge_text_nodes()
    text: str = tree.text(separator="\n")
    return text


def is_html(path: Path, text: str) -> bool:
    """Return whether the file is HTML, by its suffix or by how it starts."""
    return path.suffix.lower() in _HTML_SUFFIXES or text.lstrip()[:100].lower().startswith(
        _HTML_SNIFF
    )


def run(path: Path, out: TextIO) -> int:
    """Print each person found in the file at path as a JSON list; return the exit status."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    text = decode(data)
    if is_html(path, text):
        text = html_to_text(text)
    people = [
        {
            "name": m.name,
            "roles": list(m.roles),
            "titles": list(m.titles),
            "statements": list(m.statements),
        }
        for m in extract_people(text)
    ]
    print(json.dumps(people, ensure_ascii=False, indent=2), file=out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m bot.speakers_cli FILE", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(run(Path(sys.argv[1]), sys.stdout))
