"""Matching: hard filters, ranking, and when someone fitting is next available."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.candidates import (
    CandidatePool,
    HelpRequest,
    Sleutelpersoon,
    TieBreak,
    earliest_availability,
    fits_apart_from_time,
    fits_now,
    rank_candidates,
)
from matching.office_hours import Schedule, WeeklyWindow, is_within, next_opening

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = Schedule(tuple(WeeklyWindow(day, time(9), time(17)) for day in range(5)))
EVENINGS = Schedule(tuple(WeeklyWindow(day, time(19), time(21)) for day in range(7)))
TUESDAY_10 = datetime(2026, 12, 8, 10, tzinfo=AMSTERDAM)
SATURDAY_23 = datetime(2026, 12, 5, 23, tzinfo=AMSTERDAM)


def person(person_id: int, **changes: object) -> Sleutelpersoon:
    base = Sleutelpersoon(
        id=person_id,
        languages=frozenset({"ar"}),
        domains=frozenset({"post", "finance"}),
        schedule=WEEKDAYS,
        max_open_conversations=3,
        max_new_per_week=5,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ARABIC_POST = HelpRequest(language="ar", domain="post")


def ids(people: list[Sleutelpersoon]) -> list[int]:
    return [p.id for p in people]


def test_language_domain_and_hours_filter() -> None:
    pool = CandidatePool(
        [
            person(1),
            person(2, languages=frozenset({"ti"})),
            person(3, domains=frozenset({"health"})),
            person(4, schedule=EVENINGS),
            person(5, active=False),
        ]
    )
    assert ids(rank_candidates(pool, ARABIC_POST, TUESDAY_10)) == [1]


def test_capacity_and_exclusions_filter() -> None:
    pool = CandidatePool(
        [
            person(1, open_conversations=3),
            person(2, handovers_last_7_days=5),
            person(3),
            person(4),
        ]
    )
    request = replace(ARABIC_POST, excluded=frozenset({3}))
    assert ids(rank_candidates(pool, request, TUESDAY_10)) == [4]


def test_preferences_filter() -> None:
    pool = CandidatePool(
        [
            person(1, gender="m", circle="Tilburg-Eritrean-church"),
            person(2, gender="f", circle="Tilburg-Eritrean-church"),
            person(3, gender="f", circle="Utrecht"),
            person(4),
        ]
    )
    request = replace(ARABIC_POST, preferred_gender="f", avoid_circle="Tilburg-Eritrean-church")
    assert ids(rank_candidates(pool, request, TUESDAY_10)) == [3]


def test_ranking_continuity_then_load_then_fairness_then_policy() -> None:
    pool = CandidatePool(
        [
            person(1, open_conversations=2),  # had this newcomer before, but busier
            person(2, open_conversations=0, handovers_last_7_days=3),
            person(3, open_conversations=0, handovers_last_7_days=1, paid=False),
            person(4, open_conversations=0, handovers_last_7_days=1, paid=True),
            person(5, open_conversations=1, max_open_conversations=10),  # load 0.1
        ]
    )
    request = replace(ARABIC_POST, previous_helpers=(1,))
    assert ids(rank_candidates(pool, request, TUESDAY_10)) == [1, 3, 4, 2, 5]
    paid_first = rank_candidates(pool, request, TUESDAY_10, TieBreak.PAID_FIRST)
    assert ids(paid_first) == [1, 4, 3, 2, 5]
    volunteers_first = rank_candidates(pool, request, TUESDAY_10, TieBreak.VOLUNTEERS_FIRST)
    assert ids(volunteers_first) == [1, 3, 4, 2, 5]


def test_nobody_in_hours_on_saturday_night_means_monday_morning() -> None:
    pool = CandidatePool([person(1), person(2, schedule=EVENINGS, domains=frozenset({"health"}))])
    assert rank_candidates(pool, ARABIC_POST, SATURDAY_23) == []
    assert earliest_availability(pool, ARABIC_POST, SATURDAY_23) == datetime(
        2026, 12, 7, 9, tzinfo=AMSTERDAM
    )


def test_nobody_fitting_at_all_means_none() -> None:
    pool = CandidatePool([person(1, languages=frozenset({"ti"}))])
    assert earliest_availability(pool, ARABIC_POST, TUESDAY_10) is None


# --- properties -----------------------------------------------------------------------------

weekly_patterns = st.sampled_from(
    [WEEKDAYS, EVENINGS, Schedule(()), Schedule((WeeklyWindow(5, time(10), time(12)),))]
)
FIRST_INSTANT = datetime(2026, 10, 19, tzinfo=UTC)
# Days off inside the three weeks the instants fall in (which include the end of summer time),
# so that people who share weekly hours differ, as leave and holidays make them differ.
days_off = st.frozensets(
    st.integers(0, 21).map(lambda day: FIRST_INSTANT.date() + timedelta(days=day)), max_size=6
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    weekly = draw(weekly_patterns)
    return Schedule(
        weekly.windows,
        timezone=draw(st.sampled_from(["Europe/Amsterdam", "Europe/London", "Asia/Baghdad"])),
        days_off=draw(days_off),
    )


@st.composite
def sleutelpersonen(draw: st.DrawFn, person_id: int) -> Sleutelpersoon:
    capacity = draw(st.integers(1, 4))
    weekly = draw(st.integers(1, 4))
    return Sleutelpersoon(
        id=person_id,
        languages=frozenset(draw(st.sets(st.sampled_from(["ar", "ti", "nl"]), min_size=1))),
        domains=frozenset(
            draw(st.sets(st.sampled_from(["post", "finance", "health"]), min_size=1))
        ),
        schedule=draw(schedules()),
        max_open_conversations=capacity,
        max_new_per_week=weekly,
        open_conversations=draw(st.integers(0, capacity)),
        handovers_last_7_days=draw(st.integers(0, weekly)),
        gender=draw(st.sampled_from([None, "f", "m"])),
        circle=draw(st.sampled_from([None, "a", "b"])),
        paid=draw(st.booleans()),
        active=draw(st.booleans()),
    )


@st.composite
def pools(draw: st.DrawFn) -> list[Sleutelpersoon]:
    size = draw(st.integers(0, 16))
    return [draw(sleutelpersonen(person_id)) for person_id in range(1, size + 1)]


requests = st.builds(
    HelpRequest,
    language=st.sampled_from(["ar", "ti", "nl"]),
    domain=st.sampled_from(["post", "finance", "health"]),
    preferred_gender=st.sampled_from([None, "f", "m"]),
    avoid_circle=st.sampled_from([None, "a", "b"]),
    previous_helpers=st.lists(st.integers(1, 12), max_size=3, unique=True).map(tuple),
    excluded=st.frozensets(st.integers(1, 12), max_size=3),
)
instants = st.integers(0, 21 * 24 * 60).map(
    lambda minutes: FIRST_INSTANT + timedelta(minutes=minutes)
)


@settings(max_examples=300, deadline=None)
@given(pools(), requests, instants, st.sampled_from(list(TieBreak)))
def test_ranked_are_exactly_those_who_fit_now(
    people: list[Sleutelpersoon], request: HelpRequest, now: datetime, tie_break: TieBreak
) -> None:
    ranked = rank_candidates(CandidatePool(people), request, now, tie_break)
    assert sorted(ids(ranked)) == sorted(p.id for p in people if fits_now(p, request, now))
    for candidate in ranked:
        assert is_within(candidate.schedule, now)  # never offered outside their hours
    if ranked and request.previous_helpers and request.previous_helpers[0] in ids(ranked):
        assert ranked[0].id == request.previous_helpers[0]


@settings(max_examples=300, deadline=None)
@given(pools(), requests, instants)
def test_earliest_availability_is_when_someone_fits(
    people: list[Sleutelpersoon], request: HelpRequest, now: datetime
) -> None:
    pool = CandidatePool(people)
    earliest = earliest_availability(pool, request, now)
    if rank_candidates(pool, request, now):
        assert earliest == now
    elif earliest is not None:
        assert earliest > now
        assert rank_candidates(pool, request, earliest)
        before = earliest - timedelta(minutes=1)
        assert before < now or not rank_candidates(pool, request, before)


@settings(max_examples=300, deadline=None)
@given(pools(), requests, instants)
def test_earliest_availability_is_the_first_opening_of_anyone_fitting(
    people: list[Sleutelpersoon], request: HelpRequest, now: datetime
) -> None:
    # The pool answers from its index and pattern bounds; this is the definition it must keep.
    openings = [next_opening(p.schedule, now) for p in people if fits_apart_from_time(p, request)]
    expected = min((opening for opening in openings if opening is not None), default=None)
    assert earliest_availability(CandidatePool(people), request, now) == expected


def test_ranking_does_not_depend_on_the_order_people_were_added() -> None:
    people = [person(number, open_conversations=number % 3) for number in range(1, 9)]
    forwards = rank_candidates(CandidatePool(people), ARABIC_POST, TUESDAY_10)
    backwards = rank_candidates(CandidatePool(reversed(people)), ARABIC_POST, TUESDAY_10)
    assert ids(forwards) == ids(backwards) == [3, 6, 1, 4, 7, 2, 5, 8]
