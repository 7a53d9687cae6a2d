"""Issue 14 item 7: nothing about a person is stored before they agree to the consent text,
a `delete:yes` press erases only in answer to a /delete prompt, and one Telegram account has
one role (newcomer or sleutelpersoon): an invite that would give it a second profile or role
is answered clearly and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from bot import notices
from bot.i18n import LANGUAGE_ENDONYMS
from bot.models import Newcomer, Sleutelpersoon
from sandbox import Sandbox, SimUser

from .kit import (
    TEXTS,
    BotProcess,
    add_sleutelpersoon,
    bot_process,
    forge_callback,
    onboard,
    quiet,
    world,
)
from .test_conversation import ARABIC, DUTCH, TUESDAY_10, WORKDAYS, rasa_nowhere
from .test_onboarding import AGREE, invite, is_language_choice


@asynccontextmanager
async def running(
    database_url: str, redis_key_prefix: str
) -> AsyncIterator[tuple[Sandbox, BotProcess]]:
    """A bot on a Tuesday morning, without Rasa: nothing here needs a classification."""
    async with (
        world(database_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        yield sandbox, bot


async def newcomers(bot: BotProcess) -> list[Newcomer]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(Newcomer))).all())


async def test_nothing_is_stored_about_someone_who_never_consents(
    database_url: str, redis, redis_key_prefix: str
) -> None:
    async with running(database_url, redis_key_prefix) as (sandbox, bot):
        amina = sandbox.add_user("Amina", "ar")
        await amina.send_text("/privacy")
        # It says truthfully that nothing is kept yet.
        await amina.wait_for_message(lambda m: m.text == notices.privacy_before_consent(ARABIC))
        await amina.send_text("مرحبا، عندي سؤال")
        await amina.wait_for_message(is_language_choice)
        await amina.send_text("/preferences")
        await amina.wait_for_message(is_language_choice)
        await amina.press(LANGUAGE_ENDONYMS["ar"])
        await amina.wait_for_message(lambda m: m.text == notices.consent_request(ARABIC, 90))
        await amina.send_text("وين صار سؤالي؟")
        await quiet(bot, sandbox)
        assert await newcomers(bot) == []

        # Agreeing is what creates the row, with the language chosen before.
        await amina.press(AGREE)
        await amina.wait_for_message(lambda m: m.text == notices.ask_your_question(ARABIC))
        [kept] = await newcomers(bot)
        assert kept.telegram_user_id == amina.id and kept.locale == "ar"
        assert kept.consented_at == TUESDAY_10


async def test_a_delete_press_without_a_delete_prompt_erases_nothing(
    database_url: str, redis, redis_key_prefix: str
) -> None:
    async with running(database_url, redis_key_prefix) as (sandbox, bot):
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, LANGUAGE_ENDONYMS["ar"])
        query = forge_callback(sandbox, amina, "delete:yes")
        await sandbox.wait_until(lambda: query.answered)
        await quiet(bot, sandbox)
        assert query.answer_text == notices.not_understood_command(ARABIC)
        assert len(await newcomers(bot)) == 1
        assert not any(m.text == notices.deleted(ARABIC) for m in amina.received())

        # Asked with /delete, the same press erases; pressed again, it is no longer valid.
        await amina.send_text("/delete")
        await amina.wait_for_message(lambda m: m.text == notices.delete_confirm(ARABIC))
        await amina.press(ARABIC.gettext("🗑️ Yes, delete everything"))
        await amina.wait_for_message(lambda m: m.text == notices.deleted(ARABIC))
        assert await newcomers(bot) == []
        again = forge_callback(sandbox, amina, "delete:yes")
        await sandbox.wait_until(lambda: again.answered)
        assert again.answer_text == notices.not_understood_command(TEXTS["ar"])


async def sleutelpersoon_of(bot: BotProcess, user: SimUser) -> Sleutelpersoon | None:
    async with bot.services.sessions() as session:
        return await session.scalar(
            select(Sleutelpersoon).where(Sleutelpersoon.telegram_user_id == user.id)
        )


async def unconnected_profiles(bot: BotProcess) -> int:
    async with bot.services.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Sleutelpersoon.telegram_user_id.is_(None),
                    Sleutelpersoon.invite_token_hash.is_not(None),
                )
            )
            or 0
        )


async def test_a_sleutelpersoon_opening_another_organisations_invite_is_told_and_kept(
    database_url: str, redis, redis_key_prefix: str
) -> None:
    async with running(database_url, redis_key_prefix) as (sandbox, bot):
        sanne = sandbox.add_user("Sanne", "nl")
        await add_sleutelpersoon(
            bot, sanne, WORKDAYS, languages=("ar",), domains=("post",), locale="nl",
            organisation="Gemeente Tilburg",
        )  # fmt: skip
        token = await invite(
            bot, display_name="Sanne B", languages=("ar",), locale="nl",
            organisation="Vluchtelingenwerk",
        )  # fmt: skip
        await sanne.send_text(f"/start {token}")
        await quiet(bot, sandbox)
        assert not any(
            m.text and m.text.startswith(DUTCH.gettext("Sorry")) for m in sanne.received()
        )
        person = await sleutelpersoon_of(bot, sanne)
        assert person is not None and person.display_name == "Sanne"
        assert await unconnected_profiles(bot) == 1  # the invite still works for its owner
        told = notices.already_a_sleutelpersoon(DUTCH, "Gemeente Tilburg")
        assert "Gemeente Tilburg" in told
        await sanne.wait_for_message(lambda m: m.text == told)


async def test_a_newcomer_opening_an_invite_is_told_one_account_has_one_role(
    database_url: str, redis, redis_key_prefix: str
) -> None:
    async with running(database_url, redis_key_prefix) as (sandbox, bot):
        amina = sandbox.add_user("Amina", "ar")
        await onboard(amina, LANGUAGE_ENDONYMS["ar"])
        token = await invite(bot, display_name="Amina", languages=("ar",), locale="nl")
        await amina.send_text(f"/start {token}")
        await quiet(bot, sandbox)
        assert await sleutelpersoon_of(bot, amina) is None
        assert await unconnected_profiles(bot) == 1
        assert len(await newcomers(bot)) == 1
        await amina.wait_for_message(lambda m: m.text == notices.newcomer_cannot_join(ARABIC))
