"""Errors raised while ingesting news.

IngestError
 ├── FetchError    the page could not be fetched (network, HTTP status, size cap, redirect loop)
 │    ├── RobotsDisallowed  the site's robots.txt forbids the page to `newsbot`
 │    └── RobotsWait        the site's robots.txt is unavailable for now (5xx, unreachable)
 ├── DecodeError   the bytes could not be turned into text
 └── ParseError    the text is not an article (or not a list page) of the expected kind
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every ingestion error; the message is one line fit for a log or an admin."""


class FetchError(IngestError):
    """A page could not be fetched."""

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, transient: bool = False
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        # True when trying later may well succeed (timeouts, 5xx, 429 after every retry).
        self.transient = transient


class DecodeError(IngestError):
    """Bytes could not be decoded to text."""


class ParseError(IngestError):
    """A page is not what was expected: not an article, a broken page, a changed template."""


class RobotsDisallowed(FetchError):
    """The site's robots.txt forbids this page to the user agent `newsbot`."""


class RobotsWait(FetchError):
    """The site's robots.txt cannot be read for now: nothing of the host is fetched meanwhile."""

    def __init__(self, message: str, *, url: str = "", retry_in: float = 0.0) -> None:
        super().__init__(message, url=url, transient=True)
        self.retry_in = retry_in
