"""Telegram's flood limits, kept by all bot processes together through Redis.

Rules kept here:
- At most `per_chat` messages to one chat in any `chat_window` seconds and at most `overall`
  messages from the bot in any `overall_window` seconds. Both are sliding windows of send
  times in Redis sorted sets, checked and recorded by one Lua script, so no two processes
  can both take the last free place.
- Conversation replies may use the whole overall budget; bulk notices only what is left above
  `reserved_for_conversation`, so a wave of notices never makes a reply wait.
- A 429 from Telegram pauses its chat for `retry_after`, in Redis, so every process waits. When
  429s arrive for several chats within one window, the bot as a whole is over Telegram's
  limit, and the pause covers every chat.
- Time is passed in as seconds since the epoch, so the arithmetic is tested with any clock.
  Processes on several hosts compare their clocks here and need them synchronised (NTP).
- Only calls that send a message count (that is what Telegram limits); edits, button answers
  and the like pass straight through, and after a 429 wait its retry_after and try again.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Any

from redis.asyncio import Redis
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.inbound_limit import inbound_key

# Methods that put a new message in a chat: what Telegram's flood limits count.
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
    }
)
# A call made outside the outbox (an apology after an error, editing a pressed message) is
# tried again after a 429 this often, as PTB's own limiter did for this bot before.
DIRECT_CALL_RETRIES = 3


class Priority(IntEnum):
    CONVERSATION = 0  # a reply or a relayed message someone is waiting for
    BULK = 1  # notices nobody is waiting for at this moment


@dataclass(frozen=True)
class SendLimits:
    # Telegram: about one message a second per chat and thirty a second overall. The windows
    # are a little longer than a second so that network jitter between this count and
    # Telegram's cannot push two sends into one of Telegram's seconds.
    per_chat: int = 1
    chat_window: float = 1.1
    overall: int = 30
    overall_window: float = 1.1
    reserved_for_conversation: int = 10
    # 429s for this many different chats within one overall window pause the whole bot.
    refused_chats_for_overall_pause: int = 2

    def overall_for(self, priority: Priority) -> int:
        if priority is Priority.BULK:
            return self.overall - self.reserved_for_conversation
        return self.overall


# KEYS: chat sends, overall sends, chat pause, overall pause.
# ARGV: now, per_chat, chat_window, overall limit for this priority, overall_window, member.
# Returns "0" when the send may go now (and records it), else the seconds to wait.
_ADMIT = """
local now = tonumber(ARGV[1])
local function exact(x) return string.format('%.17g', x) end
local wait = 0
for _, key in ipairs({KEYS[3], KEYS[4]}) do
  local paused_until = tonumber(redis.call('GET', key) or '0')
  if paused_until - now > wait then wait = paused_until - now end
end
local function window_wait(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', exact(now - window))
  local count = redis.call('ZCARD', key)
  if count < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
local chat_window = tonumber(ARGV[3])
local overall_window = tonumber(ARGV[5])
wait = math.max(wait, window_wait(KEYS[1], tonumber(ARGV[2]), chat_window))
wait = math.max(wait, window_wait(KEYS[2], tonumber(ARGV[4]), overall_window))
if wait > 0 then return exact(wait) end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[6])
redis.call('PEXPIRE', KEYS[1], math.ceil(chat_window * 1000))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], math.ceil(overall_window * 1000))
return '0'
"""

# KEYS: chat pause, overall pause, chats refused recently.
# ARGV: now, retry_after, chat id, refused chats for an overall pause, overall_window.
# Returns 1 when the whole bot is paused, else 0.
_PAUSE = """
local now = tonumber(ARGV[1])
local retry_after = tonumber(ARGV[2])
local function exact(x) return string.format('%.17g', x) end
local paused_until = now + retry_after
local keep_ms = math.ceil(retry_after * 1000) + 1000
local function extend(key)
  local current = tonumber(redis.call('GET', key) or '0')
  if paused_until > current then redis.call('SET', key, exact(paused_until), 'PX', keep_ms) end
end
extend(KEYS[1])
local window = tonumber(ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', exact(now - window))
redis.call('PEXPIRE', KEYS[3], math.ceil(window * 1000))
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  extend(KEYS[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class _Keys:
    """The Redis keys the flood limits keep, under the deployment's key prefix."""

    prefix: str

    def sent(self, chat_id: int | None = None) -> str:
        return f"{self.prefix}sent" if chat_id is None else f"{self.prefix}sent:{chat_id}"

    def paused(self, chat_id: int | None = None) -> str:
        return f"{self.prefix}paused" if chat_id is None else f"{self.prefix}paused:{chat_id}"

    @property
    def refused(self) -> str:
        return f"{self.prefix}refused"


def _keys_of(key_prefix: str) -> _Keys:
    return _Keys(f"{key_prefix}ratelimit:")


async def forget_chats(redis: Redis, key_prefix: str, chats: set[int]) -> int:
    """Delete what the flood limits (outbound and inbound) keep about these chats (erasure);
    how many were removed."""
    keys = _keys_of(key_prefix)
    per_chat = [
        key
        for chat in chats
        for key in (keys.sent(chat), keys.paused(chat), inbound_key(key_prefix, chat))
    ]
    removed = int(await redis.delete(*per_chat))
    removed += int(await redis.zrem(keys.refused, *[str(chat) for chat in chats]))
    return removed


class SharedRateLimiter:
    """Admits message sends under `SendLimits`, counted in Redis for all processes."""

    def __init__(
        self,
        redis: Redis,
        key_prefix: str,
        limits: SendLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or SendLimits()
        self._keys = _keys_of(key_prefix)
        self._clock = clock
        self._sleep = sleep
        self._admit = redis.register_script(_ADMIT)
        self._pause = redis.register_script(_PAUSE)

    async def try_admit(self, chat_id: int, priority: Priority) -> float:
        """0.0 when a message to `chat_id` may go now (it is counted), else seconds to wait."""
        limits = self.limits
        wait = await self._admit(
            keys=[
                self._keys.sent(chat_id),
                self._keys.sent(),
                self._keys.paused(chat_id),
                self._keys.paused(),
            ],
            args=[
                repr(self._clock()),
                limits.per_chat,
                repr(limits.chat_window),
                limits.overall_for(priority),
                repr(limits.overall_window),
                uuid.uuid4().hex,
            ],
        )
        return float(wait)

    async def admit(self, chat_id: int, priority: Priority, max_wait: float) -> bool:
        """Wait for a place to send to `chat_id`; False if none comes within `max_wait`."""
        waited = 0.0
        while True:
            wait = await self.try_admit(chat_id, priority)
            if wait == 0.0:
                return True
            if waited + wait > max_wait:
                return False
            await self._sleep(wait)
            waited += wait

    async def refused(self, chat_id: int, retry_after: float) -> bool:
        """Telegram answered 429 for `chat_id`: pause it (or everything) for `retry_after`.
        True when the whole bot is paused."""
        limits = self.limits
        overall = await self._pause(
            keys=[
                self._keys.paused(chat_id),
                self._keys.paused(),
                self._keys.refused,
            ],
            args=[
                repr(self._clock()),
                repr(float(retry_after)),
                chat_id,
                limits.refused_chats_for_overall_pause,
                repr(limits.overall_window),
            ],
        )
        return bool(overall)


@dataclass(frozen=True)
class Admitted:
    """`rate_limit_args` of a call whose place the caller already took (the outbox): it goes
    straight out, and a 429 comes back to the caller, who decides when to try again."""


ADMITTED = Admitted()


def retry_after_seconds(error: RetryAfter) -> float:
    retry_after = error.retry_after
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after


class TelegramRateLimiter(BaseRateLimiter[Admitted]):
    """PTB's hook for every Bot API call: message sends go through the shared limiter."""

    def __init__(self, limiter: SharedRateLimiter) -> None:
        self._limiter = limiter

    async def initialize(self) -> None:
        """Nothing to set up: the Redis connection belongs to the caller."""

    async def shutdown(self) -> None:
        """Nothing to close: the Redis connection belongs to the caller."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Admitted | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        chat = chat_id if isinstance(chat_id, int) else None
        counted = endpoint in SENDING_METHODS and chat is not None
        attempt = 0
        while True:
            if counted and rate_limit_args is None:
                assert chat is not None
                await self._limiter.admit(chat, Priority.CONVERSATION, max_wait=math.inf)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                if chat is not None:
                    await self._limiter.refused(chat, seconds)
                attempt += 1
                if rate_limit_args is not None or attempt > DIRECT_CALL_RETRIES:
                    raise
                if not counted:
                    await asyncio.sleep(seconds)
