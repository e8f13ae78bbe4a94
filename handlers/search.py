"""/search WORDS [FROM..TO]: full-text search of the archive, newest first or by relevance."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, Update

from handlers.context import Context
from handlers.keyboards import (
    export_row,
    markup,
    page_count,
    paging_row,
    parse_callback,
    summary_buttons,
)
from handlers.limits import MAX_SAVED_SEARCHES
from handlers.render import also_in, check_callback_data, esc, format_date, highlight, link, shorten
from handlers.replies import answer_stale, lang_of_update, reply_text, show_page
from handlers.texts import text
from news.nlp.fold import search_form
from storage import RELEVANCE_CAP, SEARCH_COUNT_CAP

PER_PAGE = 5
MAX_WORDS = 8
MAX_QUERY_CHARS = 100
SNIPPET_CHARS = 90

_DATE_RE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?$")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed /search: the words and an optional local date range [since, until)."""

    words: tuple[str, ...]
    since: datetime | None = None
    until: datetime | None = None


def _date_bound(raw: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """Turn 2023, 2023-01 or 2023-01-15 into the start (or the end, exclusive) of that period."""
    match = _DATE_RE.match(raw)
    if not match:
        raise ValueError(raw)
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is None:
        start, stop = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    elif day is None:
        start = datetime(year, month, 1)
        stop = datetime(year + (month == 12), month % 12 + 1, 1)
    else:
        calendar.monthrange(year, month)  # validates the month
        start = datetime(year, month, day)
        stop = datetime.fromordinal(start.toordinal() + 1)
    chosen = stop if end else start
    return chosen.replace(tzinfo=tz)


def parse_range(token: str, tz: ZoneInfo) -> tuple[datetime | None, datetime | None] | None:
    """Parse FROM..TO (2017..2019, 2023-01..2024-06, ..2020); None if the token is not one.

    Raises ValueError for a token shaped like a range with a date that does not exist.
    """
    if ".." not in token or token == ".." or not re.fullmatch(r"[\d\-/.]*\.\.[\d\-/.]*", token):
        return None
    left, _, right = token.partition("..")
    since = _date_bound(left, tz, end=False) if left else None
    until = _date_bound(right, tz, end=True) if right else None
    return since, until


def parse_search(raw: str, tz: ZoneInfo) -> SearchQuery | None:
    """Parse the words and an optional FROM..TO range; None if the query is unusable."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_QUERY_CHARS:
        return None
    tokens = search_form(raw).split()
    since = until = None
    words: list[str] = []
    for token in tokens:
        try:
            bounds = parse_range(token, tz)
        except ValueError:
            return None
        if bounds is not None:
            since, until = bounds
            continue
        words.append(token)
    if not words or len(words) > MAX_WORDS:
        return None
    if since and until and since >= until:
        return None
    return SearchQuery(tuple(words), since, until)


async def send_search_page(
    update: Update, context: Context, query_id: int, raw: str, page: int, by_relevance: bool
) -> None:
    """Show one page of results for a remembered query."""
    lang = lang_of_update(update)
    parsed = parse_search(raw, context.bot_data.tz)
    if parsed is None:  # only a forged or pre-upgrade remembered query gets here
        await answer_stale(update, text(lang, "stale"))
        return
    store = context.bot_data.store
    hits, total = await store.search_articles(
        list(parsed.words),
        since=parsed.since,
        until=parsed.until,
        by_relevance=by_relevance,
        limit=PER_PAGE,
        offset=page * PER_PAGE,
    )
    if total == 0:
        if update.callback_query is not None and page > 0:
            await answer_stale(update, text(lang, "stale"))
            return
        await reply_text(update, esc(text(lang, "search_none", query=shorten(raw, 60))))
        return
    # Relevance order ranks the newest RELEVANCE_CAP matches only; the pages stop there.
    capped = by_relevance and total > RELEVANCE_CAP
    pages = page_count(RELEVANCE_CAP if capped else total, PER_PAGE)
    if page >= pages or not hits:
        await answer_stale(update, text(lang, "stale"))
        return
    shown_total = f"{SEARCH_COUNT_CAP}+" if total > SEARCH_COUNT_CAP else str(total)
    heading = text(lang, "search_title", query=esc(shorten(raw, 60)), total=shown_total)
    if capped:
        heading += " · " + esc(text(lang, "relevance_capped", cap=RELEVANCE_CAP))
    lines = [heading + " · " + esc(text(lang, "page", page=page + 1, pages=pages))]
    first = page * PER_PAGE + 1
    tz = context.bot_data.tz
    for number, hit in enumerate(hits, start=first):
        article = hit.article
        lines.append(
            f"<b>{number}.</b> {esc(format_date(article.published_at, tz))} "
            + link(article.url, shorten(article.title, 80))
            + f" <code>#{article.id}</code>\n"
            + highlight(article.body, parsed.words, SNIPPET_CHARS)
            + ("\n" + esc(also_in(article.also, lang)) if article.also else "")
        )
    order = "r" if by_relevance else "d"
    rows = summary_buttons(lang, [h.article.id for h in hits], start=first)
    rows.append(paging_row(lang, page, pages, lambda p: f"sq:{query_id}:{p}:{order}"))
    other = "d" if by_relevance else "r"
    toggle_label = text(lang, "by_date" if by_relevance else "by_relevance")
    rows.append(
        [
            InlineKeyboardButton(
                toggle_label, callback_data=check_callback_data(f"sq:{query_id}:0:{other}")
            ),
            *export_row(lang, f"exp:s:{query_id}"),
        ]
    )
    await show_page(update, "\n\n".join(lines), markup(rows))


async def cmd_search(update: Update, context: Context) -> None:
    """Search titles and bodies for all the words, newest first."""
    lang = lang_of_update(update)
    message = update.effective_message
    chat = update.effective_chat
    raw = " ".join(context.args or [])
    if message is None or chat is None or parse_search(raw, context.bot_data.tz) is None:
        await reply_text(
            update, esc(text(lang, "search_usage", max=MAX_WORDS, chars=MAX_QUERY_CHARS))
        )
        return
    query_id = await context.bot_data.store.save_search_query(chat.id, raw, keep=MAX_SAVED_SEARCHES)
    await send_search_page(update, context, query_id, raw, 0, by_relevance=False)


async def cb_search_page(update: Update, context: Context) -> None:
    """Turn a search result to another page or order."""
    lang = lang_of_update(update)
    query = update.callback_query
    chat = update.effective_chat
    args = parse_callback(query.data if query else None, "sq", 3)
    if (
        args is None
        or chat is None
        or not args[0].isdigit()
        or not args[1].isdigit()
        or args[2] not in ("d", "r")
    ):
        await answer_stale(update, text(lang, "stale"))
        return
    query_id, page = int(args[0]), int(args[1])
    raw = await context.bot_data.store.search_query(chat.id, query_id)
    if raw is None:  # older than the chat's last MAX_SAVED_SEARCHES, another chat's, forged
        await answer_stale(update, text(lang, "search_expired", cap=MAX_SAVED_SEARCHES))
        return
    await send_search_page(update, context, query_id, raw, page, by_relevance=args[2] == "r")
