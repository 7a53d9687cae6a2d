"""The durable inbox: every Telegram update is stored before Telegram hears that it arrived,
and handled exactly once, one chat at a time in update_id order.

Rules kept here:
- Stored first. An update is inserted (unique on update_id) and committed before the webhook
  answers 2xx or the getUpdates offset moves past it (bot/intake.py). A redelivery finds the
  row and changes nothing.
- Only encrypted, only while needed. The raw update holds what newcomers write, so it is kept
  encrypted with the message key (bot/crypto.py) and erased in the transaction that marks it
  handled; the bare row stays for `KEEP_HANDLED` to recognise late redeliveries (Telegram
  gives up redelivering after 24 hours) and is then deleted by `purge`.
- One chat at a time, in order. A worker may handle only the oldest unhandled update of a
  chat, and only after claiming it (`claimed_by` until `claim_expires_at`, renewed while it
  works). The claim is taken under a row lock, so of two workers only one gets it; the other
  leaves the chat alone, because the holder drains the chat's whole backlog before it stops.
- Exactly once. An update is marked handled in the same transaction as the handler's state
  change: the first commit made while handling it also sets `handled_at`, on condition that
  this worker still holds the claim; if it does not (it stalled past its claim and another
  worker took over), the commit is refused and nothing of it is kept. Handlers make their
  state change in one transaction (bot/handlers.py), so their effects and the mark are kept
  together or not at all; a second commit while handling the same update is refused
  (`SecondCommit`), so the rule is enforced, not remembered. An update whose handler
  committed nothing is marked afterwards.
- A crash while handling: before that commit nothing was kept, and once the claim expires
  another worker handles the update from the start; after the commit the update is done and
  the outbox rows written in it are sent by the next outbox flush. Only what a handler does
  outside its transaction may happen twice or not at all: answering a button press (Telegram
  ignores a second answer) and removing the pressed message's buttons.
- Fair to the others. Before each update but a button press is handled, its chat takes a
  turn from the inbound limit (bot/inbound_limit.py). Over it, the update is released
  unhandled and the drain returns `Deferred`: the chat is handled again when the limit
  allows, and the user is told once per flood that everything is kept and handled in order.
- A handler that raises is not retried (the error handler asks the user to send again), and an
  update that cannot be read at all (its key dropped) is skipped with an error in the log, so
  a poisonous update cannot block its chat forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from redis.exceptions import RedisError
from sqlalchemy import CursorResult, and_, delete, event, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.crypto import CipherError, MessageCipher
from bot.inbound_limit import InboundLimiter, Turn
from bot.models import BIGINT_RANGE, InboxUpdate

log = logging.getLogger(__name__)

DEFAULT_CLAIM = timedelta(seconds=30)
KEEP_HANDLED = timedelta(days=2)
# Updates that belong to no chat (e.g. poll results) share this key, so they queue together.
NO_CHAT = 0
# What reading JSON that is not a well-formed update raises (json, PTB's de_json).
MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


@dataclass(frozen=True)
class Deferred:
    """The chat's inbound limit stopped its drain: drain it again after `seconds`."""

    seconds: float


class SecondCommit(Exception):
    """A handler committed a second transaction while handling one update: a bug, refused so
    that exactly-once cannot erode unnoticed."""


class ClaimLost(Exception):
    """This worker no longer holds the update: another one took it over after the claim ran
    out, so this worker's handling must leave no trace."""


class Busy(Enum):
    """Another worker is handling the chat (and will drain it)."""

    BUSY = "busy"


def update_id_of(payload: Mapping[str, Any]) -> int:
    """The update's id; ValueError for anything that is not a Telegram update (no id, or one
    that does not fit the BIGINT primary key)."""
    update_id = payload.get("update_id")
    if (
        not isinstance(update_id, int)
        or isinstance(update_id, bool)
        or update_id < 0
        or update_id not in BIGINT_RANGE
    ):
        raise ValueError("not a Telegram update: no update_id")
    return update_id


def chat_of(payload: Mapping[str, Any]) -> int:
    """The chat whose updates must be handled in order: the chat, else the user it comes from.

    ValueError when the chat's or user's id does not fit the BIGINT columns they are stored in
    (here, and as the newcomer's or sleutelpersoon's Telegram id when handled)."""
    try:
        update = Update.de_json(dict(payload), None)
    except MALFORMED:
        return NO_CHAT  # stored all the same; handling skips it with an error in the log
    chat, user = update.effective_chat, update.effective_user
    ids = [found.id for found in (chat, user) if found is not None]
    if any(not isinstance(id_, int) or id_ not in BIGINT_RANGE for id_ in ids):
        raise ValueError("not a Telegram update: a chat or user id out of range")
    return ids[0] if ids else NO_CHAT


async def store_updates(
    sessions: async_sessionmaker[AsyncSession],
    cipher: MessageCipher,
    payloads: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[tuple[int, int]]:
    """Store the updates in one transaction; return (update_id, chat) of those that were new.

    When this returns, every one of them is committed; a duplicate is left as it was."""
    # Checked and sealed before the transaction, so a malformed update stores nothing.
    rows = [
        (update_id_of(payload), chat_of(payload), cipher.encrypt(json.dumps(payload)))
        for payload in payloads
    ]
    new: list[tuple[int, int]] = []
    async with sessions.begin() as session:
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        for update_id, chat_id, sealed in rows:
            statement = (
                insert(InboxUpdate)
                .values(
                    update_id=update_id,
                    chat_id=chat_id,
                    payload_encrypted=sealed,
                    received_at=now,
                    attempts=0,
                )
                .on_conflict_do_nothing()
                .returning(InboxUpdate.update_id)
            )
            # A row comes back only when it was inserted, not for a duplicate.
            if await session.scalar(statement) is not None:
                new.append((update_id, chat_id))
    return new


@dataclass
class _Handling:
    """The update the current task is handling, for the commit hook below."""

    update_id: int
    worker: str
    clock: Clock
    marking_session: Session | None = None
    marked: bool = False


_handling: ContextVar[_Handling | None] = ContextVar("inbox_handling", default=None)


def _mark_in_first_commit(session: Session) -> None:
    """Before the first commit made while handling an update: mark it handled in it. A second
    commit is refused: what it would keep would no longer be tied to the update's mark, so a
    crash in between would handle the update again on top of half of it."""
    handling = _handling.get()
    if handling is None or session.in_nested_transaction():
        return  # a savepoint's release is no commit: the mark goes into the transaction's own
    if handling.marked or handling.marking_session is not None:
        raise SecondCommit(f"update {handling.update_id}: a handler commits once (bot/handlers.py)")
    result = cast(
        CursorResult[Any],
        session.execute(_mark(handling.update_id, handling.worker, handling.clock.now())),
    )
    if result.rowcount != 1:
        raise ClaimLost(f"update {handling.update_id} was taken over by another worker")
    handling.marking_session = session


def _confirm_mark(session: Session) -> None:
    handling = _handling.get()
    if session.in_nested_transaction():
        return
    if handling is not None and handling.marking_session is session:
        handling.marked = True


def _forget_failed_mark(session: Session) -> None:
    handling = _handling.get()
    if handling is not None and handling.marking_session is session and not handling.marked:
        handling.marking_session = None


def _install_commit_hooks() -> None:
    """Listen on every Session: the context variable limits the hooks to handling tasks, and
    handlers get their sessions from the shared factory, which this module does not own."""
    for name, hook in (
        ("before_commit", _mark_in_first_commit),
        ("after_commit", _confirm_mark),
        ("after_rollback", _forget_failed_mark),
    ):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def _held(update_id: int, worker: str) -> Any:
    """The fence of every write after a claim: the update is unhandled and still claimed by
    this worker (marking, renewing, giving it back)."""
    return and_(
        InboxUpdate.update_id == update_id,
        InboxUpdate.claimed_by == worker,
        InboxUpdate.handled_at.is_(None),
    )


def _mark(update_id: int, worker: str, now: datetime) -> Any:
    return (
        update(InboxUpdate)
        .where(_held(update_id, worker))
        .values(handled_at=now, payload_encrypted=None)
    )


@dataclass(frozen=True)
class Claimed:
    update_id: int
    payload_encrypted: str


class InboxProcessor:
    """Handles stored updates through the PTB Application, following the rules above."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: MessageCipher,
        application: Application,  # type: ignore[type-arg]
        clock: Clock,
        worker: str,
        claim: timedelta = DEFAULT_CLAIM,
        *,
        inbound: InboundLimiter | None = None,
        on_flood: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        """`inbound` limits how fast one chat is handled (None: as fast as it comes);
        `on_flood` tells the sender of an update that the limit held back."""
        self._sessions = sessions
        self._cipher = cipher
        self._application = application
        self._clock = clock
        self.worker = worker
        self.claim = claim
        self._inbound = inbound
        self._on_flood = on_flood
        _install_commit_hooks()

    async def drain(self, chat_id: int) -> int | Busy | Deferred:
        """Handle the chat's unhandled updates in order; how many, Busy if another worker
        holds the chat, or Deferred when the chat's inbound limit stops it."""
        handled = 0
        while True:
            claimed = await self._claim_oldest(chat_id)
            if claimed is None:
                return handled
            if isinstance(claimed, Busy):
                return claimed if handled == 0 else handled
            try:
                update = self._read(claimed)
            except (CipherError, *MALFORMED):
                # Its key was dropped, or it is not a well-formed update: no worker ever could
                # handle it, so it must not hold up its chat.
                log.exception("update %d cannot be read; skipped", claimed.update_id)
                await self._mark_after_handling(claimed.update_id)
                handled += 1
                continue
            # Button presses pass: each is answered by a notification that Telegram does not
            # count, they can only press the buttons they were given, and a press that waits
            # leaves the button spinning.
            if update.callback_query is None:
                turn = await self._take_turn(chat_id)
                if not turn.allowed:
                    await self._release(claimed.update_id)
                    if turn.first_refusal:
                        await self._tell_flood(update)
                    return Deferred(turn.wait_seconds)
            await self._handle(claimed.update_id, update)
            handled += 1

    async def chats_needing_work(self, received_before: datetime) -> list[int]:
        """Chats with an update received before then that nobody holds: missed or orphaned."""
        now = self._clock.now()
        async with self._sessions() as session:
            chats = await session.scalars(
                select(InboxUpdate.chat_id)
                .where(
                    InboxUpdate.handled_at.is_(None),
                    InboxUpdate.received_at <= received_before,
                    (InboxUpdate.claimed_by.is_(None))
                    | (InboxUpdate.claimed_by == self.worker)
                    | (InboxUpdate.claim_expires_at < now),
                )
                .distinct()
            )
            return list(chats)

    async def purge(self) -> int:
        """Delete rows handled longer ago than `KEEP_HANDLED`; how many."""
        async with self._sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(InboxUpdate).where(
                        InboxUpdate.handled_at < self._clock.now() - KEEP_HANDLED
                    )
                ),
            )
            return result.rowcount

    async def _claim_oldest(self, chat_id: int) -> Claimed | Busy | None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(InboxUpdate)
                .where(InboxUpdate.chat_id == chat_id, InboxUpdate.handled_at.is_(None))
                .order_by(InboxUpdate.update_id)
                .limit(1)
                .with_for_update()
            )
            if row is None:
                return None
            held_by_other = row.claimed_by not in (None, self.worker)
            if held_by_other and row.claim_expires_at is not None and row.claim_expires_at > now:
                return Busy.BUSY
            row.claimed_by = self.worker
            row.claim_expires_at = now + self.claim
            row.attempts += 1
            assert row.payload_encrypted is not None  # erased only when handled
            return Claimed(row.update_id, row.payload_encrypted)

    async def _take_turn(self, chat_id: int) -> Turn:
        if self._inbound is None:
            return Turn(0.0, first_refusal=False)
        try:
            return await self._inbound.take(chat_id)
        except (RedisError, OSError) as exc:  # without Redis, no limit rather than no bot
            log.warning("inbound limit unavailable: %s", type(exc).__name__)
            return Turn(0.0, first_refusal=False)

    async def _release(self, update_id: int) -> None:
        """Give an update back unhandled, for this or another worker to take later."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxUpdate)
                .where(_held(update_id, self.worker))
                .values(claimed_by=None, claim_expires_at=None, attempts=InboxUpdate.attempts - 1)
            )

    async def _tell_flood(self, update: Update) -> None:
        if self._on_flood is None:
            return
        try:
            await self._on_flood(update)
        except Exception:  # best effort: the updates are kept and handled all the same
            log.exception("could not tell chat about the inbound limit")

    def _read(self, claimed: Claimed) -> Update:
        return Update.de_json(
            json.loads(self._cipher.decrypt(claimed.payload_encrypted)), self._application.bot
        )

    async def _handle(self, update_id: int, update: Update) -> None:
        # Started before the handling context is set, so its commits never mark the update.
        renewing = asyncio.create_task(self._renew_claim(update_id))
        handling = _Handling(update_id, self.worker, self._clock)
        token = _handling.set(handling)
        try:
            await self._application.process_update(update)
        finally:
            _handling.reset(token)
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if not handling.marked:
            await self._mark_after_handling(update_id)

    async def _mark_after_handling(self, update_id: int) -> None:
        """Mark an update whose handling committed nothing."""
        async with self._sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(_mark(update_id, self.worker, self._clock.now())),
            )
        if result.rowcount != 1:
            log.warning("update %d was taken over by another worker", update_id)

    async def _renew_claim(self, update_id: int) -> None:
        """Extend the claim while the handler runs, so a slow handler keeps its update."""
        while True:
            await asyncio.sleep(self.claim.total_seconds() / 3)
            try:
                async with self._sessions.begin() as session:
                    await session.execute(
                        update(InboxUpdate)
                        .where(_held(update_id, self.worker))
                        .values(claim_expires_at=self._clock.now() + self.claim)
                    )
            except Exception:  # the next renewal or the expiry decides; handling goes on
                log.warning("could not renew the claim on update %d", update_id, exc_info=True)
