"""The bot's clockwork: offer timeouts, requests whose awaited hours opened, and the outbox.

Timers live in the database (offer `expires_at`, request `next_match_at`, outbox
`not_before`), not in process memory, so a restarted bot picks up exactly where it was.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from bot.erasure import apply_retention, forget_erased_chats, trim_announcements
from bot.inbox import KEEP_HANDLED
from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


RETENTION_EVERY = timedelta(hours=1)


async def tick(
    services: Services, retention_due: datetime | None = None, *, wait_for_sending: bool = True
) -> datetime | None:
    """One round: fire due timers in one transaction, send what is due, and (when due) apply
    the retention period. Returns when retention is next due.

    The running bot does not wait for the sending (`wait_for_sending=False`): a chat that waits
    for Telegram's limits must not hold up the next round's timers (bot/outbox.py)."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        expired = await services.handover.expire_offers(session, now)
        released = await services.handover.release_waiting(session, now)
    if expired or released:
        log.info("timers fired: %d offer timeouts, %d waiting requests", expired, released)
    if retention_due is None or now >= retention_due:
        removed = await apply_retention(
            services.sessions, now, timedelta(days=services.retention_days), services.handover
        )
        if removed:
            log.info("retention removed %d rows", removed)
        try:
            trimmed = await trim_announcements(
                services.redis, services.redis_key_prefix, KEEP_HANDLED
            )
        except RedisError as exc:  # trimmed at the next retention run
            log.warning("could not trim the inbox stream: %s", type(exc).__name__)
        else:
            if trimmed:
                log.info("retention trimmed %d inbox stream entries", trimmed)
        retention_due = now + RETENTION_EVERY
    forgotten = await forget_erased_chats(
        services.sessions, services.redis, services.redis_key_prefix
    )
    if forgotten.chats:
        log.info(
            "Redis forgot %d erased chats: %d stream entries, %d keys",
            forgotten.chats,
            forgotten.stream_entries,
            forgotten.keys,
        )
    if wait_for_sending:
        await services.outbox.flush()
    else:
        services.outbox.send_soon(await services.outbox.due_chats())
    return retention_due


async def run_dispatcher(
    services: Services, stop: asyncio.Event, interval: float = TICK_SECONDS
) -> None:
    """Tick until `stop` is set; a failing tick is logged and retried, never fatal."""
    retention_due: datetime | None = None
    while not stop.is_set():
        try:
            retention_due = await tick(services, retention_due, wait_for_sending=False)
        except Exception:
            log.exception("dispatcher tick failed")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue
