"""/summary ID, the 摘要 buttons, and /article ID (the whole text, split cleanly)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from telegram import Update

from handlers.context import Context
from handlers.keyboards import parse_callback
from handlers.render import esc, format_date, link, shorten
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text
from handlers.texts import text
from news.models import Article, Outlet
from news.nlp.summarize import summarize

MAX_ID = 2**62
# Outlets a card links at most (each line about 80 characters; a card stays one message).
OUTLETS_LISTED = 30


def parse_article_id(args: list[str]) -> int | None:
    """Read one article id (digits, optionally after #), or None if malformed."""
    if len(args) != 1:
        return None
    raw = args[0].removeprefix("#")
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
        return None
    return int(raw)


async def summary_card(article_id: int, context: Context, lang: str) -> str | None:
    """Render the card of an article's story, or None when there is no such article."""
    # The article, its stored summary, who spoke in it and its story's outlets are asked for at
    # once: on PostgreSQL queries in flight cost one round trip's wait instead of several, and
    # on a busy machine those waits were what made /summary slow.
    store = context.bot_data.store
    article, (stored, _keywords), speakers, outlets = await asyncio.gather(
        store.get_article(article_id),
        store.article_summary(article_id),
        store.speakers_of(article_id),
        store.story_outlets([article_id]),
    )
    if article is None:
        return None
    copies = outlets.get(article_id, [])
    if copies and copies[0].article_id != article_id:
        # A reprint: the card is its story's, whose first copy holds the summary and speakers.
        first = copies[0].article_id
        article, (stored, _keywords), speakers = await asyncio.gather(
            store.get_article(first), store.article_summary(first), store.speakers_of(first)
        )
        if article is None:
            return None
    if not stored:  # an older row: summarised now, off the event loop
        paragraphs = article.body.split("\n")
        stored = (
            await asyncio.to_thread(summarize, article.title, paragraphs, keywords=False)
        ).text
    return render_summary(article, stored, speakers, context, lang, copies)


def render_summary(
    article: Article,
    summary: str,
    speakers: list[str],
    context: Context,
    lang: str,
    outlets: Sequence[Outlet] = (),
) -> str:
    """Render an article card: title, date, source, summary, who spoke, every outlet, link."""
    when = format_date(article.published_at, context.bot_data.tz)
    lines = [f"<b>{esc(article.title)}</b>"]
    meta = esc(when)
    if article.source:
        meta += f" · {esc(text(lang, 'source_label'))}：{esc(article.source)}"
    lines.append(meta)
    lines.append("")
    lines.append(esc(summary) if summary else f"<i>{esc(text(lang, 'summary_none'))}</i>")
    if speakers:
        lines.append("")
        lines.append(f"🎤 {esc(text(lang, 'spoke_label'))}：{esc('、'.join(speakers))}")
    if len(outlets) > 1:
        lines.append("")
        lines.append(f"📰 {esc(text(lang, 'outlets', n=len(outlets)))}")
        tz = context.bot_data.tz
        for outlet in outlets[:OUTLETS_LISTED]:
            lines.append(
                f"• {esc(outlet.name or text(lang, 'source_label'))} "
                + link(outlet.url, shorten(outlet.title, 60))
                + f" <i>{esc(format_date(outlet.published_at, tz, with_year=False))}</i>"
            )
        if len(outlets) > OUTLETS_LISTED:
            lines.append("…")
    lines.append("")
    lines.append(
        link(article.url, article.url) + f"\n{esc(text(lang, 'read_more', id=article.id))}"
    )
    return "\n".join(lines)


async def cmd_summary(update: Update, context: Context) -> None:
    """Show an article's summary card."""
    lang = lang_of_update(update)
    article_id = parse_article_id(context.args or [])
    if article_id is None:
        await reply_text(update, esc(text(lang, "summary_usage")))
        return
    card = await summary_card(article_id, context, lang)
    if card is None:
        await reply_text(update, esc(text(lang, "not_found_article", id=article_id)))
        return
    await reply_blocks(update, [card])


async def cb_summary(update: Update, context: Context) -> None:
    """Answer a 摘要 button with the article's summary card, as a new message."""
    lang = lang_of_update(update)
    query = update.callback_query
    args = parse_callback(query.data if query else None, "sum", 1)
    card = None
    if args is not None and args[0].isdigit() and int(args[0]) <= MAX_ID:
        card = await summary_card(int(args[0]), context, lang)
    if query is None or card is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await query.answer()
    await reply_blocks(update, [card])


async def cmd_article(update: Update, context: Context) -> None:
    """Send an article's whole text, split at paragraph boundaries."""
    lang = lang_of_update(update)
    article_id = parse_article_id(context.args or [])
    if article_id is None:
        await reply_text(update, esc(text(lang, "article_usage")))
        return
    store = context.bot_data.store
    article = await store.get_article(article_id)
    if article is None:
        await reply_text(update, esc(text(lang, "not_found_article", id=article_id)))
        return
    header = [f"<b>{esc(article.title)}</b>"]
    if article.subtitle:
        header.append(esc(article.subtitle))
    meta = esc(format_date(article.published_at, context.bot_data.tz))
    if article.source:
        meta += f" · {esc(text(lang, 'source_label'))}：{esc(article.source)}"
    if article.editor:
        meta += f" · 责任编辑：{esc(article.editor)}"
    header.append(meta)
    paragraphs = [esc(p) for p in article.body.split("\n") if p.strip()]
    blocks = ["\n".join(header), *paragraphs, link(article.url, article.url)]
    related = await store.article_related(article.id)
    if related:
        blocks.append(
            f"<b>{esc(text(lang, 'related'))}</b>\n"
            + "\n".join("• " + link(r.url, shorten(r.title, 80)) for r in related[:10])
        )
    await reply_blocks(update, blocks, sep="\n\n")
