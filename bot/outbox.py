"""The outbox: messages are written in the transaction that causes them and sent after commit.

Rules kept here:
- A row addressed to a sleutelpersoon is sent only while they are within office hours; outside
  them it waits, and so does everything after it in that chat, so their messages stay in order.
- Rows to one chat are sent in the order they were written; a chat whose row must wait
  (office hours, Telegram's retry_after, a network error) holds back its later rows.
- A row is marked sent in its own transaction right after Telegram accepted it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot import models
from bot.clock import Clock
from bot.directory import local_today, schedule_of
from matching.office_hours import is_within, next_opening

log = logging.getLogger(__name__)

BATCH_SIZE = 200
MAX_BACKOFF = timedelta(minutes=5)
# A schedule with no windows at all never opens; its messages are looked at again daily.
RECHECK_CLOSED_SCHEDULE = timedelta(days=1)


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
    return row


async def cancel_unsent(session: AsyncSession, purpose: str) -> None:
    """Drop rows not yet sent for `purpose` (an offer that was taken before it went out)."""
    await session.execute(
        delete(models.OutboxMessage).where(
            models.OutboxMessage.purpose == purpose, models.OutboxMessage.sent_at.is_(None)
        )
    )


class OutboxSender:
    """Sends due outbox rows through the bot; one flush at a time in this process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot: Bot, clock: Clock) -> None:
        self._sessions = sessions
        self._bot = bot
        self._clock = clock
        self._lock = asyncio.Lock()

    async def flush(self) -> int:
        """Send every row that is due now; return how many were sent."""
        async with self._lock, self._sessions() as session:
            now = self._clock.now()
            rows = (
                await session.scalars(
                    select(models.OutboxMessage)
                    .where(
                        models.OutboxMessage.sent_at.is_(None),
                        models.OutboxMessage.not_before <= now,
                    )
                    .order_by(models.OutboxMessage.id)
                    .limit(BATCH_SIZE)
                )
            ).all()
            # The first waiting row of each chat: nothing after it in that chat goes out.
            waiting = await session.execute(
                select(models.OutboxMessage.chat_id, func.min(models.OutboxMessage.id))
                .where(
                    models.OutboxMessage.sent_at.is_(None),
                    models.OutboxMessage.not_before > now,
                )
                .group_by(models.OutboxMessage.chat_id)
            )
            held_from: dict[int, int] = {chat_id: first_id for chat_id, first_id in waiting}
            sent = 0
            for row in rows:
                if row.id > held_from.get(row.chat_id, row.id):
                    continue
                if not await self._within_recipient_hours(session, row, now):
                    held_from[row.chat_id] = row.id
                    await session.commit()
                    continue
                delivered = await self._send(session, row, now)
                await session.commit()
                if delivered:
                    sent += 1
                elif row.sent_at is None:
                    held_from[row.chat_id] = row.id
            return sent

    async def _within_recipient_hours(
        self, session: AsyncSession, row: models.OutboxMessage, now: datetime
    ) -> bool:
        if row.sleutelpersoon_id is None:
            return True
        person = await session.get(models.Sleutelpersoon, row.sleutelpersoon_id)
        if person is None:
            return True
        schedule = schedule_of(person, local_today(person, now))
        if is_within(schedule, now):
            return True
        row.not_before = next_opening(schedule, now) or now + RECHECK_CLOSED_SCHEDULE
        return False

    async def _send(self, session: AsyncSession, row: models.OutboxMessage, now: datetime) -> bool:
        params = dict(row.params)
        conversation = await self._conversation_of(session, row.purpose)
        if conversation is not None and conversation.header_message_id is not None:
            # The copy replies to the conversation's header, so the sleutelpersoon sees which
            # conversation it belongs to.
            params["reply_parameters"] = {
                "message_id": conversation.header_message_id,
                "allow_sending_without_reply": True,
            }
        row.attempts += 1
        try:
            message_id = await self._call(row.method, params)
        except RetryAfter as exc:
            retry_after = exc.retry_after
            seconds = (
                retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
            )
            row.not_before = now + timedelta(seconds=seconds)
            return False
        except Forbidden as exc:
            # The user blocked the bot: nothing will ever get through; do not retry forever.
            row.sent_at, row.last_error = now, f"forbidden: {exc.message}"
            log.info("outbox row %s not deliverable: %s", row.id, type(exc).__name__)
            return False
        except BadRequest as exc:
            if "message is not modified" in exc.message:
                row.sent_at = now
                return True
            row.sent_at, row.last_error = now, f"bad request: {exc.message}"
            log.warning("outbox row %s refused by Telegram: %s", row.id, exc.message)
            return False
        except NetworkError as exc:
            row.not_before = now + min(timedelta(seconds=2**row.attempts), MAX_BACKOFF)
            row.last_error = f"network: {type(exc).__name__}"
            return False
        row.sent_at = now
        await self._record(session, row, message_id, conversation)
        return True

    async def _call(self, method: str, params: dict[str, Any]) -> int | None:
        """Make the Bot API call through PTB's typed methods; the new message's id, if any."""
        markup = params.get("reply_markup")
        keyboard = InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None
        reply = params.get("reply_parameters")
        reply_to = ReplyParameters.de_json(reply, self._bot) if reply else None
        if method == "sendMessage":
            sent = await self._bot.send_message(
                params["chat_id"], params["text"], reply_markup=keyboard, reply_parameters=reply_to
            )
            return sent.message_id
        if method == "copyMessage":
            copied = await self._bot.copy_message(
                params["chat_id"],
                params["from_chat_id"],
                params["message_id"],
                reply_parameters=reply_to,
            )
            return copied.message_id
        if method == "editMessageText":
            await self._bot.edit_message_text(
                params["text"],
                chat_id=params["chat_id"],
                message_id=params["message_id"],
                reply_markup=keyboard,
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
        self,
        session: AsyncSession,
        row: models.OutboxMessage,
        message_id: int | None,
        conversation: models.Conversation | None,
    ) -> None:
        """Remember the message id Telegram gave, where later steps need it."""
        if row.purpose is None or message_id is None:
            return
        kind, _, ref = row.purpose.partition(":")
        if kind == "offer":
            offer = await session.get(models.Offer, int(ref))
            if offer is not None:
                offer.telegram_message_id = message_id
        elif kind == "header":
            header_of = await session.get(models.Conversation, int(ref))
            if header_of is not None:
                header_of.header_message_id = message_id
                session.add(_relayed(header_of.id, row.chat_id, message_id))
        elif kind == "relay" and conversation is not None:
            session.add(_relayed(conversation.id, row.chat_id, message_id))


def _relayed(conversation_id: int, chat_id: int, message_id: int) -> models.RelayedMessage:
    return models.RelayedMessage(
        conversation_id=conversation_id, chat_id=chat_id, telegram_message_id=message_id
    )
