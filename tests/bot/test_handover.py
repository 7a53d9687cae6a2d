"""The handover end to end: real PTB against the sandbox, real Rasa, Redis and a database,
under a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import notices
from bot.models import Conversation, HelpRequest, Offer, OfferStatus, Sleutelpersoon
from nlu.service import RasaServer
from sandbox import ChatMessage, SimUser, make_png

from .kit import TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
SATURDAY_23 = datetime(2026, 12, 5, 23, 0, tzinfo=AMSTERDAM)
WORKDAYS = "mon-fri 09:00-17:00"
ARABIC_POST_QUESTION = "وصلتني رسالة من البلدية وما فهمت شو بدهم مني"
TIGRINYA_HEALTH_QUESTION = "ሓኪም ክረክብ ደልየ ቆልዓይ ሓሚሙ"
ACCEPT = TEXTS["nl"].gettext("✅ Accept")
DECLINE = TEXTS["nl"].gettext("✖️ Decline")


def is_offer(message: ChatMessage) -> bool:
    return message.reply_markup is not None and message.find_button(ACCEPT) is not None


def texts_of(user: SimUser) -> list[str]:
    return [m.text or m.caption or "" for m in user.received()]


@pytest.mark.rasa
async def test_arabic_post_question_on_tuesday_is_offered_accepted_relayed_and_closed(
    database_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    """The whole way of a question, on both databases, routed by the real Rasa at the
    shipped confidence threshold: no domain button is pressed, so only Rasa chose "post"."""
    async with (
        world(database_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl", username="amal_private")
        tesfay = sandbox.add_user("Tesfay", "nl", username="tesfay_private")
        await add_sleutelpersoon(
            bot, amal, WORKDAYS, display_name="Amal",
            languages=("ar",), domains=("post", "finance"),
        )  # fmt: skip
        await add_sleutelpersoon(bot, tesfay, WORKDAYS, languages=("ti",), domains=("health",))
        amina = sandbox.add_user("Amina", "ar", username="amina_private")
        await onboard(amina, "العربية")

        await amina.send_text(ARABIC_POST_QUESTION)
        await amina.wait_for_message(
            lambda m: m.text == notices.someone_will_come(TEXTS["ar"], "ar")
        )
        offer = await amal.wait_for_message(is_offer)
        assert offer.text is not None
        assert "Arabisch" in offer.text and TEXTS["nl"].gettext("letters and forms") in offer.text

        await amal.press(ACCEPT)
        question = await amal.wait_for_message(lambda m: m.text == ARABIC_POST_QUESTION)
        assert question.forward_origin is None
        await amina.wait_for_message(
            lambda m: m.text is not None and "Amal" in m.text and "/done" in m.text
        )

        # Both ways, text and photo, through copies.
        letter = make_png(60, 80)
        await amina.send_photo(letter, caption="هاي الرسالة")
        copied_photo = await amal.wait_for_message(lambda m: m.photo is not None)
        assert copied_photo.caption == "هاي الرسالة"
        assert sandbox.file_bytes(copied_photo.photo[-1].file_id) == letter
        await amal.send_text("Ik lees de brief met je. Het is een afspraak op maandag.")
        await amina.wait_for_message(lambda m: m.text is not None and "maandag" in m.text)
        await amal.send_photo(make_png(20, 20), caption="zo vul je het in")
        await amina.wait_for_message(lambda m: m.caption == "zo vul je het in")

        # Nobody's identity crosses over: no usernames, no forwards, no other names.
        for message in amina.received():
            assert message.forward_origin is None
            assert "amal_private" not in (message.text or "") + (message.caption or "")
        for message in amal.received():
            assert message.forward_origin is None
            text = (message.text or "") + (message.caption or "")
            assert "Amina" not in text and "amina_private" not in text
        assert not any(r.method == "forwardMessage" for r in sandbox.requests)
        assert tesfay.received() == []
        async with bot.services.sessions() as session:
            request = await session.scalar(select(HelpRequest))
        assert request is not None and (request.language, request.domain) == ("ar", "post")

        await amina.send_text("/done")
        await amina.wait_for_message(
            lambda m: m.text == notices.conversation_closed_ask_feedback(TEXTS["ar"])
        )
        await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(TEXTS["nl"], "#1")
        )
        async with bot.services.sessions() as session:
            conversation = await session.scalar(select(Conversation))
        assert conversation is not None and conversation.status == "closed"


@pytest.mark.rasa
async def test_tigrinya_health_question_on_saturday_night_waits_for_monday(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, SATURDAY_23) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock) as bot,
    ):
        tesfay = sandbox.add_user("Tesfay", "ti")
        await add_sleutelpersoon(
            bot, tesfay, WORKDAYS, languages=("ti",), domains=("health",), locale="ti"
        )
        selam = sandbox.add_user("Selam", "ti")
        await onboard(selam, "ትግርኛ")
        await selam.send_text(TIGRINYA_HEALTH_QUESTION)
        told = await selam.wait_for_message(lambda m: "ሰኑይ 7 ታሕሳስ 09:00" in (m.text or ""))
        assert told.text is not None and "112" in told.text

        clock.set(datetime(2026, 12, 7, 8, 59, tzinfo=AMSTERDAM))
        await bot.tick()
        assert tesfay.received() == []

        clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        offer = await tesfay.wait_for_message(is_offer_in("ti"))
        assert offer.date == datetime(2026, 12, 7, 9, 0, tzinfo=AMSTERDAM)


def is_offer_in(locale: str):
    accept = TEXTS[locale].gettext("✅ Accept")
    return lambda m: m.reply_markup is not None and m.find_button(accept) is not None


@pytest.mark.rasa
async def test_decline_and_timeout_pass_on_then_the_coordinators_queue(
    sqlite_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock) as bot,
    ):
        first = sandbox.add_user("First", "nl")
        second = sandbox.add_user("Second", "nl")
        await add_sleutelpersoon(bot, first, WORKDAYS, languages=("ar",), domains=("post",))
        await add_sleutelpersoon(
            bot, second, WORKDAYS, languages=("ar",), domains=("post",),
            max_open_conversations=5,
        )  # fmt: skip
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await amina.send_text(ARABIC_POST_QUESTION)

        # Equal load: the lower id (first) comes first; a decline passes it on.
        await first.wait_for_message(is_offer)
        await first.press(DECLINE)
        await second.wait_for_message(is_offer)
        await first.wait_for_message(lambda m: m.text == notices.offer_declined(TEXTS["nl"]))

        # Ten minutes of office time without an answer: nobody is left -> coordinators.
        clock.advance(timedelta(minutes=9))
        await bot.tick()
        assert not any(
            m.text == notices.queued_for_coordinators(TEXTS["ar"]) for m in amina.received()
        )
        clock.advance(timedelta(minutes=1))
        await bot.tick()
        await amina.wait_for_message(
            lambda m: m.text == notices.queued_for_coordinators(TEXTS["ar"])
        )


@pytest.mark.rasa
async def test_first_accept_wins_and_the_other_offer_says_taken(
    database_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with (
        world(database_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock) as bot,
    ):
        first = sandbox.add_user("First", "nl")
        second = sandbox.add_user("Second", "nl")
        for person in (first, second):
            await add_sleutelpersoon(bot, person, WORKDAYS, languages=("ar",), domains=("post",))
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, "العربية")
        await amina.send_text(ARABIC_POST_QUESTION)
        await first.wait_for_message(is_offer)
        # The first offer times out but stays acceptable; the second goes out.
        clock.advance(timedelta(minutes=10))
        await bot.tick()
        await second.wait_for_message(is_offer)

        # Both press at once: the two updates arrive in one batch and the bot handles the two
        # chats side by side, each in its own transaction, so the accepts race in the database.
        await asyncio.gather(second.press(ACCEPT), first.press(ACCEPT))
        winner_id = await the_accepting_sleutelpersoon(bot)
        winner, loser = (first, second) if winner_id == first.id else (second, first)
        assert winner_id in {first.id, second.id}
        await loser.wait_for_message(lambda m: m.text == notices.offer_taken(TEXTS["nl"]))
        async with bot.services.sessions() as session:
            conversations = await session.scalar(select(func.count()).select_from(Conversation))
            statuses = sorted((await session.scalars(select(Offer.status))).all())
        assert conversations == 1
        assert statuses == [OfferStatus.ACCEPTED, OfferStatus.TAKEN]
        assert not any(m.text == notices.offer_taken(TEXTS["nl"]) for m in winner.received())


async def the_accepting_sleutelpersoon(bot: BotProcess, timeout: float = 20.0) -> int:  # noqa: ASYNC109
    """The Telegram id of whoever's accept made the conversation, once there is one."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with bot.services.sessions() as session:
            telegram_id = await session.scalar(
                select(Sleutelpersoon.telegram_user_id).join(
                    Conversation, Conversation.sleutelpersoon_id == Sleutelpersoon.id
                )
            )
        if telegram_id is not None:
            return telegram_id
        await asyncio.sleep(0.05)
    raise TimeoutError("no conversation was made from the two accepts")


@pytest.mark.rasa
async def test_a_pending_offer_times_out_once_across_a_restart(
    database_url: str, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with world(database_url, redis_key_prefix, rasa_server.url, TUESDAY_10) as (
        sandbox,
        clock,
        settings,
    ):
        first = sandbox.add_user("First", "nl")
        second = sandbox.add_user("Second", "nl")
        amina = sandbox.add_user("Amina", "ar")
        async with bot_process(settings, sandbox, clock) as bot:
            for person in (first, second):
                await add_sleutelpersoon(
                    bot, person, WORKDAYS, languages=("ar",), domains=("post",)
                )
            await onboard(amina, "العربية")
            await amina.send_text(ARABIC_POST_QUESTION)
            await first.wait_for_message(is_offer)

        clock.advance(timedelta(minutes=11))  # the bot is down when the timeout passes
        async with bot_process(settings, sandbox, clock) as restarted:
            await restarted.tick()
            await second.wait_for_message(is_offer)
            await restarted.tick()
            await restarted.tick()
        assert sum(is_offer(m) for m in second.received()) == 1
        assert sum(is_offer(m) for m in first.received()) == 1
