"""Our getUpdates loop moves the offset only past updates the database has committed: an
update fetched while the database is away is fetched again and stored once it is back."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.clock import SystemClock
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.intake import poll_updates
from bot.models import InboxUpdate
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox
from tests.reliability.kit import TcpProxy, eventually

pytestmark = pytest.mark.timeout(90)

CIPHER = MessageCipher(parse_keys(new_key_spec("p")))
WITHIN = 30.0


async def test_an_update_fetched_while_the_database_is_down_is_stored_when_it_is_back(
    postgres_url: str,
) -> None:
    migrate(postgres_url)
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    engine = create_engine_for(
        urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{proxy.port}"))
    )
    sessions = session_factory(engine)
    stored: list[tuple[int, int]] = []

    async def remember(new: list[tuple[int, int]]) -> None:
        stored.extend(new)

    stop = asyncio.Event()
    async with Sandbox() as sandbox, Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        user = sandbox.add_user("A")
        polling = asyncio.create_task(
            poll_updates(bot, sessions, CIPHER, SystemClock(), remember, stop)
        )

        async def stored_count(count: int) -> bool:
            return len(stored) >= count

        await user.send_text("first")
        await eventually(lambda: stored_count(1), WITHIN, "the first update stored")
        await proxy.cut()
        await user.send_text("second")

        def polls_with(offset: int) -> int:
            return sum(
                1
                for request in sandbox.requests
                if request.method == "getUpdates" and request.params.get("offset") == offset
            )

        offset = stored[0][0] + 1

        async def fetched_again() -> bool:
            # The first poll with this offset returned "second"; storing it failed, and the
            # next poll asks for it again.
            return polls_with(offset) >= 3

        await eventually(fetched_again, WITHIN, "the update fetched again")
        assert len(stored) == 1
        await proxy.restore()
        await eventually(lambda: stored_count(2), WITHIN, "the second update stored")
        stop.set()
        await asyncio.wait_for(polling, WITHIN)

    async with sessions() as session:
        rows = (await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
    await engine.dispose()
    assert [row.update_id for row in rows] == [update_id for update_id, _chat in stored]
    assert [CIPHER.decrypt(row.payload_encrypted or "") for row in rows][1].count("second") == 1
    assert stored[1][1] == user.chat_id
