"""Key rotation: re-encrypt stored message texts with the current key.

After a new key is put first in MESSAGE_KEYS (old keys kept behind it), running
`sleutelbrug rotate-keys` rewrites every text encrypted with an older key. It works in batches,
each its own transaction, so it is safe to interrupt and run again; afterwards the old keys can
be removed from MESSAGE_KEYS.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import MessageCipher
from bot.models import ConversationMessage, RequestMessage

BATCH = 500


async def reencrypt_all(sessions: async_sessionmaker[AsyncSession], cipher: MessageCipher) -> int:
    """Re-encrypt every stored text not sealed with the current key; return how many."""
    current = f":{cipher.current_key_id}:"
    rewritten = 0
    tables: tuple[type[RequestMessage] | type[ConversationMessage], ...] = (
        RequestMessage,
        ConversationMessage,
    )
    for table in tables:
        last_id = 0
        while True:
            async with sessions.begin() as session:
                rows: Sequence[RequestMessage | ConversationMessage] = (
                    await session.scalars(  # type: ignore[assignment]
                        select(table)
                        .where(table.id > last_id, table.body_encrypted.is_not(None))
                        .order_by(table.id)
                        .limit(BATCH)
                    )
                ).all()
                if not rows:
                    break
                for row in rows:
                    sealed = row.body_encrypted
                    if sealed is not None and current not in sealed:
                        row.body_encrypted = cipher.encrypt(cipher.decrypt(sealed))
                        rewritten += 1
                last_id = rows[-1].id
    return rewritten
