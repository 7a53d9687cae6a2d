"""Sleutelpersoon profiles as the dashboard edits them, through the bot's own profile model.

A form becomes a `bot.profiles.NewProfile` and is checked with its `problems()`, the same
validation as the command line; new profiles are made by `create_sleutelpersoon` (with its
one-time invite token). Office hours and leave are written to the very tables matching reads
(`office_windows`, `leaves`), so a change here is what the next offer follows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from bot.models import Leave, OfficeWindow, Organisation, Sleutelpersoon
from bot.profiles import NewProfile, create_sleutelpersoon, leave_problems, leave_window
from bot.text import one_line
from dashboard.i18n import N_
from matching.office_hours import WEEKDAY_NAMES, WeeklyWindow

# The fields of the profile form, in the order the audit log names them.
EDITABLE = (
    "display_name",
    "locale",
    "languages",
    "domains",
    "roles",
    "gender",
    "circle",
    "paid",
    "works_on_public_holidays",
    "max_open_conversations",
    "max_new_per_week",
    "away_until",
)


# What the coordinator reads for a problem, by the field `NewProfile.problems()` names first.
PROBLEM_MESSAGES = {
    "name": N_("Give a name."),
    "languages": N_("Give at least one language code, like ar, ti or nl."),
    "domains": N_("Choose at least one topic."),
    "roles": N_("Choose roles from the list."),
    "locale": N_("Choose the bot language from the list."),
    "capacity": N_("Capacities must be whole numbers from 1 to 100."),
    "leave": N_("Leave must end on or after its first day."),
    "leave_range": N_(
        "Leave can start at most a year ago and end at most a year from today. Record longer "
        "leave again when it comes within a year."
    ),
    "away": N_("Give the away date as a date, or leave it empty."),
    "away_range": N_("The away date can be at most a year before or after today."),
    "gender": N_("Choose woman, man or not given."),
}
UNKNOWN_PROBLEM = N_("The profile could not be saved.")


class ProfileError(ValueError):
    """The form cannot become a valid profile; `problems` name the fields."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def messages(self) -> list[str]:
        """One msgid per field with a problem, in the order the fields were checked."""
        fields = dict.fromkeys(problem.split(":")[0] for problem in self.problems)
        return [PROBLEM_MESSAGES.get(name, UNKNOWN_PROBLEM) for name in fields]


@dataclass(frozen=True)
class ProfileForm:
    """What the profile form sends, parsed but not yet validated as a profile."""

    display_name: str
    locale: str
    languages: tuple[str, ...]
    domains: tuple[str, ...]
    roles: tuple[str, ...]
    gender: str | None
    circle: str | None
    paid: bool
    works_on_public_holidays: bool
    max_open_conversations: int
    max_new_per_week: int
    away_until: date | None


def read_form(form: FormData, today: date) -> ProfileForm:
    """Parse the posted form; raises ProfileError naming every unreadable field.

    A changed away date lies within a year of `today` either way, as `/away` allows; an
    unchanged one is kept whatever it is (saving another field does not refuse it)."""
    problems: list[str] = []

    def number(name: str) -> int:
        try:
            return int(str(form.get(name, "")).strip())
        except ValueError:
            problems.append(f"capacity: {name} must be a whole number")
            return 0

    away_text = str(form.get("away_until", "")).strip()
    away: date | None = None
    if away_text:
        try:
            away = date.fromisoformat(away_text)
        except ValueError:
            problems.append("away: give a date like 2026-12-24")
    languages = tuple(
        dict.fromkeys(
            code.strip().lower()
            for code in str(form.get("languages", "")).replace(" ", ",").split(",")
            if code.strip()
        )
    )
    problems += [
        f"languages: {code!r} is not a language code like ar, ti, nl"
        for code in languages
        if not (2 <= len(code) <= 3 and code.isalpha() and code.isascii())
    ]
    gender = str(form.get("gender", "")).strip() or None
    if gender not in (None, "f", "m"):
        problems.append("gender: choose woman, man or not given")
    parsed = ProfileForm(
        display_name=one_line(str(form.get("display_name", "")))[:80],
        locale=str(form.get("locale", "nl")),
        languages=languages,
        domains=tuple(str(value) for value in form.getlist("domains")),
        roles=tuple(str(value) for value in form.getlist("roles")),
        gender=gender,
        circle=(one_line(str(form.get("circle", "")))[:80] or None),
        paid=form.get("paid") == "on",
        works_on_public_holidays=form.get("works_on_public_holidays") == "on",
        max_open_conversations=number("max_open_conversations"),
        max_new_per_week=number("max_new_per_week"),
        away_until=away,
    )
    earliest, latest = leave_window(today)
    if away is not None and away_changed(form, parsed) and not earliest <= away <= latest:
        problems.append(f"away_range: {away} is not between {earliest} and {latest}")
    if problems:
        raise ProfileError(problems)
    return parsed


def new_profile(
    form: ProfileForm,
    windows: tuple[WeeklyWindow, ...],
    leaves: tuple[tuple[date, date], ...],
    organisation: str | None,
) -> NewProfile:
    profile = NewProfile(
        display_name=form.display_name,
        languages=form.languages,
        domains=form.domains,
        windows=windows,
        locale=form.locale,
        roles=form.roles,
        gender=form.gender,
        circle=form.circle,
        organisation=organisation,
        paid=form.paid,
        works_on_public_holidays=form.works_on_public_holidays,
        max_open_conversations=form.max_open_conversations,
        max_new_per_week=form.max_new_per_week,
        leaves=leaves,
    )
    problems = profile.problems()
    if problems:
        raise ProfileError(problems)
    return profile


def windows_of_person(person: Sleutelpersoon) -> tuple[WeeklyWindow, ...]:
    return tuple(sorted(WeeklyWindow(w.weekday, w.starts_at, w.ends_at) for w in person.windows))


def leaves_of_person(person: Sleutelpersoon) -> tuple[tuple[date, date], ...]:
    return tuple(sorted((leave.first_day, leave.last_day) for leave in person.leaves))


def form_of_person(person: Sleutelpersoon) -> ProfileForm:
    return ProfileForm(
        display_name=person.display_name,
        locale=person.locale,
        languages=tuple(person.languages),
        domains=tuple(person.domains),
        roles=tuple(person.roles),
        gender=person.gender,
        circle=person.circle,
        paid=person.paid,
        works_on_public_holidays=person.works_on_public_holidays,
        max_open_conversations=person.max_open_conversations,
        max_new_per_week=person.max_new_per_week,
        away_until=person.away_until,
    )


def invite(
    session: AsyncSession, now: datetime, form: ProfileForm, organisation: Organisation
) -> tuple[Sleutelpersoon, str]:
    """A new profile in the organisation, no hours yet, with its one-time invite token."""
    profile = new_profile(form, (), (), organisation.name)
    person, token = create_sleutelpersoon(session, now, profile)
    assert token is not None  # no Telegram id was given, so an invite was made
    person.organisation_id = organisation.id
    person.away_until = form.away_until
    return person, token


def away_changed(posted: FormData, form: ProfileForm) -> bool:
    """Whether the coordinator changed the away date in the form: it differs from the date the
    form was loaded with (its hidden `away_until_loaded`; a form without it counts as changed)."""
    loaded = posted.get("away_until_loaded")
    if not isinstance(loaded, str):
        return True
    try:
        return form.away_until != (date.fromisoformat(loaded) if loaded.strip() else None)
    except ValueError:
        return True


def update_profile(
    person: Sleutelpersoon, form: ProfileForm, *, away_changed: bool = True
) -> dict[str, list[Any]]:
    """Apply a validated form; return what changed as {field: [old, new]} for the audit log.

    The away date is also set by the sleutelpersoon (`/away` in Telegram), possibly while the
    form was open: it changes only when the coordinator changed it in the form
    (`away_changed`), so saving the form for another field does not undo a newer `/away`."""
    new_profile(form, windows_of_person(person), leaves_of_person(person), person.organisation)
    before = form_of_person(person)
    after = replace(form, display_name=one_line(form.display_name))
    if not away_changed:
        after = replace(after, away_until=person.away_until)
    changes: dict[str, list[Any]] = {}
    for name in EDITABLE:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = [_plain(old), _plain(new)]
    person.display_name = after.display_name
    person.locale = after.locale
    person.languages = list(after.languages)
    person.domains = list(after.domains)
    person.roles = list(after.roles)
    person.gender = after.gender
    person.circle = after.circle
    person.paid = after.paid
    person.works_on_public_holidays = after.works_on_public_holidays
    person.max_open_conversations = after.max_open_conversations
    person.max_new_per_week = after.max_new_per_week
    person.away_until = after.away_until
    return changes


def set_windows(person: Sleutelpersoon, windows: tuple[WeeklyWindow, ...]) -> dict[str, list[Any]]:
    """Replace the weekly hours; return old and new as text for the audit log."""
    before = [_window_text(w) for w in windows_of_person(person)]
    person.windows = [
        OfficeWindow(weekday=w.weekday, starts_at=w.start, ends_at=w.end) for w in windows
    ]
    after = [_window_text(w) for w in sorted(windows)]
    return {"hours": [before, after]} if before != after else {}


def add_leave(person: Sleutelpersoon, first: date, last: date, today: date) -> None:
    """Add leave, bounded around `today` like the command line's (`leave_problems`)."""
    if first > last:
        raise ProfileError([f"leave: {first} is after {last}"])
    if problems := leave_problems(((first, last),), today):
        raise ProfileError(problems)
    person.leaves.append(Leave(first_day=first, last_day=last))


def _window_text(window: WeeklyWindow) -> str:
    """As the command line writes hours (`tue 09:00-12:00`), readable in the audit log."""
    end = "24:00" if window.end.hour == 0 and window.end.minute == 0 else f"{window.end:%H:%M}"
    return f"{WEEKDAY_NAMES[window.weekday]} {window.start:%H:%M}-{end}"


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
