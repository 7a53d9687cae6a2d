"""Who may act on which offer and read or write in which conversation.

Every handler that touches an offer or a conversation gets it through this module, never by
an id from callback data or a reply alone: forged callback data (accepting someone else's
offer, writing into a conversation that is not yours) finds nothing here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, Newcomer, Offer, RelayedMessage, Sleutelpersoon

OPEN = "open"


async def sleutelpersoon_of_user(
    session: AsyncSession, telegram_user_id: int
) -> Sleutelpersoon | None:
    return await session.scalar(
        select(Sleutelpersoon).where(Sleutelpersoon.telegram_user_id == telegram_user_id)
    )


async def newcomer_of_user(session: AsyncSession, telegram_user_id: int) -> Newcomer | None:
    return await session.scalar(
        select(Newcomer).where(Newcomer.telegram_user_id == telegram_user_id)
    )


async def offer_for(session: AsyncSession, offer_id: int, person: Sleutelpersoon) -> Offer | None:
    """The offer, only if it was made to this sleutelpersoon."""
    offer = await session.get(Offer, offer_id)
    if offer is None or offer.sleutelpersoon_id != person.id:
        return None
    return offer


async def open_conversations_of(
    session: AsyncSession, person: Sleutelpersoon
) -> list[Conversation]:
    return list(
        (
            await session.scalars(
                select(Conversation)
                .where(Conversation.sleutelpersoon_id == person.id, Conversation.status == OPEN)
                .order_by(Conversation.id)
            )
        ).all()
    )


async def open_conversation_for_sleutelpersoon(
    session: AsyncSession, conversation_id: int, person: Sleutelpersoon
) -> Conversation | None:
    conversation = await session.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.sleutelpersoon_id != person.id
        or conversation.status != OPEN
    ):
        return None
    return conversation


async def conversation_replied_to(
    session: AsyncSession, person: Sleutelpersoon, replied_message_id: int
) -> Conversation | None:
    """The conversation of this sleutelpersoon that the replied-to message belongs to, open
    or not: a reply into a closed conversation must be refused, never sent somewhere else."""
    if person.telegram_user_id is None:
        return None
    relayed = await session.scalar(
        select(RelayedMessage).where(
            RelayedMessage.chat_id == person.telegram_user_id,
            RelayedMessage.telegram_message_id == replied_message_id,
        )
    )
    if relayed is None:
        return None
    conversation = await session.get(Conversation, relayed.conversation_id)
    if conversation is None or conversation.sleutelpersoon_id != person.id:
        return None
    return conversation


async def conversation_for_newcomer(
    session: AsyncSession, conversation_id: int, newcomer: Newcomer
) -> Conversation | None:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.newcomer_id != newcomer.id:
        return None
    return conversation
