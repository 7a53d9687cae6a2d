"""Key rotation re-encrypts what is stored; a coordinator can erase a sleutelpersoon."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot import notices
from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.erasure import erase_sleutelpersoon
from bot.models import ErasureEvent, HelpRequest, Newcomer, RequestMessage, Sleutelpersoon
from bot.rekey import reencrypt_all
from bot.storage import create_engine_for, migrate, session_factory

from .test_conversation import (
    ARABIC,
    TUESDAY_10,
    bot_process,
    open_conversation,
    rasa_nowhere,
    world,
)

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


async def test_rotation_rewrites_old_ciphertexts_once(database_url: str) -> None:
    migrate(database_url)
    engine = create_engine_for(database_url)
    sessions = session_factory(engine)
    old_spec, new_spec = new_key_spec("old"), new_key_spec("new")
    old = MessageCipher(parse_keys(old_spec))
    rotated = MessageCipher(parse_keys(f"{new_spec},{old_spec}"))
    words = ["رسالة من الضرائب", "ደብዳቤ", "brief van DUO"]
    try:
        async with sessions.begin() as session:
            newcomer = Newcomer(telegram_user_id=1, locale="ar", created_at=NOW, updated_at=NOW)
            session.add(newcomer)
            await session.flush()
            request = HelpRequest(
                newcomer_id=newcomer.id,
                language="ar",
                domain="post",
                status="waiting",
                institutions=[],
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(request)
            await session.flush()
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
        assert await reencrypt_all(sessions, rotated) == 3
        assert await reencrypt_all(sessions, rotated) == 0
        only_new = MessageCipher(parse_keys(new_spec))
        async with sessions() as session:
            stored = (
                await session.scalars(select(RequestMessage).order_by(RequestMessage.id))
            ).all()
        assert [only_new.decrypt(r.body_encrypted) for r in stored if r.body_encrypted] == words
    finally:
        await engine.dispose()


async def test_erasing_a_sleutelpersoon_hands_their_conversations_back(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        await amal.send_text("Ik kijk ernaar")
        await amina.wait_for_message(lambda m: m.text == "Ik kijk ernaar")
        async with bot.services.sessions.begin() as session:
            person = await session.scalar(select(Sleutelpersoon))
            assert person is not None
            await erase_sleutelpersoon(session, clock.now(), person, bot.services.handover)
        await bot.tick()
        await amina.wait_for_message(lambda m: m.text == notices.handed_back_to_newcomer(ARABIC))
        async with bot.services.sessions() as session:
            person = await session.scalar(select(Sleutelpersoon))
            events = (await session.scalars(select(ErasureEvent.reason))).all()
        assert person is not None
        assert (person.display_name, person.telegram_user_id, person.active) == (
            "erased",
            None,
            False,
        )
        assert person.windows == [] and person.gender is None
        assert events == ["sleutelpersoon_by_coordinator"]
