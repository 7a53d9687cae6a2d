"""Office hours of a sleutelpersoon: when they may be contacted, and when they next may be.

Rule kept here: a sleutelpersoon is reachable at an instant only if, on the wall clock of
their own time zone, that instant falls inside one of their weekly windows, on a day that is
neither a day off (leave, a public holiday they did not opt into) nor outside the schedule.
Everything is a pure function of the schedule and an instant that the caller passes in; there
is no clock here. Instants must be timezone-aware.

Daylight saving time: windows are wall-clock times. A window that starts inside the spring
gap (02:00-03:00 does not exist) opens at the first wall-clock minute after the gap; in the
autumn, an hour that occurs twice is within hours both times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Amsterdam"
# How far ahead `next_opening` looks before concluding that a schedule never opens again.
SEARCH_HORIZON_DAYS = 400


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    """One stretch of office hours on a weekday (0 = Monday), wall-clock `start` to `end`.

    `end` of midnight (time(0)) means the end of the day; a window over midnight is two windows.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are wall-clock times without a time zone")
        if self.end != time(0) and self.end <= self.start:
            raise ValueError(f"window must end after it starts ({self.start}-{self.end})")

    def contains(self, wall_clock: time) -> bool:
        return self.start <= wall_clock and (self.end == time(0) or wall_clock < self.end)


@dataclass(frozen=True)
class Schedule:
    """Weekly windows in one time zone, minus days off."""

    windows: tuple[WeeklyWindow, ...]
    timezone: str = DEFAULT_TIMEZONE
    days_off: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows_on(self, day: date) -> tuple[WeeklyWindow, ...]:
        if day in self.days_off:
            return ()
        return tuple(sorted(w for w in self.windows if w.weekday == day.weekday()))


def is_within(schedule: Schedule, instant: datetime) -> bool:
    """True when `instant` falls inside the schedule's office hours."""
    local = _local(schedule, instant)
    if local.date() in schedule.days_off:
        return False
    weekday, wall_clock = local.weekday(), local.time()
    return any(w.weekday == weekday and w.contains(wall_clock) for w in schedule.windows)


def next_opening(schedule: Schedule, instant: datetime) -> datetime | None:
    """The earliest moment at or after `instant` that is within hours (UTC), or None if never."""
    for opens, closes in _intervals_from(schedule, instant):
        if closes > instant:
            return max(opens, _utc(instant))
    return None


def current_window_end(schedule: Schedule, instant: datetime) -> datetime | None:
    """When the office-hours stretch containing `instant` ends (UTC); None when outside hours.

    Adjacent windows (09:00-12:00 and 12:00-17:00) count as one stretch.
    """
    if not is_within(schedule, instant):
        return None
    return next(closes for _opens, closes in _intervals_from(schedule, instant) if closes > instant)


def add_office_time(schedule: Schedule, instant: datetime, duration: timedelta) -> datetime | None:
    """The moment at which `duration` of office time has passed since `instant` (UTC).

    Time outside office hours does not count, so a 10-minute offer made at 16:55 with hours
    until 17:00 expires at 09:05 the next working day. None when the schedule does not provide
    that much office time within the search horizon.
    """
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    remaining = duration
    for opens, closes in _intervals_from(schedule, instant):
        if closes <= instant:
            continue
        start = max(opens, _utc(instant))
        if start + remaining <= closes:
            return start + remaining
        remaining -= closes - start
    return None


def _intervals_from(schedule: Schedule, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Office-hours intervals in UTC, in order, from the local day before `instant` on.

    Overlapping and touching windows are merged, so no office minute is counted twice.
    """
    zone = schedule.zone
    first_day = _local(schedule, instant).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for offset in range(SEARCH_HORIZON_DAYS + 1):
        day = first_day + timedelta(days=offset)
        for window in schedule.windows_on(day):
            opens = _wall_clock_to_utc(day, window.start, zone)
            end_day, end_time = (
                (day + timedelta(days=1), time(0)) if window.end == time(0) else (day, window.end)
            )
            closes = _wall_clock_to_utc(end_day, end_time, zone)
            if closes <= opens:
                continue
            if pending is not None and opens <= pending[1]:
                pending = (pending[0], max(pending[1], closes))
                continue
            if pending is not None:
                yield pending
            pending = (opens, closes)
    if pending is not None:
        yield pending


def _wall_clock_to_utc(day: date, wall_clock: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the wall clock on `day` shows `wall_clock` or has passed it.

    A wall-clock time inside a spring-forward gap never shows; it maps to the end of the gap.
    In an hour that occurs twice, it maps to the first occurrence.
    """
    wanted = datetime.combine(day, wall_clock)
    instant = wanted.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wanted:
        return instant
    # In a gap: step from the earliest reading of the wall time to the minute the clock jumps
    # past it (transitions fall on whole minutes).
    probe = wanted.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while probe.astimezone(zone).replace(tzinfo=None) < wanted:
        probe += timedelta(minutes=1)
    return probe


def _local(schedule: Schedule, instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(schedule.zone)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(UTC)
