"""Workers killed with SIGKILL at random moments while newcomers keep writing: every update is
handled exactly once, every message reaches its sleutelpersoon at most once and in the order it
was written, and the only copies missing are those the outbox would not risk sending twice.

Three `sleutelbrug worker` processes behind our webhook receiver, the sandbox Telegram, the
machine's PostgreSQL and Redis. The figures go to artifacts/reliability-worker-kills.txt.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.intake import WORKER_GROUP
from bot.models import InboxUpdate, OutboxMessage, OutboxOutcome
from tests.reliability.figures import record_figures
from tests.reliability.kit import Deployment, Pair, deployment, eventually

pytestmark = pytest.mark.timeout(240)

KILLS = 50
PAIRS = 16
# Each newcomer writes every few seconds, below the one message a second Telegram allows a
# chat, so that a chat held up by a killed sender can catch up.
SEND_EVERY_SECONDS = 2.5
# A worker lives this long (random) after it is ready, then it is killed.
LIFETIME_SECONDS = (0.3, 2.0)
# A killed sender's outbox lease must run out before its chat moves on (bot/outbox.py).
SETTLE_TIMEOUT = 150.0


@dataclass(frozen=True)
class Figures:
    updates: int
    stored: int
    unhandled: int
    claimed_again: int
    answered: int
    duplicates: int
    missing: int
    # Missing because their sender was killed during the Bot API call: the outbox does not
    # send those again, since it cannot know whether they arrived (never twice).
    missing_uncertain: int
    out_of_order: int


async def test_workers_killed_at_random_handle_every_update_once_and_keep_order(
    postgres_url: str, redis: Redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    chance = random.Random()
    started = time.monotonic()
    async with deployment(postgres_url, redis, redis_key_prefix, tmp_path) as dep:
        pairs = await dep.add_pairs(PAIRS)
        await dep.set_webhook()
        kills = 0
        killing_done = asyncio.Event()

        async def keep_writing() -> None:
            number = 0
            while not killing_done.is_set():
                number += 1
                for pair in pairs:
                    await pair.send(number)
                # Pacing the simulated people, not waiting for the bot.
                await asyncio.sleep(SEND_EVERY_SECONDS)

        async def kill_and_restart(slot: int) -> None:
            nonlocal kills
            while kills < KILLS:
                await asyncio.sleep(chance.uniform(*LIFETIME_SECONDS))
                if kills >= KILLS:
                    return
                kills += 1
                await dep.workers[slot].kill()
                dep.workers[slot] = dep.make_worker()
                await dep.workers[slot].start()

        writing = asyncio.create_task(keep_writing())
        await asyncio.gather(*(kill_and_restart(slot) for slot in range(len(dep.workers))))
        killing_done.set()
        await writing
        killed_within = time.monotonic() - started

        with contextlib.suppress(TimeoutError):  # the figures below say what is missing
            await eventually(
                lambda: settled(dep, pairs, redis, redis_key_prefix), SETTLE_TIMEOUT, "all settled"
            )
        settled_within = time.monotonic() - started - killed_within
        figures = await measure(dep, pairs)

    record_figures(
        "worker-kills",
        f"worker kills: {kills} SIGKILLs of 3 workers at random moments over "
        f"{killed_within:.0f} s, {PAIRS} conversations; updates {figures.updates}, stored "
        f"{figures.stored}, handled exactly once {figures.stored - figures.unhandled}, "
        f"unhandled {figures.unhandled}, claimed again after their worker died "
        f"{figures.claimed_again}; copies received {figures.answered}, duplicates "
        f"{figures.duplicates}, missing {figures.missing} (of which {figures.missing_uncertain} "
        f"sent by a worker killed during the Bot API call and not risked twice), conversations "
        f"out of order {figures.out_of_order}; settled {settled_within:.0f} s after the last "
        f"kill; test took {time.monotonic() - started:.0f} s\n",
    )
    assert kills >= KILLS
    assert figures.stored == figures.updates and figures.unhandled == 0
    assert figures.duplicates == 0 and figures.out_of_order == 0
    assert figures.missing == figures.missing_uncertain


async def settled(dep: Deployment, pairs: list[Pair], redis: Redis, prefix: str) -> bool:
    """Every update handled, every entry acknowledged, every outbox row finished."""
    if await dep.unhandled():
        return False
    if (await redis.xpending(f"{prefix}inbox", WORKER_GROUP))["pending"]:
        return False
    async with dep.sessions() as session:
        unsent = await session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None)))
    return not unsent


async def measure(dep: Deployment, pairs: list[Pair]) -> Figures:
    async with dep.sessions() as session:
        claimed_again = await session.scalar(select(func.count()).where(InboxUpdate.attempts > 1))
        copies = (
            await session.execute(
                select(OutboxMessage.params, OutboxMessage.outcome).where(
                    OutboxMessage.method == "copyMessage"
                )
            )
        ).all()
    outcome_of = {
        (params["from_chat_id"], params["message_id"]): outcome for params, outcome in copies
    }
    missing = [
        (pair.newcomer.id, pair.message_ids[text])
        for pair in pairs
        for text in pair.sent
        if text not in pair.copies()
    ]
    return Figures(
        updates=sum(len(pair.sent) for pair in pairs),
        stored=await dep.stored(),
        unhandled=await dep.unhandled(),
        claimed_again=claimed_again or 0,
        answered=sum(len(pair.copies()) for pair in pairs),
        duplicates=sum(len(pair.copies()) - len(set(pair.copies())) for pair in pairs),
        missing=len(missing),
        missing_uncertain=sum(
            1 for copy in missing if outcome_of.get(copy) == OutboxOutcome.UNCERTAIN
        ),
        out_of_order=sum(
            1
            for pair in pairs
            if list(dict.fromkeys(pair.copies()))
            != [text for text in pair.sent if text in pair.copies()]
        ),
    )
