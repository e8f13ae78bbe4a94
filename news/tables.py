"""Results as tables for spreadsheets: the export's columns, CSV (UTF-8 with BOM) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from news.models import Article

# The export's columns, in order; `statement` only for /said.
COLUMNS = ("date", "source", "title", "url", "outlets", "speakers", "summary")
STATEMENT_COLUMN = "statement"
HEADERS_ZH = {
    "date": "日期",
    "source": "来源",
    "title": "标题",
    "url": "链接",
    "outlets": "刊载媒体",
    "speakers": "讲话及出席领导",
    "summary": "摘要",
    "statement": "讲话内容",
}
# Excel refuses cells over 32,767 characters.
XLSX_CELL_CHARS = 32_767


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in an article, with their role there and title as written."""

    name: str
    role: str
    title: str = ""


def speakers_cell(mentions: Iterable[Mention], role_names: dict[str, str]) -> str:
    """Return 易炼红（讲话·省委书记）；李乐成（出席） for an article's people.

    Roles follow role_names' order (the main role first).
    """
    rank = {role: i for i, role in enumerate(role_names)}
    by_person: dict[str, tuple[list[str], str]] = {}
    for m in sorted(mentions, key=lambda m: rank.get(m.role, len(rank))):
        roles, title = by_person.setdefault(m.name, ([], m.title))
        roles.append(role_names.get(m.role, m.role))
        if m.title and not title:
            by_person[m.name] = (roles, m.title)
    cells = []
    for name, (roles, title) in by_person.items():
        detail = "·".join(dict.fromkeys(roles)) + (f"·{title}" if title else "")
        cells.append(f"{name}（{detail}）")
    return "；".join(cells)


def article_row(
    article: Article,
    tz: tzinfo,
    *,
    outlets: Sequence[str],
    speakers: str,
    summary: str,
    statement: str | None = None,
) -> list[str]:
    """Return an article's cells in COLUMNS order (and the statement, for /said)."""
    when = article.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    row = [
        when,
        article.source,
        article.title,
        article.url,
        " · ".join(outlets),
        speakers,
        summary,
    ]
    if statement is not None:
        row.append(statement)
    return row


def headers(with_statement: bool, lang: str = "zh") -> list[str]:
    """Return the header row (Chinese by default, the column names in English)."""
    names = [*COLUMNS, STATEMENT_COLUMN] if with_statement else list(COLUMNS)
    return [HEADERS_ZH[n] for n in names] if lang == "zh" else names


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """Return the table as CSV in UTF-8 with a BOM, which Excel needs to read Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[str]], sheet: str) -> bytes:
    """Return the table as an XLSX workbook of one sheet (bold header, frozen, filters)."""
    import xlsxwriter

    buffer = io.BytesIO()
    # constant_memory: rows are flushed as written; in_memory: no temporary files.
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "constant_memory": True, "strings_to_urls": False}
    )
    page = book.add_worksheet(safe_sheet_name(sheet))
    bold = book.add_format({"bold": True})
    # Layout first: constant_memory writes each row out as soon as the next one starts.
    widths = {"date": 17, "source": 14, "title": 50, "url": 40, "summary": 60, "statement": 60}
    for column, name in enumerate([*COLUMNS, STATEMENT_COLUMN][: len(header)]):
        page.set_column(column, column, widths.get(name, 24))
    page.freeze_panes(1, 0)
    page.autofilter(0, 0, max(len(rows), 1), len(header) - 1)
    page.write_row(0, 0, list(header), bold)
    for number, row in enumerate(rows, start=1):
        page.write_row(number, 0, [cell[:XLSX_CELL_CHARS] for cell in row])
    book.close()
    return buffer.getvalue()


def safe_sheet_name(name: str) -> str:
    """Return a sheet name Excel takes: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("'") or "newsbot"
    return cleaned[:31]


def export_stamp(moment: datetime) -> str:
    """Return the time part of an export's file name (20240101-0930)."""
    return moment.strftime("%Y%m%d-%H%M")
