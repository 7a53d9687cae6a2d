"""Weeks and months on the Dutch wall clock, as UTC instants for queries.

A week starts on Monday 00:00 in Amsterdam, a month on its first day; both survive daylight
saving time because the boundaries are made from local dates, then converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from dashboard.i18n import DISPLAY_ZONE

WEEKS_SHOWN = 8
MONTHS_SHOWN = 6


class Granularity(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    first_day: date
    next_first_day: date
    granularity: Granularity

    @property
    def start(self) -> datetime:
        return _instant(self.first_day)

    @property
    def end(self) -> datetime:
        return _instant(self.next_first_day)

    @property
    def key(self) -> str:
        """How the period is written in CSV and links: `2026-W49` or `2026-12`."""
        if self.granularity is Granularity.WEEK:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day:%Y-%m}"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), DISPLAY_ZONE).astimezone(UTC)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods_until(
    now: datetime, granularity: Granularity, count: int | None = None
) -> list[Period]:
    """The last `count` periods, oldest first, the current (unfinished) one last."""
    today = wall_date(now)
    found: list[Period] = []
    if granularity is Granularity.WEEK:
        monday = today - timedelta(days=today.weekday())
        for back in range(count or WEEKS_SHOWN):
            first = monday - timedelta(weeks=back)
            found.append(Period(first, first + timedelta(weeks=1), granularity))
    else:
        first = _month_start(today)
        for _ in range(count or MONTHS_SHOWN):
            found.append(Period(first, _next_month(first), granularity))
            first = _month_start(first - timedelta(days=1))
    return list(reversed(found))


def period_of(periods: list[Period], moment: datetime) -> Period | None:
    return next((period for period in periods if period.contains(moment)), None)


def parse_granularity(value: str | None) -> Granularity:
    return Granularity.MONTH if value == Granularity.MONTH else Granularity.WEEK


def wall_date(now: datetime) -> date:
    """Today on the Dutch wall clock."""
    return now.astimezone(DISPLAY_ZONE).date()


def start_of_day(day: date) -> datetime:
    """Midnight on the Dutch wall clock, as an instant."""
    return _instant(day)
