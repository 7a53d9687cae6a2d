"""Privacy in the sandbox: /privacy tells, /delete erases, retention deletes old content."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import notices
from bot.erasure import apply_retention
from bot.models import (
    Conversation,
    ConversationMessage,
    ErasureEvent,
    HelpRequest,
    Newcomer,
    RequestMessage,
)

from .kit import BotProcess
from .test_conversation import (
    ARABIC,
    DUTCH,
    TUESDAY_10,
    bot_process,
    open_conversation,
    rasa_nowhere,
    world,
)


async def count(bot: BotProcess, model: type) -> int:
    async with bot.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_privacy_overview_and_delete_with_confirmation(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        await amina.send_text("سؤال ثاني عن الرسالة")
        await amal.wait_for_message(lambda m: m.text == "سؤال ثاني عن الرسالة")

        await amina.send_text("/privacy")
        overview = await amina.wait_for_message(lambda m: "/delete" in (m.text or ""))
        assert overview.text == notices.privacy_overview(ARABIC, "ar", None, None, 1, 90)

        await amina.send_text("/delete")
        await amina.wait_for_message(
            lambda m: m.text == notices.delete_confirm(ARABIC) and m.reply_markup is not None
        )
        await amina.press(ARABIC.gettext("↩️ No, keep it"))
        await amina.wait_for_message(lambda m: m.text == notices.delete_cancelled(ARABIC))
        assert await count(bot, Newcomer) == 1

        await amina.send_text("/delete")
        await amina.wait_for_message(
            lambda m: m.text == notices.delete_confirm(ARABIC) and m.reply_markup is not None
        )
        await amina.press(ARABIC.gettext("🗑️ Yes, delete everything"))
        await amina.wait_for_message(lambda m: m.text == notices.deleted(ARABIC))
        await amal.wait_for_message(lambda m: m.text == notices.conversation_erased(DUTCH, "#1"))
        assert await count(bot, Newcomer) == 0
        assert await count(bot, RequestMessage) == 0
        assert await count(bot, ConversationMessage) == 0
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            request = await session.scalar(select(HelpRequest))
            events = (await session.scalars(select(ErasureEvent.reason))).all()
        assert conversation is not None and conversation.newcomer_id is None
        assert conversation.status == "erased"
        assert request is not None and request.newcomer_id is None  # anonymous statistics
        assert events == ["newcomer_request"]

        # Writing again starts from the beginning: the language choice, then consent.
        await amina.send_text("مرحبا")
        await amina.wait_for_message(lambda m: m.find_button("العربية") is not None)
        await amal.send_text("Ben je er nog?")
        await amal.wait_for_message(lambda m: m.text == notices.which_conversation(DUTCH))


async def test_retention_deletes_old_content_and_is_idempotent(
    database_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(database_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
            sandbox,
            clock,
            cfg,
        ),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        await amina.send_text("/done")
        await amina.wait_for_message(lambda m: m.reply_markup is not None)
        assert await count(bot, RequestMessage) == 1

        clock.advance(timedelta(days=89))
        await bot.tick()
        assert await count(bot, RequestMessage) == 1 and await count(bot, Newcomer) == 1

        clock.advance(timedelta(days=2))
        await bot.tick()
        assert await count(bot, RequestMessage) == 0
        assert await count(bot, Newcomer) == 0
        assert await count(bot, Conversation) == 1  # anonymous remainder
        again = await apply_retention(
            bot.services.sessions, clock.now(), timedelta(days=90), bot.services.handover
        )
        assert again == 0
        async with bot.services.sessions() as session:
            assert (await session.scalars(select(ErasureEvent.reason))).all() == ["retention"]
