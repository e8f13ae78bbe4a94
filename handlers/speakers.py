"""/speaker NAME|TITLE|PINYIN and /speakers: who said what, where, newest first."""

from __future__ import annotations

import asyncio
import difflib
import re
from datetime import UTC, datetime, timedelta, tzinfo

from telegram import InlineKeyboardButton, Update

from handlers.context import Context
from handlers.keyboards import (
    chart_row,
    export_row,
    markup,
    page_count,
    paging_row,
    parse_callback,
    said_ask_row,
    summary_buttons,
)
from handlers.render import check_callback_data, esc, format_date, link, shorten
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text, show_page
from handlers.texts import text
from news.models import Appearance, Person
from news.nlp.fold import to_simplified
from news.nlp.people import gazetteer_terms, name_pinyin, normalize_name, title_matches

PER_PAGE = 5
MAX_QUERY_CHARS = 30
STATEMENT_CHARS = 160
TOP_DAYS = 7

_PINYIN_RE = re.compile(r"^[a-zA-Z][a-zA-Z' \-]*$")
_HAS_WORD_RE = re.compile(r"[\w]", re.UNICODE)


def clean_query(raw: str) -> str | None:
    """Normalise a /speaker query; None if it cannot name anybody."""
    raw = raw.strip()
    if not raw or len(raw) > MAX_QUERY_CHARS or not _HAS_WORD_RE.search(raw):
        return None
    return raw


async def resolve(query: str, context: Context) -> tuple[list[Person], bool]:
    """Find the people a query means: (people, matched_by_title)."""
    store = context.bot_data.store
    if _PINYIN_RE.match(query):
        pinyin = re.sub(r"[^a-z]", "", query.lower())
        return await store.people_by_pinyin(pinyin), False
    name = normalize_name(query)
    if name:
        person = await store.person_by_name(name)
        if person is not None:
            return [person], False
        by_pinyin = await store.people_by_pinyin(name_pinyin(name))
        if len(name) >= 2 and by_pinyin and all(len(p.name) == len(name) for p in by_pinyin):
            # Same sound, other characters (a typo like 易练红): offered as suggestions.
            return [], False
    title = to_simplified(query).replace(" ", "")
    if len(title) >= 2:
        holders = await store.people_by_title(title)
        if holders:
            return holders, True
    return [], False


async def suggestions(query: str, context: Context) -> list[str]:
    """Return up to five known names closest to the query, by characters or by sound."""
    known = await context.bot_data.store.all_people_names()
    if not known:
        return []
    # difflib over every known name is CPU work: off the event loop.
    return await asyncio.to_thread(closest_names, query, known)


def closest_names(query: str, known: list[tuple[str, str]]) -> list[str]:
    """Return up to five of the known (name, pinyin) pairs' names closest to the query."""
    name = normalize_name(query)
    sound = re.sub(r"[^a-z]", "", query.lower()) if _PINYIN_RE.match(query) else name_pinyin(name)
    scored: list[tuple[float, str]] = []
    for known_name, known_pinyin in known:
        by_chars = difflib.SequenceMatcher(None, name, known_name).ratio() if name else 0.0
        by_sound = difflib.SequenceMatcher(None, sound, known_pinyin).ratio() if sound else 0.0
        scored.append((max(by_chars, by_sound), known_name))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [n for score, n in scored[:5] if score >= 0.5]


def _day(moment: datetime | None, context: Context) -> str:
    return moment.astimezone(context.bot_data.tz).strftime("%Y-%m-%d") if moment else "—"


# What a /speaker page lists: every article the person appears in, or only their speeches.
EVERYTHING, SPEECHES = "a", "s"
_PERIOD_RE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2}))?$")


def role_counts_line(lang: str, counts: dict[str, int]) -> str:
    """Return 讲话 12 · 主持 5 · 出席 9 for a person's counts by role."""
    return " · ".join(f"{text(lang, 'role_' + role)} {n}" for role, n in counts.items() if n)


def person_header(lang: str, person: Person, counts: dict[str, int], context: Context) -> str:
    """Return a person's profile: name, title, articles, first and last seen, counts by role."""
    title = f"，{esc(person.latest_title)}" if person.latest_title else ""
    header = text(
        lang,
        "speaker_profile",
        name=esc(person.name),
        title=title,
        count=person.article_count,
        first=esc(_day(person.first_seen, context)),
        last=esc(_day(person.last_seen, context)),
    )
    by_role = role_counts_line(lang, counts)
    return header + ("\n" + esc(by_role) if by_role else "")


async def send_person_page(
    update: Update,
    context: Context,
    person: Person,
    page: int,
    mode: str = EVERYTHING,
    intro: str = "",
) -> None:
    """Show a person's profile and one page of their articles (all of them, or speeches)."""
    lang = lang_of_update(update)
    store = context.bot_data.store
    counts = await store.person_role_counts(person.id)
    header = (intro + "\n\n" if intro else "") + person_header(lang, person, counts, context)
    speeches = counts.get("spoke", 0)
    total = speeches if mode == SPEECHES else person.article_count
    if total == 0:
        await show_page(
            update,
            header + "\n\n" + esc(text(lang, "speaker_no_speech", name=person.name)),
            markup([chart_row(lang, person.id)]),
        )
        return
    pages = page_count(total, PER_PAGE)
    if page >= pages:
        await answer_stale(update, text(lang, "stale"))
        return
    if mode == SPEECHES:
        statements = await store.person_statements(person.id, PER_PAGE, page * PER_PAGE)
        items = [Appearance(s.article, ("spoke",), s.title, s.statement) for s in statements]
        heading = "speaker_statements"
    else:
        items = await store.person_appearances(person.id, PER_PAGE, page * PER_PAGE)
        heading = "speaker_appearances"
    lines = [header, text(lang, heading, page=page + 1, pages=pages)]
    first = page * PER_PAGE + 1
    tz = context.bot_data.tz
    for number, item in enumerate(items, start=first):
        article = item.article
        said = shorten(item.statement.split("\n")[0], STATEMENT_CHARS) if item.statement else ""
        roles = "·".join(text(lang, "role_" + role) for role in item.roles)
        entry = (
            f"<b>{number}.</b> {esc(format_date(article.published_at, tz))} "
            + link(article.url, shorten(article.title, 80))
            + f" <code>#{article.id}</code>\n【{esc(roles)}】"
        )
        if item.title:
            entry += f" <i>{esc(item.title)}</i>"
        if said:
            entry += f"\n“{esc(said)}”"
        lines.append(entry)
    rows = summary_buttons(lang, [i.article.id for i in items], start=first)
    rows.append(paging_row(lang, page, pages, lambda p: f"spk:{person.id}:{p}:{mode}"))
    if speeches:
        other, label = (
            (EVERYTHING, "speaker_everything")
            if mode == SPEECHES
            else (
                SPEECHES,
                "speaker_only_speeches",
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text(lang, label),
                    callback_data=check_callback_data(f"spk:{person.id}:0:{other}"),
                )
            ]
        )
    rows.append(chart_row(lang, person.id))  # 活动图: its own row, handled by handlers.charts
    # 🔎 (what they said about some words) and 导出 (this list as CSV and XLSX).
    ask = said_ask_row(lang, person.id) if speeches else []
    rows.append(ask + export_row(lang, f"exp:p:{person.id}:{mode}"))
    await show_page(update, "\n\n".join(lines), markup(rows))


def split_period(query: str, tz: tzinfo) -> tuple[str, tuple[str, datetime, datetime] | None]:
    """Split `省长 2024-03` into the title and (the period as written, its start, its end)."""
    head, _, last = query.rpartition(" ")
    match = _PERIOD_RE.match(last)
    if not head.strip() or match is None:
        return query, None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    if month is not None and not 1 <= month <= 12:
        return query, None
    if month is None:
        since, until = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
        written = f"{year}"
    else:
        since = datetime(year, month, 1, tzinfo=tz)
        until = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        written = f"{year}-{month:02d}"
    return head.strip(), (written, since, until)


async def holders_at(
    title: str, since: datetime, until: datetime, context: Context
) -> tuple[list[Person], list[str]]:
    """Return who held a title in [since, until): stored people, and gazetteer names not stored."""
    # The gazetteer's terms come first (they are known facts); then people whose articles of that
    # time give them the title.
    store = context.bot_data.store
    last_day = until - timedelta(days=1)
    terms = gazetteer_terms(title, since.year, last_day.year)
    people: list[Person] = []
    missing: list[str] = []
    for name in dict.fromkeys(t.name for t in terms):
        person = await store.person_by_name(name)
        if person is None:
            missing.append(name)
        else:
            people.append(person)
    seen = {p.id for p in people}
    for person, held in await store.people_with_title_between(title, since, until):
        if person.id not in seen and title_matches(held, title):
            seen.add(person.id)
            people.append(person)
    return people, missing


async def reply_not_found(update: Update, context: Context, query: str, usage: str) -> None:
    """Say nobody is known by that name, suggest the closest names, and repeat the usage."""
    lang = lang_of_update(update)
    lines = [esc(text(lang, "speaker_not_found", query=query))]
    close = await suggestions(query, context)
    if close:
        lines.append(esc(text(lang, "speaker_suggest", names="、".join(close))))
    lines.append(esc(text(lang, usage)))
    await reply_blocks(update, lines)


async def cmd_speaker(update: Update, context: Context) -> None:
    """Show every article a leader appears in, found by name, title (and when), or pinyin."""
    lang = lang_of_update(update)
    query = clean_query(" ".join(context.args or []))
    if query is None:
        await reply_text(update, esc(text(lang, "speaker_usage")))
        return
    title, period = split_period(query, context.bot_data.tz)
    if period is not None:
        await send_title_at(update, context, to_simplified(title).replace(" ", ""), period)
        return
    people, by_title = await resolve(query, context)
    if not people:
        await reply_not_found(update, context, query, "speaker_usage")
        return
    if by_title or len(people) > 1:
        await send_holders(update, context, text(lang, "title_holders", query=esc(query)), people)
        return
    await send_person_page(update, context, people[0], 0)


async def send_title_at(
    update: Update, context: Context, title: str, period: tuple[str, datetime, datetime]
) -> None:
    """Answer /speaker TITLE PERIOD: who held the title then, then that person's page."""
    lang = lang_of_update(update)
    written, since, until = period
    people, missing = await holders_at(title, since, until, context)
    if not people and not missing:
        await reply_text(update, esc(text(lang, "title_at_none", query=title, period=written)))
        return
    names = "、".join([p.name for p in people] + missing)
    intro = text(lang, "title_at", query=esc(title), period=esc(written), names=esc(names))
    if missing:
        intro += "\n" + esc(text(lang, "title_at_not_stored", names="、".join(missing)))
    if len(people) == 1:
        await send_person_page(update, context, people[0], 0, intro=intro)
        return
    if not people:
        await reply_text(update, intro)
        return
    await send_holders(update, context, intro, people)


async def send_holders(
    update: Update, context: Context, heading: str, people: list[Person]
) -> None:
    """List several people (title holders, or a name several people share) with buttons."""
    lines = [heading]
    for number, person in enumerate(people, start=1):
        span = f"{_day(person.first_seen, context)} – {_day(person.last_seen, context)}"
        role = f"，{esc(person.latest_title)}" if person.latest_title else ""
        lines.append(f"<b>{number}. {esc(person.name)}</b>{role}\n{esc(span)}")
    buttons = [
        InlineKeyboardButton(
            p.name, callback_data=check_callback_data(f"spk:{p.id}:0:{EVERYTHING}")
        )
        for p in people[:8]
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    await reply_blocks(update, lines, reply_markup=markup(rows))


async def cb_speaker_page(update: Update, context: Context) -> None:
    """Turn a /speaker list to another page or view, or open a person from a list."""
    lang = lang_of_update(update)
    query = update.callback_query
    data = query.data if query else None
    # spk:ID:PAGE from buttons sent before the speeches-or-everything view existed.
    args = parse_callback(data, "spk", 3) or parse_callback(data, "spk", 2)
    if args is None or not args[0].isdigit() or not args[1].isdigit():
        await answer_stale(update, text(lang, "stale"))
        return
    mode = args[2] if len(args) == 3 else SPEECHES
    if mode not in (EVERYTHING, SPEECHES):
        await answer_stale(update, text(lang, "stale"))
        return
    person = await context.bot_data.store.get_person(int(args[0]))
    if person is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await send_person_page(update, context, person, int(args[1]), mode)


async def cmd_speakers(update: Update, context: Context) -> None:
    """Show who spoke in the most articles in the last 7 days."""
    lang = lang_of_update(update)
    since = datetime.now(UTC) - timedelta(days=TOP_DAYS)
    top = await context.bot_data.store.top_speakers(since, limit=10)
    if not top:
        await reply_text(update, esc(text(lang, "speakers_none")))
        return
    lines = [text(lang, "speakers_title")]
    unit = esc(text(lang, "articles_unit"))
    for number, (person, count) in enumerate(top, start=1):
        role = f"，{esc(person.latest_title)}" if person.latest_title else ""
        lines.append(f"<b>{number}. {esc(person.name)}</b>{role} — {count} {unit}")
    buttons = [
        InlineKeyboardButton(
            p.name, callback_data=check_callback_data(f"spk:{p.id}:0:{EVERYTHING}")
        )
        for p, _ in top
    ]
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    await reply_blocks(update, lines, reply_markup=markup(rows))
