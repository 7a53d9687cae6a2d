"""Sleutelpersonen as matching sees them: profiles from the database turned into pure values.

Days off are decided here, at the edge: leave, `/away`, and Dutch public holidays (from the
`holidays` package) unless the sleutelpersoon opted to work on them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models
from matching.candidates import CandidatePool
from matching.candidates import Sleutelpersoon as Candidate
from matching.office_hours import SEARCH_HORIZON_DAYS, Schedule, WeeklyWindow

OPEN = "open"
FAIRNESS_PERIOD = timedelta(days=7)


def dutch_public_holidays(around: date) -> frozenset[date]:
    """Public holidays in the Netherlands from last year to as far ahead as matching looks for
    an opening (SEARCH_HORIZON_DAYS), so no holiday inside that search is missed."""
    horizon = around + timedelta(days=SEARCH_HORIZON_DAYS)
    return _holidays_of_years(around.year - 1, horizon.year)


@cache
def _holidays_of_years(first: int, last: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=range(first, last + 1)).keys())


def schedule_of(person: models.Sleutelpersoon, today: date) -> Schedule:
    """The person's weekly windows minus leave, `/away` days and (unless opted in) holidays.

    Only days from yesterday (a night window may start then) to as far ahead as matching looks
    for an opening (SEARCH_HORIZON_DAYS) are listed: leave or `/away` reaching to the year 9999
    then costs a year of dates, not millions, on every match and dashboard page.
    """
    first, last = today - timedelta(days=1), today + timedelta(days=SEARCH_HORIZON_DAYS)
    days_off: set[date] = set()
    for leave in person.leaves:
        days_off.update(_days(max(leave.first_day, first), min(leave.last_day, last)))
    if person.away_until is not None and person.away_until >= today:
        days_off.update(_days(first, min(person.away_until, last)))
    if not person.works_on_public_holidays:
        days_off.update(dutch_public_holidays(today))
    return Schedule(
        windows=tuple(
            WeeklyWindow(window.weekday, window.starts_at, window.ends_at)
            for window in person.windows
        ),
        timezone=person.timezone,
        days_off=frozenset(days_off),
    )


def local_today(person: models.Sleutelpersoon, now: datetime) -> date:
    return now.astimezone(ZoneInfo(person.timezone)).date()


def _days(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`; none when `last` is before `first`."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


async def candidate_pool(session: AsyncSession, now: datetime) -> CandidatePool:
    """Every active, connected sleutelpersoon with their current load."""
    people = (
        await session.scalars(
            select(models.Sleutelpersoon).where(
                models.Sleutelpersoon.active.is_(True),
                models.Sleutelpersoon.telegram_user_id.is_not(None),
            )
        )
    ).all()
    open_counts = dict(
        (
            await session.execute(
                select(models.Conversation.sleutelpersoon_id, func.count())
                .where(models.Conversation.status == OPEN)
                .group_by(models.Conversation.sleutelpersoon_id)
            )
        ).all()
    )
    recent_counts = dict(
        (
            await session.execute(
                select(models.Conversation.sleutelpersoon_id, func.count())
                .where(models.Conversation.opened_at > now - FAIRNESS_PERIOD)
                .group_by(models.Conversation.sleutelpersoon_id)
            )
        ).all()
    )
    return CandidatePool(
        Candidate(
            id=person.id,
            languages=frozenset(person.languages),
            domains=frozenset(person.domains),
            schedule=schedule_of(person, local_today(person, now)),
            max_open_conversations=person.max_open_conversations,
            max_new_per_week=person.max_new_per_week,
            open_conversations=open_counts.get(person.id, 0),
            handovers_last_7_days=recent_counts.get(person.id, 0),
            gender=person.gender,
            circle=person.circle,
            paid=person.paid,
            active=person.active,
        )
        for person in people
    )
