"""Key rotation re-encrypts what is stored; /delete erases a newcomer from the database and
Redis; a coordinator can erase a sleutelpersoon."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, or_, select

from bot import notices
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.erasure import erase_sleutelpersoon, forget_erased_chats
from bot.inbox import NO_CHAT
from bot.intake import InboxStream
from bot.models import (
    Conversation,
    ErasureEvent,
    HelpRequest,
    InboxUpdate,
    Newcomer,
    OutboxMessage,
    RedisErasure,
    RelayedMessage,
    RequestMessage,
    Signal,
    Sleutelpersoon,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.rate_limit import Priority, SharedRateLimiter
from bot.rekey import reencrypt_all
from bot.storage import create_engine_for, migrate, session_factory
from matching.office_hours import parse_weekly_hours
from nlu.service import free_port
from sandbox import Sandbox, SimUser

from .kit import BotProcess, onboard
from .test_conversation import (
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    bot_process,
    open_conversation,
    rasa_nowhere,
    world,
)

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


async def test_rotation_rewrites_every_old_ciphertext_once(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    old_spec, new_spec = new_key_spec("old"), new_key_spec("new")
    old = MessageCipher(parse_keys(old_spec))
    rotated = MessageCipher(parse_keys(f"{new_spec},{old_spec}"))
    words = ["رسالة من الضرائب", "ደብዳቤ", "brief van DUO"]
    note, comment, signal = "Zij heeft een boete van het CJIB", "شكرا كتير", "Veel CJIB-boetes"
    update = json.dumps({"update_id": 7, "message": {"text": "ሓገዝ"}})
    try:
        async with sessions.begin() as session:
            newcomer = Newcomer(
                telegram_user_id=1, locale="ar", consented_at=NOW, created_at=NOW, updated_at=NOW
            )
            person, _token = create_sleutelpersoon(
                session, NOW, NewProfile("Amal", ("ar",), ("post",), parse_weekly_hours(WORKDAYS))
            )
            session.add(newcomer)
            await session.flush()
            requests = [
                HelpRequest(
                    newcomer_id=newcomer.id,
                    language="ar",
                    domain="post",
                    status="waiting",
                    institutions=[],
                    handback_note_encrypted=handback,
                    created_at=NOW,
                    updated_at=NOW,
                )
                for handback in (None, "", old.encrypt(note))
            ]
            session.add_all(requests)
            await session.flush()
            request = requests[0]
            for index, text in enumerate(words):
                session.add(
                    RequestMessage(
                        request_id=request.id,
                        telegram_message_id=index,
                        kind="text",
                        body_encrypted=old.encrypt(text),
                        created_at=NOW,
                    )
                )
            session.add(
                RequestMessage(
                    request_id=request.id,
                    telegram_message_id=9,
                    kind="photo",
                    body_encrypted=None,
                    created_at=NOW,
                )
            )
            conversation = Conversation(
                request_id=request.id,
                newcomer_id=newcomer.id,
                sleutelpersoon_id=person.id,
                label="#1",
                status="closed",
                opened_at=NOW,
                feedback_comment_encrypted=old.encrypt(comment),
            )
            session.add(conversation)
            await session.flush()
            session.add(Signal.tag(conversation.id, person.id, signal, NOW, old))
            session.add(
                InboxUpdate(
                    update_id=7,
                    chat_id=1,
                    payload_encrypted=old.encrypt(update),
                    received_at=NOW,
                    attempts=0,
                )
            )
        assert await reencrypt_all(sessions, rotated) == 7
        assert await reencrypt_all(sessions, rotated) == 0
        only_new = MessageCipher(parse_keys(new_spec))
        async with sessions() as session:
            stored = (
                await session.scalars(select(RequestMessage).order_by(RequestMessage.id))
            ).all()
            notes = (
                await session.scalars(
                    select(HelpRequest.handback_note_encrypted).order_by(HelpRequest.id)
                )
            ).all()
            comments = (
                await session.scalars(select(Conversation.feedback_comment_encrypted))
            ).all()
            signals = (await session.scalars(select(Signal.text_encrypted))).all()
            updates = (await session.scalars(select(InboxUpdate.payload_encrypted))).all()
        assert [only_new.decrypt(r.body_encrypted) for r in stored if r.body_encrypted] == words
        assert [only_new.unseal(n) for n in notes] == [None, None, note]
        assert notes[1] == ""  # handed back without a note stays recognisable
        assert [only_new.unseal(c) for c in comments] == [comment]
        assert [only_new.unseal(t) for t in signals] == [signal]
        assert [only_new.unseal(u) for u in updates] == [update]
    finally:
        await engine.dispose()


async def talking(sandbox: Sandbox, bot: BotProcess) -> tuple[SimUser, SimUser]:
    """Amal and Amina in a conversation in which both have written: (Amal, Amina)."""
    amal = sandbox.add_user("Amal", "nl")
    amina = await open_conversation(sandbox, bot, amal)
    await amina.send_text("رسالة ثانية عن الضريبة")
    await amal.wait_for_message(lambda m: m.text == "رسالة ثانية عن الضريبة")
    await amal.send_text("Ik kijk ernaar")
    await amina.wait_for_message(lambda m: m.text == "Ik kijk ernaar")
    return amal, amina


async def test_erasing_a_sleutelpersoon_hands_their_conversations_back(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal, amina = await talking(sandbox, bot)
        await amal.send_text("/signal Veel CJIB-boetes")
        await amal.wait_for_message(lambda m: m.text == notices.signal_saved(DUTCH, "#1"))
        await announce_stored_updates(bot, redis, redis_key_prefix)
        async with bot.services.sessions() as session:
            conversations = tuple((await session.scalars(select(Conversation.id))).all())
        before = await traces_of(bot, redis, redis_key_prefix, amal.id, conversations)
        assert min(before.outbox_rows, before.inbox_rows, before.relay_pointers) > 0
        async with bot.services.sessions.begin() as session:
            person = await session.scalar(select(Sleutelpersoon))
            assert person is not None
            await erase_sleutelpersoon(session, clock.now(), person, bot.services.handover)
        assert await pending_redis_erasures(bot) == [(amal.id, 0)]
        await bot.tick()
        await amina.wait_for_message(lambda m: m.text == notices.handed_back_to_newcomer(ARABIC))
        assert await pending_redis_erasures(bot) == []
        assert (await traces_of(bot, redis, redis_key_prefix, amal.id, conversations)).total == 0
        async with bot.services.sessions() as session:
            person = await session.scalar(select(Sleutelpersoon))
            events = (await session.scalars(select(ErasureEvent.reason))).all()
            signals = (await session.scalars(select(Signal.text_encrypted))).all()
        assert signals == [None]  # still counted, its words gone
        assert person is not None
        assert (person.display_name, person.telegram_user_id, person.active) == (
            "erased",
            None,
            False,
        )
        assert person.windows == [] and person.gender is None
        assert events == ["sleutelpersoon_by_coordinator"]


@dataclass(frozen=True)
class ChatTraces:
    """What the database and Redis hold that names one Telegram chat."""

    outbox_rows: int
    inbox_rows: int
    relay_pointers: int
    stream_entries: int
    flood_limit_keys: int

    @property
    def total(self) -> int:
        return (
            self.outbox_rows
            + self.inbox_rows
            + self.relay_pointers
            + self.stream_entries
            + self.flood_limit_keys
        )


async def traces_of(
    bot: BotProcess, redis: Redis, prefix: str, chat: int, conversations: tuple[int, ...] = ()
) -> ChatTraces:
    """What names the chat, and the pointers to copies made in its `conversations`."""
    async with bot.services.sessions() as session:
        outbox = await session.scalar(
            select(func.count()).where(
                or_(
                    OutboxMessage.chat_id == chat,
                    OutboxMessage.params["from_chat_id"].as_integer() == chat,
                )
            )
        )
        inbox = await session.scalar(select(func.count()).where(InboxUpdate.chat_id == chat))
        relays = await session.scalar(
            select(func.count()).where(RelayedMessage.conversation_id.in_(conversations))
        )
    stream = InboxStream(redis, prefix)
    entries = [
        entry_id
        for entry_id, fields in await redis.xrange(stream.name)
        if fields[b"chat_id"] == str(chat).encode()
    ]
    keys = await redis.exists(
        f"{prefix}ratelimit:sent:{chat}",
        f"{prefix}ratelimit:paused:{chat}",
        f"{prefix}ratelimit:inbound:{chat}",
    )
    keys += await redis.zscore(f"{prefix}ratelimit:refused", str(chat)) is not None
    return ChatTraces(outbox or 0, inbox or 0, relays or 0, len(entries), keys)


async def announce_stored_updates(bot: BotProcess, redis: Redis, prefix: str) -> None:
    """Announce every stored update on the inbox stream, as the webhook receiver does."""
    stream = InboxStream(redis, prefix)
    async with bot.services.sessions() as session:
        for update_id, chat in (
            await session.execute(select(InboxUpdate.update_id, InboxUpdate.chat_id))
        ).all():
            await stream.announce(update_id, chat)


async def pending_redis_erasures(bot: BotProcess) -> list[tuple[int, int]]:
    async with bot.services.sessions() as session:
        rows = await session.execute(select(RedisErasure.chat_id, RedisErasure.attempts))
        return [(chat, attempts) for chat, attempts in rows.all()]


async def delete_confirmed(newcomer: SimUser) -> None:
    await newcomer.send_text("/delete")
    await newcomer.wait_for_message(
        lambda m: m.text == notices.delete_confirm(ARABIC) and m.reply_markup is not None
    )
    await newcomer.press(ARABIC.gettext("🗑️ Yes, delete everything"))
    await newcomer.wait_for_message(lambda m: m.text == notices.deleted(ARABIC))


async def test_delete_removes_the_newcomers_chat_from_outbox_inbox_and_redis(
    database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    async with (
        world(database_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
            sandbox,
            clock,
            cfg,
        ),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal, amina = await talking(sandbox, bot)
        await amina.send_text("/privacy")  # its answer names her preferences
        await amina.wait_for_message(lambda m: "/delete" in (m.text or ""))
        await announce_stored_updates(bot, redis, redis_key_prefix)
        async with bot.services.sessions() as session:
            hers = tuple((await session.scalars(select(Conversation.id))).all())

        before = await traces_of(bot, redis, redis_key_prefix, amina.id, hers)
        amal_before = await traces_of(bot, redis, redis_key_prefix, amal.id)
        assert min(before.outbox_rows, before.inbox_rows, before.relay_pointers) > 0
        assert before.stream_entries > 0

        await delete_confirmed(amina)
        await amal.wait_for_message(lambda m: m.text == notices.conversation_erased(DUTCH, "#1"))
        in_database = await traces_of(bot, redis, redis_key_prefix, amina.id, hers)
        # Committed in the database; Redis is still to be told, and the row says so.
        assert (in_database.inbox_rows, in_database.relay_pointers) == (0, 0)
        # Only what answers the erasure itself, already sent: the confirmation, and her chat's
        # own command menu dropped.
        assert in_database.outbox_rows == 2
        assert in_database.stream_entries == before.stream_entries
        assert await pending_redis_erasures(bot) == [(amina.id, 0)]

        limiter = SharedRateLimiter(redis, redis_key_prefix)
        for chat in (amina.id, amal.id):  # sends counted just now, then a 429, for both
            await limiter.try_admit(chat, Priority.CONVERSATION)
            await limiter.refused(chat, retry_after=600)
        expected_keys = (await traces_of(bot, redis, redis_key_prefix, amina.id)).flood_limit_keys
        forgotten = await forget_erased_chats(bot.services.sessions, redis, redis_key_prefix)
        after = await traces_of(bot, redis, redis_key_prefix, amina.id, hers)

        assert (forgotten.chats, forgotten.waiting) == (1, 0)
        assert forgotten.stream_entries == before.stream_entries
        assert forgotten.keys == expected_keys > 0
        assert after.total == 0
        assert await pending_redis_erasures(bot) == []
        # Amal's chat keeps its entries and its pause.
        amal_after = await traces_of(bot, redis, redis_key_prefix, amal.id)
        assert amal_after.stream_entries == amal_before.stream_entries
        assert await redis.exists(f"{redis_key_prefix}ratelimit:paused:{amal.id}") == 1
        async with bot.services.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Newcomer)) == 0
            anonymous = await session.scalar(
                select(func.count()).where(InboxUpdate.chat_id == NO_CHAT)
            )
        print(
            f"\nerasure of one newcomer: database {before.outbox_rows} outbox rows, "
            f"{before.inbox_rows} inbox rows, {before.relay_pointers} relay pointers; "
            f"Redis {forgotten.stream_entries} stream entries, {forgotten.keys} keys; "
            f"{anonymous} inbox rows stay without a chat id"
        )


async def test_erasure_completes_while_redis_is_down_and_redis_forgets_once_back(
    sqlite_url: str, redis: Redis, redis_key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await announce_stored_updates(bot, redis, redis_key_prefix)
        entries = (await traces_of(bot, redis, redis_key_prefix, amina.id)).stream_entries
        await delete_confirmed(amina)

        down: Redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
        try:
            with caplog.at_level(logging.WARNING, logger="bot.erasure"):
                for attempt in (1, 2):
                    forgotten = await forget_erased_chats(
                        bot.services.sessions, down, redis_key_prefix
                    )
                    assert (forgotten.chats, forgotten.waiting) == (0, 1)
                    assert await pending_redis_erasures(bot) == [(amina.id, attempt)]
        finally:
            await down.aclose()
        async with bot.services.sessions() as session:  # the erasure itself is complete
            assert await session.scalar(select(func.count()).select_from(Newcomer)) == 0
            assert (await session.scalars(select(ErasureEvent.reason))).all() == [
                "newcomer_request"
            ]
        warnings = [r.getMessage() for r in caplog.records if r.name == "bot.erasure"]
        assert warnings and all("1 erased chats not yet removed" in w for w in warnings)
        assert not any(str(amina.id) in w for w in warnings)

        await bot.tick()  # Redis is back: the dispatcher's tick finishes the erasure
        assert await pending_redis_erasures(bot) == []
        assert (await traces_of(bot, redis, redis_key_prefix, amina.id)).total == 0
        assert entries > 0
