"""Sleutelpersoon profiles: validation, the command line, holidays, and who may act on what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import access
from bot.cli import main
from bot.directory import schedule_of
from bot.models import HelpRequest, Newcomer, Offer, OfferStatus
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import is_within, parse_weekly_hours

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
    arguments = ["sleutelpersoon", "--name", "Amal", "--languages", "ar,ti", "--domains", "post"]
    assert main([*arguments, "--hours", "mon-fry 09:00-17:00"]) == 2
    assert "unknown day" in capsys.readouterr().err
    assert main([*arguments, "--hours", "mon-fri 09:00-17:00", "--roles", "tolk,helper"]) == 0
    output = capsys.readouterr().out
    assert "https://t.me/SleutelbrugBot?start=" in output and "/start " in output


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
            newcomer = Newcomer(telegram_user_id=1, locale="ar", created_at=NOW, updated_at=NOW)
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
