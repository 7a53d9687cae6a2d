"""The bot's clockwork: offer timeouts, requests whose awaited hours opened, and the outbox.

Timers live in the database (offer `expires_at`, request `next_match_at`, outbox
`not_before`), not in process memory, so a restarted bot picks up exactly where it was.
"""

from __future__ import annotations

import asyncio
import logging

from bot.services import Services

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


async def tick(services: Services) -> None:
    """One round: fire due timers in one transaction, then send what is due."""
    now = services.clock.now()
    async with services.sessions.begin() as session:
        expired = await services.handover.expire_offers(session, now)
        released = await services.handover.release_waiting(session, now)
    if expired or released:
        log.info("timers fired: %d offer timeouts, %d waiting requests", expired, released)
    await services.outbox.flush()


async def run_dispatcher(
    services: Services, stop: asyncio.Event, interval: float = TICK_SECONDS
) -> None:
    """Tick until `stop` is set; a failing tick is logged and retried, never fatal."""
    while not stop.is_set():
        try:
            await tick(services)
        except Exception:
            log.exception("dispatcher tick failed")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue
