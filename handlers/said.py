"""/said NAME WORDS [FROM..TO]: what one person said containing every word, newest first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from telegram import ForceReply, Update

from handlers.context import Context
from handlers.keyboards import export_row, markup, paging_row, parse_callback, summary_buttons
from handlers.render import esc, format_date, highlight, link, shorten
from handlers.replies import answer_stale, lang_of_update, reply_text, show_page
from handlers.search import SearchQuery, parse_search
from handlers.speakers import clean_query, reply_not_found, resolve
from handlers.texts import text
from news.models import Person, Statement

PER_PAGE = 5
STATEMENT_CHARS = 220
# A saved /said query: "said PERSON_ID WORDS [RANGE]" in the chat's search history.
SAVED_PREFIX = "said "
# The 🔎 prompt names the person after the mark; a reply to it is a /said of that person.
_ASK_NAME_RE = re.compile(r"^🔎 ([^：:\s]+)[：:]")


@dataclass(frozen=True, slots=True)
class SaidQuery:
    """A parsed /said: who, the words, and the optional local date range."""

    person: Person
    search: SearchQuery
    rest: str  # the words and range as written


def period_text(search: SearchQuery, context: Context) -> str:
    """Return （2018-01-01–2020-12-31） for a ranged query, else ''."""
    if search.since is None and search.until is None:
        return ""
    tz = context.bot_data.tz
    low = search.since.astimezone(tz).strftime("%Y-%m-%d") if search.since else "…"
    if search.until is None:
        high = "…"
    else:
        high = (search.until.astimezone(tz) - timedelta(days=1)).strftime("%Y-%m-%d")
    return f"（{low}–{high}）"


async def parse_said(raw: str, context: Context) -> tuple[SaidQuery | None, str]:
    """Parse `NAME WORDS [RANGE]`; return the query, or None and why ('usage' or 'unknown')."""
    name, _, rest = raw.strip().partition(" ")
    query = clean_query(name)
    search = parse_search(rest, context.bot_data.tz) if rest.strip() else None
    if query is None or search is None:
        return None, "usage"
    people, _ = await resolve(query, context)
    if not people:
        return None, "unknown"
    # A title names its most recent holder (people_by_title's order).
    return SaidQuery(people[0], search, " ".join(rest.split())), ""


async def said_query_of(saved: str, context: Context) -> SaidQuery | None:
    """Return the /said query saved as "said PERSON_ID REST", or None if it is not one."""
    if not saved.startswith(SAVED_PREFIX):
        return None
    person_id, _, rest = saved[len(SAVED_PREFIX) :].partition(" ")
    if not person_id.isdigit():
        return None
    person = await context.bot_data.store.get_person(int(person_id))
    search = parse_search(rest, context.bot_data.tz)
    if person is None or search is None:
        return None
    return SaidQuery(person, search, rest)


def saved_form(said: SaidQuery) -> str:
    """Return what a chat's search history keeps of a /said query."""
    return f"{SAVED_PREFIX}{said.person.id} {said.rest}"


def render_statement(
    number: int, statement: Statement, words: tuple[str, ...], context: Context
) -> str:
    """Return one listed statement: number, date, linked title, #id and the highlighted words."""
    article = statement.article
    said = highlight(statement.statement, words, STATEMENT_CHARS)
    title = f" <i>{esc(statement.title)}</i>" if statement.title else ""
    return (
        f"<b>{number}.</b> {esc(format_date(article.published_at, context.bot_data.tz))} "
        + link(article.url, shorten(article.title, 80))
        + f" <code>#{article.id}</code>{title}\n“{said}”"
    )


async def send_said_page(
    update: Update, context: Context, query_id: int, said: SaidQuery, page: int
) -> None:
    """Show one page of a person's statements holding every word, with paging and 导出."""
    lang = lang_of_update(update)
    search = said.search
    found, more = await context.bot_data.store.person_said(
        said.person.id,
        list(search.words),
        since=search.since,
        until=search.until,
        limit=PER_PAGE,
        offset=page * PER_PAGE,
    )
    words = " ".join(search.words)
    period = period_text(search, context)
    if not found:
        if update.callback_query is not None and page > 0:
            await answer_stale(update, text(lang, "stale"))
            return
        none = text(lang, "said_none", name=said.person.name, query=words, period=period)
        await reply_text(update, esc(none) + "\n" + esc(text(lang, "said_usage")))
        return
    heading = text(
        lang,
        "said_title",
        name=esc(said.person.name),
        query=esc(shorten(words, 60)),
        period=esc(period),
        page=page + 1,
    )
    first = page * PER_PAGE + 1
    lines = [heading]
    lines += [
        render_statement(n, s, search.words, context) for n, s in enumerate(found, start=first)
    ]
    rows = summary_buttons(lang, [s.article.id for s in found], start=first)
    pages = page + 2 if more else page + 1
    rows.append(paging_row(lang, page, pages, lambda p: f"sd:{query_id}:{p}"))
    rows.append(export_row(lang, f"exp:d:{query_id}"))
    await show_page(update, "\n\n".join(lines), markup(rows))


async def answer_said(update: Update, context: Context, raw: str) -> None:
    """Answer `NAME WORDS [RANGE]`: the first page, the closest names, or the usage."""
    lang = lang_of_update(update)
    chat = update.effective_chat
    said, why = await parse_said(raw, context)
    if said is None or chat is None:
        if why == "unknown":
            await reply_not_found(update, context, raw.split()[0], "said_usage")
        else:
            await reply_text(update, esc(text(lang, "said_usage")))
        return
    query_id = await context.bot_data.store.save_search_query(chat.id, saved_form(said))
    await send_said_page(update, context, query_id, said, 0)


async def cmd_said(update: Update, context: Context) -> None:
    """List what a leader said containing every word, newest first."""
    await answer_said(update, context, " ".join(context.args or []))


async def cb_said_page(update: Update, context: Context) -> None:
    """Turn a /said result to another page."""
    lang = lang_of_update(update)
    query = update.callback_query
    chat = update.effective_chat
    args = parse_callback(query.data if query else None, "sd", 2)
    if args is None or chat is None or not args[0].isdigit() or not args[1].isdigit():
        await answer_stale(update, text(lang, "stale"))
        return
    saved = await context.bot_data.store.search_query(chat.id, int(args[0]))
    said = await said_query_of(saved, context) if saved is not None else None
    if said is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await send_said_page(update, context, int(args[0]), said, int(args[1]))


async def cb_said_ask(update: Update, context: Context) -> None:
    """Ask for the words to find in a person's speeches, as a reply to a prompt."""
    lang = lang_of_update(update)
    query = update.callback_query
    args = parse_callback(query.data if query else None, "sda", 1)
    person = None
    if args is not None and args[0].isdigit():
        person = await context.bot_data.store.get_person(int(args[0]))
    message = update.effective_message
    if query is None or person is None or message is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await query.answer()
    # The prompt names the person: the reply is read from it, so no state is kept anywhere.
    await message.reply_text(
        text(lang, "said_ask", name=person.name),
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=text(lang, "said_ask_placeholder")
        ),
        do_quote=False,
    )


async def on_said_reply(update: Update, context: Context) -> None:
    """Read a reply to the 🔎 prompt as /said of the person it names."""
    message = update.effective_message
    if message is None or message.text is None or message.reply_to_message is None:
        return
    prompt = message.reply_to_message
    bot_id = context.bot.id
    if prompt.from_user is None or prompt.from_user.id != bot_id or not prompt.text:
        return
    match = _ASK_NAME_RE.match(prompt.text)
    if match is None:
        return
    await answer_said(update, context, f"{match.group(1)} {message.text}")
