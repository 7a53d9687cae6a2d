"""Creating sleutelpersoon profiles and their one-time invite links.

The invite token is shown once and only its SHA-256 is stored, so a database leak does not
leak usable invites. A profile is connected to a Telegram account when its invite is opened.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import notices
from bot.i18n import SUPPORTED_LOCALES, texts_of
from bot.models import Leave, OfficeWindow, Sleutelpersoon
from bot.outbox import set_command_menu
from bot.text import one_line
from matching.office_hours import WeeklyWindow

DOMAINS = ("post", "finance", "health", "other")
# The roles sleutelpersonen take on, after Pharos' description of the work.
ROLES = ("adviseur", "verbinder", "helper", "rolmodel", "tolk", "voorlichter")
INVITE_VALIDITY = timedelta(days=7)
# Deep-link payloads with this prefix are invites; any other payload (a campaign link on a
# poster, say) just starts the newcomer flow.
INVITE_PREFIX = "invite-"
# The time zone of new profiles, in which their days (leave, away) are counted.
PROFILE_ZONE = "Europe/Amsterdam"
# Capacities are stored in INTEGER columns and counted against weekly handovers: far below
# either's limit, a profile's maxima lie in 1..MAX_CAPACITY.
MAX_CAPACITY = 100
# How far ahead a sleutelpersoon may say they are away (`/away` is for holidays and sick days)
# and a coordinator may plan leave; leave may be recorded afterwards, but not from longer ago
# than `MAX_LEAVE_BACK`. Longer leave is recorded again when it comes within reach.
MAX_AWAY = timedelta(days=365)
MAX_LEAVE_BACK = timedelta(days=365)


@dataclass(frozen=True)
class NewProfile:
    display_name: str
    languages: tuple[str, ...]
    domains: tuple[str, ...]
    windows: tuple[WeeklyWindow, ...]
    locale: str = "nl"
    roles: tuple[str, ...] = ()
    gender: str | None = None
    circle: str | None = None
    organisation: str | None = None
    paid: bool = False
    works_on_public_holidays: bool = False
    max_open_conversations: int = 3
    max_new_per_week: int = 5
    leaves: tuple[tuple[date, date], ...] = field(default_factory=tuple)
    telegram_user_id: int | None = None

    def problems(self) -> list[str]:
        """Everything wrong with the profile, each naming the field."""
        found = []
        if not one_line(self.display_name):
            found.append("name: must not be empty")
        if not self.languages:
            found.append("languages: at least one is needed")
        found += [f"domains: unknown domain {d!r}" for d in self.domains if d not in DOMAINS]
        if not self.domains:
            found.append(f"domains: at least one of {', '.join(DOMAINS)} is needed")
        found += [f"roles: unknown role {r!r}" for r in self.roles if r not in ROLES]
        if self.locale not in SUPPORTED_LOCALES:
            found.append(f"locale: must be one of {', '.join(SUPPORTED_LOCALES)}")
        if not all(
            1 <= maximum <= MAX_CAPACITY
            for maximum in (self.max_open_conversations, self.max_new_per_week)
        ):
            found.append(f"capacity: maxima must be from 1 to {MAX_CAPACITY}")
        found += [f"leave: {a} is after {b}" for a, b in self.leaves if a > b]
        return found


def leave_window(today: date) -> tuple[date, date]:
    """The first and last day leave (or an away date) may name, seen from `today`."""
    return today - MAX_LEAVE_BACK, today + MAX_AWAY


def leave_problems(leaves: tuple[tuple[date, date], ...], today: date) -> list[str]:
    """Leave that starts before or ends after `leave_window(today)`, each naming the field
    `leave_range` and the dates allowed."""
    earliest, latest = leave_window(today)
    return [
        f"leave_range: {first}/{last} must lie between {earliest} and {latest} "
        "(at most a year back and a year ahead)"
        for first, last in leaves
        if first < earliest or last > latest
    ]


def hash_invite_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_invite(person: Sleutelpersoon, now: datetime) -> str:
    """Give the profile a fresh one-time invite (any earlier link stops working); return the
    token to show once. The `/start` handler accepts only tokens made here (`INVITE_PREFIX`)."""
    token = INVITE_PREFIX + secrets.token_urlsafe(24)
    person.invite_token_hash = hash_invite_token(token)
    person.invite_expires_at = now + INVITE_VALIDITY
    return token


def create_sleutelpersoon(
    session: AsyncSession, now: datetime, profile: NewProfile
) -> tuple[Sleutelpersoon, str | None]:
    """Add a profile; return it with a fresh invite token unless a Telegram id was given."""
    problems = profile.problems()
    if problems:
        raise ValueError("; ".join(problems))
    person = Sleutelpersoon(
        telegram_user_id=profile.telegram_user_id,
        display_name=one_line(profile.display_name),
        locale=profile.locale,
        languages=list(profile.languages),
        domains=list(profile.domains),
        roles=list(profile.roles),
        gender=profile.gender,
        circle=one_line(profile.circle or "") or None,
        organisation=profile.organisation,
        paid=profile.paid,
        timezone=PROFILE_ZONE,
        works_on_public_holidays=profile.works_on_public_holidays,
        max_open_conversations=profile.max_open_conversations,
        max_new_per_week=profile.max_new_per_week,
        active=True,
        created_at=now,
        windows=[
            OfficeWindow(weekday=w.weekday, starts_at=w.start, ends_at=w.end)
            for w in profile.windows
        ],
        leaves=[Leave(first_day=first, last_day=last) for first, last in profile.leaves],
    )
    session.add(person)
    if profile.telegram_user_id is None:
        return person, issue_invite(person, now)
    # Connected at once (command line, demo).
    connect_to_telegram_user(session, now, person, profile.telegram_user_id)
    return person, None


def connect_to_telegram_user(
    session: AsyncSession, now: datetime, person: Sleutelpersoon, telegram_user_id: int
) -> None:
    """Let this Telegram user play the profile, with the sleutelpersoon's commands in their
    menu, as an invite accepted in the bot would set it."""
    person.telegram_user_id = telegram_user_id
    commands = notices.sleutelpersoon_commands(texts_of(person.locale))
    set_command_menu(session, now, telegram_user_id, commands)
