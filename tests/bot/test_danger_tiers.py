"""Emergencies in two tiers, through the sandbox with the real Rasa at the shipped thresholds
(nlu/danger.py): an urgent reading sends the help numbers and alerts the coordinator on call;
a weak one asks "are you or someone else in danger right now?" with 112 in the question and
Yes / No buttons; words of feedback are feedback first, and only an urgent reading overrides.

The driving messages are checked against the real model first, so that a retrained model that
reads them differently fails here, naming the message, instead of passing for the wrong reason.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import notices
from bot.handover import danger_keyboard
from bot.models import Conversation, DangerCheck, HelpRequest
from nlu.client import RasaClient
from nlu.danger import Danger, danger_of
from nlu.emergency import looks_like_emergency
from nlu.service import RasaServer
from sandbox import ChatMessage, Sandbox, SimUser

from .kit import (
    TEXTS,
    BotProcess,
    add_on_call_coordinator,
    add_sleutelpersoon,
    bot_process,
    onboard,
    world,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
WORKDAYS = "mon-fri 09:00-17:00"
ON_CALL = "mon-sun 00:00-24:00"
DUTCH = TEXTS["nl"]
ACCEPT = DUTCH.gettext("✅ Accept")
YES = DUTCH.gettext("🚨 Yes, danger now")
NO = DUTCH.gettext("No")

# The issue's own example: praise after 👍 that Rasa once called an emergency (0.62).
PRAISE = "Sanne was heel snel, top"
# A question Rasa reads as a possible emergency, too weakly to act on alone (the check tier);
# the phrases do not know it.
WEAK_ALARM = "Ik ben zo moe van alles"
# A real emergency: the phrases know it, whatever Rasa says.
GAS = "Ik ruik gas in huis, het stinkt heel erg"
# An ordinary question.
QUESTION = "Ik heb een brief van de gemeente gekregen en snap hem niet"


def is_help(message: ChatMessage) -> bool:
    return message.text == notices.emergency_help(DUTCH)


def is_danger_question(message: ChatMessage) -> bool:
    return message.text == notices.danger_question(DUTCH)


def is_offer(message: ChatMessage) -> bool:
    return message.reply_markup is not None and message.find_button(ACCEPT) is not None


@pytest.fixture
async def rasa(rasa_server: RasaServer) -> RasaClient:
    return RasaClient(rasa_server.url, timeout=10, confidence_threshold=0.5)


@pytest.mark.rasa
async def test_the_driving_messages_are_read_as_the_tests_need(rasa: RasaClient) -> None:
    try:
        tiers = {
            text: danger_of(text, await rasa.classify(text))
            for text in (PRAISE, WEAK_ALARM, GAS, QUESTION)
        }
    finally:
        await rasa.aclose()
    assert tiers == {
        PRAISE: Danger.NONE,
        WEAK_ALARM: Danger.CHECK,
        GAS: Danger.URGENT,
        QUESTION: Danger.NONE,
    }
    assert not looks_like_emergency(WEAK_ALARM) and looks_like_emergency(GAS)


def test_the_danger_question_gives_112_in_its_text_in_every_language() -> None:
    for locale, texts in TEXTS.items():
        question = notices.danger_question(texts)
        assert notices.EMERGENCY_NUMBER in question, locale
        buttons = [b for row in danger_keyboard(texts).inline_keyboard for b in row]
        assert [b.callback_data for b in buttons] == ["danger:yes", "danger:no"], locale


async def requests_of(bot: BotProcess) -> list[HelpRequest]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(HelpRequest).order_by(HelpRequest.id)))


async def staffed(bot: BotProcess, sandbox: Sandbox) -> tuple[SimUser, SimUser, SimUser]:
    """Sanne (Dutch, letters and health, workdays), Anna on call, and a consented newcomer."""
    sanne = sandbox.add_user("Sanne", "nl")
    await add_sleutelpersoon(bot, sanne, WORKDAYS, languages=("nl",), domains=("post", "health"))
    anna = sandbox.add_user("Anna", "nl")
    await add_on_call_coordinator(bot, anna, ON_CALL, "Gemeente Breda")
    noor = sandbox.add_user("Noor", "nl")
    await onboard(noor, "Nederlands")
    return sanne, anna, noor


async def helped_and_asked_for_words(sanne: SimUser, noor: SimUser, thumb: str) -> None:
    """Sanne takes Noor's question; Noor closes with /done and `thumb`, and is asked for words."""
    await noor.send_text(QUESTION)
    await sanne.wait_for_message(is_offer)
    await sanne.press(ACCEPT)
    await noor.wait_for_message(lambda m: "/done" in (m.text or ""))
    await noor.send_text("/done")
    await noor.wait_for_message(lambda m: m.text == notices.conversation_closed_ask_feedback(DUTCH))
    await noor.press(thumb)
    await noor.wait_for_message(lambda m: m.text == notices.feedback_thanks_ask_words(DUTCH))


@pytest.mark.rasa
async def test_praise_after_thumbs_up_is_feedback_without_help_or_alert(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        sanne, anna, noor = await staffed(bot, sandbox)
        await helped_and_asked_for_words(sanne, noor, "👍")
        await noor.send_text(PRAISE)
        await noor.wait_for_message(lambda m: m.text == notices.feedback_received(DUTCH))
        await bot.tick()
        assert not any(is_help(m) or is_danger_question(m) for m in noor.received())
        assert anna.received() == []
        (request,) = await requests_of(bot)
        assert not request.urgent and request.danger_check is None
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        assert bot.services.handover.cipher.unseal(conversation.feedback_comment_encrypted) == (
            PRAISE
        )


@pytest.mark.rasa
async def test_an_emergency_in_the_words_of_feedback_is_still_urgent(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        sanne, anna, noor = await staffed(bot, sandbox)
        await helped_and_asked_for_words(sanne, noor, "👎")
        await noor.send_text(GAS)
        await noor.wait_for_message(is_help)
        # The help comes alone, then an invitation to write a question: no subject buttons.
        invitation = await noor.wait_for_message(
            lambda m: m.text == notices.after_emergency_help(DUTCH)
        )
        assert invitation.reply_markup is None
        alert = await anna.wait_for_message()
        assert "gas" not in (alert.text or "")
        _first, emergency = await requests_of(bot)
        assert emergency.urgent and emergency.status == "emergency"
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.feedback_comment_encrypted is None
        # The invitation means it: the next words are an ordinary question, routed to Sanne.
        offers_before = sum(is_offer(m) for m in sanne.received())
        await noor.send_text(QUESTION)
        await sanne.wait_for_message(lambda m: is_offer(m) and m.message_id > 0)
        await bot.tick()
        assert sum(is_offer(m) for m in sanne.received()) == offers_before + 1


@pytest.mark.rasa
async def test_a_weak_alarm_asks_with_112_and_yes_makes_it_urgent(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        _sanne, anna, noor = await staffed(bot, sandbox)
        await noor.send_text(WEAK_ALARM)
        question = await noor.wait_for_message(is_danger_question)
        assert notices.EMERGENCY_NUMBER in (question.text or "")
        assert question.find_button(YES) is not None and question.find_button(NO) is not None
        await bot.tick()
        assert not any(is_help(m) for m in noor.received())
        assert anna.received() == []  # nobody is woken for a question not yet answered
        (request,) = await requests_of(bot)
        assert not request.urgent and request.danger_check == DangerCheck.ASKED

        await noor.press(YES)
        await noor.wait_for_message(is_help)
        alert = await anna.wait_for_message()
        assert alert.text == notices.urgent_alert(DUTCH, request.id, "nl")
        (request,) = await requests_of(bot)
        assert request.urgent and request.danger_check == DangerCheck.YES


@pytest.mark.rasa
async def test_no_lets_the_question_go_on_as_usual_and_silence_is_shown_to_coordinators(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        _sanne, anna, noor = await staffed(bot, sandbox)
        # Unanswered: it stays an ordinary question, marked for the coordinators.
        await noor.send_text(WEAK_ALARM)
        await noor.wait_for_message(is_danger_question)
        (request,) = await requests_of(bot)
        assert request.danger_check == DangerCheck.ASKED and request.status != "emergency"

        await noor.press(NO)
        await noor.wait_for_message(lambda m: m.text == notices.not_in_danger(DUTCH))
        await bot.tick()
        (request,) = await requests_of(bot)
        assert request.danger_check == DangerCheck.NO and not request.urgent
        assert not any(is_help(m) for m in noor.received())
        assert anna.received() == []
        async with bot.services.sessions() as session:
            urgent = await session.scalar(
                select(func.count()).select_from(HelpRequest).where(HelpRequest.urgent)
            )
        assert urgent == 0
