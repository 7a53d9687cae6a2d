"""Demo sleutelpersonen for the no-token run, so that a first-time user sees a whole handover.

Only ever used with the sandbox Telegram: the simulated users exist only there. The sandbox
keeps its world in the data folder, so each demo user is created once and found again by name
on later runs, like the profile played by that user. Only a new sandbox world (the first run
with one, or a world file set aside as unreadable) gives the demo users new ids: their profiles
from before are then handed to the new users, so that no offer goes to a user who is gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Sleutelpersoon
from bot.profiles import NewProfile, connect_to_telegram_user, create_sleutelpersoon
from matching.office_hours import parse_weekly_hours
from sandbox import Sandbox

# `sleutelbrug coordinator add --organisation "Sleutelbrug demo"` links a coordinator to them.
DEMO_ORGANISATION = "Sleutelbrug demo"
DEMO_PEOPLE = (
    ("Amal", "ar", ("ar",), "f"),
    ("Tesfay", "ti", ("ti",), "m"),
    ("Sanne", "nl", ("nl", "en"), "f"),
)


async def seed_demo_sleutelpersonen(
    sandbox: Sandbox,
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    office_hours: str,
) -> list[str]:
    """Add a simulated sleutelpersoon per language; return their names as shown on the page."""
    names = []
    async with sessions.begin() as session:
        for name, locale, languages, gender in DEMO_PEOPLE:
            label = f"{name} (sleutelpersoon)"
            user = sandbox.find_user(label) or sandbox.add_user(label, locale)
            names.append(label)
            profile = await session.scalar(
                select(Sleutelpersoon).where(
                    Sleutelpersoon.organisation == DEMO_ORGANISATION,
                    Sleutelpersoon.display_name == name,
                )
            )
            if profile is not None:
                if profile.telegram_user_id != user.id:
                    connect_to_telegram_user(session, now, profile, user.id)
                continue
            create_sleutelpersoon(
                session,
                now,
                NewProfile(
                    display_name=name,
                    languages=languages,
                    domains=("post", "finance", "health", "other"),
                    windows=parse_weekly_hours(office_hours),
                    locale=locale,
                    gender=gender,
                    works_on_public_holidays=True,
                    organisation=DEMO_ORGANISATION,
                    telegram_user_id=user.id,
                ),
            )
    return names
