"""Read an article once at ingest: its summary, keywords and the people in it."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from news.models import ArticleAnalysis, PersonInArticle
from news.nlp.speakers import extract_people, name_pinyin
from news.nlp.summary import summarize

# How often the worker looks whether the bot that started it is still there.
PARENT_CHECK_SECONDS = 0.5

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


def _exit_with_parent(parent_pid: int) -> None:
    """In the worker: exit as soon as the bot that started it is gone (even after a SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)  # nothing of the worker's needs saving: results go back to the bot

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class AnalysisWorker:
    """Run analyse() in one worker process, started on first use, for the running bot.

    jieba's dictionary and the speaker models take about 280 MB once loaded; in a worker they
    stay out of the bot process (which then keeps under 300 MB), and the CPU work of a crawl
    does not hold the bot's GIL. Spawned, not forked: the bot has threads a fork would copy
    mid-flight. A killed bot takes its worker with it: an orphan would hold the bot's stdout
    and stderr open (and 280 MB) for ever, since its task queue never reports the bot gone.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def analyse(self, title: str, paragraphs: Sequence[str]) -> ArticleAnalysis:
        """Return analyse(title, paragraphs) computed in the worker process."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, analyse, title, tuple(paragraphs))

    def close(self) -> None:
        """Stop the worker process (if it was started); analyses still queued are cancelled."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
