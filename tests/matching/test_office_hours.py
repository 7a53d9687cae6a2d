"""Office hours: examples a coordinator would check by hand, and properties over random schedules.

The properties compare the fast interval arithmetic with a brute-force scan of every minute,
across daylight-saving transitions in Europe/Amsterdam.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.office_hours import (
    Schedule,
    WeeklyWindow,
    add_office_time,
    current_window_end,
    is_within,
    next_opening,
    parse_weekly_hours,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WORKDAYS_9_TO_17 = Schedule(tuple(WeeklyWindow(day, time(9), time(17)) for day in range(5)))
# 2026: clocks go forward on 29 March at 01:00 UTC and back on 25 October at 01:00 UTC.
DST_TRANSITIONS = (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC))


def amsterdam(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def test_saturday_night_waits_for_monday_morning() -> None:
    saturday_23 = amsterdam(2026, 12, 5, 23, 0)
    assert not is_within(WORKDAYS_9_TO_17, saturday_23)
    assert next_opening(WORKDAYS_9_TO_17, saturday_23) == amsterdam(2026, 12, 7, 9, 0)


def test_tuesday_morning_is_within_hours() -> None:
    tuesday_10 = amsterdam(2026, 12, 8, 10, 0)
    assert is_within(WORKDAYS_9_TO_17, tuesday_10)
    assert next_opening(WORKDAYS_9_TO_17, tuesday_10) == tuesday_10
    assert current_window_end(WORKDAYS_9_TO_17, tuesday_10) == amsterdam(2026, 12, 8, 17, 0)


def test_window_end_is_exclusive() -> None:
    assert is_within(WORKDAYS_9_TO_17, amsterdam(2026, 12, 8, 16, 59))
    assert not is_within(WORKDAYS_9_TO_17, amsterdam(2026, 12, 8, 17, 0))
    assert is_within(WORKDAYS_9_TO_17, amsterdam(2026, 12, 8, 9, 0))


def test_several_windows_a_day_and_adjacent_windows_join() -> None:
    schedule = Schedule(
        (
            WeeklyWindow(0, time(9), time(12)),
            WeeklyWindow(0, time(12), time(13)),
            WeeklyWindow(0, time(19), time(21)),
        )
    )
    monday_10 = amsterdam(2026, 12, 7, 10)
    assert current_window_end(schedule, monday_10) == amsterdam(2026, 12, 7, 13)
    assert next_opening(schedule, amsterdam(2026, 12, 7, 14)) == amsterdam(2026, 12, 7, 19)


def test_days_off_are_skipped() -> None:
    christmas = Schedule(WORKDAYS_9_TO_17.windows, days_off=frozenset({date(2026, 12, 25)}))
    assert not is_within(christmas, amsterdam(2026, 12, 25, 10))
    assert next_opening(christmas, amsterdam(2026, 12, 24, 18)) == amsterdam(2026, 12, 28, 9)


def test_offer_timeout_counts_only_office_time() -> None:
    friday_1655 = amsterdam(2026, 12, 11, 16, 55)
    expires = add_office_time(WORKDAYS_9_TO_17, friday_1655, timedelta(minutes=10))
    assert expires == amsterdam(2026, 12, 14, 9, 5)


def test_window_until_midnight() -> None:
    schedule = Schedule((WeeklyWindow(2, time(20), time(0)),))
    assert is_within(schedule, amsterdam(2026, 12, 9, 23, 59))
    assert not is_within(schedule, amsterdam(2026, 12, 10, 0, 0))


def test_window_starting_in_the_spring_gap_opens_when_the_clock_jumps() -> None:
    sunday_gap = Schedule((WeeklyWindow(6, time(2, 30), time(4)),))
    opening = next_opening(sunday_gap, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert opening == amsterdam(2026, 3, 29, 3, 0)


def test_the_repeated_autumn_hour_is_within_both_times() -> None:
    sunday_night = Schedule((WeeklyWindow(6, time(2), time(3)),))
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert is_within(sunday_night, first) and is_within(sunday_night, second)
    assert current_window_end(sunday_night, first) == datetime(2026, 10, 25, 2, tzinfo=UTC)


def test_empty_schedule_never_opens() -> None:
    assert next_opening(Schedule(()), amsterdam(2026, 12, 7, 9)) is None
    assert add_office_time(Schedule(()), amsterdam(2026, 12, 7, 9), timedelta(minutes=1)) is None


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [(7, time(9), time(17)), (0, time(17), time(9)), (0, time(9), time(9))],
)
def test_invalid_windows_are_refused(weekday: int, start: time, end: time) -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(weekday, start, end)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_within(WORKDAYS_9_TO_17, datetime(2026, 12, 7, 10))


# --- properties -----------------------------------------------------------------------------


@st.composite
def windows(draw: st.DrawFn) -> WeeklyWindow:
    # At least 15 minutes a window keeps the brute-force scans below a few weeks of minutes.
    start = draw(st.integers(min_value=0, max_value=24 * 60 - 15))
    length = draw(st.integers(min_value=15, max_value=24 * 60 - start))
    end = start + length
    return WeeklyWindow(
        draw(st.integers(min_value=0, max_value=6)),
        time(start // 60, start % 60),
        time(0) if end == 24 * 60 else time(end // 60, end % 60),
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    days_off = draw(st.frozensets(st.dates(date(2026, 3, 20), date(2026, 11, 5)), max_size=2))
    return Schedule(tuple(draw(st.lists(windows(), min_size=1, max_size=5))), days_off=days_off)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Whole minutes, often within a few hours of a DST transition."""
    if draw(st.booleans()):
        around = draw(st.sampled_from(DST_TRANSITIONS))
        return around + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    base = datetime(2026, 3, 22, tzinfo=UTC)
    return base + timedelta(minutes=draw(st.integers(0, 230 * 24 * 60)))


def brute_force_next_opening(
    schedule: Schedule, instant: datetime, limit: timedelta
) -> datetime | None:
    probe = instant
    while probe <= instant + limit:
        if is_within(schedule, probe):
            return probe
        probe += timedelta(minutes=1)
    return None


@settings(max_examples=150, deadline=None)
@given(schedules(), instants())
def test_next_opening_is_the_first_minute_within_hours(
    schedule: Schedule, instant: datetime
) -> None:
    opening = next_opening(schedule, instant)
    # Each day off can push a weekly window back by at most one week.
    assert opening is not None
    assert opening >= instant
    assert opening - instant <= timedelta(days=7 * (len(schedule.days_off) + 1))
    assert is_within(schedule, opening)
    assert brute_force_next_opening(schedule, instant, opening - instant) == opening
    assert (opening == instant) == is_within(schedule, instant)


@settings(max_examples=60, deadline=None)
@given(schedules(), instants(), st.integers(min_value=0, max_value=120))
def test_offer_timeout_spends_exactly_its_office_minutes(
    schedule: Schedule, instant: datetime, minutes: int
) -> None:
    expires = add_office_time(schedule, instant, timedelta(minutes=minutes))
    assert expires is not None
    counted, probe = 0, instant
    while probe < expires:
        counted += is_within(schedule, probe)
        probe += timedelta(minutes=1)
    assert counted == minutes
    if minutes:
        # It expires during office hours: the last counted minute was within hours.
        assert is_within(schedule, expires - timedelta(minutes=1))


@settings(max_examples=100, deadline=None)
@given(schedules(), instants())
def test_current_window_end_is_the_first_minute_outside(
    schedule: Schedule, instant: datetime
) -> None:
    end = current_window_end(schedule, instant)
    if not is_within(schedule, instant):
        assert end is None
        return
    assert end is not None and end > instant
    assert not is_within(schedule, end) or end - instant > timedelta(days=6)
    probe = instant
    while probe < end and probe - instant < timedelta(days=2):
        assert is_within(schedule, probe)
        probe += timedelta(minutes=1)


def test_weekly_hours_are_read_from_text() -> None:
    windows = parse_weekly_hours("mon-wed 09:00-12:00 13:00-17:00; sat 20:00-24:00")
    assert WeeklyWindow(0, time(9), time(12)) in windows
    assert WeeklyWindow(2, time(13), time(17)) in windows
    assert WeeklyWindow(5, time(20), time(0)) in windows
    assert len(windows) == 7


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("mon-fry 09:00-17:00", "unknown day"),
        ("fri-mon 09:00-17:00", "backwards"),
        ("mon", "no times"),
        ("mon 9-17", "cannot read the times"),
        ("mon 17:00-09:00", "must end after it starts"),
    ],
)
def test_unreadable_hours_say_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_weekly_hours(spec)
