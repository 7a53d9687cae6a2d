"""A conversation's life in the sandbox: held messages outside office hours, choosing a
conversation, closing with feedback and thanks, handing back, going away, invites.

These use photos and domain buttons, so they run without Rasa (its URL points nowhere).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from bot import notices
from bot.crypto import MessageCipher
from bot.models import (
    Conversation,
    Coordinator,
    HelpRequest,
    Organisation,
    Signal,
    Sleutelpersoon,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.transcripts import read_transcript
from matching.office_hours import parse_weekly_hours
from nlu.service import free_port
from sandbox import ChatMessage, Sandbox, SimUser, make_png

from .kit import (
    TEXTS,
    BotProcess,
    ManualClock,
    add_sleutelpersoon,
    bot_process,
    onboard,
    world,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
WORKDAYS = "mon-fri 09:00-17:00"
ARABIC, DUTCH = TEXTS["ar"], TEXTS["nl"]
ACCEPT = DUTCH.gettext("✅ Accept")


def rasa_nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def is_offer(message: ChatMessage) -> bool:
    return message.reply_markup is not None and message.find_button(ACCEPT) is not None


async def ask_with_photo(newcomer: SimUser, button: str) -> None:
    await newcomer.send_photo(make_png(30, 40))
    await newcomer.wait_for_message(lambda m: m.text == notices.choose_domain(ARABIC))
    await newcomer.press(button)


async def open_conversation(
    sandbox: Sandbox, bot: BotProcess, helper: SimUser, hours: str = WORKDAYS
) -> SimUser:
    await add_sleutelpersoon(bot, helper, hours, languages=("ar",), domains=("post", "finance"))
    amina, _ = await join_conversation(sandbox, helper, "Amina")
    return amina


async def join_conversation(
    sandbox: Sandbox, helper: SimUser, name: str
) -> tuple[SimUser, ChatMessage]:
    """A new Arabic newcomer sends a letter, which the helper accepts: the newcomer, and the
    copy of their letter in the helper's chat (to reply to)."""
    newcomer = sandbox.add_user(name, "ar")
    await onboard(newcomer, "العربية")
    await ask_with_photo(newcomer, ARABIC.gettext("✉️ Letter"))
    await helper.wait_for_message(is_offer)
    await helper.press(ACCEPT)
    letter = await helper.wait_for_message(lambda m: m.photo is not None)
    await newcomer.wait_for_message(lambda m: "/done" in (m.text or ""))
    return newcomer, letter


async def test_messages_outside_hours_wait_and_the_newcomer_is_told_when(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        seen_by_amal = len(amal.received())

        clock.set(datetime(2026, 12, 8, 18, 0, tzinfo=AMSTERDAM))
        await amina.send_text("هل أنت هنا؟")
        told = await amina.wait_for_message(lambda m: "Amal" in (m.text or ""))
        assert (
            told.text is not None
            and ARABIC.format_datetime(datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)) in told.text
        )
        await amina.send_text("الرسالة فيها موعد")
        await bot.tick()
        assert len(amal.received()) == seen_by_amal  # nothing outside her hours
        # Told once per stretch, not for every message.
        assert sum("Amal" in (m.text or "") for m in amina.received()) == 2

        clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        first = await amal.wait_for_message(lambda m: m.text == "هل أنت هنا؟")
        second = await amal.wait_for_message(lambda m: m.text == "الرسالة فيها موعد")
        assert first.message_id < second.message_id
        assert first.date == datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM)


async def test_close_feedback_and_thanks(sqlite_url: str, redis, redis_key_prefix: str) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)

        await amal.send_text("/mine")
        listing = await amal.wait_for_message(lambda m: m.reply_markup is not None)
        button = listing.reply_markup[0][0].text if listing.reply_markup else ""
        label = button.split(":")[0].strip("\u2068\u2069")
        assert label.startswith("#")
        await amal.press(button)
        await amal.wait_for_message(lambda m: m.text == notices.conversation_selected(DUTCH, label))
        await amal.send_text("Stuur me de tweede pagina ook")
        await amina.wait_for_message(lambda m: m.text == "Stuur me de tweede pagina ook")

        await amina.send_text("/done")
        ask = await amina.wait_for_message(
            lambda m: m.text == notices.conversation_closed_ask_feedback(ARABIC)
        )
        assert ask.reply_markup is not None
        await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(DUTCH, label)
        )
        await amina.press("👍")
        await amal.wait_for_message(lambda m: m.text == notices.thanks_from_newcomer(DUTCH, label))
        await amina.wait_for_message(lambda m: m.text == notices.feedback_thanks_ask_words(ARABIC))
        await amina.send_text("شكرا كتير، فهمت الرسالة")
        await amina.wait_for_message(lambda m: m.text == notices.feedback_received(ARABIC))
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        assert (conversation.status, conversation.feedback) == ("closed", "up")
        sealed = conversation.feedback_comment_encrypted
        assert bot.services.handover.cipher.unseal(sealed) == "شكرا كتير، فهمت الرسالة"
        assert not conversation.feedback_pending


async def test_handback_goes_to_another_sleutelpersoon_with_the_note(
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

        await amal.send_text("/handback")
        await amal.wait_for_message(lambda m: m.text == notices.handback_usage(DUTCH))
        await amal.send_text("/handback kent iemand die veel van schulden weet")
        await amina.wait_for_message(lambda m: m.text == notices.handed_back_to_newcomer(ARABIC))
        offer = await karim.wait_for_message(is_offer)
        assert offer.text is not None and "kent iemand die veel van schulden weet" in offer.text
        await karim.press(ACCEPT)
        # The new helper gets the newcomer's original question too.
        await karim.wait_for_message(lambda m: m.photo is not None)
        await amina.wait_for_message(lambda m: "Karim" in (m.text or ""))


async def test_away_until_a_date_holds_new_questions(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post",))
        await amal.send_text("/away gisteren")
        await amal.wait_for_message(lambda m: m.text == notices.away_usage(DUTCH))
        # A year at most: longer leave is the coordinator's to record (and far dates bounded).
        await amal.send_text("/away 9999-12-31")
        await amal.wait_for_message(
            lambda m: m.text == notices.away_too_long(DUTCH, date(2027, 12, 8))
        )
        async with bot.services.sessions() as session:
            person = await session.scalar(select(Sleutelpersoon))
        assert person is not None and person.away_until is None
        await amal.send_text("/away 2026-12-09")
        await amal.wait_for_message(
            lambda m: m.text == notices.away_until(DUTCH, date(2026, 12, 9))
        )

        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await ask_with_photo(amina, ARABIC.gettext("✉️ Letter"))
        await amina.wait_for_message(
            lambda m: (
                ARABIC.format_datetime(datetime(2026, 12, 10, 9, 0, tzinfo=AMSTERDAM))
                in (m.text or "")
            )
        )
        assert not any(is_offer(m) for m in amal.received())

        await amal.send_text("/hours")
        hours = await amal.wait_for_message(lambda m: "09:00" in (m.text or ""))
        assert hours.text is not None and "donderdag 10 december" in hours.text


async def test_invite_link_connects_once_and_expires(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        async with bot.services.sessions.begin() as session:
            profile = NewProfile(
                display_name="Hawa", languages=("ti",), domains=("health",),
                windows=parse_weekly_hours(WORKDAYS), locale="ti",
            )  # fmt: skip
            _, token = create_sleutelpersoon(session, clock.now(), profile)
            _, stale = create_sleutelpersoon(session, clock.now() - timedelta(days=8), profile)
        hawa = sandbox.add_user("Hawa", "ti")
        await hawa.send_text(f"/start {token}")
        await hawa.wait_for_message(lambda m: m.text == notices.invite_welcome(TEXTS["ti"], "Hawa"))
        intruder = sandbox.add_user("Someone", "en")
        await intruder.send_text(f"/start {token}")
        await intruder.wait_for_message(lambda m: m.text == notices.invite_invalid(TEXTS["en"]))
        await intruder.send_text(f"/start {stale}")
        await intruder.wait_for_message(lambda m: m.text == notices.invite_invalid(TEXTS["en"]))
        # A deep link that is no invite (a poster's campaign link) starts the newcomer flow.
        newcomer = sandbox.add_user("Newcomer", "ar")
        await newcomer.send_text("/start poster-utrecht-centraal")
        choice = await newcomer.wait_for_message(lambda m: m.reply_markup is not None)
        assert choice.text is not None and choice.text.startswith(
            ARABIC.gettext("Choose your language")
        )


async def test_preferences_choose_who_helps_and_waiting_messages_join_the_question(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        karim = sandbox.add_user("Karim", "nl")
        amal = sandbox.add_user("Amal", "nl")
        hiba = sandbox.add_user("Hiba", "nl")
        common = {"languages": ("ar",), "domains": ("post",)}
        await add_sleutelpersoon(bot, karim, WORKDAYS, gender="m", circle="Tilburg", **common)
        await add_sleutelpersoon(bot, amal, WORKDAYS, gender="f", circle="Tilburg", **common)
        await add_sleutelpersoon(
            bot, hiba, "sat 10:00-12:00", gender="f", circle="Utrecht", **common
        )
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await amina.send_text("/preferences")
        await amina.wait_for_message(lambda m: m.text == notices.preferences_gender(ARABIC))
        await amina.press(ARABIC.gettext("A woman"))
        await amina.wait_for_message(lambda m: m.text == notices.preferences_circle(ARABIC))
        await amina.press("Tilburg")
        await amina.wait_for_message(lambda m: m.text == notices.preferences_saved(ARABIC))

        # Only Hiba fits (a woman, not from Tilburg), and she is in on Saturday morning.
        await ask_with_photo(amina, ARABIC.gettext("✉️ Letter"))
        saturday = datetime(2026, 12, 12, 10, 0, tzinfo=AMSTERDAM)
        await amina.wait_for_message(lambda m: ARABIC.format_datetime(saturday) in (m.text or ""))
        await amina.send_text("والرسالة لازم رد عليها قبل الجمعة")
        await amina.wait_for_message(lambda m: m.text == notices.added_to_question(ARABIC))

        clock.set(saturday)
        await bot.tick()
        await hiba.wait_for_message(is_offer)
        await hiba.press(ACCEPT)
        await hiba.wait_for_message(lambda m: m.photo is not None)
        await hiba.wait_for_message(lambda m: m.text == "والرسالة لازم رد عليها قبل الجمعة")
        assert not any(is_offer(m) for m in karim.received() + amal.received())


MARKER = "MARKER-7f3a لا تسجلني ሚስጥር"


async def test_texts_are_stored_encrypted_readable_in_a_transcript_and_never_logged(
    sqlite_url: str, redis, redis_key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        await amina.send_text(f"newcomer {MARKER}")
        await amal.wait_for_message(lambda m: m.text == f"newcomer {MARKER}")
        await amal.send_text(f"helper {MARKER}")
        await amina.wait_for_message(lambda m: m.text == f"helper {MARKER}")

        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None
            cipher = MessageCipher.from_settings(cfg)
            transcript = await read_transcript(session, conversation.id, cipher)
            raw = (
                await session.execute(text("SELECT body_encrypted FROM conversation_messages"))
            ).all()
        assert [(e.author, e.kind, e.text) for e in transcript] == [
            ("newcomer", "photo", None),
            ("newcomer", "text", f"newcomer {MARKER}"),
            ("sleutelpersoon", "text", f"helper {MARKER}"),
        ]
        assert raw and all("MARKER" not in (row[0] or "") for row in raw)
    database_file = Path(sqlite_url.removeprefix("sqlite:///"))
    database_bytes = await asyncio.to_thread(database_file.read_bytes)
    assert b"MARKER-7f3a" not in database_bytes
    assert "MARKER" not in caplog.text
    assert caplog.records  # the bot did log, just not the content


async def test_an_emergency_at_night_gets_help_at_once_and_no_volunteer_is_woken(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    saturday_night = datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), saturday_night) as (
            sandbox,
            clock,
            cfg,
        ),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post", "health"))
        amina = sandbox.add_user("Amina", "ar")
        # Before consent, too: the help numbers come first.
        await amina.send_text("زوجي عم يضربني وهددني بالسكين")
        await amina.wait_for_message(lambda m: m.text == notices.emergency_help(ARABIC))
        await amina.wait_for_message(lambda m: m.find_button("العربية") is not None)
        await onboard(amina, "العربية")
        await amina.send_text("زوجي عم يضربني وهددني بالسكين")
        await amina.wait_for_message(lambda m: m.text == notices.emergency_help(ARABIC))
        # Then she is invited to write any question she also has: a new one, which waits for
        # office hours; the emergency stays with the coordinators.
        await amina.wait_for_message(lambda m: m.text == notices.after_emergency_help(ARABIC))
        await amina.send_text("بدي موعد عند الدكتور")
        await amina.wait_for_message(lambda m: m.text == notices.nlu_unavailable(ARABIC))
        await amina.press(ARABIC.gettext("🏥 Health"))
        await amina.wait_for_message(
            lambda m: "112" in (m.text or "") and "09:00" in (m.text or "")
        )
        await bot.tick()
        assert amal.received() == []
        async with bot.services.sessions() as session:
            emergency, question = (
                await session.scalars(select(HelpRequest).order_by(HelpRequest.id))
            ).all()
        assert emergency.urgent and emergency.status == "emergency"
        assert not question.urgent and question.domain == "health"


async def test_signals_from_practice(sqlite_url: str, redis, redis_key_prefix: str) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await open_conversation(sandbox, bot, amal)
        await amal.send_text("/signal")
        await amal.wait_for_message(lambda m: m.text == notices.signal_usage(DUTCH))
        await amal.send_text("/signal Veel   CJIB-boetes")
        await amal.wait_for_message(lambda m: m.text == notices.signal_saved(DUTCH, "#1"))
        async with bot.services.sessions() as session:
            signal = await session.scalar(select(Signal))
        assert signal is not None and signal.text_encrypted is not None
        text = bot.services.handover.cipher.decrypt(signal.text_encrypted)
        assert (text, Signal.key_of(text)) == ("Veel CJIB-boetes", "veel cjib-boetes")


async def test_the_coordinator_on_call_is_alerted_of_an_emergency(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    saturday_night = datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), saturday_night) as (
            sandbox,
            clock,
            cfg,
        ),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        on_call = sandbox.add_user("Anna", "nl")
        off_duty = sandbox.add_user("Bert", "nl")
        async with bot.services.sessions.begin() as session:
            organisation = Organisation(name="Gemeente Tilburg", created_at=clock.now())
            session.add(organisation)
            await session.flush()
            for user, hours in (
                (on_call, "sat-sun 00:00-24:00"),
                (off_duty, "mon-fri 09:00-17:00"),
            ):
                session.add(
                    Coordinator(
                        organisation_id=organisation.id,
                        email=f"{user.first_name}@tilburg.nl",
                        display_name=user.first_name,
                        password_hash="-",
                        role="coordinator",
                        locale="nl",
                        active=True,
                        created_at=clock.now(),
                        telegram_user_id=user.id,
                        on_call_hours=hours,
                    )
                )
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await amina.send_text("ما بدي عيش بعد اليوم")
        await amina.wait_for_message(lambda m: m.text == notices.emergency_help(ARABIC))
        alert = await on_call.wait_for_message()
        assert alert.text == notices.urgent_alert(DUTCH, 1, "ar")
        assert "ما بدي" not in (alert.text or "")  # the alert carries no message content
        await amina.send_text("الله يخليكم ساعدوني ما بدي عيش")
        await amina.wait_for_message(lambda m: m.text == notices.emergency_help(ARABIC))
        await bot.tick()
        assert len(on_call.received()) == 1  # one alert per emergency, not per message
        assert off_duty.received() == []


async def test_each_reply_reaches_its_own_conversation_and_a_closed_one_nobody(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post",))
        amina, amina_letter = await join_conversation(sandbox, amal, "Amina")
        first_header = notices.conversation_header(DUTCH, "#1", "ar", "post")
        assert first_header in [m.text for m in amal.received()]  # alone: nothing to add
        # Accepting a second question says where plain messages go now, and how to reach #1.
        hamid, hamid_letter = await join_conversation(sandbox, amal, "Hamid")
        second_header = (
            notices.conversation_header(DUTCH, "#2", "ar", "post")
            + "\n\n"
            + notices.plain_messages_go_to(DUTCH, "#2", ["#1"])
        )
        await amal.wait_for_message(lambda m: m.text == second_header)

        await amal.send_text("Voor de nieuwste")
        own = await amal.send_text("Voor Amina", reply_to=amina_letter.message_id)
        await amal.send_text("Voor Hamid", reply_to=hamid_letter.message_id)
        await hamid.wait_for_message(lambda m: m.text == "Voor de nieuwste")
        await amina.wait_for_message(lambda m: m.text == "Voor Amina")
        await hamid.wait_for_message(lambda m: m.text == "Voor Hamid")

        await amina.send_text("/done")
        await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(DUTCH, "#1")
        )
        refused = notices.conversation_not_open(DUTCH, "#1")
        # Replies to the newcomer's letter and to Amal's own message in #1: neither goes to
        # Hamid, the selected and only open conversation; both are refused, and so is /close.
        await amal.send_text("Nog één ding", reply_to=amina_letter.message_id)
        await amal.wait_for_message(lambda m: m.text == refused)
        await amal.send_text("En nog iets", reply_to=own.message_id)
        await amal.wait_for_message(lambda m: m.text == refused)
        await amal.send_text("/close", reply_to=amina_letter.message_id)
        await amal.wait_for_message(lambda m: m.text == refused)
        # A closed conversation can still be tagged with a signal by replying to it.
        await amal.send_text("/signal veel CJIB-boetes", reply_to=amina_letter.message_id)
        await amal.wait_for_message(lambda m: m.text == notices.signal_saved(DUTCH, "#1"))
        await bot.tick()

        assert [m.text for m in amina.received()].count("Voor Amina") == 1
        assert not {"Voor Amina", "Nog één ding", "En nog iets"} & {
            m.text for m in hamid.received()
        }
        assert not {"Voor Hamid", "Nog één ding", "En nog iets"} & {
            m.text for m in amina.received()
        }
        async with bot.services.sessions() as session:
            statuses = (
                await session.scalars(select(Conversation.status).order_by(Conversation.id))
            ).all()
            signal = await session.scalar(select(Signal))
        assert statuses == ["closed", "open"]
        assert signal is not None and signal.conversation_id == 1


@asynccontextmanager
async def amal_helping_amina(
    database_url: str, redis_key_prefix: str
) -> AsyncIterator[tuple[ManualClock, BotProcess, SimUser, SimUser]]:
    """A bot against the sandbox on Tuesday 10:00, with Amal (nl) helping Amina (ar) in an
    open conversation."""
    async with (
        world(database_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        yield clock, bot, amal, amina


WORDS = "شكرا، ساعدتني كتير"


@pytest.mark.parametrize(
    ("rated_after", "written_after", "asked_for_words", "taken_as_words"),
    [
        (timedelta(minutes=5), timedelta(minutes=59), True, True),
        (timedelta(minutes=5), timedelta(hours=2), True, False),
        (timedelta(hours=2), timedelta(hours=2, minutes=1), False, False),
    ],
    ids=["words-within-the-hour", "words-too-late", "rated-too-late"],
)
async def test_words_of_feedback_only_within_an_hour_after_closing(
    sqlite_url: str,
    redis,
    redis_key_prefix: str,
    rated_after: timedelta,
    written_after: timedelta,
    asked_for_words: bool,
    taken_as_words: bool,
) -> None:
    async with amal_helping_amina(sqlite_url, redis_key_prefix) as (clock, bot, _, amina):
        await amina.send_text("/done")
        await amina.wait_for_message(
            lambda m: m.text == notices.conversation_closed_ask_feedback(ARABIC)
        )
        clock.set(TUESDAY_10 + rated_after)
        await amina.press("👍")
        thanks = (
            notices.feedback_thanks_ask_words(ARABIC)
            if asked_for_words
            else notices.feedback_received(ARABIC)
        )
        await amina.wait_for_message(lambda m: m.text == thanks)

        clock.set(TUESDAY_10 + written_after)
        await amina.send_text(WORDS)
        if taken_as_words:
            await amina.wait_for_message(lambda m: m.text == notices.feedback_received(ARABIC))
        else:
            # Rasa is unreachable here, so a new question is asked about with buttons.
            await amina.wait_for_message(lambda m: m.text == notices.nlu_unavailable(ARABIC))
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
            requests = (await session.scalars(select(HelpRequest).order_by(HelpRequest.id))).all()
        assert conversation is not None and conversation.feedback == "up"
        assert not conversation.feedback_pending
        assert len(requests) == (1 if taken_as_words else 2)


async def test_a_sleutelpersoon_is_told_the_truth_about_privacy_delete_and_signal(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        person_id = await add_sleutelpersoon(
            bot, amal, WORKDAYS, languages=("ar",), domains=("post",)
        )
        await amal.send_text("/privacy")
        await amal.wait_for_message(
            lambda m: m.text == notices.privacy_for_sleutelpersoon(DUTCH, 90)
        )
        await amal.send_text("/delete")
        await amal.wait_for_message(lambda m: m.text == notices.delete_is_for_newcomers(DUTCH))
        await amal.send_text("/signal veel CJIB-boetes")
        await amal.wait_for_message(lambda m: m.text == notices.signal_which(DUTCH))
        await bot.tick()
        assert not any(m.reply_markup for m in amal.received())  # no delete button offered
        async with bot.services.sessions() as session:
            person = await session.get(Sleutelpersoon, person_id)
            signals = (await session.scalars(select(Signal))).all()
        assert person is not None and person.telegram_user_id == amal.id and person.active
        assert signals == []


async def test_a_newcomer_saying_they_are_done_is_asked_before_closing(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with amal_helping_amina(sqlite_url, redis_key_prefix) as (_, bot, amal, amina):
        question = notices.close_this_conversation(ARABIC)

        await amina.send_text("شكرا، هذا كل شي")
        await amal.wait_for_message(lambda m: m.text == "شكرا، هذا كل شي")  # passed on
        await amina.wait_for_message(lambda m: m.text == question and m.reply_markup is not None)
        await amina.press(ARABIC.gettext("↩️ No, keep it open"))
        await amina.wait_for_message(lambda m: m.text == notices.conversation_stays_open(ARABIC))

        # A longer message that mentions finishing is just passed on.
        longer = "انتهيت من تعبئة الاستمارة بس عندي سؤال عن الموعد"
        await amina.send_text(longer)
        await amal.wait_for_message(lambda m: m.text == longer)
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.status == "open"

        await amina.send_text("خلصت، شكرا كتير")
        await amina.wait_for_message(lambda m: m.text == question and m.reply_markup is not None)
        await amina.press(ARABIC.gettext("✅ Yes, close it"))
        await amina.wait_for_message(
            lambda m: m.text == notices.conversation_closed_ask_feedback(ARABIC)
        )
        await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(DUTCH, "#1")
        )
        assert [m.text for m in amina.received()].count(question) == 2
