"""One outbox sender as a process of its own, for the SIGSTOP test: it flushes the outbox
over and over until it is killed.

Arguments: database URL, Redis URL, Redis key prefix, Bot API base URL, bot token, lease in
seconds. It prints its claim identity once it runs, so the test can tell its claims apart.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from redis.asyncio import Redis
from telegram.ext import ExtBot

from bot.clock import SystemClock
from bot.outbox import OutboxSender
from bot.rate_limit import SendLimits, SharedRateLimiter, TelegramRateLimiter
from bot.storage import create_engine_for, session_factory

# One message a second to a chat, as Telegram allows: the sender spends most of its time
# between claiming a row and calling Telegram, waiting for the chat's next place.
TELEGRAMS_LIMITS = SendLimits()


async def main(
    database_url: str, redis_url: str, prefix: str, base_url: str, token: str, lease: float
) -> None:
    redis = Redis.from_url(redis_url)
    limiter = SharedRateLimiter(redis, prefix, TELEGRAMS_LIMITS)
    engine = create_engine_for(database_url)
    async with ExtBot(token, base_url=base_url, rate_limiter=TelegramRateLimiter(limiter)) as bot:
        sender = OutboxSender(
            session_factory(engine),
            bot,
            SystemClock(),
            limiter=limiter,
            lease=timedelta(seconds=lease),
        )
        print(sender.identity, flush=True)
        while True:
            await sender.flush()
            await asyncio.sleep(0.02)


if __name__ == "__main__":
    database, redis_url, prefix, base, token, lease = sys.argv[1:]
    asyncio.run(main(database, redis_url, prefix, base, token, float(lease)))
