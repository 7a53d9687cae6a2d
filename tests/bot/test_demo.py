"""The no-token run's demo sleutelpersonen: found again in a kept sandbox world, and handed to
new sandbox users when the world is new, never doubled."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.clock import SystemClock
from bot.demo import DEMO_PEOPLE, seed_demo_sleutelpersonen
from bot.models import Sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox


async def test_demo_people_are_seeded_once_and_follow_the_sandbox_world(
    sqlite_url: str, tmp_path: Path
) -> None:
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    sessions = session_factory(engine)
    state = tmp_path / "sandbox-world.json"

    async def seed() -> dict[str, int | None]:
        async with Sandbox(state_path=state) as sandbox:
            await seed_demo_sleutelpersonen(
                sandbox, sessions, SystemClock().now(), "mon-sun 00:00-24:00"
            )
            assert len(sandbox.world.users) == len(DEMO_PEOPLE)
        async with sessions() as session:
            people = (await session.scalars(select(Sleutelpersoon))).all()
        return {person.display_name: person.telegram_user_id for person in people}

    try:
        first = await seed()
        assert await seed() == first
        state.unlink()
        fresh = await seed()
    finally:
        await engine.dispose()
    assert fresh.keys() == first.keys()
    assert not set(fresh.values()) & set(first.values())
