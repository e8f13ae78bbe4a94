"""Site profiles: how to read the article and list pages of one kind of site.

A source in the configuration names a profile; get_profile turns the name into the parsers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from news.ingest.sources import generic, nen
from news.models import ListPage, ParsedArticle

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Profile:
    """A site's pure parsers: article page, list page, and joining an article's pages."""

    name: str
    parse_article: Callable[[str, str], ParsedArticle]
    parse_list: Callable[[str, str], ListPage]
    join_pages: Callable[[ParsedArticle, list[ParsedArticle]], ParsedArticle] = nen.join_pages


PROFILES: dict[str, Profile] = {
    nen.NAME: Profile(nen.NAME, nen.parse_article, nen.parse_list, nen.join_pages),
    # generic pages name no continuation pages themselves, but joining works the same way.
    generic.NAME: Profile(generic.NAME, generic.parse_article, generic.parse_list, nen.join_pages),
}


def get_profile(name: str) -> Profile:
    """Return the profile called name; raise ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown parser profile {name!r}; known profiles: {known}") from None
