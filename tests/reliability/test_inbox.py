"""The inbox's rules one by one (bot/inbox.py), on SQLite and PostgreSQL: stored once, handled
in order, marked in the handler's own transaction, and a crash or a lost claim never makes a
handler's effects happen twice."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.clock import SystemClock
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.inbox import NO_CHAT, Busy, InboxProcessor, chat_of, store_updates
from bot.models import ErasureEvent, InboxUpdate
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)

CHAT = 42
CIPHER = MessageCipher(parse_keys(new_key_spec("t")))


class Crash(BaseException):
    """The process dies here: nothing after this line runs (PTB does not catch it)."""


def text_update(update_id: int, text: str, chat: int = CHAT) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private", "first_name": "A"},
            "from": {"id": chat, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


@dataclass
class Bench:
    sessions: async_sessionmaker[AsyncSession]
    application: Application  # type: ignore[type-arg]
    # Texts whose handler crashes once: before its commit, or after it.
    crash_before: set[str]
    crash_after: set[str]
    # Texts during whose handling another worker takes the update over.
    taken_over: set[str]
    # Texts whose handler (wrongly) commits a second transaction.
    commit_twice: set[str]

    def processor(self, worker: str = "w1") -> InboxProcessor:
        return InboxProcessor(
            self.sessions, CIPHER, self.application, SystemClock(), worker, timedelta(seconds=30)
        )

    async def store(self, *payloads: dict[str, Any]) -> list[tuple[int, int]]:
        return await store_updates(self.sessions, CIPHER, list(payloads), datetime.now(UTC))

    async def effects(self) -> list[str]:
        """What the handler committed, in order: one row per handling."""
        async with self.sessions() as session:
            reasons = await session.scalars(select(ErasureEvent.reason).order_by(ErasureEvent.id))
            return list(reasons)

    async def row(self, update_id: int) -> InboxUpdate:
        async with self.sessions() as session:
            return await session.get_one(InboxUpdate, update_id)


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    crash_before: set[str] = set()
    crash_after: set[str] = set()
    taken_over: set[str] = set()
    commit_twice: set[str] = set()

    async def take_over(update_id: int) -> None:
        async with sessions.begin() as session:
            until = datetime.now(UTC) + timedelta(minutes=5)
            await session.execute(update_inbox(update_id, "w2", until))

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Commit one row for the message, crashing or losing the claim where told."""
        assert update.message is not None and update.message.text is not None
        text = update.message.text
        if text in crash_before:
            crash_before.discard(text)
            raise Crash
        if text in taken_over:
            # Another process: outside this handling's context.
            await asyncio.create_task(take_over(update.update_id), context=contextvars.Context())
        async with sessions.begin() as session:
            session.add(ErasureEvent(at=datetime.now(UTC), reason=text))
            if text.startswith("savepoint"):  # as Handover.accept guards its insert
                async with session.begin_nested():
                    session.add(ErasureEvent(at=datetime.now(UTC), reason=f"{text} inside"))
        if text in commit_twice:
            async with sessions.begin() as session:
                session.add(ErasureEvent(at=datetime.now(UTC), reason=f"{text} again"))
        if text in crash_after:
            crash_after.discard(text)
            raise Crash

    async with Sandbox() as sandbox:
        application = ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url).build()
        application.add_handler(MessageHandler(filters.TEXT, record))
        async with application:
            yield Bench(sessions, application, crash_before, crash_after, taken_over, commit_twice)
    await engine.dispose()


def update_inbox(update_id: int, worker: str, until: datetime) -> Any:
    return (
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .values(claimed_by=worker, claim_expires_at=until)
    )


async def test_updates_are_stored_once_and_handled_in_update_id_order(bench: Bench) -> None:
    new = await bench.store(text_update(3, "c"), text_update(1, "a"), text_update(2, "b"))
    assert sorted(new) == [(1, CHAT), (2, CHAT), (3, CHAT)]
    assert await bench.store(text_update(1, "a")) == []  # a redelivery changes nothing

    assert await bench.processor().drain(CHAT) == 3
    assert await bench.effects() == ["a", "b", "c"]
    first = await bench.row(1)
    assert first.handled_at is not None and first.attempts == 1
    assert first.payload_encrypted is None


async def test_the_payload_is_stored_only_encrypted(bench: Bench) -> None:
    await bench.store(text_update(1, "mijn brief van de deurwaarder"))
    row = await bench.row(1)
    assert row.payload_encrypted is not None
    assert "deurwaarder" not in row.payload_encrypted
    assert "deurwaarder" in CIPHER.decrypt(row.payload_encrypted)


async def test_an_update_that_cannot_be_read_is_skipped_and_does_not_block_its_chat(
    bench: Bench,
) -> None:
    dropped_key = MessageCipher(parse_keys(new_key_spec("old")))
    await store_updates(bench.sessions, dropped_key, [text_update(1, "a")], datetime.now(UTC))
    await bench.store(text_update(2, "b"))
    assert await bench.processor().drain(CHAT) == 2
    assert await bench.effects() == ["b"]
    assert (await bench.row(1)).handled_at is not None


async def test_a_crash_after_the_handlers_commit_leaves_the_update_handled(bench: Bench) -> None:
    await bench.store(text_update(1, "a"), text_update(2, "b"))
    bench.crash_after.add("a")
    with pytest.raises(Crash):
        await bench.processor().drain(CHAT)
    # The mark went into the handler's commit, so a restarted worker does not repeat it.
    assert (await bench.row(1)).handled_at is not None
    assert await bench.processor().drain(CHAT) == 1
    assert await bench.effects() == ["a", "b"]


async def test_a_crash_before_the_handlers_commit_handles_it_again(bench: Bench) -> None:
    await bench.store(text_update(1, "a"))
    bench.crash_before.add("a")
    with pytest.raises(Crash):
        await bench.processor().drain(CHAT)
    assert (await bench.row(1)).handled_at is None
    assert await bench.processor().drain(CHAT) == 1
    assert await bench.effects() == ["a"]
    assert (await bench.row(1)).attempts == 2


async def test_a_worker_that_lost_its_claim_keeps_none_of_its_handling(bench: Bench) -> None:
    await bench.store(text_update(1, "a"), text_update(2, "b"))
    bench.taken_over.add("a")
    # w2 now holds the chat, so w1 stops after its refused commit.
    assert await bench.processor("w1").drain(CHAT) == 1
    assert await bench.effects() == []
    row = await bench.row(1)
    assert row.handled_at is None and row.claimed_by == "w2"


async def test_a_chat_held_by_another_worker_is_left_to_it(bench: Bench) -> None:
    await bench.store(text_update(1, "a"), text_update(2, "b", chat=7))
    async with bench.sessions.begin() as session:
        await session.execute(update_inbox(1, "w2", datetime.now(UTC) + timedelta(minutes=5)))
    assert await bench.processor("w1").drain(CHAT) is Busy.BUSY
    assert await bench.processor("w1").drain(7) == 1
    # Once the other worker's claim has run out, the chat is free again.
    async with bench.sessions.begin() as session:
        await session.execute(update_inbox(1, "w2", datetime.now(UTC) - timedelta(seconds=1)))
    assert await bench.processor("w1").drain(CHAT) == 1
    assert await bench.effects() == ["b", "a"]


async def test_a_malformed_update_is_stored_and_skipped(bench: Bench) -> None:
    malformed = {"update_id": 1, "message": {"chat": "not a chat"}}
    assert await bench.store(malformed) == [(1, NO_CHAT)]
    assert await bench.processor().drain(NO_CHAT) == 1
    assert (await bench.row(1)).handled_at is not None


def test_updates_are_ordered_per_chat_or_per_user() -> None:
    assert chat_of(text_update(1, "a", chat=5)) == 5
    press = {
        "update_id": 2,
        "callback_query": {
            "id": "q",
            "from": {"id": 9, "is_bot": False, "first_name": "A"},
            "chat_instance": "c",
            "data": "x",
        },
    }
    assert chat_of(press) == 9


async def test_a_second_commit_while_handling_one_update_is_refused(bench: Bench) -> None:
    """Exactly-once rests on one transaction per handling: a handler that commits again is a
    bug, and the second commit keeps nothing."""
    bench.commit_twice.add("twice")
    await bench.store(text_update(1, "twice"), text_update(2, "after"))
    assert await bench.processor().drain(CHAT) == 2
    assert await bench.effects() == ["twice", "after"]
    assert (await bench.row(1)).handled_at is not None


async def test_a_savepoint_inside_the_handlers_transaction_is_no_second_commit(
    bench: Bench,
) -> None:
    await bench.store(text_update(1, "savepoint"))
    assert await bench.processor().drain(CHAT) == 1
    assert await bench.effects() == ["savepoint", "savepoint inside"]
    assert (await bench.row(1)).handled_at is not None
