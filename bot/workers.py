"""Workers: several processes handle the updates announced on the inbox stream.

Rules kept here:
- The workers read the stream (bot/intake.py) in one consumer group, so each entry goes to one
  of them. An entry is acknowledged (XACK) only after the worker drained the entry's chat
  (bot/inbox.py); when the chat is held by another worker, that one drains it, so the entry
  is acknowledged as well.
- A worker that dies leaves its entries pending; once they have been idle longer than a claim
  lasts, another worker takes them over (XAUTOCLAIM) and drains those chats. By then the dead
  worker's claims in the database have run out too.
- Per-conversation order comes from the database, not from the stream: whoever holds a chat
  handles its updates in update_id order, whatever order the entries arrived in.
- The stream is a shortcut: every so often a worker also sweeps the database for chats with
  updates nobody holds (an announcement lost with Redis, a receiver that died between commit
  and announcement), and purges old handled rows.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from redis.exceptions import RedisError, ResponseError
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.inbox import InboxProcessor
from bot.intake import InboxStream

log = logging.getLogger(__name__)

READ_COUNT = 10
READ_BLOCK_MILLISECONDS = 1000
SWEEP_EVERY = timedelta(seconds=30)
MAX_BACKOFF_SECONDS = 10.0

Entry = tuple[bytes, dict[bytes, bytes]]


class StreamWorker:
    """One consumer of the inbox stream, handling through an `InboxProcessor`."""

    def __init__(
        self,
        inbox: InboxProcessor,
        stream: InboxStream,
        clock: Clock,
        sweep_every: timedelta = SWEEP_EVERY,
    ) -> None:
        self._inbox = inbox
        self._stream = stream
        self._clock = clock
        self._sweep_every = sweep_every
        self.consumer = inbox.worker

    async def run(self, stop: asyncio.Event) -> None:
        """Read, reclaim, sweep and handle until `stop`; failures are retried with backoff."""
        backoff = 1.0
        sweep_due = self._clock.now()
        reclaim_due = self._clock.now()
        while not stop.is_set():
            try:
                await self._ensure_group()
                now = self._clock.now()
                if now >= reclaim_due:
                    await self._handle(await self._reclaim())
                    reclaim_due = now + self._inbox.claim / 2
                if now >= sweep_due:
                    await sweep(self._inbox, self._clock)
                    sweep_due = now + self._sweep_every
                await self._handle(await self._read())
            except (RedisError, SQLAlchemyError, OSError) as exc:
                log.warning("worker %s: %s; retrying in %.0f s", self.consumer, exc, backoff)
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                except TimeoutError:
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0

    async def _ensure_group(self) -> None:
        """Create the group (and stream) once; an existing group is kept as it is."""
        try:
            await self._stream.redis.xgroup_create(
                self._stream.name, self._stream.group, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self) -> list[Entry]:
        response: list[tuple[bytes, list[Entry]]] | None = await self._stream.redis.xreadgroup(  # type: ignore[assignment]
            self._stream.group,
            self.consumer,
            {self._stream.name: ">"},
            count=READ_COUNT,
            block=READ_BLOCK_MILLISECONDS,
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    async def _reclaim(self) -> list[Entry]:
        """Entries of workers that stopped acknowledging for longer than a claim lasts."""
        idle_ms = int(self._inbox.claim.total_seconds() * 1000)
        # Redis 7 adds the ids of deleted entries as a third element; 6.2 (embedded) does not.
        reply = await self._stream.redis.xautoclaim(
            self._stream.name, self._stream.group, self.consumer, idle_ms, count=READ_COUNT
        )
        entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if entries:
            log.info("worker %s took over %d pending entries", self.consumer, len(entries))
        return entries

    async def _handle(self, entries: list[Entry]) -> None:
        for entry_id, fields in entries:
            await self._inbox.drain(int(fields[b"chat_id"]))
            await self._stream.redis.xack(self._stream.name, self._stream.group, entry_id)


async def sweep(inbox: InboxProcessor, clock: Clock) -> None:
    """Handle updates nobody holds that arrived more than a claim ago; purge old rows."""
    handled = await inbox.drain_all(await inbox.chats_needing_work(clock.now() - inbox.claim))
    purged = await inbox.purge()
    if handled or purged:
        log.info("sweep: %d updates handled, %d old rows purged", handled, purged)


async def sweep_until(
    inbox: InboxProcessor, clock: Clock, stop: asyncio.Event, every: timedelta = SWEEP_EVERY
) -> None:
    """Sweep now and then every `every` until `stop` (the single process of polling mode)."""
    while not stop.is_set():
        try:
            await sweep(inbox, clock)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("sweep failed: %s", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        except TimeoutError:
            continue
