"""Retention: what people wrote is cleared after RETENTION_DAYS, anonymous counts stay, and a
run that is cut off halfway ends, once run again, exactly where an uninterrupted run does."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import erasure, notices
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.erasure import apply_retention, trim_announcements
from bot.handover import Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.inbox import KEEP_HANDLED
from bot.intake import InboxStream
from bot.models import (
    Conversation,
    ConversationMessage,
    ErasureEvent,
    HelpRequest,
    Newcomer,
    OutboxMessage,
    RequestMessage,
    Signal,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import parse_weekly_hours

from .kit import BotProcess
from .test_conversation import (
    ACCEPT,
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    ask_with_photo,
    bot_process,
    is_offer,
    open_conversation,
    rasa_nowhere,
    world,
)

RETENTION_DAYS = 30
KEEP_MS = int(KEEP_HANDLED.total_seconds() * 1000)


async def count(bot: BotProcess, *conditions: Any, of: type | None = None) -> int:
    async with bot.services.sessions() as session:
        statement = select(func.count())
        statement = statement.select_from(of) if of is not None else statement
        return int(await session.scalar(statement.where(*conditions)) or 0)


async def test_retention_days_from_the_settings_clear_comments_notes_and_signals(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
        sandbox,
        clock,
        cfg,
    ):
        settings = cfg.model_copy(update={"retention_days": RETENTION_DAYS})
        async with bot_process(settings, sandbox, clock) as bot:
            amal = sandbox.add_user("Amal", "nl")
            amina = await open_conversation(sandbox, bot, amal)
            await amal.send_text("/signal Veel CJIB-boetes")
            await amal.wait_for_message(lambda m: m.text == notices.signal_saved(DUTCH, "#1"))
            await amina.send_text("/done")
            await amina.wait_for_message(lambda m: m.reply_markup is not None)
            await amina.press("👍")
            await amina.wait_for_message(
                lambda m: m.text == notices.feedback_thanks_ask_words(ARABIC)
            )
            await amina.send_text("شكرا، فهمت الرسالة")
            await amina.wait_for_message(lambda m: m.text == notices.feedback_received(ARABIC))
            # A second question, handed back by Amal with a note for whoever comes next.
            await ask_with_photo(amina, ARABIC.gettext("💶 Money"))
            await amal.wait_for_message(is_offer)
            await amal.press(ACCEPT)
            await amal.wait_for_message(lambda m: m.photo is not None)
            await amal.send_text("/handback Zij heeft een boete van het CJIB")
            await amina.wait_for_message(
                lambda m: m.text == notices.handed_back_to_newcomer(ARABIC)
            )
            with_words = (
                HelpRequest.handback_note_encrypted.is_not(None),
                HelpRequest.handback_note_encrypted != "",
            )
            messages = await count(bot, of=RequestMessage) + await count(
                bot, of=ConversationMessage
            )
            assert messages > 0
            assert await count(bot, Conversation.feedback_comment_encrypted.is_not(None)) == 1
            assert await count(bot, *with_words) == 1
            assert await count(bot, Signal.text_encrypted.is_not(None)) == 1

            async def active_again() -> None:
                await amina.send_text("/language")
                await amina.wait_for_message(lambda m: m.find_button("العربية") is not None)
                await amina.press("العربية")
                await amina.wait_for_message(lambda m: "العربية" in (m.text or ""))

            clock.advance(timedelta(days=RETENTION_DAYS - 1))
            await active_again()
            await bot.tick()
            assert (
                await count(bot, of=RequestMessage) + await count(bot, of=ConversationMessage)
                == messages
            )
            assert await count(bot, Conversation.feedback_comment_encrypted.is_not(None)) == 1
            assert await count(bot, *with_words) == 1
            assert await count(bot, Signal.text_encrypted.is_not(None)) == 1

            clock.advance(timedelta(days=2))
            await active_again()
            await bot.tick()
            assert await count(bot, of=RequestMessage) == 0
            assert await count(bot, of=ConversationMessage) == 0
            assert await count(bot, Conversation.feedback_comment_encrypted.is_not(None)) == 0
            assert await count(bot, Conversation.feedback == "up") == 1  # the count stays
            assert await count(bot, *with_words) == 0
            # Still recognisably handed back, for the statistics.
            assert await count(bot, HelpRequest.handback_note_encrypted == "") == 1
            assert await count(bot, Signal.text_encrypted.is_not(None)) == 0
            assert await count(bot, of=Signal) == 1
            # She was active two days ago: only old content went, she stays.
            assert await count(bot, of=Newcomer) == 1
            assert await count(bot, of=ErasureEvent) == 0


# --- interrupted runs ---------------------------------------------------------------------


class CutOffAfter:
    """Sessions that stop working (the process died, the database went away) once `batches`
    transactions have been begun: the run fails there, as an interrupted one would."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], batches: int | None) -> None:
        self._sessions = sessions
        self._left = batches
        self.begun = 0

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:
        if self._left is not None and self.begun >= self._left:
            raise ConnectionError("the database went away")
        self.begun += 1
        return self._sessions.begin()


async def seed(sessions: async_sessionmaker[AsyncSession], cipher: MessageCipher) -> None:
    """Newcomers (some inactive) with requests, messages, conversations, feedback comments,
    handback notes, signals and sent messages, some older than the retention period."""
    old, recent = TUESDAY_10, TUESDAY_10 + timedelta(days=80)
    async with sessions.begin() as session:
        person, _token = create_sleutelpersoon(
            session,
            old,
            NewProfile(
                "Amal", ("ar",), ("post",), parse_weekly_hours(WORKDAYS), telegram_user_id=500
            ),
        )
        await session.flush()
        for index in range(12):
            at = old if index % 2 else recent
            newcomer = Newcomer(
                telegram_user_id=1000 + index,
                locale="ar",
                consented_at=old,
                created_at=old,
                updated_at=old if index % 3 == 0 else recent,
            )
            session.add(newcomer)
            await session.flush()
            request = HelpRequest(
                newcomer_id=newcomer.id,
                language="ar",
                domain="post",
                status="accepted",
                institutions=[],
                handback_note_encrypted=cipher.encrypt(f"note {index}") if index % 4 else "",
                created_at=at,
                updated_at=at,
            )
            session.add(request)
            await session.flush()
            conversation = Conversation(
                request_id=request.id,
                newcomer_id=newcomer.id,
                sleutelpersoon_id=person.id,
                label=f"#{index}",
                status="closed" if index % 5 else "open",
                opened_at=at,
                closed_at=at if index % 5 else None,
                feedback="up",
                feedback_comment_encrypted=cipher.encrypt(f"thanks {index}"),
            )
            session.add(conversation)
            await session.flush()
            for number in range(3):
                session.add(
                    RequestMessage(
                        request_id=request.id,
                        telegram_message_id=number,
                        kind="text",
                        body_encrypted=cipher.encrypt(f"question {index}.{number}"),
                        created_at=at,
                    )
                )
                session.add(
                    ConversationMessage(
                        conversation_id=conversation.id,
                        author="newcomer",
                        kind="text",
                        body_encrypted=cipher.encrypt(f"words {index}.{number}"),
                        created_at=at,
                    )
                )
            session.add(Signal.tag(conversation.id, person.id, f"signal {index % 3}", at, cipher))
            session.add(
                OutboxMessage(
                    chat_id=newcomer.telegram_user_id,
                    method="sendMessage",
                    params={"chat_id": newcomer.telegram_user_id, "text": "notice"},
                    not_before=at,
                    created_at=at,
                    sent_at=at,
                    outcome="sent",
                    attempts=1,
                )
            )


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row retention may touch, without ids that depend on insertion order alone."""
    tables: dict[str, Any] = {
        "newcomers": select(Newcomer.telegram_user_id, Newcomer.updated_at),
        "requests": select(
            HelpRequest.id,
            HelpRequest.newcomer_id,
            HelpRequest.status,
            HelpRequest.handback_note_encrypted.is_(None),
            HelpRequest.handback_note_encrypted == "",
        ),
        "conversations": select(
            Conversation.id,
            Conversation.newcomer_id,
            Conversation.status,
            Conversation.feedback,
            Conversation.feedback_comment_encrypted.is_(None),
        ),
        "request_messages": select(RequestMessage.id),
        "conversation_messages": select(ConversationMessage.id),
        "signals": select(Signal.id, Signal.text_encrypted.is_(None)),
        "outbox": select(OutboxMessage.chat_id, OutboxMessage.purpose, OutboxMessage.sent_at),
        "erasures": select(ErasureEvent.at, ErasureEvent.reason),
    }
    async with sessions() as session:
        return {
            # Sorted by their text: columns may hold None beside values.
            name: sorted((tuple(row) for row in (await session.execute(statement)).all()), key=repr)
            for name, statement in tables.items()
        }


async def run_retention(
    database: Path, batches: int | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, list[tuple[Any, ...]]], int, int]:
    """Seed a database, run retention (cut off after `batches` when given, then run again);
    the end state, the transactions the first run began, and what the last run reported."""
    url = f"sqlite:///{database}"
    migrate(url)
    engine = create_engine_for(url)
    cipher = MessageCipher(parse_keys(new_key_spec("test")))
    handover = Handover(load_all_texts(), HandoverPolicy(), cipher)
    now, period = TUESDAY_10 + timedelta(days=120), timedelta(days=90)
    try:
        sessions = session_factory(engine)
        await seed(sessions, cipher)
        first = CutOffAfter(sessions, batches)
        if batches is None:
            removed = await apply_retention(first, now, period, handover)  # type: ignore[arg-type]
        else:
            with pytest.raises(ConnectionError):
                await apply_retention(first, now, period, handover)  # type: ignore[arg-type]
            removed = await apply_retention(sessions, now, period, handover)
        return await snapshot(sessions), first.begun, removed
    finally:
        await engine.dispose()


async def test_an_interrupted_retention_run_ends_like_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so that the seeded rows take several of them.
    monkeypatch.setattr(erasure, "BATCH", 4)
    monkeypatch.setattr(erasure, "NEWCOMER_BATCH", 2)
    expected, transactions, removed = await run_retention(tmp_path / "whole.db", None, monkeypatch)
    assert removed > 0 and transactions > 3
    assert expected["request_messages"] != [] and expected["erasures"] != []
    for cut_after in sorted({1, 2, transactions // 2, transactions - 1}):
        state, begun, _ = await run_retention(
            tmp_path / f"cut{cut_after}.db", cut_after, monkeypatch
        )
        assert begun == cut_after
        assert state == expected, f"cut off after {cut_after} of {transactions} transactions"
    # A third run finds nothing left.
    url = f"sqlite:///{tmp_path / 'whole.db'}"
    engine = create_engine_for(url)
    try:
        cipher = MessageCipher(parse_keys(new_key_spec("test")))
        again = await apply_retention(
            session_factory(engine),
            TUESDAY_10 + timedelta(days=120),
            timedelta(days=90),
            Handover(load_all_texts(), HandoverPolicy(), cipher),
        )
    finally:
        await engine.dispose()
    assert again == 0
    print(f"\nretention: {removed} rows in {transactions} transactions of at most 4 rows")


async def test_retention_trims_inbox_announcements_older_than_handled_updates_are_kept(
    redis, redis_key_prefix: str
) -> None:
    stream = InboxStream(redis, redis_key_prefix)
    seconds, microseconds = await redis.time()
    now_ms = seconds * 1000 + microseconds // 1000
    day_ms = 24 * 3600 * 1000
    for update_id, age_ms in ((1, 3 * day_ms), (2, KEEP_MS + 1000), (3, KEEP_MS - 60_000)):
        entry = {"update_id": update_id, "chat_id": 42}
        await redis.xadd(stream.name, entry, id=f"{now_ms - age_ms}-0")
    await stream.announce(4, 42)
    assert await trim_announcements(redis, redis_key_prefix, KEEP_HANDLED) == 2
    remaining = [int(fields[b"update_id"]) for _id, fields in await redis.xrange(stream.name)]
    assert remaining == [3, 4]
    assert await trim_announcements(redis, redis_key_prefix, KEEP_HANDLED) == 0
