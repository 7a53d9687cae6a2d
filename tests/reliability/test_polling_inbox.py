"""Our getUpdates loop moves the offset only past updates the database has committed: an
update fetched while the database is away is fetched again and stored once it is back."""

from __future__ import annotations

import asyncio
import logging
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


async def test_an_update_ptb_cannot_read_neither_blocks_polling_nor_reaches_the_log(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed update (a message without chat or date) is stored like any other and the
    offset moves past it; PTB's own getUpdates would fail the whole batch and log it, text
    and all."""
    migrate(sqlite_url)
    engine = create_engine_for(sqlite_url)
    sessions = session_factory(engine)
    stored: list[tuple[int, int]] = []

    async def remember(new: list[tuple[int, int]]) -> None:
        stored.extend(new)

    stop = asyncio.Event()
    # The app keeps python-telegram-bot's loggers at INFO (its DEBUG shows every API result);
    # at INFO, PTB's get_updates would log a batch it cannot parse, text and all, as CRITICAL.
    caplog.set_level(logging.INFO)
    async with Sandbox() as sandbox, Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        user = sandbox.add_user("A")
        sandbox.world.enqueue_update("message", {"message_id": 1, "text": "geheim-marker-1"})
        await user.send_text("geheim-marker-2")
        polling = asyncio.create_task(
            poll_updates(bot, sessions, CIPHER, SystemClock(), remember, stop)
        )

        async def both_stored() -> bool:
            return len(stored) == 2

        await eventually(both_stored, WITHIN, "both updates stored")
        await eventually(
            lambda: _async(not sandbox.world.pending_updates), WITHIN, "both confirmed"
        )
        stop.set()
        await asyncio.wait_for(polling, WITHIN)
    await engine.dispose()
    assert stored[1][1] == user.chat_id
    assert not [r for r in caplog.records if "geheim-marker" in r.getMessage()]


async def _async(value: bool) -> bool:
    return value
