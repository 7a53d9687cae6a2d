"""One user floods the bot; everyone else is served as if nothing happened.

Telegram's real flood limits (the sandbox refuses a second message to a chat within a second,
and the bot keeps the shipped send limits), the shipped inbound limit, the dispatcher ticking
as it does in production. A newcomer in an open conversation sends `FLOOD` messages at once;
right after, a bystander sends /start and a third user an emergency. Both must be answered
within `ANSWER_WITHIN` seconds, every flood message must reach the sleutelpersoon once and in
order, the flooder is told once that their messages are handled one by one, and nobody gets
"something went wrong".

`SLEUTELBRUG_FLOOD_MESSAGES=150` gives the full flood of the issue (it takes about three
minutes, because Telegram lets the bot pass on about one message a second to one chat).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot import notices
from bot.cli import send_limits_of
from bot.dispatcher import run_dispatcher
from bot.inbound_limit import InboundLimits
from bot.storage import migrate
from nlu.service import free_port
from sandbox import ChatMessage, FloodLimits, Sandbox, SimUser, make_png

from .kit import (
    TEXTS,
    BotProcess,
    ManualClock,
    add_sleutelpersoon,
    bot_process,
    bot_settings,
    onboard,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
DUTCH = TEXTS["nl"]
FLOOD = int(os.environ.get("SLEUTELBRUG_FLOOD_MESSAGES", "30"))
# What the issue asks: a bystander and an emergency answered within 2 s during a flood.
ANSWER_WITHIN = 2.0
GAS = "Ik ruik gas in huis, het stinkt heel erg"
SORRY = DUTCH.gettext("Sorry, something went wrong on our side. Please send your message again.")


@asynccontextmanager
async def flooded_world(
    database_url: str, redis_key_prefix: str
) -> AsyncIterator[tuple[Sandbox, BotProcess]]:
    """The bot as shipped against a Telegram that enforces its flood limits, with the
    dispatcher running in the background as `sleutelbrug bot` runs it."""
    migrate(database_url)
    clock = ManualClock(TUESDAY_10)
    settings = bot_settings(database_url, redis_key_prefix, f"http://127.0.0.1:{free_port()}")
    async with (
        Sandbox(flood_limits=FloodLimits(enabled=True), clock=clock.now) as sandbox,
        bot_process(settings, sandbox, clock, send_limits_of(settings), InboundLimits()) as bot,
    ):
        stop = asyncio.Event()
        dispatcher = asyncio.create_task(run_dispatcher(bot.services, stop))
        try:
            yield sandbox, bot
        finally:
            stop.set()
            await dispatcher


async def seconds_until(user: SimUser, sent: float, predicate: object) -> float:
    await user.wait_for_message(predicate, timeout=30)  # type: ignore[arg-type]
    return time.monotonic() - sent


def flood_text(number: int) -> str:
    return f"bericht {number:03d}"


async def test_a_flood_from_one_user_holds_up_nobody_else_and_loses_nothing(
    database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    async with flooded_world(database_url, redis_key_prefix) as (sandbox, bot):
        sanne = sandbox.add_user("Sanne", "nl")
        await add_sleutelpersoon(
            bot, sanne, "mon-fri 09:00-17:00", languages=("nl",), domains=("post",)
        )
        flooder = sandbox.add_user("Fleur", "nl")
        await onboard(flooder, "Nederlands")
        await flooder.send_photo(make_png(30, 40))
        await flooder.wait_for_message(lambda m: m.text == notices.choose_domain(DUTCH))
        await flooder.press(DUTCH.gettext("✉️ Letter"))
        await sanne.wait_for_message(lambda m: m.reply_markup is not None)
        await sanne.press(DUTCH.gettext("✅ Accept"))
        await flooder.wait_for_message(lambda m: "/done" in (m.text or ""))
        in_danger = sandbox.add_user("Daan", "nl")
        await onboard(in_danger, "Nederlands")
        bystander = sandbox.add_user("Bram", "nl")

        await asyncio.gather(*(flooder.send_text(flood_text(n)) for n in range(FLOOD)))
        # The flood is stored and being handled now; the others write right after it.
        await asyncio.sleep(0.2)
        sent = time.monotonic()
        await asyncio.gather(bystander.send_text("/start"), in_danger.send_text(GAS))
        bystander_waited, emergency_waited = await asyncio.gather(
            seconds_until(bystander, sent, lambda m: m.reply_markup is not None),
            seconds_until(in_danger, sent, lambda m: m.text == notices.emergency_help(DUTCH)),
        )
        print(
            f"flood of {FLOOD}: bystander answered after {bystander_waited:.2f} s, "
            f"emergency help after {emergency_waited:.2f} s"
        )
        assert bystander_waited < ANSWER_WITHIN
        assert emergency_waited < ANSWER_WITHIN

        expected = [flood_text(n) for n in range(FLOOD)]
        started = time.monotonic()
        await sandbox.wait_until(
            lambda: sum(m.text in expected for m in sanne.received()) >= FLOOD,
            timeout=FLOOD * 2 + 30,
        )
        relayed = [m.text for m in sanne.received() if m.text in expected]
        print(f"all {FLOOD} relayed {time.monotonic() - started:.1f} s after the others")
        assert relayed == expected  # each once, in order
        told = [m for m in flooder.received() if m.text == notices.one_by_one(DUTCH)]
        assert len(told) == 1
        everyone = (sanne, flooder, in_danger, bystander)
        assert not [m for user in everyone for m in user.received() if is_apology(m)]


def is_apology(message: ChatMessage) -> bool:
    return message.text == SORRY
