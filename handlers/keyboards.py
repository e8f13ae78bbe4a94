"""Inline keyboards: 摘要 buttons under headlines and 上一页/下一页 paging rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.render import check_callback_data
from handlers.texts import text

BUTTONS_PER_ROW = 5


def summary_buttons(
    lang: str, article_ids: Sequence[int], start: int = 1
) -> list[list[InlineKeyboardButton]]:
    """Return rows of 摘要 n buttons, one per listed article."""
    buttons = [
        InlineKeyboardButton(
            text(lang, "summary_button", n=number),
            callback_data=check_callback_data(f"sum:{article_id}"),
        )
        for number, article_id in enumerate(article_ids, start=start)
    ]
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def paging_row(
    lang: str, page: int, pages: int, data_for: Callable[[int], str]
) -> list[InlineKeyboardButton]:
    """Return the 上一页 / 下一页 buttons for a page (0-based) of `pages`."""
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                text(lang, "prev"), callback_data=check_callback_data(data_for(page - 1))
            )
        )
    if page + 1 < pages:
        row.append(
            InlineKeyboardButton(
                text(lang, "next"), callback_data=check_callback_data(data_for(page + 1))
            )
        )
    return row


def markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    """Return a keyboard of the non-empty rows, or None when there are none."""
    kept = [list(r) for r in rows if r]
    return InlineKeyboardMarkup(kept) if kept else None


def parse_callback(data: str | None, action: str, arity: int) -> list[str] | None:
    """Split `action:a:b…` callback data into its arguments, or None if it is not that shape."""
    if not data:
        return None
    parts = data.split(":")
    if parts[0] != action or len(parts) != arity + 1:
        return None
    return parts[1:]


def page_count(total: int, per_page: int) -> int:
    """Return how many pages `total` items fill (at least one)."""
    return max(1, -(-total // per_page))


def chart_row(lang: str, person_id: int) -> list[InlineKeyboardButton]:
    """Return the row with the 活动图 button that charts a person (handled by cb_chart)."""
    data = check_callback_data(f"chart:{person_id}")
    return [InlineKeyboardButton(text(lang, "chart_button"), callback_data=data)]


def export_row(lang: str, data: str) -> list[InlineKeyboardButton]:
    """Return the row with the 导出 button (handled by handlers.export)."""
    label = text(lang, "export_button")
    return [InlineKeyboardButton(label, callback_data=check_callback_data(data))]


def said_ask_row(lang: str, person_id: int) -> list[InlineKeyboardButton]:
    """Return the row with a /speaker page's 🔎 button, which asks for words (handlers.said)."""
    data = check_callback_data(f"sda:{person_id}")
    return [InlineKeyboardButton(text(lang, "said_ask_button"), callback_data=data)]
