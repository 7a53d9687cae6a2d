"""The outbox: messages are written in the transaction that causes them and sent after commit.

Rules kept here:
- A row addressed to a sleutelpersoon (it carries `sleutelpersoon_id`) is sent only while they
  are within office hours; outside them it waits, and so does every later row of that chat
  that carries the hold, so what reaches them stays in order.
- Rows to one chat are sent in the order they were written; a chat whose first unsent row
  must wait (office hours, Telegram's retry_after, a network error) holds back its later rows.
  One exception: while that first row carries the hold and waits (for the sleutelpersoon's
  hours, or a retry), rows without `sleutelpersoon_id` (answers to what the person just did:
  /hours, /away, /mine) go out, in their own order. They asked now, so answering now is not
  contacting them outside hours; the rate limiter still keeps a paused chat paused.
- Several processes may flush at once. Only a chat's sendable row (`_sendable`: its first
  unsent row, or that one exception) can be claimed, by one conditional UPDATE that sets a
  lease (`claimed_by`, `claimed_until`); the next row of that chat becomes claimable only
  once the one before it is finished or waits. So each chat is sent by one process at a
  time, in order, and no row is claimed by two processes.
- Fenced. Every write after the claim (starting the call, finishing, holding the row back) is
  conditional on this sender still holding the unsent row, checked by its rowcount. A sender
  paused past its lease (SIGSTOP, a frozen VM, a long GC) while another took the row over
  finds that out before it calls Telegram, and stops: it neither sends nor records anything.
- Never twice, at the price of at most once in one narrow case. Telegram has no idempotency
  key: a call whose answer never arrived may or may not have been delivered. The claimant
  commits `attempt_started_at` before the call and clears it (or finishes the row) as soon as
  Telegram's answer is known. A row whose lease ran out while `attempt_started_at` was still
  set (its sender died between the call and the commit) is not sent again: it is finished
  with outcome `uncertain` and logged by id, without its text, and its chat moves on. An
  answer lost in transit (read timeout, broken connection) is `uncertain` likewise. Answers
  that prove nothing was delivered (429 with retry_after, a connection never made, an HTTP
  error status) are retried.
- A row is finished (`sent_at`, `outcome`) in its own transaction right after the answer.
- Nobody waits for sending. Handlers and the timers hand the chats they wrote to over to
  `send_soon`, which sends each chat in a task of its own: a chat that waits for Telegram's
  per-chat limit (a flood relayed to one sleutelpersoon) holds up neither the handling of
  other updates nor other chats' messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
import uuid
import weakref
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, auto
from typing import Any

import httpx
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from telegram import BotCommandScopeChat, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot import models
from bot.clock import Clock, SystemClock
from bot.directory import local_today, schedule_of
from bot.rate_limit import (
    ADMITTED,
    SENDING_METHODS,
    Priority,
    SharedRateLimiter,
    retry_after_seconds,
)
from matching.office_hours import is_within, next_opening

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# Chats sent to at the same time by this process; each chat itself goes strictly one by one.
# A chat waiting for its per-chat limit holds a place, so there are a few more than flooded
# chats can be expected at once.
CONCURRENT_CHATS = 12
MAX_BACKOFF = timedelta(minutes=5)
# A row that waits for its recipient's hours is looked at again when they open or after this,
# whichever comes first: a schedule changed meanwhile (/away off, new hours, leave withdrawn)
# counts within this time, and a schedule that never opens is looked at now and then.
RECHECK_HELD = timedelta(minutes=15)
# Taken at the claim and renewed when the call starts; far longer than the wait for the rate
# limiter or a Bot API call can take (PTB's timeouts are 5 s each for connect, write and
# read), so a live sender never loses its claim, yet a dead sender's chat moves on soon.
LEASE = timedelta(seconds=30)
# How long one flush waits for the rate limiter on a chat's behalf before leaving the chat
# to the next flush: long enough for a chat's next message (one chat window), short enough
# that a handler's flush is not held up by a chat paused by a long retry_after.
MAX_ADMISSION_WAIT = 1.2
# Purposes whose kind (the part before ":") marks a notice nobody is waiting for right now:
# it yields to conversation replies under the rate limit.
BULK_PURPOSE_KINDS = frozenset({"notice"})

Outcome = models.OutboxOutcome


# The chats written to in the current handler's context (`collecting_chats`), so that the
# handler's flush looks at those chats only; the dispatcher's tick flushes every chat.
_written_chats: ContextVar[set[int] | None] = ContextVar("outbox_written_chats", default=None)


@contextlib.contextmanager
def collecting_chats() -> Iterator[set[int]]:
    """The set of chats that `enqueue` writes to while this context is open."""
    chats: set[int] = set()
    token = _written_chats.set(chats)
    try:
        yield chats
    finally:
        _written_chats.reset(token)


def enqueue(
    session: AsyncSession,
    now: datetime,
    chat_id: int,
    method: str,
    params: dict[str, Any],
    *,
    sleutelpersoon_id: int | None = None,
    purpose: str | None = None,
) -> models.OutboxMessage:
    """Add a Bot API call to the outbox, in the caller's transaction."""
    row = models.OutboxMessage(
        chat_id=chat_id,
        sleutelpersoon_id=sleutelpersoon_id,
        method=method,
        params={"chat_id": chat_id, **params},
        purpose=purpose,
        not_before=now,
        created_at=now,
        attempts=0,
    )
    session.add(row)
    written = _written_chats.get()
    if written is not None:
        written.add(chat_id)
    return row


def set_command_menu(
    session: AsyncSession, now: datetime, chat_id: int, commands: list[tuple[str, str]]
) -> None:
    """This chat's own command menu in Telegram, which comes before the menu per Telegram
    interface language: so the menu follows the role and the language chosen in the bot."""
    menu = [{"command": command, "description": text} for command, text in commands]
    enqueue(session, now, chat_id, "setMyCommands", {"commands": menu})


def drop_command_menu(session: AsyncSession, now: datetime, chat_id: int) -> None:
    """Drop this chat's own menu: it shows the default one again."""
    enqueue(session, now, chat_id, "deleteMyCommands", {})


async def cancel_unsent(session: AsyncSession, purpose: str) -> None:
    """Drop rows not yet sent for `purpose` (an offer that was taken before it went out)."""
    await session.execute(
        delete(models.OutboxMessage).where(
            models.OutboxMessage.purpose == purpose, models.OutboxMessage.sent_at.is_(None)
        )
    )


class _Step(Enum):
    """What became of one claimed row, and so whether its chat goes on."""

    SENT = auto()
    FINISHED_UNSENT = auto()  # undeliverable or uncertain: the chat goes on with its next row
    OUTSIDE_HOURS = auto()  # waits for its recipient's hours; the chat's direct answers go on
    HOLD = auto()  # the row waits; so does the rest of its chat
    NOT_CLAIMED = auto()  # another process has the chat, or the row is gone or not due


@dataclass(frozen=True)
class _Head:
    """The row of a chat that may be sent now (`_sendable`)."""

    id: int
    chat_id: int
    purpose: str | None
    claimed_by: str | None
    claimed_until: datetime | None


# Purpose kinds whose reference is a conversation id ("header:<id>", "relay:<id>").
CONVERSATION_PURPOSE_KINDS = ("header", "relay")


def conversation_of_purpose(purpose: str | None) -> int | None:
    """The conversation a row belongs to, when its purpose names one."""
    kind, _, ref = (purpose or "").partition(":")
    return int(ref) if kind in CONVERSATION_PURPOSE_KINDS else None


def priority_of(purpose: str | None) -> Priority:
    kind = (purpose or "").partition(":")[0]
    return Priority.BULK if kind in BULK_PURPOSE_KINDS else Priority.CONVERSATION


def sender_identity() -> str:
    """Who holds a claim: host, process and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxSender:
    """Sends due outbox rows through the bot; any number of senders may run at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: ExtBot[Any],
        clock: Clock,
        *,
        limiter: SharedRateLimiter,
        lease_clock: Clock | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        """`clock` decides what is due (it may be a test's manual clock); `lease_clock` is
        the real time that leases of this and other processes are measured in, `lease` how
        long a claim lasts without renewal."""
        self._sessions = sessions
        self._bot = bot
        self._clock = clock
        self._limiter = limiter
        self._lease_clock = lease_clock or SystemClock()
        self._lease = lease
        self._identity = sender_identity()
        self._slots = asyncio.Semaphore(CONCURRENT_CHATS)
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._send_again: set[int] = set()
        # One turn at a time per chat in this process; a lock lives while someone holds it.
        self._chat_turns: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @property
    def identity(self) -> str:
        """Who this sender is in the claims it takes."""
        return self._identity

    def send_soon(self, chats: Collection[int]) -> None:
        """Send what is due for these chats, in the background (the rule above). A chat that
        is being sent to already is looked at once more when that ends, so a row written
        meanwhile is not left for the next tick."""
        for chat_id in chats:
            if chat_id in self._sending:
                self._send_again.add(chat_id)
            else:
                # In a context of its own: the task outlives the handler that asked for it
                # and must not carry the handler's update (bot/inbox.py marks an update in
                # the first commit made in its context).
                self._sending[chat_id] = asyncio.create_task(
                    self._send_chat(chat_id), context=contextvars.Context()
                )

    async def due_chats(self) -> list[int]:
        """The chats with a row that may be sent now."""
        return list(dict.fromkeys(head.chat_id for head in await self._due_heads(None)))

    async def settle(self) -> None:
        """Wait for the background sending `send_soon` started (before a process stops)."""
        while self._sending:
            await asyncio.wait(list(self._sending.values()))

    async def _send_chat(self, chat_id: int) -> None:
        try:
            again = True
            while again:
                self._send_again.discard(chat_id)
                await self.flush([chat_id])
                again = chat_id in self._send_again
        except Exception as exc:  # the rows stay in the outbox: the next tick sends them
            log.warning("sending to a chat failed: %s", type(exc).__name__)
        finally:
            del self._sending[chat_id]

    async def flush(self, chats: Collection[int] | None = None) -> int:
        """Send every row that is due now, of `chats` (of every chat when None), and whose chat
        no other process holds; return how many this call sent. A chat that this process is
        already sending to is waited for, so when flush returns, every chat that had a due row
        is done or held elsewhere."""
        if chats is not None and not chats:
            return 0
        lease_now = self._lease_clock.now()
        heads = [
            head
            for head in await self._due_heads(chats)
            if head.claimed_until is None
            or head.claimed_until < lease_now
            or head.claimed_by == self._identity
        ]
        results = await asyncio.gather(
            *(self._drain_in_turn(head) for head in heads), return_exceptions=True
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            raise failures[0]
        return sum(result for result in results if isinstance(result, int))

    async def _drain_in_turn(self, head: _Head) -> int:
        """Drain a chat after any drain of it that is running in this process."""
        turn = self._chat_turns.setdefault(head.chat_id, asyncio.Lock())
        async with turn, self._slots:
            return await self._drain_chat(head)

    async def _due_heads(self, chats: Collection[int] | None) -> list[_Head]:
        """The first unsent row of each chat (of `chats`) where it is due, replies first."""
        now = self._clock.now()
        query = select(
            models.OutboxMessage.id,
            models.OutboxMessage.chat_id,
            models.OutboxMessage.purpose,
            models.OutboxMessage.claimed_by,
            models.OutboxMessage.claimed_until,
        ).where(_sendable(now))
        if chats is not None:
            query = query.where(models.OutboxMessage.chat_id.in_(sorted(chats)))
        async with self._sessions() as session:
            rows = await session.execute(query.order_by(models.OutboxMessage.id).limit(BATCH_SIZE))
            heads = [_Head(*row) for row in rows]
        return sorted(heads, key=lambda head: (priority_of(head.purpose), head.id))

    async def _drain_chat(self, head: _Head) -> int:
        """Send a chat's due rows in order while it may; stop at the first that must wait."""
        sent = 0
        row_id: int | None = head.id
        while row_id is not None:
            step = await self._send_row(row_id, head.chat_id)
            if step is _Step.SENT:
                sent += 1
            elif step in (_Step.HOLD, _Step.NOT_CLAIMED):
                break
            # After OUTSIDE_HOURS the next sendable row is the chat's first direct answer.
            row_id = await self._next_due(head.chat_id)
        return sent

    async def _next_due(self, chat_id: int) -> int | None:
        async with self._sessions() as session:
            first: int | None = await session.scalar(
                select(models.OutboxMessage.id).where(_sendable(self._clock.now(), chat_id))
            )
            return first

    async def _claim(self, row_id: int, chat_id: int) -> bool:
        """Take the lease on a chat's first unsent row; False when another sender has it."""
        lease_now = self._lease_clock.now()
        async with self._sessions.begin() as session:
            claimed = await session.execute(
                update(models.OutboxMessage)
                .where(
                    models.OutboxMessage.id == row_id,
                    models.OutboxMessage.sent_at.is_(None),
                    _unclaimed(lease_now),
                    _sendable(self._clock.now(), chat_id),
                )
                .values(claimed_by=self._identity, claimed_until=lease_now + self._lease)
                .execution_options(synchronize_session=False)
            )
            return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    async def _send_row(self, row_id: int, chat_id: int) -> _Step:
        if not await self._claim(row_id, chat_id):
            return _Step.NOT_CLAIMED
        now = self._clock.now()
        async with self._sessions() as session:
            row = await session.get(models.OutboxMessage, row_id)
            if row is None:  # deleted meanwhile (an erasure, a withdrawn offer)
                return _Step.NOT_CLAIMED
            stopped_mid_call = row.attempt_started_at is not None
            opening = await self._recipient_opening(session, row, now)
            conversation = await self._conversation_of(session, row.purpose)
            params = dict(row.params)
            method, attempts, purpose = row.method, row.attempts + 1, row.purpose
        if stopped_mid_call:
            log.warning(
                "outbox row %s: its sender stopped during the Bot API call; not sent again "
                "(outcome uncertain)",
                row_id,
            )
            await self._finish(row_id, now, Outcome.UNCERTAIN, "sender stopped mid-call")
            return _Step.FINISHED_UNSENT
        if opening is not None:
            await self._hold(row_id, not_before=opening)
            return _Step.OUTSIDE_HOURS
        if conversation is not None and conversation.header_message_id is not None:
            # The copy replies to the conversation's header, so the sleutelpersoon sees which
            # conversation it belongs to.
            params["reply_parameters"] = {
                "message_id": conversation.header_message_id,
                "allow_sending_without_reply": True,
            }
        if method in SENDING_METHODS:
            try:
                admitted = await self._limiter.admit(
                    chat_id, priority_of(purpose), MAX_ADMISSION_WAIT
                )
            except Exception:
                # Redis unreachable: nothing was sent, so free the chat now rather than when
                # the lease runs out.
                await self._hold(row_id)
                raise
            if not admitted:
                await self._hold(row_id)
                return _Step.HOLD
        if not await self._start_attempt(row_id, attempts):
            log.warning("outbox row %s: taken over by another sender; not sent", row_id)
            return _Step.NOT_CLAIMED
        try:
            message_id = await self._call(method, params)
        except RetryAfter as exc:
            # Nothing was delivered; the rate limiter has paused the chat in Redis for every
            # process, and the row itself waits too, in case Redis forgets.
            seconds = retry_after_seconds(exc)
            await self._hold(row_id, not_before=now + timedelta(seconds=seconds))
            return _Step.HOLD
        except Forbidden as exc:
            # The user blocked the bot: nothing will ever get through; do not retry forever.
            log.info("outbox row %s not deliverable: %s", row_id, type(exc).__name__)
            await self._finish(row_id, now, Outcome.UNDELIVERABLE, f"forbidden: {exc.message}")
            return _Step.FINISHED_UNSENT
        except BadRequest as exc:
            if "message is not modified" in exc.message:
                await self._finish(row_id, now, Outcome.SENT)
                return _Step.SENT
            log.warning("outbox row %s refused by Telegram: %s", row_id, exc.message)
            await self._finish(row_id, now, Outcome.UNDELIVERABLE, f"bad request: {exc.message}")
            return _Step.FINISHED_UNSENT
        except NetworkError as exc:
            if not surely_not_delivered(exc):
                log.warning("outbox row %s: answer lost (%s); not sent again", row_id, exc)
                await self._finish(row_id, now, Outcome.UNCERTAIN, f"network: {exc}")
                return _Step.FINISHED_UNSENT
            await self._hold(
                row_id,
                not_before=now + min(timedelta(seconds=2**attempts), MAX_BACKOFF),
                error=f"network: {type(exc).__name__}",
            )
            return _Step.HOLD
        except TelegramError as exc:
            # An answer this code does not understand: whether it was delivered is unknown.
            log.warning("outbox row %s: unexpected %s; not sent again", row_id, type(exc).__name__)
            await self._finish(row_id, now, Outcome.UNCERTAIN, type(exc).__name__)
            return _Step.FINISHED_UNSENT
        await self._finish(row_id, now, Outcome.SENT, record=(purpose, chat_id, message_id))
        return _Step.SENT

    async def _recipient_opening(
        self, session: AsyncSession, row: models.OutboxMessage, now: datetime
    ) -> datetime | None:
        """None when the recipient may get the row now, else when to look again."""
        if row.sleutelpersoon_id is None:
            return None
        person = await session.get(models.Sleutelpersoon, row.sleutelpersoon_id)
        if person is None:
            return None
        schedule = schedule_of(person, local_today(person, now))
        if is_within(schedule, now):
            return None
        opening = next_opening(schedule, now)
        return now + RECHECK_HELD if opening is None else min(opening, now + RECHECK_HELD)

    async def _start_attempt(self, row_id: int, attempts: int) -> bool:
        """Record that the call is about to be made; False when this sender no longer holds
        the row (it was paused past its lease and another sender took over): then it must not
        call."""
        lease_now = self._lease_clock.now()
        async with self._sessions.begin() as session:
            started = await session.execute(
                update(models.OutboxMessage)
                .where(_held_by(row_id, self._identity))
                .values(
                    attempt_started_at=lease_now,
                    claimed_until=lease_now + self._lease,
                    attempts=attempts,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(started.rowcount == 1)  # type: ignore[attr-defined]

    async def _hold(
        self, row_id: int, *, not_before: datetime | None = None, error: str | None = None
    ) -> None:
        """Nothing was delivered: leave the row for later and free its chat."""
        values: dict[str, Any] = {
            "attempt_started_at": None,
            "claimed_by": None,
            "claimed_until": None,
        }
        if not_before is not None:
            values["not_before"] = not_before
        if error is not None:
            values["last_error"] = error
        async with self._sessions.begin() as session:
            await session.execute(
                update(models.OutboxMessage)
                .where(_held_by(row_id, self._identity))
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _finish(
        self,
        row_id: int,
        now: datetime,
        outcome: models.OutboxOutcome,
        error: str | None = None,
        *,
        record: tuple[str | None, int, int | None] | None = None,
    ) -> None:
        """Close the row for good with what is known of it, and (after a send) remember the
        message id Telegram gave where later steps need it. Only while this sender still holds
        the row: one that lost it (paused past its lease) records nothing, for the sender that
        took over has finished the row its own way."""
        async with self._sessions.begin() as session:
            finished = await session.execute(
                update(models.OutboxMessage)
                .where(_held_by(row_id, self._identity))
                .values(
                    sent_at=now,
                    outcome=outcome,
                    last_error=error,
                    attempt_started_at=None,
                    claimed_by=None,
                    claimed_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            if finished.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("outbox row %s: taken over by another sender; not recorded", row_id)
                return
            if record is not None:
                await self._record(session, *record)

    async def _call(self, method: str, params: dict[str, Any]) -> int | None:
        """Make the Bot API call through PTB's typed methods; the new message's id, if any."""
        markup = params.get("reply_markup")
        keyboard = InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None
        reply = params.get("reply_parameters")
        reply_to = ReplyParameters.de_json(reply, self._bot) if reply else None
        if method == "sendMessage":
            sent = await self._bot.send_message(
                params["chat_id"],
                params["text"],
                reply_markup=keyboard,
                reply_parameters=reply_to,
                rate_limit_args=ADMITTED,
            )
            return sent.message_id
        if method == "copyMessage":
            copied = await self._bot.copy_message(
                params["chat_id"],
                params["from_chat_id"],
                params["message_id"],
                reply_parameters=reply_to,
                rate_limit_args=ADMITTED,
            )
            return copied.message_id
        if method == "editMessageText":
            await self._bot.edit_message_text(
                params["text"],
                chat_id=params["chat_id"],
                message_id=params["message_id"],
                reply_markup=keyboard,
                rate_limit_args=ADMITTED,
            )
            return None
        if method == "setMyCommands":
            # The menu of this one chat (private: the chat is the user).
            await self._bot.set_my_commands(
                [(command["command"], command["description"]) for command in params["commands"]],
                scope=BotCommandScopeChat(params["chat_id"]),
                rate_limit_args=ADMITTED,
            )
            return None
        if method == "deleteMyCommands":
            await self._bot.delete_my_commands(
                scope=BotCommandScopeChat(params["chat_id"]), rate_limit_args=ADMITTED
            )
            return None
        raise ValueError(f"the outbox cannot send {method}")

    async def _conversation_of(
        self, session: AsyncSession, purpose: str | None
    ) -> models.Conversation | None:
        if purpose is None or not purpose.startswith("relay:"):
            return None
        return await session.get(models.Conversation, int(purpose.removeprefix("relay:")))

    async def _record(
        self, session: AsyncSession, purpose: str | None, chat_id: int, message_id: int | None
    ) -> None:
        """Remember the message id Telegram gave, where later steps need it."""
        if purpose is None or message_id is None:
            return
        kind, _, ref = purpose.partition(":")
        if kind == "offer":
            offer = await session.get(models.Offer, int(ref))
            if offer is not None:
                offer.telegram_message_id = message_id
        elif kind in CONVERSATION_PURPOSE_KINDS:
            conversation = await session.get(models.Conversation, int(ref))
            if conversation is None:
                return
            if kind == "header":
                conversation.header_message_id = message_id
            session.add(_relayed(conversation.id, chat_id, message_id))


def surely_not_delivered(exc: NetworkError) -> bool:
    """Whether a network failure proves the call did not reach the user: no connection was
    made, or Telegram answered with an HTTP error (PTB raises those without an httpx cause)."""
    cause = exc.__cause__
    return cause is None or isinstance(
        cause, TelegramError | httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
    )


# The outbox table again, under other names, for the subqueries of `_sendable`. Made once:
# building an alias of a mapped class costs more than the query it is used in.
_FIRST = aliased(models.OutboxMessage)
_DIRECT = aliased(models.OutboxMessage)
_WAITING = aliased(models.OutboxMessage)


def _sendable(now: datetime, chat_id: int | None = None) -> Any:
    """The rows that may be sent at `now` (of one chat, when given): at most one per chat.

    That is the chat's first unsent row once it is due; or, while that first row carries the
    office-hours hold and waits, the chat's first unsent row that carries none. Rows that
    carry the hold therefore never overtake anything; direct answers overtake only them.
    """
    first_ids = _first_unsent_ids(chat_id)
    chats_waiting_for_hours = select(_WAITING.chat_id).where(
        _WAITING.id.in_(first_ids),
        _WAITING.sleutelpersoon_id.is_not(None),
        _WAITING.not_before > now,
    )
    return and_(
        models.OutboxMessage.not_before <= now,
        or_(
            models.OutboxMessage.id.in_(first_ids),
            and_(
                models.OutboxMessage.id.in_(_first_unsent_ids(chat_id, direct_only=True)),
                models.OutboxMessage.chat_id.in_(chats_waiting_for_hours),
            ),
        ),
    )


def _first_unsent_ids(chat_id: int | None = None, *, direct_only: bool = False) -> Any:
    """The id of each chat's first unsent row (of one chat, when given); with `direct_only`,
    of its first unsent row that carries no office-hours hold."""
    row = _DIRECT if direct_only else _FIRST
    query = select(func.min(row.id)).where(row.sent_at.is_(None))
    if direct_only:
        query = query.where(row.sleutelpersoon_id.is_(None))
    if chat_id is not None:
        return query.where(row.chat_id == chat_id)
    return query.group_by(row.chat_id)


def _held_by(row_id: int, identity: str) -> Any:
    """The fence of every write after a claim: the row is unsent and still claimed by this
    sender. A sender paused past its lease (SIGSTOP, a frozen VM, a long GC) finds its claim
    taken over (or the row finished) when it resumes, and its write changes nothing."""
    return and_(
        models.OutboxMessage.id == row_id,
        models.OutboxMessage.claimed_by == identity,
        models.OutboxMessage.sent_at.is_(None),
    )


def _unclaimed(lease_now: datetime) -> Any:
    return or_(
        models.OutboxMessage.claimed_until.is_(None),
        models.OutboxMessage.claimed_until < lease_now,
    )


def _relayed(conversation_id: int, chat_id: int, message_id: int) -> models.RelayedMessage:
    return models.RelayedMessage(
        conversation_id=conversation_id, chat_id=chat_id, telegram_message_id=message_id
    )
