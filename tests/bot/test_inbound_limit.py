"""The inbound limit (bot/inbound_limit.py) on the machine's Redis, with a clock the test moves:
what it admits over any stretch of time, that a person writing at a human pace never meets it,
and that a flood is announced once."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.inbound_limit import BURST, SECONDS_PER_UPDATE, InboundLimiter

from .kit import REDIS_URL

CHAT = 4242


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def takes(gaps: list[float]) -> list[tuple[float, bool, bool]]:
    """(time, allowed, first refusal) of a take after each gap, on a fresh bucket."""
    redis = Redis.from_url(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    clock = Clock()
    limiter = InboundLimiter(redis, prefix, clock=clock)
    outcomes = []
    try:
        for gap in gaps:
            clock.now += gap
            turn = await limiter.take(CHAT)
            outcomes.append((clock.now, turn.allowed, turn.first_refusal))
    finally:
        await redis.delete(*[key async for key in redis.scan_iter(match=f"{prefix}*")])
        await redis.aclose()
    return outcomes


gaps = st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(gaps=gaps)
async def test_no_stretch_of_time_admits_more_than_the_burst_and_the_pace(
    gaps: list[float],
) -> None:
    admitted = [at for at, allowed, _first in await takes(gaps) if allowed]
    for index, start in enumerate(admitted):
        within = [at for at in admitted[index:] if at - start <= 10]
        assert len(within) <= BURST + 10 / SECONDS_PER_UPDATE


@settings(max_examples=40, deadline=None)
@given(gaps=st.lists(st.floats(min_value=SECONDS_PER_UPDATE, max_value=60), max_size=40))
async def test_a_person_writing_at_a_human_pace_is_never_held_back(gaps: list[float]) -> None:
    burst = [0.0] * BURST  # a letter photographed page by page, all at once
    assert all(allowed for _at, allowed, _first in await takes(burst + gaps))


async def test_a_flood_is_announced_once_and_again_only_after_a_calm() -> None:
    flood = [0.0] * (BURST + 20)
    calm = [BURST * SECONDS_PER_UPDATE + 1]
    outcomes = await takes(flood + calm + flood)
    first = [first for _at, _allowed, first in outcomes]
    assert sum(first[: len(flood)]) == 1 and first[BURST] is True
    assert sum(first[len(flood) + 1 :]) == 1
    allowed = [allowed for _at, allowed, _first in outcomes]
    assert all(allowed[:BURST]) and not any(allowed[BURST : len(flood)])
    assert allowed[len(flood)]  # after the calm
