"""Office hours from their definition, to judge the bot by (issue 4, requirements 5 and 10).

A sleutelpersoon may be contacted at an instant when, on the wall clock of Europe/Amsterdam,
it falls inside one of their weekly windows, on a day that is not leave, not before the end
of an `/away`, and not a Dutch public holiday unless they opted in. Written here again on
purpose, from that sentence and the `holidays` package only: it shares no code with
matching/office_hours.py or bot/directory.py, whose answers it is meant to check. Instants are
looked at one by one (no intervals, no offsets), so DST needs no special case: a wall-clock
time that does not exist in spring is never seen, one that occurs twice in autumn is seen twice.
Instants are taken to UTC before any arithmetic: adding to a datetime in a ZoneInfo zone adds
wall-clock time, which skips or repeats an hour at the turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MIDNIGHT = time(0)


@dataclass(frozen=True)
class Hours:
    """One sleutelpersoon's hours as the coordinator entered them."""

    # (weekday with 0 = Monday, start, end); an end of 00:00 is the end of the day.
    windows: tuple[tuple[int, time, time], ...]
    leave: tuple[tuple[date, date], ...] = ()  # first and last day, both off
    away_until: date | None = None  # `/away` up to and including this day
    works_on_public_holidays: bool = False

    def reachable(self, instant: datetime) -> bool:
        """Whether the bot may send this person anything at `instant`."""
        local = instant.astimezone(UTC).astimezone(AMSTERDAM)
        return self._day_may_work(local.date()) and any(
            weekday == local.weekday()
            and start <= local.time()
            and (end == MIDNIGHT or local.time() < end)
            for weekday, start, end in self.windows
        )

    def next_reachable(self, instant: datetime, horizon: timedelta) -> datetime | None:
        """The first instant from `instant` on (then on whole minutes) that is reachable,
        looking no further than `horizon`; None when there is none."""
        if self.reachable(instant):
            return instant
        instant = instant.astimezone(UTC)
        moment = instant.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = instant + horizon
        while moment <= end:
            local = moment.astimezone(AMSTERDAM)
            if not self._day_may_work(local.date()) or local.weekday() not in {
                weekday for weekday, _start, _end in self.windows
            }:
                # Nothing on this local day: go on at the next local midnight.
                next_day = datetime.combine(local.date() + timedelta(days=1), MIDNIGHT, AMSTERDAM)
                moment = max(moment + timedelta(minutes=1), next_day.astimezone(UTC))
                continue
            if self.reachable(moment):
                return moment
            moment += timedelta(minutes=1)
        return None

    def _day_may_work(self, day: date) -> bool:
        if any(first <= day <= last for first, last in self.leave):
            return False
        if self.away_until is not None and day <= self.away_until:
            return False
        return self.works_on_public_holidays or day not in dutch_public_holidays(day.year)


@cache
def dutch_public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))
