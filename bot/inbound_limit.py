"""How fast one user's updates are handled: a burst, then a steady pace, for every process.

Rules kept here:
- Each chat has a token bucket in Redis: `BURST` updates at once (a letter photographed page by
  page, a thought typed in six short lines), then one every `SECONDS_PER_UPDATE` (as fast as
  Telegram lets the bot pass messages on to one chat anyway). Checked and taken by one Lua
  script, so processes share it.
- Over the limit nothing is dropped: the update stays stored in the inbox and its chat is
  handled again when the bucket has a token (bot/inbox.py, bot/scheduling.py). So a flood from
  one user costs the others nothing but that user's own turns, and their words all arrive, in
  order.
- The user hears it once per flood: the first refusal after the bucket was full says so, so
  that they neither think the bot is broken nor send everything again.
- Time is real time (seconds since the epoch): this is about load, not about the business
  clock that tests move by hand. Redis down: updates are handled without the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

BURST = 10
SECONDS_PER_UPDATE = 1.0
# Reply of the script: seconds to wait ("0": take it now), and 1 when this is the flood's first
# refusal. A bucket unused for long enough to be full again is dropped by its expiry.
_TAKE = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local per_token = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'told')
local tokens = tonumber(state[1] or ARGV[2])
local at = tonumber(state[2] or ARGV[1])
local told = tonumber(state[3] or '0')
tokens = math.min(burst, tokens + math.max(0, now - at) / per_token)
if tokens >= burst then told = 0 end
local wait = 0
local first = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) * per_token
  if told == 0 then first = 1 end
  told = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'at', string.format('%.17g', now), 'told', told)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * per_token * 1000) + 1000)
return {string.format('%.17g', wait), first}
"""


@dataclass(frozen=True)
class InboundLimits:
    """The bucket's size and pace; the defaults are what ships."""

    burst: int = BURST
    seconds_per_update: float = SECONDS_PER_UPDATE


@dataclass(frozen=True)
class Turn:
    """What the bucket said about handling one more update of a chat now."""

    wait_seconds: float  # 0.0: handle it now
    first_refusal: bool  # the first refusal of this flood: tell the user once

    @property
    def allowed(self) -> bool:
        return self.wait_seconds == 0.0


def inbound_key(key_prefix: str, chat_id: int) -> str:
    return f"{key_prefix}ratelimit:inbound:{chat_id}"


class InboundLimiter:
    """The per-chat bucket above, shared through Redis."""

    def __init__(
        self,
        redis: Redis,
        key_prefix: str,
        limits: InboundLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._prefix = key_prefix
        self._limits = limits or InboundLimits()
        self._clock = clock
        self._take = redis.register_script(_TAKE)

    async def take(self, chat_id: int) -> Turn:
        """Take a turn for one update of `chat_id`, or learn how long to wait for one."""
        wait, first = await self._take(
            keys=[inbound_key(self._prefix, chat_id)],
            args=[
                repr(self._clock()),
                self._limits.burst,
                repr(self._limits.seconds_per_update),
            ],
        )
        return Turn(float(wait), bool(int(first)))
