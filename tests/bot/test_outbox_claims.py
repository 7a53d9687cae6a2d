"""Several outbox senders at once, and senders that die: no row twice, each chat in order.

Each sender has its own database engine and its own PTB Bot, as separate processes would;
the sandbox plays Telegram and shows exactly what every user received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.clock import SystemClock
from bot.models import OfficeWindow, OutboxMessage, OutboxOutcome, Sleutelpersoon
from bot.outbox import LEASE, OutboxSender, enqueue, surely_not_delivered
from bot.rate_limit import Priority, SendLimits, SharedRateLimiter, TelegramRateLimiter
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox, SimUser

from .kit import ManualClock

SENDERS = 4
CHATS = 6
ROWS_PER_CHAT = 8
DEADLINE_SECONDS = 90
# The claims are the subject here, not Telegram's flood limits (tests/bot/test_rate_limit.py).
GENEROUS = SendLimits(per_chat=1000, overall=1000, reserved_for_conversation=0)


class SenderKilled(Exception):
    """Stands for the process ending at this point."""


@asynccontextmanager
async def sender_processes(
    database_url: str,
    sandbox: Sandbox,
    count: int,
    limiter: SharedRateLimiter,
    lease_clock: ManualClock | None = None,
    clock: ManualClock | None = None,
) -> AsyncIterator[tuple[list[OutboxSender], async_sessionmaker[AsyncSession]]]:
    """`count` senders with an engine and a Bot each, and a session factory for the test."""
    async with AsyncExitStack() as stack:
        engines = [create_engine_for(database_url) for _ in range(count + 1)]
        for engine in engines:
            stack.push_async_callback(engine.dispose)
        senders = []
        for engine in engines[:count]:
            bot = ExtBot(
                sandbox.token,
                base_url=sandbox.base_url,
                rate_limiter=TelegramRateLimiter(limiter),
            )
            await stack.enter_async_context(bot)
            senders.append(
                OutboxSender(
                    session_factory(engine),
                    bot,
                    clock or SystemClock(),
                    limiter=limiter,
                    lease_clock=lease_clock,
                )
            )
        yield senders, session_factory(engines[count])


async def write(sessions: async_sessionmaker[AsyncSession], chat_id: int, text: str) -> None:
    async with sessions.begin() as session:
        enqueue(session, datetime.now(UTC), chat_id, "sendMessage", {"text": text})


async def unfinished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        return int(count or 0)


def texts(user: SimUser) -> list[str]:
    return [message.text or "" for message in user.received()]


async def test_concurrent_senders_send_each_row_once_and_in_chat_order(
    database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    migrate(database_url)
    limiter = SharedRateLimiter(redis, redis_key_prefix, GENEROUS)
    async with Sandbox(flood_limits=None) as sandbox:
        users = [sandbox.add_user(f"User{n}") for n in range(CHATS)]
        async with sender_processes(database_url, sandbox, SENDERS, limiter) as (
            senders,
            sessions,
        ):
            sent_by = [0] * SENDERS
            writing_done = asyncio.Event()

            async def keep_writing() -> None:
                # Rows keep arriving while the senders work, as they would in production.
                for n in range(ROWS_PER_CHAT):
                    for user in users:
                        await write(sessions, user.id, f"{user.id}#{n}")
                    await asyncio.sleep(0)
                writing_done.set()

            async def keep_flushing(index: int) -> None:
                while not (writing_done.is_set() and await unfinished(sessions) == 0):
                    sent_by[index] += await senders[index].flush()

            async with asyncio.timeout(DEADLINE_SECONDS):
                await asyncio.gather(
                    keep_writing(), *(keep_flushing(index) for index in range(SENDERS))
                )

            for user in users:
                assert texts(user) == [f"{user.id}#{n}" for n in range(ROWS_PER_CHAT)]
            assert sum(sent_by) == CHATS * ROWS_PER_CHAT
            assert sum(1 for count in sent_by if count) >= 2, f"no concurrency: {sent_by}"
            async with sessions() as session:
                outcomes = (await session.scalars(select(OutboxMessage.outcome))).all()
            assert set(outcomes) == {OutboxOutcome.SENT}
            sends = [r for r in sandbox.requests if r.method == "sendMessage"]
            assert len(sends) == CHATS * ROWS_PER_CHAT


async def test_concurrent_senders_answer_at_night_and_hold_the_rest_until_morning(
    database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    """Rows that wait for a sleutelpersoon's hours and answers to her own commands, written
    alternately to several chats while four senders flush: at 23:00 only the answers go out,
    each once and in order; at 09:00 the rest, each once and in order."""
    migrate(database_url)
    clock = ManualClock(datetime(2026, 12, 8, 22, 0, tzinfo=UTC))  # a Tuesday, 23:00 in winter
    limiter = SharedRateLimiter(redis, redis_key_prefix, GENEROUS)
    async with (
        Sandbox(flood_limits=None) as sandbox,
        sender_processes(database_url, sandbox, SENDERS, limiter, clock=clock) as (
            senders,
            sessions,
        ),
    ):
        users = [sandbox.add_user(f"Sleutelpersoon{n}") for n in range(CHATS)]
        async with sessions.begin() as session:
            people = [
                Sleutelpersoon(
                    telegram_user_id=user.id,
                    display_name=user.first_name,
                    languages=["ar"],
                    domains=["post"],
                    roles=[],
                    created_at=clock.now(),
                    windows=[
                        OfficeWindow(weekday=d, starts_at=time(9), ends_at=time(17))
                        for d in range(5)
                    ],
                )
                for user in users
            ]
            session.add_all(people)
            await session.flush()
            person_of = {person.telegram_user_id: person.id for person in people}
        writing_done = asyncio.Event()

        async def keep_writing() -> None:
            for n in range(ROWS_PER_CHAT):
                for user in users:
                    async with sessions.begin() as session:
                        now = clock.now()
                        enqueue(
                            session,
                            now,
                            user.id,
                            "sendMessage",
                            {"text": f"held {n}"},
                            sleutelpersoon_id=person_of[user.id],
                        )
                        enqueue(session, now, user.id, "sendMessage", {"text": f"answer {n}"})
                await asyncio.sleep(0)
            writing_done.set()

        async def keep_flushing(sender: OutboxSender) -> None:
            while not writing_done.is_set():
                await sender.flush()
            await sender.flush()

        async with asyncio.timeout(DEADLINE_SECONDS):
            await asyncio.gather(keep_writing(), *(keep_flushing(s) for s in senders))
            await asyncio.gather(*(s.flush() for s in senders))
        answers = [f"answer {n}" for n in range(ROWS_PER_CHAT)]
        for user in users:
            assert texts(user) == answers
        assert await unfinished(sessions) == CHATS * ROWS_PER_CHAT

        clock.set(datetime(2026, 12, 9, 8, 0, tzinfo=UTC))  # Wednesday 09:00
        async with asyncio.timeout(DEADLINE_SECONDS):
            await asyncio.gather(*(s.flush() for s in senders))
        for user in users:
            assert texts(user) == [*answers, *(f"held {n}" for n in range(ROWS_PER_CHAT))]
        assert await unfinished(sessions) == 0
        sends = [r for r in sandbox.requests if r.method == "sendMessage"]
        assert len(sends) == 2 * CHATS * ROWS_PER_CHAT


@pytest.mark.parametrize(
    ("dies_in", "first_outcome"),
    [("_finish", OutboxOutcome.UNCERTAIN), ("_start_attempt", OutboxOutcome.SENT)],
    ids=["after-telegram-accepted", "before-the-call"],
)
async def test_a_sender_dying_mid_row_causes_no_resend_and_no_loss(
    database_url: str,
    redis: Redis,
    redis_key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    dies_in: str,
    first_outcome: OutboxOutcome,
) -> None:
    """Dying in `_finish` is the crash window: Telegram took the message but the row was
    never marked. Once the lease runs out it is finished as uncertain and never sent again.
    Dying in `_start_attempt` leaves a row claimed but never sent: after the lease the next
    sender sends it. Either way the chat goes on with its next row."""
    migrate(database_url)
    lease_clock = ManualClock(datetime.now(UTC))
    limiter = SharedRateLimiter(redis, redis_key_prefix, GENEROUS)
    async with (
        Sandbox(flood_limits=None) as sandbox,
        sender_processes(database_url, sandbox, 2, limiter, lease_clock) as (senders, sessions),
    ):
        dying, survivor = senders
        user = sandbox.add_user("Newcomer")
        await write(sessions, user.id, "first words")
        await write(sessions, user.id, "second words")

        async def die(*args: Any, **kwargs: Any) -> None:
            raise SenderKilled

        monkeypatch.setattr(dying, dies_in, die)
        with pytest.raises(SenderKilled):
            await dying.flush()
        delivered_before_death = ["first words"] if dies_in == "_finish" else []
        assert texts(user) == delivered_before_death

        # While the dead sender's lease lasts its chat stays claimed: nothing goes out.
        assert await survivor.flush() == 0
        lease_clock.advance(LEASE + timedelta(seconds=1))
        with caplog.at_level(logging.INFO):
            assert await survivor.flush() == 2 - len(delivered_before_death)

        assert texts(user) == ["first words", "second words"]
        async with sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [row.outcome for row in rows] == [first_outcome, OutboxOutcome.SENT]
        if first_outcome is OutboxOutcome.UNCERTAIN:
            assert f"outbox row {rows[0].id}" in caplog.text and "uncertain" in caplog.text
        assert "words" not in caplog.text
        assert await unfinished(sessions) == 0


class PausingLimiter(SharedRateLimiter):
    """Admits only when the test says so: the sender stands still between its claim and its
    call, as a process stopped by SIGSTOP or a long GC would."""

    def __init__(self, redis: Redis, key_prefix: str) -> None:
        super().__init__(redis, key_prefix, GENEROUS)
        self.paused = asyncio.Event()
        self.resume = asyncio.Event()

    async def admit(self, chat_id: int, priority: Priority, max_wait: float) -> bool:
        self.paused.set()
        await self.resume.wait()
        return await super().admit(chat_id, priority, max_wait)


@pytest.mark.parametrize("taker_finishes", [True, False], ids=["row-finished", "row-claimed"])
async def test_a_sender_paused_past_its_lease_sends_nothing_and_records_nothing(
    database_url: str, redis: Redis, redis_key_prefix: str, taker_finishes: bool
) -> None:
    """Sender A claims a row and stands still past its lease; B takes the row over (and has
    sent it, or still holds it). When A resumes, its fenced writes find the claim gone: it
    neither calls Telegram nor touches the row."""
    migrate(database_url)
    lease_clock = ManualClock(datetime.now(UTC))
    limiter = SharedRateLimiter(redis, redis_key_prefix, GENEROUS)
    pausing = PausingLimiter(redis, redis_key_prefix)
    async with (
        Sandbox(flood_limits=None) as sandbox,
        sender_processes(database_url, sandbox, 2, limiter, lease_clock) as (senders, sessions),
    ):
        paused, taker = senders
        paused._limiter = pausing
        user = sandbox.add_user("Newcomer")
        await write(sessions, user.id, "only words")

        pausing_flush = asyncio.create_task(paused.flush())
        await asyncio.wait_for(pausing.paused.wait(), 10)
        lease_clock.advance(LEASE + timedelta(seconds=1))
        if taker_finishes:
            assert await taker.flush() == 1
        else:
            assert await taker._claim(await first_row_id(sessions), user.id)
        async with sessions() as session:
            before = (await session.execute(select(OutboxMessage.__table__))).all()

        pausing.resume.set()
        assert await asyncio.wait_for(pausing_flush, 10) == 0

        assert texts(user) == (["only words"] if taker_finishes else [])
        async with sessions() as session:
            assert (await session.execute(select(OutboxMessage.__table__))).all() == before


async def first_row_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        row_id = await session.scalar(select(func.min(OutboxMessage.id)))
        assert row_id is not None
        return int(row_id)


def network_error_caused_by(cause: BaseException, error: NetworkError) -> NetworkError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "not_delivered"),
    [
        (NetworkError("Bad Gateway (502)"), True),
        (network_error_caused_by(httpx.ConnectError("refused"), NetworkError("connect")), True),
        (network_error_caused_by(httpx.ConnectTimeout("slow"), TimedOut()), True),
        (network_error_caused_by(httpx.PoolTimeout("busy"), TimedOut()), True),
        (network_error_caused_by(httpx.ReadTimeout("no answer"), TimedOut()), False),
        (network_error_caused_by(httpx.ReadError("reset"), NetworkError("read")), False),
        (network_error_caused_by(httpx.RemoteProtocolError("gone"), NetworkError("x")), False),
    ],
)
def test_only_failures_that_prove_nothing_arrived_are_retried(
    error: NetworkError, not_delivered: bool
) -> None:
    assert surely_not_delivered(error) is not_delivered
