"""Webhook mode with one worker process: a user who never consented sends 40 texts at once,
and another user's /start is still handled within 2 s of arriving (the issue measured 43 s: the
worker drained one chat after another and waited for each reply's send).

What is bounded is the bot's part, from the moment the receiver stored the bystander's update
to the moment the answer reached him. Before that the update waits behind the flood in the
sandbox's webhook delivery, which posts one update at a time (Telegram uses up to 40
connections at once); that wait is printed, not bounded.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from bot.models import InboxUpdate
from tests.reliability.kit import deployment

pytestmark = pytest.mark.timeout(120)

FLOOD = 40
HANDLED_WITHIN = 2.0


async def test_a_flood_before_consent_holds_up_nobody_in_webhook_mode(
    postgres_url: str, redis: Redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    async with deployment(postgres_url, redis, redis_key_prefix, tmp_path, workers=1) as dep:
        await dep.set_webhook()
        flooder = dep.sandbox.add_user("Flooder", "nl")
        bystander = dep.sandbox.add_user("Bystander", "nl")

        await asyncio.gather(*(flooder.send_text(f"hallo {n}") for n in range(FLOOD)))
        await asyncio.sleep(0.2)
        sent = time.time()
        await bystander.send_text("/start")
        await bystander.wait_for_message(lambda m: m.reply_markup is not None, timeout=60)
        answered = time.time()
        async with dep.sessions() as session:
            stored = await session.scalar(
                select(InboxUpdate.received_at).where(InboxUpdate.chat_id == bystander.id)
            )
        assert stored is not None
        handled_in = answered - stored.timestamp()
        print(
            f"webhook, one worker, flood of {FLOOD}: bystander answered {answered - sent:.2f} s "
            f"after writing, {handled_in:.2f} s after his update was stored"
        )
        assert handled_in < HANDLED_WITHIN
