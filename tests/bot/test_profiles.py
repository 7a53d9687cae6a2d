"""Sleutelpersoon profiles: validation, the command line, holidays, and who may act on what."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot import access
from bot.cli import main
from bot.directory import schedule_of
from bot.models import HelpRequest, Newcomer, Offer, OfferStatus, Organisation, Sleutelpersoon
from bot.profiles import PROFILE_ZONE, NewProfile, create_sleutelpersoon, hash_invite_token
from bot.settings import load_settings
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import SEARCH_HORIZON_DAYS, is_within, next_opening, parse_weekly_hours

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def profile(**changes: object) -> NewProfile:
    values: dict[str, object] = {
        "display_name": "Amal",
        "languages": ("ar",),
        "domains": ("post",),
        "windows": parse_weekly_hours("mon-fri 09:00-17:00"),
    }
    values.update(changes)
    return NewProfile(**values)  # type: ignore[arg-type]


def test_profile_problems_name_the_field() -> None:
    assert profile().problems() == []
    problems = profile(
        display_name=" ", languages=(), domains=("money",), roles=("boss",), locale="fr",
        max_open_conversations=0, leaves=((date(2026, 12, 24), date(2026, 12, 20)),),
    ).problems()  # fmt: skip
    assert [problem.split(":")[0] for problem in problems] == [
        "name", "languages", "domains", "roles", "locale", "capacity", "leave",
    ]  # fmt: skip


def test_command_line_adds_a_profile_and_refuses_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    database_url = load_settings().effective_database_url
    migrate(database_url)
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        session.add(Organisation(name="Gemeente Tilburg", created_at=NOW))
    arguments = [
        "sleutelpersoon", "--name", "Amal", "--languages", "ar,ti", "--domains", "post,finance",
    ]  # fmt: skip
    hours = ["--hours", "mon 09:00-12:00 13:00-17:00; sat 10:00-12:00"]
    for bad, error in (
        (["--hours", "mon-fry 09:00-17:00"], "unknown day"),
        ([*hours, "--organisation", "Gemeente Breda"], "no organisation named 'Gemeente Breda'"),
        ([*hours, "--leave", "kerst"], "leave: 'kerst' is not FIRST/LAST"),
        ([*hours, "--leave", "2026-12-24/2026-12-20"], "leave: 2026-12-24 is after 2026-12-20"),
        ([*hours, "--max-open", "0"], "capacity"),
    ):
        assert main([*arguments, *bad]) == 2
        assert error in capsys.readouterr().err
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Sleutelpersoon)) == 0

    full = [
        *arguments, *hours, "--roles", "tolk,helper",
        "--organisation", " Gemeente  Tilburg", "--leave", "2026-12-24/2027-01-02",
        "--leave", "2027-02-14", "--max-open", "2", "--max-per-week", "4", "--gender", "f",
        "--circle", "Tilburg", "--paid", "--works-on-public-holidays", "--locale", "ar",
    ]  # fmt: skip
    assert main(full) == 0
    output = capsys.readouterr().out
    assert "https://t.me/SleutelbrugBot?start=" in output and "/start " in output
    token = output.split("?start=")[1].split()[0]

    with Session(engine) as session:
        person = session.scalars(select(Sleutelpersoon)).one()
        organisation = session.scalars(select(Organisation)).one()
        assert (person.display_name, person.locale) == ("Amal", "ar")
        assert (person.languages, person.domains) == (["ar", "ti"], ["post", "finance"])
        assert person.roles == ["tolk", "helper"]
        assert sorted((w.weekday, w.starts_at, w.ends_at) for w in person.windows) == [
            (0, time(9), time(12)), (0, time(13), time(17)), (5, time(10), time(12)),
        ]  # fmt: skip
        assert sorted((leave.first_day, leave.last_day) for leave in person.leaves) == [
            (date(2026, 12, 24), date(2027, 1, 2)), (date(2027, 2, 14), date(2027, 2, 14)),
        ]  # fmt: skip
        assert (person.max_open_conversations, person.max_new_per_week) == (2, 4)
        assert (person.organisation_id, person.organisation) == (organisation.id, organisation.name)
        assert (person.gender, person.circle, person.paid) == ("f", "Tilburg", True)
        assert person.works_on_public_holidays and person.telegram_user_id is None
        assert person.invite_token_hash == hash_invite_token(token)
    engine.dispose()


def test_command_line_leave_and_capacity_are_bounded_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: leave from the year 1 to 9999 or a capacity of 10**20 is refused (exit 2,
    nothing stored) with the dates allowed; leave a year back to a year ahead is taken."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    today = datetime.now(ZoneInfo(PROFILE_ZONE)).date()
    earliest, latest = today - timedelta(days=365), today + timedelta(days=365)
    arguments = [
        "sleutelpersoon", "--name", "Amal", "--languages", "ar", "--domains", "post",
        "--hours", "mon 09:00-12:00",
    ]  # fmt: skip
    allowed = f"must lie between {earliest} and {latest}"
    for bad, error in (
        (["--leave", "0001-01-01/9999-12-31"], f"leave_range: 0001-01-01/9999-12-31 {allowed}"),
        (["--leave", f"{earliest - timedelta(days=1)}/{today}"], allowed),
        (["--leave", f"{latest + timedelta(days=1)}"], allowed),
        (["--max-open", "99999999999999999999"], "capacity: maxima must be from 1 to 100"),
        (["--max-per-week", "101"], "capacity: maxima must be from 1 to 100"),
    ):
        assert main([*arguments, *bad]) == 2, bad
        assert error in capsys.readouterr().err, bad
    assert main([*arguments, "--leave", f"{earliest}/{latest}", "--max-open", "100"]) == 0
    engine = create_engine(load_settings().effective_database_url)
    with Session(engine) as session:
        person = session.scalars(select(Sleutelpersoon)).one()
        assert [(leave.first_day, leave.last_day) for leave in person.leaves] == [
            (earliest, latest)
        ]
    engine.dispose()


async def test_public_holidays_are_off_unless_opted_in(sqlite_url: str) -> None:
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    christmas_morning = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    try:
        async with session_factory(engine).begin() as session:
            usual, _ = create_sleutelpersoon(session, NOW, profile())
            keen, _ = create_sleutelpersoon(session, NOW, profile(works_on_public_holidays=True))
            on_leave, _ = create_sleutelpersoon(
                session, NOW, profile(leaves=((date(2026, 12, 21), date(2026, 12, 23)),))
            )
            await session.flush()
            today = christmas_morning.date()
            assert not is_within(schedule_of(usual, today), christmas_morning)
            assert is_within(schedule_of(keen, today), christmas_morning)
            tuesday = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)
            assert not is_within(schedule_of(on_leave, tuesday.date()), tuesday)
            assert is_within(schedule_of(usual, tuesday.date()), tuesday)
            # Matching looks up to SEARCH_HORIZON_DAYS ahead, past next year's end: New
            # Year's Day 2028 seen from 3 December 2026 is a holiday too.
            assert date(2028, 1, 1) in schedule_of(usual, date(2026, 12, 3)).days_off
    finally:
        await engine.dispose()


async def test_absurd_leave_and_away_cost_a_horizon_of_days_not_millions(sqlite_url: str) -> None:
    """Leave from the year 1 to 9999 and `/away 9999-12-31` (issue 13): the schedule lists only
    the days matching can look at, is built in well under a second, and is off all along."""
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    try:
        async with session_factory(engine).begin() as session:
            forever, _ = create_sleutelpersoon(
                session, NOW, profile(leaves=((date(1, 1, 1), date(9999, 12, 31)),))
            )
            away, _ = create_sleutelpersoon(session, NOW, profile())
            away.away_until = date(9999, 12, 31)
            await session.flush()
            today = NOW.date()
            for person in (forever, away):
                started = time_module.perf_counter()
                schedule = schedule_of(person, today)
                assert time_module.perf_counter() - started < 0.5
                assert len(schedule.days_off) <= SEARCH_HORIZON_DAYS + 2 + 30  # + holidays
                assert next_opening(schedule, NOW) is None
                assert not is_within(schedule, NOW)
    finally:
        await engine.dispose()


async def test_an_offer_is_only_found_by_the_one_it_was_made_to(sqlite_url: str) -> None:
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    try:
        async with session_factory(engine).begin() as session:
            offered, _ = create_sleutelpersoon(session, NOW, profile(telegram_user_id=11))
            other, _ = create_sleutelpersoon(session, NOW, profile(telegram_user_id=12))
            await session.flush()
            newcomer = Newcomer(
                telegram_user_id=1, locale="ar", consented_at=NOW, created_at=NOW, updated_at=NOW
            )
            session.add(newcomer)
            await session.flush()
            request = HelpRequest(
                newcomer_id=newcomer.id, language="ar", domain="post", status="offered",
                institutions=[], created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            session.add(request)
            await session.flush()
            offer = Offer(
                request_id=request.id, sleutelpersoon_id=offered.id,
                status=OfferStatus.PENDING, created_at=NOW,
            )  # fmt: skip
            session.add(offer)
            await session.flush()
            assert await access.offer_for(session, offer.id, offered) is offer
            # Forged callback data: someone else's offer id finds nothing.
            assert await access.offer_for(session, offer.id, other) is None
            assert await access.offer_for(session, offer.id + 1000, offered) is None
    finally:
        await engine.dispose()
