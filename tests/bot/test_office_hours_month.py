"""The office-hours guarantee over a simulated month in the sandbox.

Five weeks from early March to after Easter 2026 — across the change to summer time (29
March) and the Easter holidays — a newcomer writes at random moments while the clock jumps
forward in uneven steps. The bot must deliver nothing to the sleutelpersoon outside her own
hours, deliver everything eventually, and keep the order.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.directory import schedule_of
from bot.models import OutboxMessage, Sleutelpersoon
from matching.office_hours import is_within, next_opening

from .kit import TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import ask_with_photo, is_offer, rasa_nowhere

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 3, 2, 10, 0, tzinfo=AMSTERDAM)  # a Monday
END = datetime(2026, 4, 8, 12, 0, tzinfo=AMSTERDAM)
# Irregular hours, with an early Sunday window that falls in the spring-forward gap.
HOURS = "mon 09:00-12:00; wed 13:00-17:00 19:00-21:00; fri 10:00-11:30; sun 02:30-04:00"
SEED = 20261129


async def test_a_month_of_messages_reaches_the_sleutelpersoon_only_within_her_hours(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    randomness = random.Random(SEED)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), START) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        person_id = await add_sleutelpersoon(bot, amal, HOURS, languages=("ar",), domains=("post",))
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await ask_with_photo(amina, TEXTS["ar"].gettext("✉️ Letter"))
        await amal.wait_for_message(is_offer)
        await amal.press(TEXTS["nl"].gettext("✅ Accept"))
        await amal.wait_for_message(lambda m: m.photo is not None)

        async with bot.services.sessions() as session:
            weekly = schedule_of(await session.get_one(Sleutelpersoon, person_id), START.date())
        sent: list[str] = []
        written_outside_hours = 0
        while clock.now() < END:
            clock.advance(timedelta(minutes=randomness.randint(17, 140)))
            if randomness.random() < 0.35:
                text = f"bericht {len(sent) + 1}"
                incoming = await amina.send_text(text)
                sent.append(text)
                written_outside_hours += not is_within(weekly, clock.now())
                await _until_queued(bot, incoming.message_id)
            await bot.tick()

        async with bot.services.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
            schedules = {
                day: schedule_of(person, day)
                for day in {m.date.astimezone(AMSTERDAM).date() for m in amal.received()}
            }
            final_schedule = schedule_of(person, clock.now().date())
        for message in amal.received():
            assert is_within(schedules[message.date.astimezone(AMSTERDAM).date()], message.date), (
                f"delivered outside office hours at {message.date.astimezone(AMSTERDAM)}"
            )

        # Everything still waiting goes out when her hours next open, in order.
        opening = next_opening(final_schedule, clock.now())
        assert opening is not None
        clock.set(opening)
        await bot.tick()
        relayed = [m.text for m in amal.received() if (m.text or "").startswith("bericht ")]
        assert relayed == sent
        assert len(sent) > 100
        assert written_outside_hours > len(sent) / 2  # most had to wait: the test has teeth
        good_friday = datetime(2026, 4, 3, tzinfo=AMSTERDAM).date()
        assert all(m.date.astimezone(AMSTERDAM).date() != good_friday for m in amal.received())


async def _until_queued(bot: BotProcess, message_id: int) -> None:
    """Wait until the bot has handled the newcomer's message and written its copy."""
    for _ in range(400):
        async with bot.services.sessions() as session:
            recent = (
                await session.scalars(
                    select(OutboxMessage.params)
                    .where(OutboxMessage.method == "copyMessage")
                    .order_by(OutboxMessage.id.desc())
                    .limit(3)
                )
            ).all()
        if any(params.get("message_id") == message_id for params in recent):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"message {message_id} was not handled")
