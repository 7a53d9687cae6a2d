"""Erasure and retention: what is deleted, when, and what anonymous remainder stays.

Rules kept here:
- Erasing a newcomer (their `/delete`) removes their messages (encrypted texts and the
  pointers to them), their profile, preferences and unsent messages to them; their requests and
  conversations stay only as anonymous statistics (language, domain, times) without a link to
  them. An open conversation is closed and its sleutelpersoon told. One anonymous erasure event
  records that it happened.
- Retention: message content older than the retention period is deleted, and newcomers who
  have not been active for that long are erased. The job works in small batches, each its own
  transaction, so it is idempotent and safe to interrupt: a second run finds nothing left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import notices
from bot.handover import ACTIVE_REQUEST_STATUSES, OPEN, Handover
from bot.models import (
    Conversation,
    ConversationMessage,
    ErasureEvent,
    HelpRequest,
    Newcomer,
    OutboxMessage,
    RelayedMessage,
    RequestMessage,
    RequestStatus,
    Sleutelpersoon,
)
from bot.outbox import enqueue

ERASED = "erased"
BATCH = 500
# Sent outbox rows hold only the bot's own texts and chat ids; a week is enough to debug.
SENT_OUTBOX_KEPT = timedelta(days=7)


async def erase_newcomer(
    session: AsyncSession, now: datetime, newcomer: Newcomer, handover: Handover, reason: str
) -> None:
    """Remove everything about this newcomer, in the caller's transaction."""
    requests = select(HelpRequest.id).where(HelpRequest.newcomer_id == newcomer.id)
    conversations = select(Conversation.id).where(Conversation.newcomer_id == newcomer.id)
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
        delete(OutboxMessage).where(
            OutboxMessage.chat_id == newcomer.telegram_user_id, OutboxMessage.sent_at.is_(None)
        )
    )
    await session.execute(
        update(Conversation)
        .where(Conversation.newcomer_id == newcomer.id)
        .values(
            newcomer_id=None,
            feedback_comment=None,
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
        .values(newcomer_id=None, feedback_comment=None, feedback_pending=False)
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
        .where(HelpRequest.newcomer_id == newcomer.id)
        .values(newcomer_id=None, handback_note=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(newcomer)
    session.add(ErasureEvent(at=now, reason=reason))


async def apply_retention(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    retention: timedelta,
    handover: Handover,
) -> int:
    """Delete what is older than the retention period; return how many rows went."""
    cutoff = now - retention
    removed = 0
    tables: tuple[type[RequestMessage] | type[ConversationMessage], ...] = (
        RequestMessage,
        ConversationMessage,
    )
    for table in tables:
        while True:
            async with sessions.begin() as session:
                ids = (
                    await session.scalars(
                        select(table.id).where(table.created_at < cutoff).limit(BATCH)
                    )
                ).all()
                if not ids:
                    break
                await session.execute(delete(table).where(table.id.in_(ids)))
                removed += len(ids)
    async with sessions.begin() as session:
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < now - SENT_OUTBOX_KEPT
            )
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    while True:
        async with sessions.begin() as session:
            inactive = (
                await session.scalars(
                    select(Newcomer).where(Newcomer.updated_at < cutoff).limit(50)
                )
            ).all()
            if not inactive:
                break
            for newcomer in inactive:
                await erase_newcomer(session, now, newcomer, handover, "retention")
            removed += len(inactive)
    return removed


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
    if person.telegram_user_id is not None:
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.chat_id == person.telegram_user_id, OutboxMessage.sent_at.is_(None)
            )
        )
    person.windows.clear()
    person.leaves.clear()
    person.telegram_user_id = None
    person.display_name = ERASED
    person.gender = person.circle = person.organisation = None
    person.invite_token_hash = person.invite_expires_at = None
    person.selected_conversation_id = None
    person.active = False
    session.add(ErasureEvent(at=now, reason="sleutelpersoon_by_coordinator"))
