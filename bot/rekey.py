"""Key rotation: re-encrypt everything stored encrypted with the current key.

After a new key is put first in MESSAGE_KEYS (old keys kept behind it), running
`sleutelbrug rotate-keys` rewrites every value encrypted with an older key: message texts and
captions, feedback comments, handback notes, signals and stored updates not handled yet. It
works in batches, each its own transaction, so it is safe to interrupt and run again;
afterwards the old keys can be removed from MESSAGE_KEYS.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bot.crypto import MessageCipher
from bot.models import (
    Conversation,
    ConversationMessage,
    HelpRequest,
    InboxUpdate,
    RequestMessage,
    Signal,
)

BATCH = 500

# (key, encrypted column) of every value sealed with the message key.
SEALED_COLUMNS: tuple[tuple[InstrumentedAttribute[int], InstrumentedAttribute[Any]], ...] = (
    (RequestMessage.id, RequestMessage.body_encrypted),
    (ConversationMessage.id, ConversationMessage.body_encrypted),
    (Conversation.id, Conversation.feedback_comment_encrypted),
    (HelpRequest.id, HelpRequest.handback_note_encrypted),
    (Signal.id, Signal.text_encrypted),
    (InboxUpdate.update_id, InboxUpdate.payload_encrypted),
)


async def reencrypt_all(sessions: async_sessionmaker[AsyncSession], cipher: MessageCipher) -> int:
    """Re-encrypt every stored value not sealed with the current key; return how many."""
    rewritten = 0
    for key, column in SEALED_COLUMNS:
        last = -1
        while True:
            async with sessions.begin() as session:
                rows = (
                    await session.execute(
                        select(key, column)
                        .where(key > last, column.is_not(None), column != "")
                        .order_by(key)
                        .limit(BATCH)
                    )
                ).all()
                if not rows:
                    break
                for row_key, sealed in rows:
                    if cipher.needs_rotation(sealed):
                        # Only if unchanged: a row handled or cleared meanwhile stays so.
                        await session.execute(
                            update(key.class_)
                            .where(key == row_key, column == sealed)
                            .values({column.key: cipher.encrypt(cipher.decrypt(sealed))})
                        )
                        rewritten += 1
                last = rows[-1][0]
    return rewritten
