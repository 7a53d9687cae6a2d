"""Tables the dashboard shows, each also downloadable as CSV.

A page builds `Table`s from plain values; the template formats them for the reader's locale and
the CSV export writes the same rows in neutral form (ISO dates, seconds, dot decimals), so
what a coordinator downloads is exactly what they saw.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dashboard.i18n import DISPLAY_ZONE, Translator

# Spreadsheet programs run a cell starting with these as a formula (CSV injection): such text
# is written with a leading apostrophe. Names and signals are typed by people outside.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    PERCENT = "percent"
    DURATION = "duration"
    DATETIME = "datetime"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    title: str  # a msgid, or a name used as it is (e.g. a language) when `translate` is False
    kind: Kind = Kind.TEXT
    translate: bool = True


@dataclass
class Table:
    name: str  # the `table=` of its CSV link
    title: str  # a msgid
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    # Extra cells per row that are links (row index -> href), for HTML only.
    links: dict[int, str] = field(default_factory=dict)
    empty: str = "Nothing to show."


def cell_html(translator: Translator, column: Column, value: Any) -> str:
    """A cell as the reader sees it (escaped by the template)."""
    if value is None:
        return "–"
    if column.kind is Kind.NUMBER:
        return translator.number(value)
    if column.kind is Kind.PERCENT:
        return translator.percent(value)
    if column.kind is Kind.DURATION:
        return translator.duration(value)
    if column.kind is Kind.DATETIME:
        return translator.datetime(value)
    if column.kind is Kind.DATE:
        return translator.date(value)
    return str(value)


def cell_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, timedelta):
        return str(int(value.total_seconds()))
    if isinstance(value, datetime):
        return value.astimezone(DISPLAY_ZONE).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def column_title(translator: Translator, column: Column, csv: bool = False) -> str:
    title = translator.gettext(column.title) if column.translate else column.title
    if csv and column.kind is Kind.DURATION:
        unit = translator.gettext("seconds")
        return f"{title} ({unit})"
    return title


def to_csv(translator: Translator, table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell_csv(column_title(translator, c, csv=True)) for c in table.columns])
    for row in table.rows:
        writer.writerow([cell_csv(value) for value in row])
    # A byte order mark, so that spreadsheet programs read Arabic and Tigrinya names as UTF-8.
    return "\ufeff" + buffer.getvalue()
