"""Who gets offered a newcomer's request, in which order, and — when nobody fits now — when.

Rules kept here (pure functions; the current instant is passed in):

Hard filters — a sleutelpersoon is a candidate only if they
  1. speak the request's language and cover its domain,
  2. are active and not on leave, and within their own office hours at `now`,
  3. are under both capacities: open conversations and new handovers in the last 7 days,
  4. fit the newcomer's preferences (gender; not from the newcomer's own town or circle),
  5. have not already declined or let this request time out.

Ranking among candidates:
  1. the sleutelpersoon this newcomer had before (continuity builds trust), most recent first,
  2. then the lowest load relative to capacity,
  3. then the fewest handovers in the last 7 days (fairness),
  4. then the organisation's tie-break policy (e.g. paid staff first), then the lowest id so the
     order is total and the same inputs always give the same answer.

Emergencies are never matched here: they go to professional help at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from matching.office_hours import (
    Schedule,
    WeeklyWindow,
    is_within,
    next_opening,
    windows_contain,
)


class TieBreak(StrEnum):
    """How an organisation orders otherwise equal candidates."""

    NONE = "none"
    PAID_FIRST = "paid_first"
    VOLUNTEERS_FIRST = "volunteers_first"


@dataclass(frozen=True)
class Sleutelpersoon:
    """What matching needs to know about one sleutelpersoon, as of the moment of matching."""

    id: int
    languages: frozenset[str]
    domains: frozenset[str]
    schedule: Schedule
    max_open_conversations: int
    max_new_per_week: int
    open_conversations: int = 0
    handovers_last_7_days: int = 0
    gender: str | None = None
    circle: str | None = None
    paid: bool = False
    active: bool = True


@dataclass(frozen=True)
class HelpRequest:
    """A newcomer's request as matching sees it: no name, no text."""

    language: str
    domain: str
    preferred_gender: str | None = None
    avoid_circle: str | None = None
    # Sleutelpersonen this newcomer talked with before, most recent first.
    previous_helpers: tuple[int, ...] = ()
    # Sleutelpersonen who declined this request or let its offer time out.
    excluded: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _WeeklyPattern:
    """The part of a schedule that many sleutelpersonen share: time zone and weekly windows."""

    timezone: str
    windows: tuple[WeeklyWindow, ...]

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.windows, self.timezone)


class CandidatePool:
    """Sleutelpersonen indexed by language and domain, then grouped by weekly hours.

    Why: a decision must stay fast with a national programme's pool (tens of thousands). The
    index leaves only those who speak the language and cover the domain; grouping them by
    time zone and weekly windows (a few dozen patterns even in a large pool) lets a decision
    check office hours once per pattern and skip every group that is closed now. Only the
    days off (leave, holidays) differ per person and are checked per person. Who is inactive
    or at capacity cannot be offered anything from this pool, so the groups leave them out.
    """

    def __init__(self, people: Iterable[Sleutelpersoon]) -> None:
        self._by_language: dict[str, list[Sleutelpersoon]] = defaultdict(list)
        groups: dict[tuple[str, str], dict[_WeeklyPattern, list[Sleutelpersoon]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for person in people:
            pattern = _WeeklyPattern(person.schedule.timezone, person.schedule.windows)
            for language in person.languages:
                self._by_language[language].append(person)
                if not has_room(person):
                    continue
                for domain in person.domains:
                    groups[(language, domain)][pattern].append(person)
        self._groups = {
            key: tuple((pattern, tuple(members)) for pattern, members in by_pattern.items())
            for key, by_pattern in groups.items()
        }

    def speaking(self, language: str) -> Sequence[Sleutelpersoon]:
        return self._by_language.get(language, ())

    def groups_for(
        self, language: str, domain: str
    ) -> tuple[tuple[_WeeklyPattern, tuple[Sleutelpersoon, ...]], ...]:
        """Who speaks `language`, covers `domain` and `has_room`, grouped by weekly hours."""
        return self._groups.get((language, domain), ())


def fits_now(person: Sleutelpersoon, request: HelpRequest, now: datetime) -> bool:
    """All hard filters, office hours included."""
    return fits_apart_from_time(person, request) and is_within(person.schedule, now)


def fits_apart_from_time(person: Sleutelpersoon, request: HelpRequest) -> bool:
    """All hard filters except office hours (capacity is as it is now)."""
    return (
        request.language in person.languages
        and request.domain in person.domains
        and has_room(person)
        and fits_preferences(person, request)
    )


def has_room(person: Sleutelpersoon) -> bool:
    """Active and under both capacities: what holds for every request alike."""
    return (
        person.active
        and person.open_conversations < person.max_open_conversations
        and person.handovers_last_7_days < person.max_new_per_week
    )


def fits_preferences(person: Sleutelpersoon, request: HelpRequest) -> bool:
    """Not excluded from this request, and as the newcomer prefers (gender, not their circle)."""
    return (
        person.id not in request.excluded
        and (request.preferred_gender is None or person.gender == request.preferred_gender)
        and (request.avoid_circle is None or person.circle != request.avoid_circle)
    )


def rank_candidates(
    pool: CandidatePool,
    request: HelpRequest,
    now: datetime,
    tie_break: TieBreak = TieBreak.NONE,
) -> list[Sleutelpersoon]:
    """Everyone who may be offered the request now (exactly those who `fits_now`), best first."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    candidates: list[Sleutelpersoon] = []
    for pattern, members in pool.groups_for(request.language, request.domain):
        local = now.astimezone(ZoneInfo(pattern.timezone))
        if not windows_contain(pattern.windows, local):
            continue
        today = local.date()
        candidates.extend(
            person
            for person in members
            if today not in person.schedule.days_off and fits_preferences(person, request)
        )
    continuity = {helper: rank for rank, helper in enumerate(request.previous_helpers)}
    no_history = len(continuity)

    def order(person: Sleutelpersoon) -> tuple[int, float, int, int, int]:
        # The load as a float: equal small ratios (1/2, 2/4) give equal floats, so the order
        # is the same as with exact fractions.
        return (
            continuity.get(person.id, no_history),
            person.open_conversations / person.max_open_conversations,
            person.handovers_last_7_days,
            _tie_break_rank(person, tie_break),
            person.id,
        )

    return sorted(candidates, key=order)


def earliest_availability(
    pool: CandidatePool, request: HelpRequest, now: datetime
) -> datetime | None:
    """When the first fitting sleutelpersoon's office hours open (now, if someone is in).

    None when nobody fits the request at any time: it then goes to the coordinators.

    Days off only ever remove office hours, so a weekly pattern's next opening is a lower bound
    for everyone who has it. Patterns are looked at from the earliest bound on; a person whose
    hours include that bound opens exactly then, and once the best opening found is no later
    than the next pattern's bound, nobody after it can be earlier.
    """
    bounds: list[tuple[datetime, tuple[Sleutelpersoon, ...]]] = []
    for pattern, members in pool.groups_for(request.language, request.domain):
        bound = next_opening(pattern.schedule, now)
        if bound is not None:
            bounds.append((bound, members))
    bounds.sort(key=lambda item: item[0])
    earliest: datetime | None = None
    for bound, members in bounds:
        if earliest is not None and earliest <= bound:
            break
        for person in members:
            if not fits_preferences(person, request):
                continue
            opening = (
                bound if is_within(person.schedule, bound) else next_opening(person.schedule, now)
            )
            if opening is not None and (earliest is None or opening < earliest):
                earliest = opening
                if earliest == bound:
                    break
    return earliest


def _tie_break_rank(person: Sleutelpersoon, tie_break: TieBreak) -> int:
    if tie_break is TieBreak.PAID_FIRST:
        return 0 if person.paid else 1
    if tie_break is TieBreak.VOLUNTEERS_FIRST:
        return 1 if person.paid else 0
    return 0
