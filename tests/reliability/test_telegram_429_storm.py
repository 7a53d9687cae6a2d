"""Telegram answering 429 for a while: two bot processes share the limits, honour every
retry_after, and every message arrives once, in order.

The sandbox allows far fewer messages a second overall than the bot believes Telegram does,
so it keeps answering 429 with retry_after until the backlog is through. Each process runs its
real dispatcher loop against one PostgreSQL database and one Redis key prefix.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.app import build_application
from bot.cli import dependencies_for
from bot.clock import SystemClock
from bot.dispatcher import run_dispatcher
from bot.models import OutboxMessage, OutboxOutcome
from bot.outbox import enqueue
from bot.rate_limit import SendLimits
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from bot.storage import migrate
from sandbox import FloodLimits, Sandbox, SimUser
from tests.bot.kit import bot_settings

from .figures import record_figures
from .kit import eventually

PROCESSES = 2
CHATS = 6
MESSAGES_PER_CHAT = 5
# Telegram's real per-chat limit, but an overall one far below the bot's 30 a second.
STINGY_TELEGRAM = FloodLimits(per_chat_per_second=1, global_per_second=3)
DEADLINE_SECONDS = 60
RETRY_AFTER = re.compile(r"retry after (\d+)")


@asynccontextmanager
async def bot_processes(settings: Settings, sandbox: Sandbox) -> AsyncIterator[list[Services]]:
    """`PROCESSES` bots with their own database engine and Redis client, each running the
    dispatcher loop that flushes the outbox, with Telegram's real limits."""
    async with AsyncExitStack() as stack:
        stop = asyncio.Event()
        services: list[Services] = []
        loops: list[asyncio.Task[None]] = []
        for _ in range(PROCESSES):
            dependencies = await stack.enter_async_context(
                dependencies_for(settings, SystemClock(), SendLimits())
            )
            application = build_application(sandbox.token, dependencies, base_url=sandbox.base_url)
            await stack.enter_async_context(application)
            process = application.bot_data[SERVICES_KEY]
            assert isinstance(process, Services)
            services.append(process)
        try:
            loops = [asyncio.create_task(run_dispatcher(s, stop, 0.2)) for s in services]
            yield services
        finally:
            stop.set()
            await asyncio.gather(*loops)


def text_of(chat: int, n: int) -> str:
    return f"message {n} for chat {chat}"


async def test_a_429_storm_delays_messages_but_loses_none_and_sends_none_twice(
    postgres_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    migrate(postgres_url)
    settings = bot_settings(postgres_url, redis_key_prefix, "http://127.0.0.1:9")
    async with Sandbox(flood_limits=STINGY_TELEGRAM) as sandbox:
        users: list[SimUser] = [sandbox.add_user(f"User{n}") for n in range(CHATS)]
        async with bot_processes(settings, sandbox) as services:
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with services[0].sessions.begin() as session:
                for n in range(MESSAGES_PER_CHAT):
                    for index, user in enumerate(users):
                        # Half the chats get bulk notices, half conversation replies.
                        purpose = "notice:test" if index % 2 else None
                        enqueue(
                            session,
                            datetime.now(UTC),
                            user.id,
                            "sendMessage",
                            {"text": text_of(user.id, n)},
                            purpose=purpose,
                        )

            async def all_finished() -> bool:
                async with services[0].sessions() as session:
                    unsent = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.sent_at.is_(None))
                    )
                return unsent == 0

            await eventually(all_finished, DEADLINE_SECONDS, "every message finished")
            duration = loop.time() - started

        sends = [r for r in sandbox.requests if r.method == "sendMessage"]
        refused = [r for r in sends if r.status == 429]
        accepted = [r for r in sends if r.status == 200]

        # Nothing sent to a chat before the retry_after of its last 429 was over.
        early = 0
        for refusal in refused:
            match = RETRY_AFTER.search(refusal.description or "")
            assert match is not None and refusal.monotonic_at is not None
            until = refusal.monotonic_at + int(match.group(1))
            early += sum(
                1
                for later in sends
                if later.params["chat_id"] == refusal.params["chat_id"]
                and later.monotonic_at is not None
                and refusal.monotonic_at < later.monotonic_at < until
            )

        received = {user.id: [m.text for m in user.received()] for user in users}
        expected = {
            user.id: [text_of(user.id, n) for n in range(MESSAGES_PER_CHAT)] for user in users
        }
        counts = Counter(text for texts in received.values() for text in texts)
        duplicates = sum(count - 1 for count in counts.values() if count > 1)
        lost = sum(1 for texts in expected.values() for text in texts if text not in counts)
        async with services[0].sessions() as session:
            outcomes = Counter((await session.scalars(select(OutboxMessage.outcome))).all())

        report = (
            f"429 storm: {PROCESSES} bot processes, {CHATS} chats x {MESSAGES_PER_CHAT} messages,"
            f" sandbox allowing {STINGY_TELEGRAM.global_per_second}/s overall and"
            f" {STINGY_TELEGRAM.per_chat_per_second}/s per chat\n"
            f"messages: {CHATS * MESSAGES_PER_CHAT}; sendMessage requests: {len(sends)};"
            f" accepted: {len(accepted)}; answered 429: {len(refused)}\n"
            f"sent before retry_after elapsed: {early}; duplicates: {duplicates};"
            f" lost: {lost}; outcomes: {dict(outcomes)}; took {duration:.1f} s\n"
        )
        record_figures("429-storm", report)

        assert len(refused) >= 3, "the sandbox never pushed back: the test has no teeth"
        assert early == 0
        assert received == expected
        assert duplicates == 0 and lost == 0
        assert len(accepted) == CHATS * MESSAGES_PER_CHAT
        assert outcomes == {OutboxOutcome.SENT: CHATS * MESSAGES_PER_CHAT}
