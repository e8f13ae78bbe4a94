"""Site profiles: how to read the article and list pages of one CMS family.

A source names its family in `profile`; profile_for turns a source (its family, and the
selectors it sets over the family's defaults) into the parsers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial

from news.ingest.sources import families, generic, listing, nen
from news.models import ListPage, ParsedArticle, Selectors, SourceConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Profile:
    """A site's pure parsers: article page, list page, and joining an article's pages."""

    name: str
    parse_article: Callable[[str, str], ParsedArticle]
    parse_list: Callable[[str, str], ListPage]
    join_pages: Callable[[ParsedArticle, list[ParsedArticle]], ParsedArticle] = nen.join_pages


def _generic_list(html: str, url: str) -> ListPage:
    return listing.parse_list(html, url)


PROFILES: dict[str, Profile] = {
    # 东北新闻网's three templates, told apart by markup.
    nen.NAME: Profile(nen.NAME, nen.parse_article, nen.parse_list, nen.join_pages),
    # generic pages name no continuation pages themselves, but joining works the same way.
    generic.NAME: Profile(generic.NAME, generic.parse_article, _generic_list, nen.join_pages),
    **{
        name: Profile(
            name,
            partial(
                families.parse_article,
                selectors=family.selectors,
                continuations=family.continuations,
            ),
            partial(listing.parse_list, selectors=family.selectors),
        )
        for name, family in families.FAMILIES.items()
    },
}


def get_profile(name: str) -> Profile:
    """Return the profile called name; raise ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown parser profile {name!r}; known profiles: {known}") from None


def profile_for(source: SourceConfig) -> Profile:
    """Return the parsers of a source: its family's, with the source's own selectors over them."""
    return _profile(source.profile.strip().lower(), source.selectors)


@lru_cache(maxsize=256)
def _profile(name: str, selectors: Selectors) -> Profile:
    base = get_profile(name)
    if selectors == Selectors():
        return base
    family = families.FAMILIES.get(name)
    defaults = family.selectors if family is not None else Selectors()
    merged = selectors.merged_over(defaults)
    article = (
        partial(
            families.parse_article,
            selectors=merged,
            continuations=family.continuations if family is not None else False,
        )
        if merged.body
        else base.parse_article
    )
    lists = partial(listing.parse_list, selectors=merged) if name != nen.NAME else base.parse_list
    return Profile(name, article, lists, base.join_pages)
