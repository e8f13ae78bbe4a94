"""Print the extractive summary and keywords of a saved page or text file."""

# A .txt file holds the title on its first line and the paragraphs after it. Anything else is read
# as HTML: a nen.com.cn page goes through the site profile (title and clean body paragraphs); any
# other page, or one the profile rejects, is reduced to its visible text.

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from selectolax.lexbor import LexborHTMLParser

from news.nlp.summarize import summarize

_TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".xhtml"})
_NOT_TEXT = ["script", "style", "noscript", "template", "iframe", "svg", "head"]
_URL_META = re.compile(
    r"<(?:link[^>]+rel=[\"']canonical[\"'][^>]+href|meta[^>]+property=[\"']og:url[\"'][^>]+content)"
    r"=[\"'](?P<url>https?://[^\"']+)[\"']",
    re.IGNORECASE,
)
# Sentence paragraphs of the fallback: at least this many <p> elements, else the whole body.
_MIN_P_ELEMENTS = 3


def decode(data: bytes) -> str:
    """Decode file bytes as UTF-8, else as GB18030 (GBK/GB2312 pages of 2005–2018)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # GB18030 maps nearly every byte sequence; "replace" keeps a damaged page readable.
        return data.decode("gb18030", errors="replace")


def _is_html(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in _HTML_SUFFIXES or suffix in _TEXT_SUFFIXES:
        return suffix in _HTML_SUFFIXES
    return text.lstrip("\ufeff \t\r\n").startswith("<")  # no telling suffix: sniff


def _from_nen(html: str, path: Path) -> tuple[str, list[str]] | None:
    """Parse a nen.com.cn page with the site profile, or return None if that is impossible."""
    try:
        from news.ingest.sources.nen import parse_article
    except ImportError:
        return None
    match = _URL_META.search(html)
    # The profile needs a page URL only to resolve links and as a last-resort date.
    url = match.group("url") if match else f"https://www.nen.com.cn/{path.name}"
    try:
        article = parse_article(html, url)
    except Exception:  # a page the profile cannot read still has text worth summarising
        return None
    return article.title, list(article.paragraphs)


def _from_markup(html: str) -> tuple[str, list[str]]:
    """Return a page's title and visible text lines, dropping scripts and styles."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("h1") or tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else ""
    tree.strip_tags(_NOT_TEXT)
    paragraphs = [p.text(separator="") for p in tree.css("p")]
    if sum(1 for p in paragraphs if p.strip()) >= _MIN_P_ELEMENTS:
        # <p> text joined without separators keeps a sentence whole across <a>/<span>/<strong>.
        return title, paragraphs
    return title, tree.text(separator="\n").splitlines()


def read_article(path: Path) -> tuple[str, list[str]]:
    """Read a page or text file and return its title and body paragraphs."""
    text = decode(path.read_bytes())
    if not _is_html(path, text):
        lines = [line for line in text.splitlines() if line.strip()]
        return (lines[0].strip(), lines[1:]) if lines else ("", [])
    if "nen.com.cn" in text:
        parsed = _from_nen(text, path)
        if parsed is not None:
            return parsed
    return _from_markup(text)


def run(path: Path, out: TextIO, max_chars: int = 150) -> int:
    """Print the summary of a page or text file, a blank line, then its keywords."""
    try:
        title, paragraphs = read_article(path)
    except OSError as exc:
        print(f"newsbot summarize: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    summary = summarize(title, paragraphs, max_chars=max_chars)
    if not summary.text:
        print(f"newsbot summarize: no article text in {path}", file=sys.stderr)
        return 1
    print(summary.text, file=out)
    print(file=out)
    print(f"关键词: {', '.join(summary.keywords)}", file=out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line: python -m bot.summarize_cli FILE [--max-chars N]."""
    parser = argparse.ArgumentParser(prog="newsbot-summarize", description=__doc__)
    parser.add_argument("path", type=Path, help="a saved page (.html) or text file (.txt)")
    parser.add_argument("--max-chars", type=int, default=150, help="summary length limit")
    args = parser.parse_args(argv)
    return run(args.path, sys.stdout, args.max_chars)


if __name__ == "__main__":
    raise SystemExit(main())
