"""Workers: several processes handle the updates announced on the inbox stream.

Rules kept here:
- The workers read the stream (bot/intake.py) in one consumer group, so each entry goes to one
  of them. An entry is acknowledged (XACK) only after the worker drained the entry's chat
  (bot/inbox.py); when the chat is held by another worker, that one drains it, so the entry
  is acknowledged as well.
- A worker that dies leaves its entries pending; once they have been idle longer than a claim
  lasts, another worker takes them over (XAUTOCLAIM) and drains those chats. By then the dead
  worker's claims in the database have run out too. A live worker renews (XCLAIM) the entries
  that wait in its own queue, so a backlog is never taken over from under it.
- Chats are drained side by side, each by one task at a time (bot/scheduling.py): a flood from
  one chat takes one place, and the reading goes on while fewer than `MAX_CHATS_IN_FLIGHT`
  chats are queued, however many entries one of them has.
- Per-conversation order comes from the database, not from the stream: whoever holds a chat
  handles its updates in update_id order, whatever order the entries arrived in.
- The stream is a shortcut: every so often a worker also sweeps the database for chats with
  updates nobody holds (an announcement lost with Redis, a receiver that died between commit
  and announcement), and purges old handled rows.
- Timers (offer timeouts, waiting requests, held outbox rows, retention; bot/dispatcher.py)
  run in one process at a time: whoever holds the timer lease in Redis. The lease is short
  and renewed every tick, so when its holder dies another process takes the timers over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.dispatcher import tick
from bot.inbox import InboxProcessor
from bot.intake import InboxStream
from bot.scheduling import ChatScheduler
from bot.services import Services

log = logging.getLogger(__name__)

# Chats one process drains side by side (each holds a database connection while it works).
CONCURRENT_CHATS = 4
# Chats queued or being drained in one process, at the most; reading waits beyond it.
MAX_CHATS_IN_FLIGHT = 64
# Pending entries of dead workers taken over at once.
RECLAIM_COUNT = 32
READ_BLOCK_MILLISECONDS = 1000
SWEEP_EVERY = timedelta(seconds=30)
MAX_BACKOFF_SECONDS = 10.0

Entry = tuple[bytes, dict[bytes, bytes]]

# Take the lease when it is free, or extend it when this process holds it; 1 if held now.
_HOLD_LEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""


class StreamWorker:
    """One consumer of the inbox stream, handling through an `InboxProcessor`: chats side by
    side, each chat's updates one after another."""

    def __init__(
        self,
        inbox: InboxProcessor,
        stream: InboxStream,
        clock: Clock,
    ) -> None:
        self._inbox = inbox
        self._stream = stream
        self._clock = clock
        self.consumer = inbox.worker
        self.claim = inbox.claim
        self._chats = ChatScheduler(
            inbox.drain,
            concurrency=CONCURRENT_CHATS,
            max_chats=MAX_CHATS_IN_FLIGHT,
            acknowledge=self._acknowledge,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Read, reclaim, renew, sweep and handle until `stop`; failures are retried with
        backoff. On stop, what is being handled is finished first."""
        backoff = 1.0
        group_ready = False
        sweep_due = reclaim_due = renew_due = self._clock.now()
        while not stop.is_set():
            try:
                if not group_ready:
                    await self._ensure_group()
                    group_ready = True
                now = self._clock.now()
                if now >= reclaim_due:
                    self._start(await self._reclaim())
                    reclaim_due = now + self.claim / 2
                if now >= renew_due:
                    await self._renew_queued()
                    renew_due = now + self.claim / 3
                if now >= sweep_due:
                    await self._sweep()
                    sweep_due = now + SWEEP_EVERY
                room = MAX_CHATS_IN_FLIGHT - self._chats.chats()
                if room <= 0:
                    await _unless_stopped(self._chats.room(), stop, self.claim / 3)
                    continue
                self._start(await self._read(room))
            except (RedisError, SQLAlchemyError, OSError) as exc:
                # Redis may have restarted without the group; it is made again.
                group_ready = False
                log.warning("worker %s: %s; retrying in %.0f s", self.consumer, exc, backoff)
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except TimeoutError:
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0
        await self._chats.close()

    def _start(self, entries: list[Entry]) -> None:
        for entry_id, fields in entries:
            self._chats.submit(int(fields[b"chat_id"]), entry_id)

    async def _acknowledge(self, entry_ids: list[bytes]) -> None:
        await self._stream.redis.xack(self._stream.name, self._stream.group, *entry_ids)

    async def _renew_queued(self) -> None:
        """Reset the idle time of the entries waiting in this worker's queue, so that no
        other worker takes them over while this one is alive and will handle them."""
        # Typed as redis-py asks; entry ids are bytes.
        queued: list[int | bytes | str | memoryview[int]] = [*self._chats.tokens()]
        if queued:
            await self._stream.redis.xclaim(
                self._stream.name,
                self._stream.group,
                self.consumer,
                min_idle_time=0,
                message_ids=queued,
                justid=True,
            )

    async def _sweep(self) -> None:
        """Drain chats with updates nobody holds that arrived more than a claim ago; purge."""
        await sweep(self._inbox, self._chats, self._clock)

    async def _ensure_group(self) -> None:
        """Create the group (and stream) once; an existing group is kept as it is."""
        try:
            await self._stream.redis.xgroup_create(
                self._stream.name, self._stream.group, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, count: int) -> list[Entry]:
        response: list[tuple[bytes, list[Entry]]] | None = await self._stream.redis.xreadgroup(  # type: ignore[assignment]
            self._stream.group,
            self.consumer,
            {self._stream.name: ">"},
            count=count,
            block=READ_BLOCK_MILLISECONDS,
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    async def _reclaim(self) -> list[Entry]:
        """Entries of workers that stopped acknowledging for longer than a claim lasts."""
        idle_ms = int(self._inbox.claim.total_seconds() * 1000)
        # Redis 7 adds the ids of deleted entries as a third element; 6.2 (embedded) does not.
        reply = await self._stream.redis.xautoclaim(
            self._stream.name, self._stream.group, self.consumer, idle_ms, count=RECLAIM_COUNT
        )
        entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if entries:
            log.info("worker %s took over %d pending entries", self.consumer, len(entries))
        return entries


def polling_scheduler(inbox: InboxProcessor) -> ChatScheduler:
    """The chats of the single process of polling mode, handled as a stream worker's are."""
    return ChatScheduler(inbox.drain, concurrency=CONCURRENT_CHATS, max_chats=MAX_CHATS_IN_FLIGHT)


async def sweep(inbox: InboxProcessor, chats: ChatScheduler, clock: Clock) -> None:
    """Queue chats with updates nobody holds that arrived more than a claim ago (those this
    process has queued are left to their turn); purge old rows."""
    stale = [
        chat_id
        for chat_id in await inbox.chats_needing_work(clock.now() - inbox.claim)
        if not chats.holds(chat_id)
    ]
    for chat_id in stale:
        chats.submit(chat_id)
    purged = await inbox.purge()
    if stale or purged:
        log.info("sweep: %d chats queued, %d old rows purged", len(stale), purged)


async def sweep_until(
    inbox: InboxProcessor,
    chats: ChatScheduler,
    clock: Clock,
    stop: asyncio.Event,
    every: timedelta = SWEEP_EVERY,
) -> None:
    """Sweep now and then every `every` until `stop` (the single process of polling mode)."""
    while not stop.is_set():
        try:
            await sweep(inbox, chats, clock)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("sweep failed: %s", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        except TimeoutError:
            continue


async def _unless_stopped(
    waiting: Awaitable[None], stop: asyncio.Event, at_most: timedelta
) -> None:
    """Wait for `waiting`, but no longer than `at_most` and not past `stop`."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(at_most.total_seconds()):
            stopping = asyncio.ensure_future(stop.wait())
            waited = asyncio.ensure_future(waiting)
            try:
                await asyncio.wait({stopping, waited}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                waited.cancel()


async def run_timers_when_leading(
    services: Services,
    redis: Redis,
    key_prefix: str,
    holder: str,
    stop: asyncio.Event,
    every: timedelta,
    lease: timedelta,
) -> None:
    """Tick the dispatcher while this process holds the timer lease, until `stop`."""
    hold = redis.register_script(_HOLD_LEASE)
    key = f"{key_prefix}timers:lease"
    retention_due: datetime | None = None
    leading = False
    while not stop.is_set():
        try:
            held = await hold(keys=[key], args=[holder, int(lease.total_seconds() * 1000)])
            if bool(held) != leading:
                leading = bool(held)
                log.info("%s %s the timers", holder, "runs" if leading else "no longer runs")
            if leading:
                retention_due = await tick(services, retention_due, wait_for_sending=False)
        except Exception:  # a failing tick is logged and retried, never fatal
            log.exception("timer tick failed")
        try:
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        except TimeoutError:
            continue
