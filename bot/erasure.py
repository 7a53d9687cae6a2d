"""Erasure and retention: what is deleted, when, and what anonymous remainder stays.

Rules kept here:
- Erasing a newcomer (their `/delete`) removes their messages (encrypted texts and the
  pointers to them), their feedback comments, the handback notes about their questions, their
  profile and preferences. Of the outbox it removes every row to their chat, sent or not (the
  /privacy overview names their preferences), every copy of their messages (it names their
  chat) and the offers of their questions (they carry the handback note). Their inbox rows
  that have been taken up (handled, or the /delete press being handled) lose their chat id;
  the bare row stays until the inbox purges it, so a late redelivery is still recognised.
  Their requests and conversations stay only as anonymous statistics (language, domain,
  times); a handed-back request stays marked as one. An open conversation is closed and its
  sleutelpersoon told. One anonymous erasure event records that it happened.
- Erasing a sleutelpersoon (by a coordinator) leaves an anonymous tombstone that statistics
  keep pointing at; their words (messages, signals) and the pointers to their copies go, and
  the outbox and inbox forget their chat as for a newcomer.
- Redis. The database is the record, Redis only a shortcut that also knows chat ids (the
  inbox stream's announcements, the flood-limit keys). An erasure is complete in the database
  when its transaction commits, and it writes in that same transaction which chat Redis must
  forget (`RedisErasure`). The timer tick (bot/dispatcher.py) then deletes the chat's stream
  entries and flood-limit keys and only after that the row; while Redis is down the row stays,
  every tick tries again and the log says how many chats wait (never which). An unhandled
  update of the chat whose announcement goes with them is still handled: the workers' sweep
  finds it in the database. The same step deletes what the bot sent to the chat after the
  erasure in the same transaction (the confirmation), once it has gone out.
- Retention: message content older than the retention period is deleted; feedback comments
  of conversations closed that long ago, handback notes of requests untouched that long and
  the words of older signals are cleared (the rows stay and are counted); newcomers who have
  not been active for that long are erased. The job works in small batches, each its own
  transaction, so it is idempotent and safe to interrupt: a second run finds nothing left.
  With it, inbox stream entries older than the inbox keeps handled updates are trimmed (by
  Redis's clock, which made their ids): they are only pointers, anything unhandled is found by
  the workers' sweep, and otherwise they would keep chat ids until the stream's length cap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot import notices, rate_limit
from bot.handover import ACTIVE_REQUEST_STATUSES, OPEN, Handover
from bot.i18n import Texts
from bot.inbox import NO_CHAT
from bot.intake import InboxStream
from bot.models import (
    Conversation,
    ConversationMessage,
    ErasureEvent,
    HelpRequest,
    InboxUpdate,
    Newcomer,
    Offer,
    OfferStatus,
    OutboxMessage,
    RedisErasure,
    RelayedMessage,
    RequestMessage,
    RequestStatus,
    Signal,
    Sleutelpersoon,
)
from bot.outbox import drop_command_menu, enqueue

log = logging.getLogger(__name__)

ERASED = "erased"
BATCH = 500
# Inactive newcomers erased in one transaction (each erasure touches several tables).
NEWCOMER_BATCH = 50
# Sent outbox rows hold only the bot's own texts and chat ids; a week is enough to debug.
SENT_OUTBOX_KEPT = timedelta(days=7)
# Stream entries read at once while looking for an erased chat's announcements.
STREAM_PAGE = 1000
# The outbox purpose of /delete's question. That row is the record that it was asked: its
# buttons act only while a row of it to the chat, at most DELETE_PROMPT_VALID old, is there.
DELETE_PROMPT = "prompt:delete"
DELETE_PROMPT_VALID = timedelta(hours=1)


async def erase_newcomer(
    session: AsyncSession, now: datetime, newcomer: Newcomer, handover: Handover, reason: str
) -> None:
    """Remove everything about this newcomer, in the caller's transaction."""
    requests = select(HelpRequest.id).where(HelpRequest.newcomer_id == newcomer.id)
    conversations = select(Conversation.id).where(Conversation.newcomer_id == newcomer.id)
    offers = (await session.scalars(select(Offer.id).where(Offer.request_id.in_(requests)))).all()
    conversation_ids = (await session.scalars(conversations)).all()
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.purpose.in_(
                [f"offer:{offer}" for offer in offers]
                + [f"relay:{conversation}" for conversation in conversation_ids]
            )
        )
    )
    await _forget_chat(session, now, newcomer.telegram_user_id)
    open_conversations = (
        await session.scalars(
            select(Conversation).where(
                Conversation.newcomer_id == newcomer.id, Conversation.status == OPEN
            )
        )
    ).all()
    for conversation in open_conversations:
        person = await session.get_one(Sleutelpersoon, conversation.sleutelpersoon_id)
        if person.selected_conversation_id == conversation.id:
            person.selected_conversation_id = None
        if person.telegram_user_id is not None:
            enqueue(
                session, now, person.telegram_user_id, "sendMessage",
                {"text": notices.conversation_erased(
                    handover.texts_for(person.locale), conversation.label)},
                sleutelpersoon_id=person.id, purpose="notice:erasure",
            )  # fmt: skip
    await session.execute(delete(RequestMessage).where(RequestMessage.request_id.in_(requests)))
    await session.execute(
        delete(ConversationMessage).where(ConversationMessage.conversation_id.in_(conversations))
    )
    await session.execute(
        delete(RelayedMessage).where(RelayedMessage.conversation_id.in_(conversations))
    )
    await session.execute(
        update(Offer)
        .where(Offer.request_id.in_(requests), Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.WITHDRAWN, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.newcomer_id == newcomer.id)
        .values(
            newcomer_id=None,
            feedback_comment_encrypted=None,
            feedback_pending=False,
            status=ERASED,
            closed_at=now,
        )
        .where(Conversation.status == OPEN)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.newcomer_id == newcomer.id)
        .values(newcomer_id=None, feedback_comment_encrypted=None, feedback_pending=False)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(HelpRequest)
        .where(
            HelpRequest.newcomer_id == newcomer.id,
            HelpRequest.status.in_([*ACTIVE_REQUEST_STATUSES, RequestStatus.EMERGENCY]),
        )
        .values(status=RequestStatus.CLOSED, next_match_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(HelpRequest)
        .where(HelpRequest.newcomer_id == newcomer.id, _has_words(HelpRequest))
        .values(handback_note_encrypted="")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(HelpRequest)
        .where(HelpRequest.newcomer_id == newcomer.id)
        .values(newcomer_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(newcomer)
    session.add(ErasureEvent(at=now, reason=reason))


async def answer_delete_prompt(
    session: AsyncSession,
    now: datetime,
    chat_id: int,
    confirmed: bool,
    handover: Handover,
    texts: Texts,
) -> bool:
    """A press on /delete's question: yes erases the newcomer of the chat, or before consent
    (no newcomer) forgets the chat all the same; no keeps everything. Either answers the
    question, so another press of it finds none. False, and nothing changes, when no question
    to this chat is open: a forged press or one on an old question never skips the asking."""
    asked = OutboxMessage.chat_id == chat_id, OutboxMessage.purpose == DELETE_PROMPT
    pending = await session.scalar(
        select(OutboxMessage.id).where(
            *asked, OutboxMessage.created_at >= now - DELETE_PROMPT_VALID
        )
    )
    if pending is None:
        return False
    if confirmed:
        newcomer = await session.scalar(
            select(Newcomer).where(Newcomer.telegram_user_id == chat_id)
        )
        if newcomer is not None:
            await erase_newcomer(session, now, newcomer, handover, "newcomer_request")
        else:
            await _forget_chat(session, now, chat_id)  # the question itself goes with it
        log.info("a newcomer erased their data")
        # Sent at once like the confirmation, and forgotten with it (the rules above).
        drop_command_menu(session, now, chat_id)
        notice = notices.deleted(texts)
    else:
        # Only sent rows: one still unsent may be in a sender's hands (a second /delete's).
        await session.execute(
            delete(OutboxMessage).where(*asked, OutboxMessage.sent_at.is_not(None))
        )
        notice = notices.delete_cancelled(texts)
    enqueue(session, now, chat_id, "sendMessage", {"text": notice})
    return True


async def erase_sleutelpersoon(
    session: AsyncSession, now: datetime, person: Sleutelpersoon, handover: Handover
) -> None:
    """A coordinator erases a sleutelpersoon: their profile becomes an anonymous tombstone
    (conversations and statistics keep pointing at it), their words are deleted, their open
    conversations are handed back to the pool."""
    for conversation in (
        await session.scalars(
            select(Conversation).where(
                Conversation.sleutelpersoon_id == person.id, Conversation.status == OPEN
            )
        )
    ).all():
        await handover.handback(session, now, conversation, person, "")
    authored = select(Conversation.id).where(Conversation.sleutelpersoon_id == person.id)
    await session.execute(
        delete(ConversationMessage).where(
            ConversationMessage.conversation_id.in_(authored),
            ConversationMessage.author == "sleutelpersoon",
        )
    )
    await session.execute(
        delete(RelayedMessage).where(RelayedMessage.conversation_id.in_(authored))
    )
    await session.execute(
        update(Signal)
        .where(Signal.sleutelpersoon_id == person.id)
        .values(text_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    if person.telegram_user_id is not None:
        await _forget_chat(session, now, person.telegram_user_id)
    person.windows.clear()
    person.leaves.clear()
    person.telegram_user_id = None
    person.display_name = ERASED
    person.gender = person.circle = person.organisation = None
    person.invite_token_hash = person.invite_expires_at = None
    person.selected_conversation_id = None
    person.active = False
    person.erased_at = now
    session.add(ErasureEvent(at=now, reason="sleutelpersoon_by_coordinator"))


async def _forget_chat(session: AsyncSession, now: datetime, chat_id: int) -> None:
    """The outbox and inbox forget a chat; Redis is told to, after commit (see the rules)."""
    await session.execute(
        delete(OutboxMessage).where(
            or_(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.params["from_chat_id"].as_integer() == chat_id,
            )
        )
    )
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.chat_id == chat_id, InboxUpdate.claimed_by.is_not(None))
        .values(chat_id=NO_CHAT)
        .execution_options(synchronize_session=False)
    )
    session.add(RedisErasure(chat_id=chat_id, created_at=now, attempts=0))


def _has_words(table: type[HelpRequest]) -> ColumnElement[bool]:
    return table.handback_note_encrypted.is_not(None) & (table.handback_note_encrypted != "")


@dataclass(frozen=True)
class Forgotten:
    """What one round of forgetting erased chats in Redis did."""

    chats: int
    stream_entries: int
    keys: int
    # Chats Redis could not be made to forget this time (it failed); tried again next time.
    waiting: int = 0


async def forget_erased_chats(
    sessions: async_sessionmaker[AsyncSession], redis: Redis, key_prefix: str
) -> Forgotten:
    """Remove the Redis traces of chats erased in the database (see the rules); a chat's row
    goes only once Redis has forgotten it, so when Redis fails the next call tries again."""
    async with sessions() as session:
        pending = (await session.scalars(select(RedisErasure).limit(BATCH))).all()
    if not pending:
        return Forgotten(0, 0, 0)
    chats = {row.chat_id for row in pending}
    try:
        entries = await _delete_announcements(InboxStream(redis, key_prefix), chats)
        keys = await rate_limit.forget_chats(redis, key_prefix, chats)
    except (RedisError, OSError) as exc:
        async with sessions.begin() as session:
            await session.execute(
                update(RedisErasure)
                .where(RedisErasure.id.in_([row.id for row in pending]))
                .values(attempts=RedisErasure.attempts + 1)
            )
        log.warning(
            "%d erased chats not yet removed from Redis (%s); trying again",
            len(chats),
            type(exc).__name__,
        )
        return Forgotten(0, 0, 0, waiting=len(chats))
    async with sessions.begin() as session:
        for row in pending:
            # What the bot said after the erasure (its confirmation), once it has gone out.
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.chat_id == row.chat_id,
                    OutboxMessage.created_at <= row.created_at,
                    OutboxMessage.sent_at.is_not(None),
                )
            )
        await session.execute(
            delete(RedisErasure).where(RedisErasure.id.in_([row.id for row in pending]))
        )
    return Forgotten(len(chats), entries, keys)


async def _delete_announcements(stream: InboxStream, chats: set[int]) -> int:
    """XDEL the inbox stream's entries that name one of the chats; how many."""
    wanted = {str(chat).encode() for chat in chats}
    deleted = 0
    start = "-"
    while True:
        page: Sequence[tuple[bytes, dict[bytes, bytes]]] = await stream.redis.xrange(  # type: ignore[assignment]
            stream.name, min=start, count=STREAM_PAGE
        )
        doomed = [entry_id for entry_id, fields in page if fields.get(b"chat_id") in wanted]
        if doomed:
            deleted += int(await stream.redis.xdel(stream.name, *doomed))
        if len(page) < STREAM_PAGE:
            return deleted
        start = "(" + page[-1][0].decode()


# --- retention --------------------------------------------------------------------------------


async def trim_announcements(redis: Redis, key_prefix: str, keep: timedelta) -> int:
    """Delete inbox stream entries older than `keep` (see the rules); how many."""
    seconds, microseconds = await redis.time()
    oldest = seconds * 1000 + microseconds // 1000 - int(keep.total_seconds() * 1000)
    stream = InboxStream(redis, key_prefix)
    return int(await stream.redis.xtrim(stream.name, minid=oldest, approximate=False))


async def apply_retention(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    retention: timedelta,
    handover: Handover,
) -> int:
    """Delete or clear what is older than the retention period; how many rows it touched."""
    cutoff = now - retention
    removed = 0
    for message_table in (RequestMessage, ConversationMessage):
        removed += await _in_batches(
            sessions,
            message_table.id,
            message_table.created_at < cutoff,
            lambda ids, table=message_table: delete(table).where(table.id.in_(ids)),
        )
    removed += await _in_batches(
        sessions,
        Conversation.id,
        Conversation.feedback_comment_encrypted.is_not(None) & (Conversation.closed_at < cutoff),
        lambda ids: (
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(feedback_comment_encrypted=None)
        ),
    )
    removed += await _in_batches(
        sessions,
        HelpRequest.id,
        _has_words(HelpRequest) & (HelpRequest.updated_at < cutoff),
        lambda ids: (
            update(HelpRequest).where(HelpRequest.id.in_(ids)).values(handback_note_encrypted="")
        ),
    )
    removed += await _in_batches(
        sessions,
        Signal.id,
        Signal.text_encrypted.is_not(None) & (Signal.created_at < cutoff),
        lambda ids: update(Signal).where(Signal.id.in_(ids)).values(text_encrypted=None),
    )
    removed += await _in_batches(
        sessions,
        OutboxMessage.id,
        OutboxMessage.sent_at.is_not(None) & (OutboxMessage.sent_at < now - SENT_OUTBOX_KEPT),
        lambda ids: delete(OutboxMessage).where(OutboxMessage.id.in_(ids)),
    )
    while True:
        async with sessions.begin() as session:
            inactive = (
                await session.scalars(
                    select(Newcomer).where(Newcomer.updated_at < cutoff).limit(NEWCOMER_BATCH)
                )
            ).all()
            if not inactive:
                break
            for newcomer in inactive:
                await erase_newcomer(session, now, newcomer, handover, "retention")
            removed += len(inactive)
    return removed


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession],
    key: InstrumentedAttribute[int],
    due: ColumnElement[bool],
    change: Any,
) -> int:
    """Apply `change(ids)` to the rows that are `due`, BATCH at a time, each batch its own
    transaction; `due` must no longer hold for a changed row, so every run ends."""
    touched = 0
    while True:
        async with sessions.begin() as session:
            ids = (await session.scalars(select(key).where(due).limit(BATCH))).all()
            if not ids:
                return touched
            result: CursorResult[Any] = await session.execute(change(ids))  # type: ignore[assignment]
            touched += int(result.rowcount)
