"""Errors raised while ingesting news.

IngestError
 ├── FetchError    the page could not be fetched (network, HTTP status, size cap, redirect loop)
 ├── DecodeError   the bytes could not be turned into text
 └── ParseError    the text is not an article (or not a list page) of the expected kind
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every ingestion error; the message is one line fit for a log or an admin."""


class FetchError(IngestError):
    """A page could not be fetched."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class DecodeError(IngestError):
    """Bytes could not be decoded to text."""


class ParseError(IngestError):
    """A page is not what was expected: not an article, a broken page, a changed template."""
