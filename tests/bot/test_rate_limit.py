"""The shared rate limiter against the machine's Redis, with the time passed in."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.outbox import priority_of
from bot.rate_limit import (
    ADMITTED,
    Priority,
    SendLimits,
    SharedRateLimiter,
    TelegramRateLimiter,
)
from tests.conftest import REDIS_TEST_URL

# Small numbers, so that random patterns run into every limit.
TIGHT = SendLimits(
    per_chat=2,
    chat_window=1.0,
    overall=5,
    overall_window=1.0,
    reserved_for_conversation=2,
    refused_chats_for_overall_pause=2,
)


class FakeTime:
    """Seconds since the epoch that move only when told; sleeping moves them."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter_for(redis: Redis, prefix: str, time: FakeTime) -> SharedRateLimiter:
    return SharedRateLimiter(redis, prefix, TIGHT, clock=time, sleep=time.sleep)


async def test_a_chat_gets_its_limit_then_waits_until_the_oldest_send_leaves_the_window(
    redis: Redis, redis_key_prefix: str
) -> None:
    time = FakeTime()
    limiter = limiter_for(redis, redis_key_prefix, time)
    assert await limiter.try_admit(1, Priority.CONVERSATION) == 0.0
    time.now += 0.25
    assert await limiter.try_admit(1, Priority.CONVERSATION) == 0.0
    time.now += 0.25
    assert await limiter.try_admit(1, Priority.CONVERSATION) == pytest.approx(0.5)
    # Another chat is not held up by this one.
    assert await limiter.try_admit(2, Priority.CONVERSATION) == 0.0
    time.now += 0.5
    assert await limiter.try_admit(1, Priority.CONVERSATION) == 0.0


async def test_admit_sleeps_for_the_wait_and_gives_up_beyond_max_wait(
    redis: Redis, redis_key_prefix: str
) -> None:
    time = FakeTime()
    limiter = limiter_for(redis, redis_key_prefix, time)
    for _ in range(2):
        assert await limiter.admit(7, Priority.CONVERSATION, max_wait=0.0)
    assert await limiter.admit(7, Priority.CONVERSATION, max_wait=5.0)
    assert time.slept == [pytest.approx(1.0)]
    assert await limiter.admit(7, Priority.CONVERSATION, max_wait=0.0)
    assert not await limiter.admit(7, Priority.CONVERSATION, max_wait=0.9)
    assert time.slept == [pytest.approx(1.0)]


async def test_bulk_notices_leave_room_for_conversation_replies(
    redis: Redis, redis_key_prefix: str
) -> None:
    time = FakeTime()
    limiter = limiter_for(redis, redis_key_prefix, time)
    admitted_bulk = [await limiter.try_admit(chat, Priority.BULK) == 0.0 for chat in range(5)]
    assert admitted_bulk == [True, True, True, False, False]
    assert await limiter.try_admit(10, Priority.CONVERSATION) == 0.0
    assert await limiter.try_admit(11, Priority.CONVERSATION) == 0.0
    assert await limiter.try_admit(12, Priority.CONVERSATION) > 0.0


async def test_a_429_pauses_its_chat_and_429s_for_two_chats_pause_everything(
    redis: Redis, redis_key_prefix: str
) -> None:
    time = FakeTime()
    limiter = limiter_for(redis, redis_key_prefix, time)
    assert not await limiter.refused(1, 3.0)
    assert await limiter.try_admit(1, Priority.CONVERSATION) == pytest.approx(3.0)
    assert await limiter.try_admit(2, Priority.CONVERSATION) == 0.0
    time.now += 0.5
    assert await limiter.refused(2, 4.0)
    assert await limiter.try_admit(3, Priority.CONVERSATION) == pytest.approx(4.0)
    time.now += 4.0
    assert await limiter.try_admit(3, Priority.CONVERSATION) == 0.0


async def test_a_second_process_sees_the_same_counts_and_pauses(
    redis: Redis, redis_key_prefix: str
) -> None:
    time = FakeTime()
    first = limiter_for(redis, redis_key_prefix, time)
    other_client: Redis = Redis.from_url(REDIS_TEST_URL)
    try:
        second = limiter_for(other_client, redis_key_prefix, time)
        assert await first.try_admit(1, Priority.CONVERSATION) == 0.0
        assert await second.try_admit(1, Priority.CONVERSATION) == 0.0
        assert await second.try_admit(1, Priority.CONVERSATION) > 0.0
        await first.refused(2, 2.0)
        assert await second.try_admit(2, Priority.CONVERSATION) == pytest.approx(2.0)
    finally:
        await other_client.aclose()


def test_purposes_marked_as_notices_are_bulk_and_everything_else_is_conversation() -> None:
    assert priority_of("notice:erasure") is Priority.BULK
    assert priority_of("relay:3") is Priority.CONVERSATION
    assert priority_of("offer:9") is Priority.CONVERSATION
    assert priority_of(None) is Priority.CONVERSATION


# --- PTB's side: which calls are limited, and what a 429 does ---


@dataclass
class Calls:
    """A Bot API callback that answers 429 a given number of times, then succeeds."""

    refusals: int
    made: int = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.made += 1
        if self.made <= self.refusals:
            raise RetryAfter(1)
        return {"ok": True}


async def test_a_direct_send_after_a_429_pauses_the_chat_and_is_tried_again(
    redis: Redis, redis_key_prefix: str
) -> None:
    limiter = SharedRateLimiter(redis, redis_key_prefix, TIGHT)
    ptb = TelegramRateLimiter(limiter)
    calls = Calls(refusals=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ptb.process_request(calls, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert calls.made == 2
    assert loop.time() - started >= 0.95


async def test_an_outbox_send_gets_its_429_back_and_the_chat_is_paused(
    redis: Redis, redis_key_prefix: str
) -> None:
    limiter = SharedRateLimiter(redis, redis_key_prefix, TIGHT)
    ptb = TelegramRateLimiter(limiter)
    with pytest.raises(RetryAfter):
        await ptb.process_request(
            Calls(refusals=1), (), {}, "copyMessage", {"chat_id": 6}, ADMITTED
        )
    assert await limiter.try_admit(6, Priority.CONVERSATION) > 0.5


async def test_calls_that_send_nothing_are_not_counted(redis: Redis, redis_key_prefix: str) -> None:
    limiter = SharedRateLimiter(redis, redis_key_prefix, TIGHT)
    ptb = TelegramRateLimiter(limiter)
    for _ in range(10):
        await ptb.process_request(
            Calls(refusals=0), (), {}, "answerCallbackQuery", {"callback_query_id": "x"}, None
        )
        await ptb.process_request(
            Calls(refusals=0), (), {}, "editMessageReplyMarkup", {"chat_id": 8}, None
        )
    assert await limiter.try_admit(8, Priority.CONVERSATION) == 0.0


# --- any pattern of sends: the limits hold, and nothing is refused that would fit ---


@dataclass(frozen=True)
class Attempt:
    after: float  # seconds after the previous event
    chat: int
    priority: Priority
    refused_for: float | None  # Telegram answers 429 with this retry_after instead


attempts = st.lists(
    st.builds(
        Attempt,
        after=st.sampled_from([0.0, 0.05, 0.125, 0.25, 0.5, 1.0]),
        chat=st.integers(0, 3),
        priority=st.sampled_from(Priority),
        refused_for=st.one_of(st.none(), st.none(), st.none(), st.sampled_from([0.5, 1.0, 2.0])),
    ),
    max_size=60,
)
prefixes = (f"test:{uuid.uuid4().hex[:8]}:{n}:" for n in itertools.count())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=attempts)
def test_over_any_send_pattern_no_chat_and_not_the_bot_exceed_their_limits(
    pattern: list[Attempt],
) -> None:
    async def play() -> None:
        time = FakeTime()
        prefix = next(prefixes)
        client: Redis = Redis.from_url(REDIS_TEST_URL)
        limiter = limiter_for(client, prefix, time)
        sent: list[tuple[float, int, Priority]] = []
        paused: dict[int | None, float] = {}
        refusals: list[tuple[float, int]] = []
        try:
            for attempt in pattern:
                time.now += attempt.after
                now = time.now
                wait = await limiter.try_admit(attempt.chat, attempt.priority)
                in_chat = [t for t, chat, _ in sent if chat == attempt.chat and t > now - 1.0]
                in_window = [t for t, _, _ in sent if t > now - 1.0]
                pause = max(paused.get(attempt.chat, 0.0), paused.get(None, 0.0))
                allowed = TIGHT.overall_for(attempt.priority)
                fits = len(in_chat) < TIGHT.per_chat and len(in_window) < allowed
                assert (wait == 0.0) == (fits and pause <= now), (attempt, wait)
                if wait > 0.0:
                    continue
                if attempt.refused_for is not None:
                    # Telegram refused it after all: it was counted, and pauses come in.
                    sent.append((now, attempt.chat, attempt.priority))
                    overall = await limiter.refused(attempt.chat, attempt.refused_for)
                    refusals = [(t, c) for t, c in refusals if t > now - 1.0]
                    refusals.append((now, attempt.chat))
                    until = now + attempt.refused_for
                    paused[attempt.chat] = max(paused.get(attempt.chat, 0.0), until)
                    expect_overall = len({c for _, c in refusals}) >= 2
                    assert overall == expect_overall
                    if overall:
                        paused[None] = max(paused.get(None, 0.0), until)
                    continue
                sent.append((now, attempt.chat, attempt.priority))
            for t, chat, priority in sent:
                assert sum(1 for u, c, _ in sent if c == chat and t - 1.0 < u <= t) <= 2
                assert sum(1 for u, _, _ in sent if t - 1.0 < u <= t) <= 5
                if priority is Priority.BULK:
                    assert sum(1 for u, _, _ in sent if t - 1.0 < u < t) < 3
        finally:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(play())
