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
    return local.date() not in schedule.days_off and windows_contain(schedule.windows, local)


def windows_contain(windows: tuple[WeeklyWindow, ...], local: datetime) -> bool:
    """True when the wall clock of `local` (a time in the windows' own zone) is inside one of
    the weekly `windows`; days off are the caller's to check."""
    weekday, wall_clock = local.weekday(), local.time()
    return any(w.weekday == weekday and w.contains(wall_clock) for w in windows)


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
    first_day = _local(schedule, instant).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for offset in range(SEARCH_HORIZON_DAYS + 1):
        day = first_day + timedelta(days=offset)
        windows = schedule.windows_on(day)
        if not windows:
            continue
        clock = _DayClock(day, schedule.zone)
        pieces = sorted(piece for window in windows for piece in clock.real_intervals(window))
        for opens, closes in pieces:
            if pending is not None and opens <= pending[1]:
                pending = (pending[0], max(pending[1], closes))
                continue
            if pending is not None:
                yield pending
            pending = (opens, closes)
    if pending is not None:
        yield pending


class _DayClock:
    """How one local day's wall clock maps to real time: one UTC offset, or two around a
    daylight-saving transition (at most one transition happens in a day)."""

    def __init__(self, day: date, zone: ZoneInfo) -> None:
        midnight = datetime.combine(day, time(0))
        # Probe well outside the day, so that a transition anywhere in it lies between.
        self._before = midnight - timedelta(hours=14)
        after = midnight + timedelta(hours=38)
        self._offset_before = _offset_at(self._before, zone)
        self._offset_after = _offset_at(after, zone)
        self._transition = (
            None
            if self._offset_before == self._offset_after
            else _first_instant_with_offset(self._before, after, self._offset_after, zone)
        )

    def real_intervals(self, window: WeeklyWindow) -> Iterator[tuple[datetime, datetime]]:
        """The real-time intervals in which the wall clock shows a time inside `window`."""
        day = self._before.date() + timedelta(days=1)
        wall_open = datetime.combine(day, window.start)
        wall_close = (
            datetime.combine(day + timedelta(days=1), time(0))
            if window.end == time(0)
            else datetime.combine(day, window.end)
        )
        if self._transition is None:
            yield _real(wall_open, self._offset_before), _real(wall_close, self._offset_before)
            return
        # Before the transition the old offset applies, after it the new one.
        before = (
            _real(wall_open, self._offset_before),
            min(_real(wall_close, self._offset_before), self._transition),
        )
        after = (
            max(_real(wall_open, self._offset_after), self._transition),
            _real(wall_close, self._offset_after),
        )
        for opens, closes in (before, after):
            if opens < closes:
                yield opens, closes


def _offset_at(naive_utc: datetime, zone: ZoneInfo) -> timedelta:
    offset = naive_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _first_instant_with_offset(
    low: datetime, high: datetime, offset: timedelta, zone: ZoneInfo
) -> datetime:
    """Binary search (to the minute) for the transition between two naive UTC instants."""
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if _offset_at(middle, zone) == offset:
            high = middle
        else:
            low = middle
    return high.replace(tzinfo=UTC)


def _real(wall_clock: datetime, offset: timedelta) -> datetime:
    return (wall_clock - offset).replace(tzinfo=UTC)


def _local(schedule: Schedule, instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(schedule.zone)


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(UTC)


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekly_hours(spec: str) -> tuple[WeeklyWindow, ...]:
    """Read office hours written like `mon-fri 09:00-12:00 13:00-17:00; sat 10:00-12:00`.

    Parts are separated by `;`; each names a day or a range of days, then one or more
    `HH:MM-HH:MM` windows (`24:00` or `00:00` as the end means midnight). Raises ValueError
    with the offending part quoted.
    """
    windows: list[WeeklyWindow] = []
    for part in (piece.strip() for piece in spec.split(";")):
        if not part:
            continue
        days_text, *ranges = part.split()
        if not ranges:
            raise ValueError(f"no times in {part!r}; write e.g. 'mon 09:00-17:00'")
        days = _parse_days(days_text, part)
        for time_range in ranges:
            start, end = _parse_range(time_range, part)
            windows.extend(WeeklyWindow(day, start, end) for day in days)
    return tuple(windows)


def _parse_days(text: str, part: str) -> list[int]:
    first, _, last = text.lower().partition("-")
    if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
        raise ValueError(f"unknown day in {part!r}; use {', '.join(WEEKDAY_NAMES)}")
    start = WEEKDAY_NAMES.index(first)
    end = WEEKDAY_NAMES.index(last) if last else start
    if end < start:
        raise ValueError(f"day range runs backwards in {part!r}")
    return list(range(start, end + 1))


def _parse_range(text: str, part: str) -> tuple[time, time]:
    try:
        start_text, end_text = text.split("-")
        start = time.fromisoformat(start_text)
        end = time(0) if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"cannot read the times {text!r} in {part!r}; write HH:MM-HH:MM") from None
    if end != time(0) and end <= start:
        raise ValueError(f"window {text!r} in {part!r} must end after it starts")
    return start, end
