"""Who may do what in the bot: every command and every kind of button, for a newcomer, the
sleutelpersoon of a conversation, another sleutelpersoon, and someone unknown. Forged callback
data (another's offer, another's conversation, another's feedback) is refused."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import func, select
from telegram.ext import Application, CallbackQueryHandler

from bot import notices
from bot.models import Conversation, Offer, OfferStatus
from sandbox import CallbackQueryRecord, Sandbox, SimUser

from .kit import TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import (
    ACCEPT,
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    ask_with_photo,
    is_offer,
    open_conversation,
    rasa_nowhere,
)

SLEUTELPERSOON_COMMANDS = ("/mine", "/close", "/hours", "/away 2026-12-24", "/handback note")
NEWCOMER_COMMANDS = ("/done", "/skip")
_ids = itertools.count(50_000)


def forge_callback(sandbox: Sandbox, user: SimUser, data: str) -> CallbackQueryRecord:
    """A callback query as a modified client could send it: any data, on any message. Telegram
    gives it a real query id, so the bot's answer (or its silence) is recorded."""
    query = CallbackQueryRecord(id=f"forged-{next(_ids)}", user_id=user.id, message_id=1, data=data)
    sandbox.world.callback_queries[query.id] = query
    chat = {"id": user.id, "type": "private", "first_name": user.first_name}
    message = {"message_id": 1, "date": int(TUESDAY_10.timestamp()), "chat": chat, "text": "x"}
    sandbox.world.enqueue_update(
        "callback_query",
        {"id": query.id, "from": sandbox.world.user(user.id).to_json(), "chat_instance": "c",
         "data": data, "message": message},
    )  # fmt: skip
    return query


def button_prefixes(application: Application) -> tuple[str, ...]:  # type: ignore[type-arg]
    """The callback data prefixes the wiring routes to a handler (patterns `^prefix`)."""
    return tuple(
        handler.pattern.pattern.removeprefix("^")
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
    )


async def last_text(user: SimUser) -> str | None:
    message = await user.wait_for_message()
    return message.text


@pytest.mark.parametrize("command", SLEUTELPERSOON_COMMANDS)
async def test_sleutelpersoon_commands_refuse_newcomers_politely(
    sqlite_url: str, redis, redis_key_prefix: str, command: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock),
    ):
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await amina.send_text(command)
        await amina.wait_for_message(lambda m: m.text == notices.not_for_you(ARABIC))


@pytest.mark.parametrize("command", NEWCOMER_COMMANDS)
async def test_newcomer_commands_refuse_sleutelpersonen_politely(
    sqlite_url: str, redis, redis_key_prefix: str, command: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post",))
        await amal.send_text(command)
        await amal.wait_for_message(lambda m: m.text == notices.not_for_you(DUTCH))


async def conversation_count(bot: BotProcess) -> int:
    async with bot.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


async def test_forged_callbacks_find_nothing(sqlite_url: str, redis, redis_key_prefix: str) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        other = sandbox.add_user("Other", "nl")
        stranger = sandbox.add_user("Stranger", "en")
        amina = await open_conversation(sandbox, bot, amal)
        await add_sleutelpersoon(bot, other, WORKDAYS, languages=("ti",), domains=("health",))
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None

        # A second newcomer's question is offered to Amal; the other sleutelpersoon forges an
        # accept for it, and a stranger tries too.
        hamid = sandbox.add_user("Hamid", "ar")
        await onboard(hamid, "العربية")
        await ask_with_photo(hamid, ARABIC.gettext("✉️ Letter"))
        offer_message = await amal.wait_for_message(is_offer)
        button = offer_message.find_button(ACCEPT)
        assert button is not None and button.callback_data is not None
        for intruder in (other, stranger, amina):
            forge_callback(sandbox, intruder, button.callback_data)
        forge_callback(sandbox, other, f"conv:select:{conversation.id}")
        forge_callback(sandbox, amina, "offer:decline:999999")
        forge_callback(sandbox, other, "feedback:up:" + str(conversation.id))
        forge_callback(sandbox, stranger, "domain:post")
        forge_callback(sandbox, stranger, "x" * 300)
        await sandbox.wait_until(lambda: not sandbox.world.pending_updates)
        await other.wait_for_message(lambda m: m.text == notices.not_understood_command(DUTCH))
        await bot.tick()

        async with bot.services.sessions() as session:
            statuses = (await session.scalars(select(Offer.status).order_by(Offer.id))).all()
            selected = await session.scalar(select(func.count()).select_from(Conversation))
            conversation_after = await session.get(Conversation, conversation.id)
        assert statuses == [OfferStatus.ACCEPTED, OfferStatus.PENDING]
        assert selected == 1
        assert conversation_after is not None and conversation_after.feedback is None
        # Nobody got anything of the conversation.
        for intruder in (other, stranger):
            assert not any(m.photo for m in intruder.received())
        # The real one still can.
        await amal.press(ACCEPT)
        await amal.wait_for_message(lambda m: m.photo is not None)
        assert await conversation_count(bot) == 2


async def test_a_sleutelpersoon_cannot_write_into_another_conversation(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        karim = sandbox.add_user("Karim", "nl")
        await add_sleutelpersoon(bot, karim, WORKDAYS, languages=("ar",), domains=("post",))
        await karim.send_text("Hallo Amina, ik ben Karim")
        await karim.wait_for_message(lambda m: m.text == notices.which_conversation(DUTCH))
        await karim.send_text("/close")
        await karim.wait_for_message(lambda m: m.text == notices.close_which(DUTCH))
        assert not any("Karim" in (m.text or "") for m in amina.received())
        assert TEXTS["nl"].gettext("This command is not available to you.") not in [
            m.text for m in karim.received()
        ]
