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
from fractions import Fraction

from matching.office_hours import Schedule, is_within, next_opening


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


class CandidatePool:
    """Sleutelpersonen indexed by language, so a decision only looks at those who speak it."""

    def __init__(self, people: Iterable[Sleutelpersoon]) -> None:
        self._by_language: dict[str, list[Sleutelpersoon]] = defaultdict(list)
        for person in people:
            for language in person.languages:
                self._by_language[language].append(person)

    def speaking(self, language: str) -> Sequence[Sleutelpersoon]:
        return self._by_language.get(language, ())


def fits_now(person: Sleutelpersoon, request: HelpRequest, now: datetime) -> bool:
    """All hard filters, office hours included."""
    return fits_apart_from_time(person, request) and is_within(person.schedule, now)


def fits_apart_from_time(person: Sleutelpersoon, request: HelpRequest) -> bool:
    """All hard filters except office hours (capacity is as it is now)."""
    return (
        person.active
        and request.language in person.languages
        and request.domain in person.domains
        and person.id not in request.excluded
        and person.open_conversations < person.max_open_conversations
        and person.handovers_last_7_days < person.max_new_per_week
        and (request.preferred_gender is None or person.gender == request.preferred_gender)
        and (request.avoid_circle is None or person.circle != request.avoid_circle)
    )


def rank_candidates(
    pool: CandidatePool,
    request: HelpRequest,
    now: datetime,
    tie_break: TieBreak = TieBreak.NONE,
) -> list[Sleutelpersoon]:
    """Everyone who may be offered the request now, best first."""
    candidates = [p for p in pool.speaking(request.language) if fits_now(p, request, now)]
    continuity = {helper: rank for rank, helper in enumerate(request.previous_helpers)}
    no_history = len(continuity)

    def order(person: Sleutelpersoon) -> tuple[int, Fraction, int, int, int]:
        return (
            continuity.get(person.id, no_history),
            Fraction(person.open_conversations, person.max_open_conversations),
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
    """
    openings = (
        next_opening(person.schedule, now)
        for person in pool.speaking(request.language)
        if fits_apart_from_time(person, request)
    )
    return min((opening for opening in openings if opening is not None), default=None)


def _tie_break_rank(person: Sleutelpersoon, tie_break: TieBreak) -> int:
    if tie_break is TieBreak.PAID_FIRST:
        return 0 if person.paid else 1
    if tie_break is TieBreak.VOLUNTEERS_FIRST:
        return 1 if person.paid else 0
    return 0
