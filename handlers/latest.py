"""/latest [n]: the newest stored headlines, paged with buttons."""

from __future__ import annotations

from telegram import Update

from handlers.context import Context
from handlers.keyboards import markup, page_count, paging_row, parse_callback, summary_buttons
from handlers.render import also_in, esc, format_date, link, shorten
from handlers.replies import answer_stale, lang_of_update, reply_text, show_page
from handlers.texts import text
from news.models import Headline

DEFAULT_COUNT = 10
MAX_COUNT = 30
# Titles in lists are cut so that 30 headlines always fit one 4096-character message.
LIST_TITLE_CHARS = 80


def parse_count(args: list[str]) -> int | None:
    """Read the optional count argument; None means it is malformed."""
    if not args:
        return DEFAULT_COUNT
    if len(args) != 1 or not args[0].isascii() or not args[0].isdigit():
        return None
    count = int(args[0])
    return count if 1 <= count <= MAX_COUNT else None


def headline(article: Headline, context: Context, number: int, lang: str = "zh") -> str:
    """Render one story as a line: number, date, linked title, source, id; other outlets."""
    when = esc(format_date(article.published_at, context.bot_data.tz))
    line = f"<b>{number}.</b> {when} " + link(article.url, shorten(article.title, LIST_TITLE_CHARS))
    if article.source:
        line += f" · {esc(article.source)}"
    line += f" <code>#{article.id}</code>"
    if article.also:
        line += "\n    " + esc(also_in(article.also, lang))
    return line


async def send_latest_page(update: Update, context: Context, page: int, count: int) -> None:
    """Show page `page` (0-based) of the newest articles, `count` per page."""
    lang = lang_of_update(update)
    # One call for the page and the count: /latest is the command people send most.
    articles, total = await context.bot_data.store.latest_page(count, offset=page * count)
    if total == 0:
        # Pressed under a list whose articles have all gone: the list says so, and the press
        # is answered (show_page edits and answers; for a command it replies).
        await show_page(update, esc(text(lang, "latest_empty")), None)
        return
    pages = page_count(total, count)
    if page >= pages or not articles:
        await answer_stale(update, text(lang, "stale"))
        return
    first = page * count + 1
    lines = [
        text(lang, "latest_title") + " · " + esc(text(lang, "page", page=page + 1, pages=pages))
    ]
    lines += [headline(a, context, n, lang) for n, a in enumerate(articles, start=first)]
    rows = summary_buttons(lang, [a.id for a in articles], start=first)
    rows.append(paging_row(lang, page, pages, lambda p: f"lp:{p}:{count}"))
    await show_page(update, "\n".join(lines), markup(rows))


async def cmd_latest(update: Update, context: Context) -> None:
    """Show the n newest articles (10 by default, 30 at most)."""
    count = parse_count(context.args or [])
    if count is None:
        await reply_text(update, esc(text(lang_of_update(update), "latest_usage", max=MAX_COUNT)))
        return
    await send_latest_page(update, context, 0, count)


async def cb_latest_page(update: Update, context: Context) -> None:
    """Turn a /latest list to another page."""
    lang = lang_of_update(update)
    query = update.callback_query
    args = parse_callback(query.data if query else None, "lp", 2)
    if args is None or not all(a.isdigit() for a in args):
        await answer_stale(update, text(lang, "stale"))
        return
    page, count = int(args[0]), int(args[1])
    if not 1 <= count <= MAX_COUNT:
        await answer_stale(update, text(lang, "stale"))
        return
    await send_latest_page(update, context, page, count)
