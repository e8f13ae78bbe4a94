"""Read an article once at ingest: its summary, keywords, the people in it and its sketch."""

from __future__ import annotations

from collections.abc import Sequence

from news.models import ArticleAnalysis, PersonInArticle
from news.nlp.people import extract_people, name_pinyin
from news.nlp.summarize import summarize
from news.stories import sketch
from news.workers import SpawnedWorker

# Statements kept per person per article: enough to quote, small enough for an archive of
# millions of mentions.
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
    return ArticleAnalysis(
        summary=summary.text,
        keywords=summary.keywords,
        people=people,
        sketch=sketch("\n".join(paragraphs)),
    )


class AnalysisWorker(SpawnedWorker):
    """Run analyse() in one worker process, started on first use, for the running bot."""

    # jieba's dictionary and the speaker models are large once loaded; in a worker they stay out
    # of the bot process, and the CPU work of a crawl does not hold the bot's GIL.

    async def analyse(self, title: str, paragraphs: Sequence[str]) -> ArticleAnalysis:
        """Return analyse(title, paragraphs) computed in the worker process."""
        return await self.run(analyse, title, tuple(paragraphs))
