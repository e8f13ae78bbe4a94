"""Read an article once at ingest: its summary, keywords and the people in it."""

from __future__ import annotations

from collections.abc import Sequence

from news.models import ArticleAnalysis, PersonInArticle
from news.nlp.speakers import extract_people, name_pinyin
from news.nlp.summary import summarize

# Statements kept per person per article: enough to quote, small enough to store 1M mentions.
MAX_STATEMENTS = 3
MAX_STATEMENT_CHARS = 400


def analyse(title: str, paragraphs: Sequence[str], *, keywords: bool = True) -> ArticleAnalysis:
    """Summarise an article and find who spoke, presided, attended or was named in it."""
    summary = summarize(title, paragraphs, keywords=keywords)
    people = tuple(
        PersonInArticle(
            name=mention.name,
            pinyin=name_pinyin(mention.name),
            roles=mention.roles,
            titles=mention.titles,
            statements=tuple(s[:MAX_STATEMENT_CHARS] for s in mention.statements[:MAX_STATEMENTS]),
        )
        for mention in extract_people("\n".join(paragraphs))
    )
    return ArticleAnalysis(summary=summary.text, keywords=summary.keywords, people=people)
