"""/latest [n]: the newest stored headlines."""

from __future__ import annotations

from telegram import Update

from handlers.context import Context
from handlers.render import esc, format_date, link
from handlers.replies import lang_of_update, reply_blocks, reply_text
from handlers.texts import text
from news.models import Article

DEFAULT_COUNT = 10
MAX_COUNT = 30


def parse_count(args: list[str]) -> int | None:
    """Read the optional count argument; None means it is malformed."""
    if not args:
        return DEFAULT_COUNT
    if len(args) != 1 or not args[0].isascii() or not args[0].isdigit():
        return None
    count = int(args[0])
    return count if 1 <= count <= MAX_COUNT else None


def headline(article: Article, context: Context) -> str:
    """Render one article as a line: date, linked title, source."""
    line = f"{esc(format_date(article.published_at, context.bot_data.tz))} " + link(
        article.url, article.title
    )
    if article.source:
        line += f" · {esc(article.source)}"
    return line


async def cmd_latest(update: Update, context: Context) -> None:
    """Show the n newest articles (10 by default, 30 at most)."""
    lang = lang_of_update(update)
    count = parse_count(context.args or [])
    if count is None:
        await reply_text(update, esc(text(lang, "latest_usage", max=MAX_COUNT)))
        return
    articles = await context.bot_data.store.latest_articles(count)
    if not articles:
        await reply_text(update, esc(text(lang, "latest_empty")))
        return
    blocks = [text(lang, "latest_title")]
    blocks += [f"<b>{i}.</b> {headline(a, context)}" for i, a in enumerate(articles, start=1)]
    await reply_blocks(update, blocks)
