"""An emergency on every path a newcomer's text takes, through the sandbox with the real Rasa:
before consent, as a new question, inside an open conversation, added to a waiting question,
and with Rasa down (the emergency phrases then decide alone).

Each path is driven with a message that the emergency phrases do not know, so that the help
numbers can only come from Rasa's emergency intent, except where Rasa is down.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import notices
from bot.handover import emergency_keyboard
from bot.i18n import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE, isolate
from bot.models import HelpRequest, RequestMessage
from nlu.client import RasaClient
from nlu.danger import Danger, danger_of
from nlu.emergency import looks_like_emergency
from nlu.service import RasaServer, free_port
from sandbox import ChatMessage, Sandbox, SimUser, make_png

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
SATURDAY_23 = datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)
WORKDAYS = "mon-fri 09:00-17:00"
ARABIC, DUTCH = TEXTS["ar"], TEXTS["nl"]
ACCEPT = DUTCH.gettext("✅ Accept")
# Emergencies the phrase lists miss and Rasa's emergency intent catches (asserted below).
RASA_ONLY_ARABIC = "صرلي ساعة واقفة جنب الشباك وعم فكر انط"
RASA_ONLY_DUTCH = "Niemand heeft mij nodig, ik verlos ze van mij"
PHRASE_ARABIC = "زوجي عم يضربني وهددني بالسكين"
HELP_NUMBERS = (
    notices.EMERGENCY_NUMBER,
    notices.SUICIDE_PREVENTION_NUMBER,
    notices.VEILIG_THUIS_NUMBER,
)


def rasa_nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def is_emergency_help(message: ChatMessage) -> bool:
    return message.text in {notices.emergency_help(texts) for texts in TEXTS.values()}


def is_offer(message: ChatMessage) -> bool:
    return message.reply_markup is not None and message.find_button(ACCEPT) is not None


def test_the_driving_messages_are_unknown_to_the_phrases() -> None:
    assert not looks_like_emergency(RASA_ONLY_ARABIC)
    assert not looks_like_emergency(RASA_ONLY_DUTCH)
    assert looks_like_emergency(PHRASE_ARABIC)


@pytest.mark.rasa
async def test_rasa_alone_finds_the_driving_messages_urgent(rasa_server: RasaServer) -> None:
    client = RasaClient(rasa_server.url, timeout=10, confidence_threshold=0.5)
    try:
        for text in (RASA_ONLY_ARABIC, RASA_ONLY_DUTCH):
            assert danger_of(text, await client.classify(text)) is Danger.URGENT, text
    finally:
        await client.aclose()


@pytest.mark.parametrize("locale", sorted(TEXTS))
def test_the_help_names_every_service_with_tappable_numbers(locale: str) -> None:
    text = notices.emergency_help(TEXTS[locale])
    for number in HELP_NUMBERS:
        # The whole number isolated once (readable in Arabic), never marks between its digits.
        assert isolate(number) in text
    digits_with_marks = re.compile(
        rf"[\d+][\d ]*[{FIRST_STRONG_ISOLATE}{POP_DIRECTIONAL_ISOLATE}]\d"
    )
    assert not digits_with_marks.search(text)
    # The free lines in the international form Telegram apps turn into tap-to-call links.
    for number in (notices.SUICIDE_PREVENTION_NUMBER, notices.VEILIG_THUIS_NUMBER):
        assert re.fullmatch(r"\+31 800 \d{4}", number)
    for name in ("113 Zelfmoordpreventie", "113.nl", "Veilig Thuis", "huisarts", "huisartsenpost"):
        assert name in text, (locale, name)
    assert len(text) < 600  # short enough to read in a crisis
    (button,) = [
        button for row in emergency_keyboard(TEXTS[locale]).inline_keyboard for button in row
    ]
    assert button.url == notices.SUICIDE_PREVENTION_CHAT_URL
    assert button.url.startswith("https://") and button.callback_data is None


async def the_request(bot: BotProcess) -> HelpRequest:
    async with bot.services.sessions() as session:
        request = await session.scalar(select(HelpRequest))
    assert request is not None
    return request


async def help_arrives_with_the_chat_button(newcomer: SimUser) -> None:
    message = await newcomer.wait_for_message(is_emergency_help)
    assert message.reply_markup is not None
    assert [button.url for row in message.reply_markup for button in row] == [
        notices.SUICIDE_PREVENTION_CHAT_URL
    ]


async def amina_asks_amal_about_a_letter(
    sandbox: Sandbox, bot: BotProcess
) -> tuple[SimUser, SimUser]:
    """Amal helps with Arabic letters on workdays; Amina agrees and sends a photo of a letter."""
    amal = sandbox.add_user("Amal", "nl")
    await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post",))
    amina = sandbox.add_user("Amina", "ar")
    await onboard(amina, "العربية")
    await amina.send_photo(make_png(30, 40))
    await amina.wait_for_message(lambda m: m.text == notices.choose_domain(ARABIC))
    await amina.press(ARABIC.gettext("✉️ Letter"))
    return amal, amina


@pytest.mark.rasa
async def test_before_consent_help_and_an_anonymous_alert_and_nothing_stored(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, SATURDAY_23) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        anna = sandbox.add_user("Anna", "nl")
        await add_on_call_coordinator(bot, anna, "sat-sun 00:00-24:00")
        amina = sandbox.add_user("Amina", "ar")
        await amina.send_text(RASA_ONLY_ARABIC)
        await help_arrives_with_the_chat_button(amina)
        await amina.wait_for_message(
            lambda m: m.reply_markup is not None and not is_emergency_help(m)
        )
        alert = await anna.wait_for_message()
        assert alert.text == notices.urgent_alert_before_consent(DUTCH)
        # A second message soon after is helped again, but the coordinator is not flooded.
        await amina.send_text(RASA_ONLY_ARABIC)
        await amina.wait_for_message(is_emergency_help)
        await bot.tick()
        assert len(anna.received()) == 1
        async with bot.services.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(RequestMessage))
            requests = await session.scalar(select(func.count()).select_from(HelpRequest))
        assert (stored, requests) == (0, 0)


@pytest.mark.rasa
async def test_a_new_question_rasa_calls_an_emergency(
    database_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(database_url, redis_key_prefix, rasa_server.url, SATURDAY_23) as (
            sandbox,
            clock,
            cfg,
        ),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("nl",), domains=("health",))
        anna = sandbox.add_user("Anna", "nl")
        await add_on_call_coordinator(bot, anna, "sat-sun 00:00-24:00")
        sanne = sandbox.add_user("Sanne", "nl")
        await onboard(sanne, "Nederlands")
        await sanne.send_text(RASA_ONLY_DUTCH)
        await help_arrives_with_the_chat_button(sanne)
        # The help alone first, then an invitation to write a question: no subject buttons,
        # which read as if the danger was ignored.
        invitation = await sanne.wait_for_message(
            lambda m: m.text == notices.after_emergency_help(DUTCH)
        )
        assert invitation.reply_markup is None
        alert = await anna.wait_for_message()
        assert alert.text == notices.urgent_alert(DUTCH, 1, "nl")
        assert "verlos" not in (alert.text or "")
        request = await the_request(bot)
        assert request.urgent and request.status == "emergency"
        await bot.tick()
        assert amal.received() == []  # no volunteer is the emergency service, least at night


@pytest.mark.rasa
async def test_inside_an_open_conversation_help_at_once_and_the_volunteer_in_her_hours(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal, amina = await amina_asks_amal_about_a_letter(sandbox, bot)
        await amal.wait_for_message(is_offer)
        await amal.press(ACCEPT)
        await amal.wait_for_message(lambda m: m.photo is not None)
        await amina.wait_for_message(lambda m: "/done" in (m.text or ""))
        seen_by_amal = len(amal.received())

        clock.set(datetime(2026, 12, 8, 22, 0, tzinfo=AMSTERDAM))
        await amina.send_text(RASA_ONLY_ARABIC)
        await help_arrives_with_the_chat_button(amina)
        assert (await the_request(bot)).urgent
        await bot.tick()
        assert len(amal.received()) == seen_by_amal  # not outside her hours, even for this

        clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        await amal.wait_for_message(lambda m: m.text == RASA_ONLY_ARABIC)


@pytest.mark.rasa
async def test_added_to_a_waiting_question(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, SATURDAY_23) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal, amina = await amina_asks_amal_about_a_letter(sandbox, bot)
        await amina.wait_for_message(lambda m: "09:00" in (m.text or ""))  # it waits for Monday
        assert not (await the_request(bot)).urgent

        await amina.send_text(RASA_ONLY_ARABIC)
        await help_arrives_with_the_chat_button(amina)
        await amina.wait_for_message(lambda m: m.text == notices.added_to_question(ARABIC))
        assert (await the_request(bot)).urgent
        await bot.tick()
        assert amal.received() == []


async def test_with_rasa_down_the_phrases_decide_alone(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), SATURDAY_23) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        anna = sandbox.add_user("Anna", "nl")
        await add_on_call_coordinator(bot, anna, "sat-sun 00:00-24:00")
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        # What only Rasa would recognise gets the buttons, as any question while it is down.
        await amina.send_text(RASA_ONLY_ARABIC)
        await amina.wait_for_message(lambda m: m.text == notices.nlu_unavailable(ARABIC))
        assert not any(is_emergency_help(message) for message in amina.received())
        assert not (await the_request(bot)).urgent
        # The phrases still work: help at once, the question marked urgent, Anna alerted.
        clock.advance(timedelta(minutes=1))
        await amina.send_text(PHRASE_ARABIC)
        await help_arrives_with_the_chat_button(amina)
        alert = await anna.wait_for_message()
        assert alert.text == notices.urgent_alert(DUTCH, 1, "ar")
        assert (await the_request(bot)).urgent
