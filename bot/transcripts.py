"""Reading what was said in a conversation, for an audit.

Callers must have written the access record first (who, when, why) in the same transaction;
this module only decrypts. Entries come in the order they were written: the newcomer's
messages from before the handover, then the conversation itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import MessageCipher
from bot.models import Conversation, ConversationMessage, RequestMessage

Author = Literal["newcomer", "sleutelpersoon"]


@dataclass(frozen=True)
class TranscriptEntry:
    at: datetime
    author: Author
    kind: str
    text: str | None


async def read_transcript(
    session: AsyncSession, conversation_id: int, cipher: MessageCipher
) -> list[TranscriptEntry]:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return []
    before = (
        await session.scalars(
            select(RequestMessage)
            .where(RequestMessage.request_id == conversation.request_id)
            .order_by(RequestMessage.id)
        )
    ).all()
    during = (
        await session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation_id)
            .order_by(ConversationMessage.id)
        )
    ).all()
    entries = [
        TranscriptEntry(m.created_at, "newcomer", m.kind, _open(cipher, m.body_encrypted))
        for m in before
    ]
    entries += [
        TranscriptEntry(
            m.created_at,
            "sleutelpersoon" if m.author == "sleutelpersoon" else "newcomer",
            m.kind,
            _open(cipher, m.body_encrypted),
        )
        for m in during
    ]
    return entries


def _open(cipher: MessageCipher, sealed: str | None) -> str | None:
    return cipher.decrypt(sealed) if sealed else None
