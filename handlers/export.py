"""The 导出 button under /search, /speaker and /said: the whole result as CSV and XLSX files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from telegram import InputFile, Update

from handlers.context import Context
from handlers.keyboards import parse_callback
from handlers.render import esc, shorten
from handlers.replies import answer_stale, lang_of_update
from handlers.said import said_query_of
from handlers.search import parse_search
from handlers.speakers import SPEECHES
from handlers.texts import text
from news.models import Article
from news.tables import (
    Mention,
    article_row,
    csv_bytes,
    export_stamp,
    headers,
    speakers_cell,
    xlsx_bytes,
)
from storage import Store
from storage.said import EXPORT_ROWS

logger = logging.getLogger(__name__)

ROLES = ("spoke", "presided", "attended", "met", "mentioned")


@dataclass(frozen=True, slots=True)
class Result:
    """A whole result to export: what it is, its articles newest first, their statements."""

    what: str
    name: str  # for the file names
    articles: list[Article]
    statements: list[str] | None
    more: bool


async def outlets_of(store: Store, articles: Sequence[Article]) -> dict[int, list[str]]:
    """Return every outlet that carried each article's story, the first copy's first."""
    copies = await store.story_outlets(a.id for a in articles)
    return {
        a.id: [o.name for o in copies.get(a.id, ())] or [a.source or a.source_name or ""]
        for a in articles
    }


async def collect(data: str, update: Update, context: Context) -> Result | None:
    """Return the result a 导出 button's data names, or None if it is stale or forged."""
    lang = lang_of_update(update)
    store = context.bot_data.store
    chat = update.effective_chat
    parts = data.split(":")
    if len(parts) == 3 and parts[1] in ("s", "d") and parts[2].isdigit() and chat is not None:
        saved = await store.search_query(chat.id, int(parts[2]))
        if saved is None:
            return None
        if parts[1] == "d":
            said = await said_query_of(saved, context)
            if said is None:
                return None
            found, more = await store.person_said_all(
                said.person.id,
                list(said.search.words),
                since=said.search.since,
                until=said.search.until,
                limit=EXPORT_ROWS,
            )
            words = " ".join(said.search.words)
            return Result(
                text(lang, "export_said", name=said.person.name, query=words),
                f"said-{said.person.name}-{words}",
                [s.article for s in found],
                [s.statement for s in found],
                more,
            )
        parsed = parse_search(saved, context.bot_data.tz)
        if parsed is None:
            return None
        hits, _ = await store.search_articles(
            list(parsed.words),
            since=parsed.since,
            until=parsed.until,
            limit=EXPORT_ROWS + 1,
        )
        return Result(
            text(lang, "export_search", query=saved),
            f"search-{' '.join(parsed.words)}",
            [h.article for h in hits[:EXPORT_ROWS]],
            None,
            len(hits) > EXPORT_ROWS,
        )
    args = parse_callback(data, "exp", 3)
    if args is None or args[0] != "p" or not args[1].isdigit():
        return None
    person = await store.get_person(int(args[1]))
    if person is None:
        return None
    if args[2] == SPEECHES:
        statements = await store.person_statements(person.id, EXPORT_ROWS + 1, 0)
        articles = [s.article for s in statements]
        what = text(lang, "export_speeches", name=person.name)
    else:
        appearances = await store.person_appearances(person.id, EXPORT_ROWS + 1, 0)
        articles = [a.article for a in appearances]
        what = text(lang, "export_speaker", name=person.name)
    return Result(
        what, f"speaker-{person.name}", articles[:EXPORT_ROWS], None, len(articles) > EXPORT_ROWS
    )


def build_files(
    result: Result,
    tz: tzinfo,
    people: dict[int, list[tuple[str, str, str]]],
    summaries: dict[int, str],
    outlets: dict[int, list[str]],
    role_names: dict[str, str],
    lang: str,
) -> tuple[bytes, bytes]:
    """Return the result as CSV and XLSX bytes (CPU work: run off the event loop)."""
    rows = []
    for index, article in enumerate(result.articles):
        mentions = [Mention(n, r, t) for n, r, t in people.get(article.id, [])]
        rows.append(
            article_row(
                article,
                tz,
                outlets=outlets.get(article.id, []),
                speakers=speakers_cell(mentions, role_names),
                summary=summaries.get(article.id, ""),
                statement=result.statements[index] if result.statements is not None else None,
            )
        )
    header = headers(result.statements is not None, lang)
    return csv_bytes(header, rows), xlsx_bytes(header, rows, result.name)


def file_stem(name: str, moment: datetime) -> str:
    """Return a file name stem safe on every system: newsbot-<what>-<time>."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]
    return f"newsbot-{cleaned}-{export_stamp(moment)}"


async def cb_export(update: Update, context: Context) -> None:
    """Send a whole /search, /speaker or /said result as a CSV and an XLSX file."""
    lang = lang_of_update(update)
    query = update.callback_query
    message = update.effective_message
    if query is None or message is None or not query.data:
        await answer_stale(update, text(lang, "stale"))
        return
    result = await collect(query.data, update, context)
    if result is None:
        await answer_stale(update, text(lang, "stale"))
        return
    if not result.articles:
        await answer_stale(update, text(lang, "export_none"))
        return
    await query.answer(text(lang, "export_working"))
    store = context.bot_data.store
    ids = [a.id for a in result.articles]
    people = await store.people_of_articles(ids)
    summaries = await store.article_summaries_many(ids)
    outlets = await outlets_of(store, result.articles)
    role_names = {role: text(lang, "role_" + role) for role in ROLES}
    tz = context.bot_data.tz
    # Building 10,000 rows of XLSX takes a second or two of CPU: never on the event loop.
    csv_data, xlsx_data = await asyncio.to_thread(
        build_files, result, tz, people, summaries, outlets, role_names, lang
    )
    stem = file_stem(result.name, datetime.now(tz))
    caption = esc(shorten(text(lang, "export_caption", what=result.what, count=len(ids)), 900))
    if result.more:
        caption += "\n" + esc(text(lang, "export_more", cap=EXPORT_ROWS))
    await message.reply_document(
        InputFile(csv_data, filename=f"{stem}.csv"),
        caption=caption,
        parse_mode="HTML",
        do_quote=False,
    )
    await message.reply_document(
        InputFile(xlsx_data, filename=f"{stem}.xlsx"),
        caption=caption,
        parse_mode="HTML",
        do_quote=False,
    )
    logger.info("export: %d rows sent to chat %s", len(ids), message.chat_id)
