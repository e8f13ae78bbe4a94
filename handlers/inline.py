"""Inline mode: `@bot 易炼红` or `@bot 营商环境` in any chat lists articles; one posts a card."""

from __future__ import annotations

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode

from handlers.context import Context
from handlers.render import also_in, esc, format_date, link, shorten
from handlers.search import SearchQuery, parse_search
from handlers.texts import language_of, text
from news.models import Article, Person
from news.nlp.people import normalize_name

# Telegram takes at most 50 results an answer; 20 fill a phone screen twice and keep the
# answer small.
PER_PAGE = 20
# The archive changes at each crawl, and the same query gives everyone the same answer.
CACHE_SECONDS = 60
TITLE_CHARS = 100
DESCRIPTION_CHARS = 120
CARD_SUMMARY_CHARS = 2000
# An offset is ours, but a client may send anything back: past this it cannot be one of ours.
MAX_OFFSET = 10_000
HELP_START = "inline_help"


def render_card(
    article: Article, summary: str, speakers: list[str], context: Context, lang: str
) -> str:
    """Render the card a chosen result posts: linked title, date, source, summary, who spoke."""
    lines = [f"<b>{link(article.url, shorten(article.title, 200))}</b>"]
    meta = esc(format_date(article.published_at, context.bot_data.tz))
    if article.source:
        meta += f" · {esc(text(lang, 'source_label'))}：{esc(article.source)}"
    lines.append(meta)
    if article.also:
        lines.append(esc(also_in(article.also, lang)))
    lines.append("")
    body = summary or shorten(article.body, 200)
    lines.append(esc(shorten(body, CARD_SUMMARY_CHARS)))
    if speakers:
        lines.append("")
        lines.append(f"🎤 {esc(text(lang, 'spoke_label'))}：{esc('、'.join(speakers))}")
    return "\n".join(lines)


def parse_said_offset(raw: str) -> tuple[int, int | None] | None:
    """Read an offset of `@bot NAME WORDS`: statements shown, then search results ("12.40")."""
    said, dot, rest = raw.partition(".")
    first = parse_offset(said) if said else None
    if first is None:
        return None
    if not dot:
        return first, None
    second = parse_offset(rest) if rest else None
    return (first, second) if second is not None else None


def parse_offset(raw: str) -> int | None:
    """Read the offset Telegram hands back (ours: digits); None if it cannot be ours."""
    if not raw:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) > MAX_OFFSET:
        return None
    return int(raw)


async def _person_named(parsed: SearchQuery, context: Context) -> Person | None:
    """Return the known person a one-word query names exactly (after simplification)."""
    if len(parsed.words) != 1 or parsed.since is not None or parsed.until is not None:
        return None
    name = normalize_name(parsed.words[0])
    if not name:
        return None
    return await context.bot_data.store.person_by_name(name)


async def _speaker_and_words(parsed: SearchQuery, context: Context) -> Person | None:
    """Return the known person the first of several words names exactly (`易炼红 营商环境`)."""
    if len(parsed.words) < 2:
        return None
    name = normalize_name(parsed.words[0])
    return await context.bot_data.store.person_by_name(name) if name else None


async def find_said_page(
    person: Person, parsed: SearchQuery, raw_offset: str, context: Context
) -> tuple[list[Article], str, dict[int, str]] | None:
    """Return a page for `NAME WORDS`: what the person said with the words, then the search.

    The offset is the statements shown, then (once they are all shown) "STATEMENTS.SEARCHED".
    None for an offset that cannot be ours. The third part: each statement, by article.
    """
    offsets = parse_said_offset(raw_offset) if raw_offset else (0, None)
    if offsets is None:
        return None
    said_shown, searched = offsets
    store = context.bot_data.store
    articles: list[Article] = []
    said: dict[int, str] = {}
    if searched is None:
        found, more = await store.person_said(
            person.id,
            parsed.words[1:],
            since=parsed.since,
            until=parsed.until,
            limit=PER_PAGE,
            offset=said_shown,
        )
        articles = [s.article for s in found]
        said = {s.article.id: s.statement for s in found}
        said_shown += len(found)
        if more:
            return articles, str(said_shown), said
        searched = 0
    hits, total = await store.search_articles(
        list(parsed.words),
        since=parsed.since,
        until=parsed.until,
        limit=PER_PAGE - len(articles),
        offset=searched,
    )
    shown = {a.id for a in articles}
    articles += [h.article for h in hits if h.article.id not in shown]
    searched += len(hits)
    more = searched < min(total, MAX_OFFSET)
    return articles, f"{said_shown}.{searched}" if more else "", said


async def find_page(
    parsed: SearchQuery | None, offset: int, context: Context
) -> tuple[list[Article], str]:
    """Return one page of articles for a query (None: the latest) and the next offset ("")."""
    store = context.bot_data.store
    if parsed is None:
        newest = await store.latest_articles(PER_PAGE + 1, offset)
        more = len(newest) > PER_PAGE
        return newest[:PER_PAGE], str(offset + PER_PAGE) if more else ""
    articles: list[Article] = []
    position = offset
    spoke_total = 0
    person = await _person_named(parsed, context)
    if person is not None:
        # A leader's name: the articles where that person spoke come first, then the rest.
        spoke_total = await store.count_person_statements(person.id)
        if position < spoke_total:
            statements = await store.person_statements(person.id, PER_PAGE, position)
            articles = [s.article for s in statements]
            position += len(statements)
            if position < spoke_total or len(articles) >= PER_PAGE:
                return articles, str(position)
    search_offset = position - spoke_total
    hits, total = await store.search_articles(
        list(parsed.words),
        since=parsed.since,
        until=parsed.until,
        limit=PER_PAGE - len(articles),
        offset=search_offset,
    )
    found = [h.article for h in hits]
    position += len(found)
    if person is not None and found:
        # Those where the person spoke were listed already.
        speakers = await store.speakers_of_articles(a.id for a in found)
        found = [a for a in found if person.name not in speakers.get(a.id, [])]
    articles += found
    more = search_offset + len(hits) < total
    return articles, str(position) if more else ""


async def on_inline_query(update: Update, context: Context) -> None:
    """Answer an inline query with matching articles, newest first; empty: the latest."""
    query = update.inline_query
    if query is None:
        return
    lang = language_of(query.from_user.language_code if query.from_user else None)
    raw = query.query.strip()
    parsed = parse_search(raw, context.bot_data.tz) if raw else None
    person = await _speaker_and_words(parsed, context) if parsed is not None else None
    page: tuple[list[Article], str, dict[int, str]] | None = None
    if person is not None and parsed is not None:
        # A leader's name and words: what that person said with them first (as /said).
        page = await find_said_page(person, parsed, query.offset, context)
        offset: int | None = 0 if page is not None else None
    else:
        offset = parse_offset(query.offset)
    if offset is None or (raw and parsed is None):
        # Too long, too many words, a bad date range, a forged offset: no results, a hint.
        hint = InlineQueryResultsButton(text(lang, "inline_bad_query"), start_parameter=HELP_START)
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=False, button=hint)
        return
    said: dict[int, str] = {}
    if page is not None:
        articles, next_offset, said = page
    else:
        articles, next_offset = await find_page(parsed, offset, context)
    store = context.bot_data.store
    ids = [a.id for a in articles]
    summaries = await store.article_summaries(ids)
    speakers = await store.speakers_of_articles(ids)
    tz = context.bot_data.tz
    results = []
    for article in articles:
        summary = summaries.get(article.id, "")
        names = speakers.get(article.id, [])
        when = format_date(article.published_at, tz)[:10]
        # Two lines in Telegram's list: date and source, then the one-line summary.
        description = " · ".join(
            p for p in (when, article.source, also_in(article.also, lang)) if p
        )
        # What the person said, for `NAME WORDS`; else the summary.
        said_here = said.get(article.id)
        quoted = f"“{said_here}”" if said_here else summary or article.body
        description += "\n" + shorten(quoted, DESCRIPTION_CHARS)
        card = render_card(article, summary, names, context, lang)
        results.append(
            InlineQueryResultArticle(
                id=str(article.id),
                title=shorten(article.title, TITLE_CHARS),
                description=description,
                url=article.url,
                input_message_content=InputTextMessageContent(
                    card,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
            )
        )
    button: InlineQueryResultsButton | None = None
    if not raw and not query.offset:
        button = InlineQueryResultsButton(
            text(lang, "inline_help_button"), start_parameter=HELP_START
        )
    await query.answer(
        results,
        cache_time=CACHE_SECONDS,
        is_personal=False,
        next_offset=next_offset,
        button=button,
    )
