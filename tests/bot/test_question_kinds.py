"""Every kind of question in the sandbox: a voice note and a document (domain buttons, then
the copy reaches the sleutelpersoon within their hours), text Rasa is unsure about (buttons
too), what an offer shows and never shows, and /close by the sleutelpersoon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from babel.dates import format_timedelta
from sqlalchemy import select

from bot import notices
from bot.i18n import isolate
from bot.models import Conversation, HelpRequest
from bot.settings import Settings
from nlu.emergency import looks_like_emergency
from nlu.service import RasaServer
from sandbox import ChatMessage, Sandbox, SimUser, make_png

from .kit import BotProcess, ManualClock, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import (
    ACCEPT,
    AMSTERDAM,
    ARABIC,
    DUTCH,
    TUESDAY_10,
    WORKDAYS,
    is_offer,
    rasa_nowhere,
)

DOMAIN_BUTTONS = [
    ARABIC.gettext(label) for label in ("✉️ Letter", "💶 Money", "🏥 Health", "❓ Other")
]
# Rasa's model gives this ("about the thing") a low confidence: it says nothing of a domain.
VAGUE_TEXT = "طيب وبعدين"
INSTITUTIONS_QUESTION = "وصلتني رسالة من CJIB وغرامة من Belastingdienst"


def button_rows(message: ChatMessage) -> list[list[str]]:
    return [[button.text for button in row] for row in message.reply_markup or []]


async def domain_question(newcomer: SimUser) -> ChatMessage:
    """The bot's question with the large domain buttons, one per row."""
    asked = await newcomer.wait_for_message(lambda m: m.text == notices.choose_domain(ARABIC))
    assert button_rows(asked) == [[label] for label in DOMAIN_BUTTONS]
    return asked


@dataclass
class Scene:
    """Amal, an Arabic-speaking sleutelpersoon (letters, money, health; weekdays 09:00-17:00),
    and Amina, an Arabic newcomer who has agreed, with the bot running."""

    sandbox: Sandbox
    clock: ManualClock
    settings: Settings
    bot: BotProcess
    amal: SimUser
    amina: SimUser


@asynccontextmanager
async def scene(
    database_url: str, redis_key_prefix: str, rasa_url: str, start: datetime
) -> AsyncIterator[Scene]:
    async with (
        world(database_url, redis_key_prefix, rasa_url, start) as (sandbox, clock, settings),
        bot_process(settings, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(
            bot, amal, WORKDAYS, languages=("ar",), domains=("post", "finance", "health")
        )
        amina = sandbox.add_user("Amina", "ar", username="amina_private", last_name="Haddad")
        await onboard(amina, "العربية")
        yield Scene(sandbox, clock, settings, bot, amal, amina)


async def request_of(bot: BotProcess) -> HelpRequest:
    async with bot.services.sessions() as session:
        request = await session.scalar(select(HelpRequest))
    assert request is not None
    return request


async def test_a_voice_note_is_asked_with_domain_buttons_and_copied_to_the_sleutelpersoon(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with scene(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as it:
        sandbox, bot, amal, amina = it.sandbox, it.bot, it.amal, it.amina
        voice = b"OggS voice note of Amina"
        await amina.send_voice(voice, duration=7)
        await domain_question(amina)
        await amina.press(ARABIC.gettext("🏥 Health"))
        await amina.wait_for_message(lambda m: m.text == notices.someone_will_come(ARABIC, "ar"))
        offer = await amal.wait_for_message(is_offer)
        assert offer.text is not None and DUTCH.gettext("health") in offer.text
        await amal.press(ACCEPT)
        copied = await amal.wait_for_message(lambda m: m.voice is not None)
        assert copied.voice is not None and sandbox.file_bytes(copied.voice.file_id) == voice
        assert copied.forward_origin is None
        assert (await request_of(bot)).domain == "health"


async def test_a_document_in_the_evening_reaches_the_sleutelpersoon_when_her_hours_begin(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    tuesday_evening = datetime(2026, 12, 8, 18, 0, tzinfo=AMSTERDAM)
    wednesday_morning = datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)
    async with scene(sqlite_url, redis_key_prefix, rasa_nowhere(), tuesday_evening) as it:
        sandbox, clock, bot, amal, amina = it.sandbox, it.clock, it.bot, it.amal, it.amina
        letter = b"%PDF-1.4 aanmaning zorgverzekering"
        await amina.send_document(letter, "aanmaning.pdf", mime_type="application/pdf")
        await domain_question(amina)
        await amina.press(ARABIC.gettext("💶 Money"))
        await amina.wait_for_message(
            lambda m: ARABIC.format_datetime(wednesday_morning) in (m.text or "")
        )
        await bot.tick()
        assert amal.received() == []  # nothing outside her office hours

        clock.set(wednesday_morning)
        await bot.tick()
        offer = await amal.wait_for_message(is_offer)
        assert offer.date == wednesday_morning
        assert offer.text == notices.offer(DUTCH, "ar", "finance", [], timedelta(hours=15), None)
        await amal.press(ACCEPT)
        copied = await amal.wait_for_message(lambda m: m.document is not None)
        assert copied.document is not None and copied.document.file_name == "aanmaning.pdf"
        assert sandbox.file_bytes(copied.document.file_id) == letter


@pytest.mark.rasa
async def test_text_rasa_is_unsure_about_is_asked_with_domain_buttons(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with scene(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as it:
        bot, amal, amina = it.bot, it.amal, it.amina
        # The premise, from the same model and threshold the bot uses.
        guess = await bot.services.nlu.classify(VAGUE_TEXT)
        assert guess.unsure and guess.confidence < it.settings.nlu_confidence_threshold
        assert not looks_like_emergency(VAGUE_TEXT)

        await amina.send_text(VAGUE_TEXT)
        await domain_question(amina)
        assert amal.received() == []  # nothing is offered on a guess
        await amina.press(ARABIC.gettext("✉️ Letter"))
        offer = await amal.wait_for_message(is_offer)
        assert offer.text is not None and DUTCH.gettext("letters and forms") in offer.text
        request = await request_of(bot)
        assert (request.domain, request.intent) == ("post", guess.intent)


@pytest.mark.rasa
async def test_the_offer_shows_institutions_and_waiting_time_never_who_is_asking(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    tuesday_early = datetime(2026, 12, 8, 7, 45, tzinfo=AMSTERDAM)
    async with scene(sqlite_url, redis_key_prefix, rasa_server.url, tuesday_early) as it:
        clock, bot, amal, amina = it.clock, it.bot, it.amal, it.amina
        await amina.send_text(INSTITUTIONS_QUESTION)
        await amina.wait_for_message(lambda m: "09:00" in (m.text or ""))
        request = await request_of(bot)
        assert set(request.institutions) == {"CJIB", "Belastingdienst"}

        clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        offer = await amal.wait_for_message(is_offer)
        waited = timedelta(hours=1, minutes=15)
        assert offer.text == notices.offer(
            DUTCH, "ar", request.domain, sorted(request.institutions), waited, None
        )
        for shown in ("CJIB", "Belastingdienst", format_timedelta(waited, locale="nl")):
            assert isolate(shown) in offer.text
        for identity in ("Amina", "Haddad", "amina_private", str(amina.id)):
            assert identity not in offer.text
        assert INSTITUTIONS_QUESTION not in offer.text  # the question comes after Accept


async def test_close_by_the_sleutelpersoon_asks_the_newcomer_for_feedback(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with scene(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as it:
        bot, amal, amina = it.bot, it.amal, it.amina
        await amina.send_photo(make_png(30, 40))
        await domain_question(amina)
        await amina.press(ARABIC.gettext("✉️ Letter"))
        await amal.wait_for_message(is_offer)
        await amal.press(ACCEPT)
        await amal.wait_for_message(lambda m: m.photo is not None)

        await amal.send_text("/close")
        await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(DUTCH, "#1")
        )
        asked = await amina.wait_for_message(
            lambda m: m.text == notices.conversation_closed_ask_feedback(ARABIC)
        )
        assert [label for row in button_rows(asked) for label in row] == ["👍", "👎"]
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.status == "closed"
        assert conversation.feedback_pending

        await amina.press("👎")
        await amina.wait_for_message(lambda m: m.text == notices.feedback_thanks_ask_words(ARABIC))
        async with bot.services.sessions() as session:
            rated = await session.scalar(select(Conversation))
        assert rated is not None and rated.feedback == "down"
        assert not any(m.text == notices.thanks_from_newcomer(DUTCH, "#1") for m in amal.received())
