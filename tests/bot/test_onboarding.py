"""A newcomer's first steps in the sandbox: the language suggested and confirmed, the consent
text (what is kept, that health may be part of it, for how long), what a sleutelpersoon is,
/language at any time, refusing consent, and the command menu in each language.

No Rasa here (its URL points nowhere): nothing in these steps needs a classification.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select

from bot import notices
from bot.app import register_commands
from bot.i18n import LANGUAGE_ENDONYMS, SUPPORTED_LOCALES, isolate
from bot.models import HelpRequest, InboxUpdate, Newcomer, RequestMessage
from bot.profiles import NewProfile, create_sleutelpersoon
from matching.office_hours import parse_weekly_hours
from sandbox import ChatMessage, Sandbox, SimUser, make_png

from .kit import TEXTS, BotProcess, add_sleutelpersoon, bot_process, onboard, world
from .test_conversation import ARABIC, DUTCH, TUESDAY_10, WORKDAYS, rasa_nowhere

AGREE, DISAGREE = ARABIC.gettext("✅ I agree"), ARABIC.gettext("✖️ I do not agree")


def language_buttons(message: ChatMessage) -> list[str]:
    return [row[0].text for row in message.reply_markup or []]


def is_language_choice(message: ChatMessage) -> bool:
    return bool(message.reply_markup) and set(language_buttons(message)) == set(
        LANGUAGE_ENDONYMS.values()
    )


async def rows(bot: BotProcess, model: type) -> int:
    async with bot.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def write_and_answer_consent(newcomer: SimUser, text: str, answer: str) -> None:
    """A first message, Arabic confirmed, and the consent text answered."""
    await newcomer.send_text(text)
    await newcomer.wait_for_message(is_language_choice)
    await newcomer.press(LANGUAGE_ENDONYMS["ar"])
    await newcomer.wait_for_message(lambda m: m.reply_markup is not None)
    await newcomer.press(answer)


async def first_language_offered(user: SimUser) -> str:
    choice = await user.wait_for_message(is_language_choice)
    return language_buttons(choice)[0]


async def test_the_language_is_suggested_from_telegram_and_the_first_message_then_confirmed(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
        sandbox,
        clock,
        cfg,
    ):
        # The period in the consent text is the configured one, not a number in a msgid.
        cfg = cfg.model_copy(update={"retention_days": 30})
        async with bot_process(cfg, sandbox, clock):
            for language_code, expected in (("ar", "ar"), ("ti", "ti"), ("nl", "nl"), ("de", "en")):
                user = sandbox.add_user(f"Start-{language_code}", language_code)
                await user.send_text("/start")
                assert await first_language_offered(user) == LANGUAGE_ENDONYMS[expected]

            # Telegram says Dutch, but she writes Arabic first: Arabic is suggested, and she
            # still confirms it before the consent text comes.
            amina = sandbox.add_user("Amina", "nl")
            await amina.send_text("مرحبا، عندي سؤال عن رسالة")
            choice = await amina.wait_for_message(is_language_choice)
            assert language_buttons(choice)[0] == LANGUAGE_ENDONYMS["ar"]
            assert choice.text is not None
            assert choice.text.splitlines()[0] == ARABIC.gettext("Choose your language")
            assert not any(AGREE in language_buttons(m) for m in amina.received())

            await amina.press(LANGUAGE_ENDONYMS["ar"])
            consent = await amina.wait_for_message(lambda m: m.reply_markup is not None)
            assert consent.text == notices.consent_request(ARABIC, 30)
            assert isolate("30") in consent.text and "90" not in consent.text
            assert language_buttons(consent) == [AGREE, DISAGREE]

            # Writing again before agreeing brings the language choice again (her choice was
            # not stored), Arabic first, and from it the consent text.
            await amina.send_text("وين صار سؤالي؟")
            again = await amina.wait_for_message(is_language_choice)
            assert language_buttons(again)[0] == LANGUAGE_ENDONYMS["ar"]

            await amina.press(AGREE)
            await amina.wait_for_message(
                lambda m: m.text == notices.ask_your_question(ARABIC) and m.reply_markup is None
            )
            texts = [m.text for m in amina.received()]
            explained = texts.index(notices.what_is_a_sleutelpersoon(ARABIC))
            assert texts.index(notices.ask_your_question(ARABIC)) == explained + 1


async def test_language_changes_later_replies_at_any_time(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        sanne = sandbox.add_user("Sanne", "nl")
        await add_sleutelpersoon(bot, sanne, WORKDAYS, languages=("nl",), domains=("post",))
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, LANGUAGE_ENDONYMS["ar"])
        await amina.send_text("/language")
        # Her current language is suggested first.
        assert await first_language_offered(amina) == LANGUAGE_ENDONYMS["ar"]
        await amina.press(LANGUAGE_ENDONYMS["nl"])
        await amina.wait_for_message(
            lambda m: (
                m.text
                == DUTCH.gettext("Language: {language}").format(
                    language=isolate(LANGUAGE_ENDONYMS["nl"])
                )
            )
        )
        # Already agreed: no second consent, straight to the question, now in Dutch.
        await amina.wait_for_message(lambda m: m.text == notices.ask_your_question(DUTCH))
        await amina.send_photo(make_png(30, 40))
        buttons = await amina.wait_for_message(lambda m: m.text == notices.choose_domain(DUTCH))
        assert DUTCH.gettext("✉️ Letter") in language_buttons(buttons)
        await amina.press(DUTCH.gettext("✉️ Letter"))
        # The question now goes to someone who speaks Dutch, and she is told so in Dutch.
        await amina.wait_for_message(lambda m: m.text == notices.someone_will_come(DUTCH, "nl"))
        await sanne.wait_for_message(lambda m: m.reply_markup is not None)
        async with bot.services.sessions() as session:
            newcomer = await session.scalar(select(Newcomer))
        assert newcomer is not None and newcomer.locale == "nl"
        assert not any(
            m.text == notices.consent_request(DUTCH, cfg.retention_days) for m in amina.received()
        )


async def test_refusing_consent_keeps_nothing_and_says_what_happens(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amina = sandbox.add_user("Amina", "ar")
        await write_and_answer_consent(amina, "وصلتني رسالة من البلدية وما فهمت شو بدهم", DISAGREE)
        await amina.wait_for_message(lambda m: m.text == notices.consent_refused(ARABIC))

        assert await rows(bot, Newcomer) == 0
        assert await rows(bot, HelpRequest) == 0
        assert await rows(bot, RequestMessage) == 0
        async with bot.services.sessions() as session:
            kept = await session.scalar(
                select(func.count()).where(InboxUpdate.payload_encrypted.is_not(None))
            )
        assert kept == 0  # the stored updates are erased once handled

        # Writing again starts from the beginning, and agreeing then works as usual.
        await write_and_answer_consent(amina, "مرحبا", AGREE)
        await amina.wait_for_message(lambda m: m.text == notices.what_is_a_sleutelpersoon(ARABIC))
        assert await rows(bot, Newcomer) == 1


@asynccontextmanager
async def menus_registered(
    database_url: str, redis_key_prefix: str
) -> AsyncIterator[tuple[Sandbox, BotProcess]]:
    """A bot whose default menus (per Telegram interface language) are registered, as at
    start-up."""
    async with (
        world(database_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        await register_commands(bot.application)
        yield sandbox, bot


async def invite(bot: BotProcess, **profile: Any) -> str:
    """A sleutelpersoon profile not connected yet (health, on workdays); its invite token."""
    async with bot.services.sessions.begin() as session:
        _, token = create_sleutelpersoon(
            session,
            bot.services.clock.now(),
            NewProfile(domains=("health",), windows=parse_weekly_hours(WORKDAYS), **profile),
        )
    assert token is not None
    return token


async def test_the_command_menu_is_in_the_users_language(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with menus_registered(sqlite_url, redis_key_prefix) as (sandbox, _bot):
        for locale in SUPPORTED_LOCALES:
            user = sandbox.add_user(f"Menu-{locale}", locale)
            assert user.command_menu == notices.newcomer_commands(TEXTS[locale])
        assert dict(user.command_menu)["language"] == TEXTS["en"].gettext("Choose your language")
        # Telegram in a language we do not have: every description, each in its own language.
        other = sandbox.add_user("Menu-de", "de")
        command, description = other.command_menu[0]
        assert command == "start"
        for locale in SUPPORTED_LOCALES:
            assert isolate(TEXTS[locale].gettext("Start again")) in description


async def test_the_menu_follows_the_language_chosen_in_the_bot_until_delete(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with menus_registered(sqlite_url, redis_key_prefix) as (sandbox, _bot):
        # Her Telegram app is in English; she chooses Arabic in the bot.
        amina = sandbox.add_user("Amina", "en")
        english = notices.newcomer_commands(TEXTS["en"])
        assert amina.command_menu == english
        await onboard(amina, LANGUAGE_ENDONYMS["ar"])
        assert amina.command_menu == notices.newcomer_commands(ARABIC)
        # Someone else with an English app still sees the English menu: only her chat changed.
        assert sandbox.add_user("Other", "en").command_menu == english

        await amina.send_text("/language")
        await first_language_offered(amina)
        await amina.press(LANGUAGE_ENDONYMS["nl"])
        await amina.wait_for_message(lambda m: m.text == notices.ask_your_question(DUTCH))
        assert amina.command_menu == notices.newcomer_commands(DUTCH)

        await amina.send_text("/delete")
        await amina.wait_for_message(lambda m: m.text == notices.delete_confirm(DUTCH))
        await amina.press(DUTCH.gettext("🗑️ Yes, delete everything"))
        await amina.wait_for_message(lambda m: m.text == notices.deleted(DUTCH))
        # Her chat's own menu is gone: her app's language decides again.
        assert amina.command_menu == english


async def test_a_refused_consent_takes_the_chosen_menu_away_again(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock),
    ):
        amina = sandbox.add_user("Amina", "nl")
        assert amina.command_menu == []
        await write_and_answer_consent(amina, "مرحبا", AGREE)
        await amina.wait_for_message(lambda m: m.text == notices.ask_your_question(ARABIC))
        assert amina.command_menu == notices.newcomer_commands(ARABIC)
        hamid = sandbox.add_user("Hamid", "nl")
        await write_and_answer_consent(hamid, "مرحبا", DISAGREE)
        await hamid.wait_for_message(lambda m: m.text == notices.consent_refused(ARABIC))
        assert hamid.command_menu == []


async def test_a_sleutelpersoon_gets_their_commands_in_their_language_by_invite(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    async with menus_registered(sqlite_url, redis_key_prefix) as (sandbox, bot):
        token = await invite(bot, display_name="Hawa", languages=("ti",), locale="ti")
        # Her Telegram app is in English (Telegram has no Tigrinya interface).
        hawa = sandbox.add_user("Hawa", "en")
        assert hawa.command_menu == notices.newcomer_commands(TEXTS["en"])
        await hawa.send_text(f"/start {token}")
        await hawa.wait_for_message(lambda m: m.text == notices.invite_welcome(TEXTS["ti"], "Hawa"))
        menu = hawa.command_menu
        assert menu == notices.sleutelpersoon_commands(TEXTS["ti"])
        assert {"mine", "close", "handback", "away", "hours", "signal"} <= dict(menu).keys()
        assert "delete" not in dict(menu) and "done" not in dict(menu)

        await hawa.send_text("/language")
        await first_language_offered(hawa)
        await hawa.press(LANGUAGE_ENDONYMS["nl"])
        in_dutch = DUTCH.gettext("Language: {language}").format(
            language=isolate(LANGUAGE_ENDONYMS["nl"])
        )
        await hawa.wait_for_message(lambda m: m.text == in_dutch)
        assert hawa.command_menu == notices.sleutelpersoon_commands(DUTCH)


async def test_a_sleutelpersoon_added_already_connected_gets_their_commands(
    sqlite_url: str, redis, redis_key_prefix: str
) -> None:
    """Profiles made with a Telegram id (command line, the demo) skip the invite, not the menu."""
    async with menus_registered(sqlite_url, redis_key_prefix) as (sandbox, bot):
        amal = sandbox.add_user("Amal", "en")
        await add_sleutelpersoon(
            bot, amal, WORKDAYS, languages=("ar",), domains=("post",), locale="nl"
        )
        await bot.tick()
        assert amal.command_menu == notices.sleutelpersoon_commands(DUTCH)
