"""What the dashboard takes from a URL, query or form: ids, numbers and dates within bounds.

Rules kept here, for every route (`dashboard.web.Pages.page` applies the path's):
- An id names a row by its primary key, an INTEGER column (32-bit on PostgreSQL): an id
  outside 1..2**31-1 names nothing. In a path it answers 404 like any other unknown id; in a
  query or form it counts as not given.
- A date in a filter lies between `FIRST_FILTER_DAY` and `FILTER_YEARS_AHEAD` years after
  today: a date outside answers 400 with `DATE_OUT_OF_RANGE`, one that is no date is ignored.
- Capacities and leave follow the profile rules of `bot.profiles` (`MAX_CAPACITY`,
  `leave_problems`), the same for the dashboard and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from dashboard.i18n import N_

ROW_IDS = range(1, 2**31)
# Nothing in the database is older than the project; the end leaves room for planned leave.
FIRST_FILTER_DAY = date(2000, 1, 1)
FILTER_YEARS_AHEAD = 5
DATE_OUT_OF_RANGE = N_("Dates must lie between the year 2000 and five years from today.")


class BadRequest(Exception):
    """A value the page cannot use; answers 400 with the message (a msgid)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def path_ids_valid(path_params: Mapping[str, Any]) -> bool:
    """Whether every id in the route's path (its `int` parameters) can name a row."""
    return all(value in ROW_IDS for value in path_params.values() if isinstance(value, int))


def row_id(text: str | None) -> int | None:
    """The id a query or form field gives (`"12"`), or None when it names no possible row."""
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number in ROW_IDS else None


def filter_day(text: str | None, today: date) -> date | None:
    """A date from a filter field (`2026-12-24`); None when empty or not a date, BadRequest
    when outside `FIRST_FILTER_DAY` .. `FILTER_YEARS_AHEAD` years after `today`."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    last = today + timedelta(days=365 * FILTER_YEARS_AHEAD)
    if day is not None and not FIRST_FILTER_DAY <= day <= last:
        raise BadRequest(DATE_OUT_OF_RANGE)
    return day
