"""A sender process stopped (SIGSTOP) between claiming a row and calling Telegram, for longer
than its lease, while another sender takes the row over and sends it; then resumed (SIGCONT).
Nothing may reach the user twice (bot/outbox.py: fenced writes).

The paused sender is a real process; it is stopped while the database shows it holding a row
it has not started to send (it waits for the chat's next place under Telegram's limit of one
message a second), which the test checks once the process stands still.

PostgreSQL only: several sender processes are a PostgreSQL deployment. On SQLite a process
stopped inside a transaction holds the file's write lock, and every other process waits for it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ExtBot

from bot.clock import SystemClock
from bot.models import OutboxMessage
from bot.outbox import OutboxSender, enqueue
from bot.rate_limit import SendLimits, SharedRateLimiter, TelegramRateLimiter
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox

from .kit import eventually

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Short, so the test does not wait half a minute; what is tested is the fence, not the length.
LEASE_SECONDS = 2.0
MESSAGES = 6
STOP_ATTEMPTS = 3


async def claimed_unstarted(
    sessions: async_sessionmaker[AsyncSession], identity: str
) -> OutboxMessage | None:
    """A row the given sender holds and has not started to send."""
    async with sessions() as session:
        row: OutboxMessage | None = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.claimed_by == identity,
                OutboxMessage.attempt_started_at.is_(None),
                OutboxMessage.sent_at.is_(None),
            )
        )
        return row


async def test_a_sender_stopped_past_its_lease_sends_nothing_twice(
    postgres_url: str, redis: Redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    database_url = postgres_url
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    async with Sandbox(flood_limits=None) as sandbox:
        user = sandbox.add_user("Newcomer")
        texts = [f"message {n}" for n in range(MESSAGES)]
        async with sessions.begin() as session:
            for text in texts:
                enqueue(session, datetime.now(UTC), user.id, "sendMessage", {"text": text})
        with (tmp_path / "paused-sender.log").open("wb") as log:
            paused = await asyncio.create_subprocess_exec(
                sys.executable,
                str(PROJECT_ROOT / "tests" / "reliability" / "outbox_sender_process.py"),
                database_url,
                REDIS_URL,
                redis_key_prefix,
                sandbox.base_url,
                sandbox.token,
                str(LEASE_SECONDS),
                cwd=PROJECT_ROOT,
                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        try:
            assert paused.stdout is not None
            identity = (await asyncio.wait_for(paused.stdout.readline(), 30)).decode().strip()

            # Stop it while it holds a row it has not started to send (after the first
            # message it waits about a second for the chat's next place). A stop that lands
            # elsewhere (the process was already calling Telegram) is let go and tried again.
            async def holding_unstarted() -> bool:
                return await claimed_unstarted(sessions, identity) is not None

            for _attempt in range(STOP_ATTEMPTS):
                await eventually(holding_unstarted, 20, "the sender holds an unstarted row")
                os.kill(paused.pid, signal.SIGSTOP)
                await asyncio.sleep(0.3)  # a commit on its way lands before we look
                if await holding_unstarted():
                    break
                os.kill(paused.pid, signal.SIGCONT)
            else:
                pytest.fail(f"never stopped between claim and call in {STOP_ATTEMPTS} tries")
            delivered_before = len(user.received())

            await asyncio.sleep(LEASE_SECONDS + 0.5)
            async with ExtBot(
                sandbox.token,
                base_url=sandbox.base_url,
                rate_limiter=TelegramRateLimiter(
                    SharedRateLimiter(redis, redis_key_prefix, SendLimits())
                ),
            ) as bot:
                taker = OutboxSender(
                    sessions,
                    bot,
                    SystemClock(),
                    limiter=SharedRateLimiter(redis, redis_key_prefix, SendLimits()),
                )
                while len(user.received()) < MESSAGES:
                    await taker.flush()
                    await asyncio.sleep(0.05)

            # Once the chat has a free place again, the resumed sender is let through by the
            # rate limiter at once, straight on to its call.
            await asyncio.sleep(1.5)
            os.kill(paused.pid, signal.SIGCONT)
            await asyncio.sleep(LEASE_SECONDS)  # the resumed sender runs on a while

            received = [message.text for message in user.received()]
            print(f"stopped after {delivered_before} of {MESSAGES}; received {len(received)}")
            assert received == texts
            async with sessions() as session:
                unsent = await session.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
                )
            assert unsent is None
        finally:
            if paused.returncode is None:
                paused.kill()
            await paused.wait()
            await engine.dispose()
