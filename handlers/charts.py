"""/chart NAME, the 活动图 button and /trend WORD [FROM..TO]: monthly counts as PNG charts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from handlers.chart_cache import Chart
from handlers.context import Context
from handlers.keyboards import markup, parse_callback
from handlers.render import check_callback_data, esc, shorten
from handlers.replies import answer_stale, lang_of_update, reply_blocks, reply_text
from handlers.search import parse_range, parse_search
from handlers.speakers import clean_query, reply_not_found, resolve
from handlers.texts import text
from news.chart_worker import ROLE_COLOURS, TREND_COLOUR
from news.models import ACTIVITY_ROLES, MonthSeries, PeriodCount, Person
from storage import TOP_SPEAKERS_CAP

logger = logging.getLogger(__name__)

CHART_MONTHS = 24
MAX_TREND_MONTHS = 240
# "Sending a photo…" is shown once a chart takes longer than this (a cached one never does),
# and renewed before Telegram lets it lapse (it shows an action for about 5 s).
UPLOAD_ACTION_AFTER_SECONDS = 1.0
UPLOAD_ACTION_EVERY_SECONDS = 4.0


def month_start(year: int, month: int, tz: ZoneInfo) -> datetime:
    """Return the first instant of a local month (months may run past 12 or below 1)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=tz)


def last_months(
    now: datetime, tz: ZoneInfo, count: int = CHART_MONTHS
) -> tuple[datetime, datetime]:
    """Return [since, until) covering the `count` local months up to and including now's."""
    local = now.astimezone(tz)
    until = month_start(local.year, local.month + 1, tz)
    since = month_start(local.year, local.month - count + 1, tz)
    return since, until


def months_between(since: datetime, until: datetime, tz: ZoneInfo) -> list[str]:
    """Return every local month that [since, until) touches, in order."""
    first = since.astimezone(tz)
    last = datetime.fromtimestamp(until.timestamp() - 1, tz)
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_bounds(since: datetime, until: datetime, tz: ZoneInfo) -> list[datetime]:
    """Return since, the start of every later local month before until, and until."""
    bounds = [since]
    for month in months_between(since, until, tz)[1:]:
        bounds.append(datetime(int(month[:4]), int(month[5:]), 1, tzinfo=tz))
    bounds.append(until)
    return bounds


def monthly(
    counts: Iterable[PeriodCount], months: Sequence[str], labels: Sequence[str]
) -> MonthSeries:
    """Lay per-period counts (period i: months[i]) out as one series per label."""
    series = {label: [0] * len(months) for label in labels}
    for item in counts:
        if 0 <= item.period < len(months) and item.label in series:
            series[item.label][item.period] += item.count
    return MonthSeries(tuple(months), series)


def busiest(data: MonthSeries) -> tuple[str, int, int]:
    """Return the busiest month, its count and the total over every series."""
    totals = [sum(values) for values in zip(*data.series.values(), strict=True)]
    best = max(range(len(totals)), key=lambda i: (totals[i], i))  # latest month wins ties
    return data.months[best], totals[best], sum(totals)


# --- a person's activity ------------------------------------------------------------------


async def person_chart(
    context: Context,
    person: Person,
    lang: str,
    window: tuple[datetime, datetime] | None = None,
) -> Chart:
    """Return a person's chart, from the cache or freshly drawn.

    Without a window: the last 24 months, or, for someone not named in them, the 24 months up
    to their last article (the caption says so).
    """
    bot_data = context.bot_data
    tz = bot_data.tz
    last_active = False
    if window is None:
        since, until = last_months(datetime.now(UTC), tz)
        if person.last_seen is not None and person.last_seen < since:
            since, until = last_months(person.last_seen, tz)
            last_active = True
    else:
        since, until = window
    key = ("person", person.id, lang, since.isoformat(), until.isoformat())
    cached = bot_data.charts.get(key)
    if cached is not None:
        return cached
    months = months_between(since, until, tz)
    counts = await bot_data.store.person_activity(person.id, month_bounds(since, until, tz))
    data = monthly(counts, months, ACTIVITY_ROLES)
    name = person.name
    span = {"first": months[0], "last": months[-1]}
    month, most, total = busiest(data)
    if total == 0:
        chart = Chart(esc(text(lang, "chart_nothing", name=name, **span)))
    else:
        labels = {role: text(lang, f"role_{role}") for role in ACTIVITY_ROLES}
        parts = " · ".join(
            f"{labels[role]} {sum(data.series[role])}"
            for role in ACTIVITY_ROLES
            if sum(data.series[role])
        )
        caption = text(
            lang,
            "chart_caption",
            name=esc(name),
            total=total,
            parts=esc(parts),
            busiest=month,
            most=most,
            **span,
        )
        if last_active:
            caption += esc(text(lang, "chart_last_active", months=CHART_MONTHS))
        png = await bot_data.renderer.render(
            data,
            title=text(lang, "chart_title", name=name, **span),
            labels=labels,
            colours=ROLE_COLOURS,
            y_label=text(lang, "chart_axis"),
        )
        bot_data.charts.renders += 1
        chart = Chart(caption, png)
    bot_data.charts.put(key, chart)
    return chart


@contextlib.asynccontextmanager
async def uploading_photo(update: Update, context: Context) -> AsyncIterator[None]:
    """Show "sending a photo…" in the chat while a slow chart is drawn (or its worker starts)."""
    chat = update.effective_chat
    if chat is None:
        yield
        return
    chat_id = chat.id

    async def keep_saying() -> None:
        await asyncio.sleep(UPLOAD_ACTION_AFTER_SECONDS)
        while True:
            try:
                await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
            except TelegramError as exc:
                # Only a courtesy: the chart itself still goes out.
                logger.info("chat action in %s failed: %s", chat_id, exc)
                return
            await asyncio.sleep(UPLOAD_ACTION_EVERY_SECONDS)

    task = asyncio.create_task(keep_saying())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send_chart(update: Update, chart: Chart) -> None:
    """Send a chart as a photo with its caption (or its sentence when there is nothing to plot)."""
    message = update.effective_message
    if message is None:
        return
    if chart.png is None:
        await reply_text(update, chart.caption)
        return
    sent = await message.reply_photo(
        photo=chart.file_id or chart.png,
        caption=chart.caption,
        parse_mode=ParseMode.HTML,
        do_quote=False,
    )
    if sent.photo and chart.file_id is None:
        # The same picture goes to the next chat by Telegram's id, not uploaded again.
        chart.file_id = sent.photo[-1].file_id


def chart_args(
    args: list[str], tz: ZoneInfo, now: datetime
) -> tuple[str | None, tuple[datetime, datetime] | None] | None:
    """Split /chart's arguments into the name and an optional FROM..TO; None if unusable."""
    window = None
    if args:
        try:
            bounds = parse_range(args[-1], tz)
        except ValueError:
            return None
        if bounds is not None:
            window = trend_window(*bounds, tz, now)
            if window is None:
                return None
            args = args[:-1]
    return clean_query(" ".join(args)), window


async def cmd_chart(update: Update, context: Context) -> None:
    """Send a PNG of a leader's articles per month (two years, or a range), stacked by role."""
    lang = lang_of_update(update)
    parsed = chart_args(context.args or [], context.bot_data.tz, datetime.now(UTC))
    query, window = parsed if parsed is not None else (None, None)
    if query is None:
        await reply_text(update, esc(text(lang, "chart_usage")))
        return
    people, by_title = await resolve(query, context)
    if not people:
        await reply_not_found(update, context, query, "chart_usage")
        return
    if by_title or len(people) > 1:
        buttons = [
            InlineKeyboardButton(p.name, callback_data=check_callback_data(f"chart:{p.id}"))
            for p in people[:8]
        ]
        rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
        await reply_blocks(
            update, [text(lang, "chart_pick", query=esc(query))], reply_markup=markup(rows)
        )
        return
    async with uploading_photo(update, context):
        chart = await person_chart(context, people[0], lang, window)
    await send_chart(update, chart)


async def cb_chart(update: Update, context: Context) -> None:
    """Answer a 活动图 button with the person's chart, as a new message."""
    lang = lang_of_update(update)
    query = update.callback_query
    args = parse_callback(query.data if query else None, "chart", 1)
    person = None
    if args is not None and args[0].isascii() and args[0].isdigit() and len(args[0]) < 19:
        person = await context.bot_data.store.get_person(int(args[0]))
    if query is None or person is None:
        await answer_stale(update, text(lang, "stale"))
        return
    await query.answer()
    async with uploading_photo(update, context):
        chart = await person_chart(context, person, lang)
    await send_chart(update, chart)


# --- a word's trend -------------------------------------------------------------------------


async def trend_chart(
    context: Context,
    words: tuple[str, ...],
    since: datetime,
    until: datetime,
    lang: str,
    *,
    default_window: bool = False,
) -> Chart:
    """Return the chart of how many articles a month contain every word, cached or drawn.

    With `default_window` (no range asked for) and no match in it, the 24 months up to the
    newest match are drawn instead, and the caption says so.
    """
    bot_data = context.bot_data
    tz = bot_data.tz
    key = ("trend", words, since.isoformat(), until.isoformat(), lang)
    cached = bot_data.charts.get(key)
    if cached is not None:
        return cached
    store = bot_data.store
    counts = await store.search_activity(list(words), month_bounds(since, until, tz))
    last_active = False
    if default_window and not any(c.count for c in counts):
        newest, _ = await store.search_articles(list(words), until=since, limit=1)
        if newest:
            since, until = last_months(newest[0].article.published_at, tz)
            counts = await store.search_activity(list(words), month_bounds(since, until, tz))
            last_active = True
    months = months_between(since, until, tz)
    data = monthly(counts, months, [""])
    shown = shorten(" ".join(words), 40)
    span = {"first": months[0], "last": months[-1]}
    month, most, total = busiest(data)
    if total == 0:
        chart = Chart(esc(text(lang, "trend_nothing", query=shown, **span)))
    else:
        caption = text(
            lang, "trend_caption", query=esc(shown), total=total, busiest=month, most=most, **span
        )
        if last_active:
            caption += esc(text(lang, "trend_last_active", months=CHART_MONTHS))
        top = await store.search_top_speakers(
            list(words), since, until, limit=3, newest=TOP_SPEAKERS_CAP
        )
        if top:
            names = "、".join(f"{person.name}（{count}）" for person, count in top)
            if total > TOP_SPEAKERS_CAP:
                # Counted in the newest matches only (the store's cap): the reply says so.
                cap = f"{TOP_SPEAKERS_CAP:,}"
                caption += esc(text(lang, "trend_speakers_newest", cap=cap, names=names))
            else:
                caption += esc(text(lang, "trend_speakers", names=names))
        png = await bot_data.renderer.render(
            data,
            title=text(lang, "trend_title", query=shown, **span),
            labels={"": text(lang, "chart_axis")},
            colours={"": TREND_COLOUR},
            y_label=text(lang, "chart_axis"),
        )
        bot_data.charts.renders += 1
        chart = Chart(caption, png)
    bot_data.charts.put(key, chart)
    return chart


def trend_window(
    since: datetime | None, until: datetime | None, tz: ZoneInfo, now: datetime
) -> tuple[datetime, datetime] | None:
    """Fill in a /trend date range (the last 24 months by default); None if it is too long."""
    if since is None and until is None:
        return last_months(now, tz)
    if until is None:
        until = last_months(now, tz)[1]
    if since is None:
        local = until.astimezone(tz)
        since = month_start(local.year, local.month - CHART_MONTHS, tz)
    if since >= until or len(months_between(since, until, tz)) > MAX_TREND_MONTHS:
        return None
    return since, until


async def cmd_trend(update: Update, context: Context) -> None:
    """Send a PNG of how many articles a month contain the words, naming who spoke most."""
    lang = lang_of_update(update)
    tz = context.bot_data.tz
    parsed = parse_search(" ".join(context.args or []), tz)
    window = None
    if parsed is not None:
        window = trend_window(parsed.since, parsed.until, tz, datetime.now(UTC))
    if parsed is None or window is None:
        years = MAX_TREND_MONTHS // 12
        await reply_text(update, esc(text(lang, "trend_usage", years=years)))
        return
    default_window = parsed.since is None and parsed.until is None
    async with uploading_photo(update, context):
        chart = await trend_chart(
            context, parsed.words, *window, lang, default_window=default_window
        )
    await send_chart(update, chart)
