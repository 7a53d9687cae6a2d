"""The no-token run's sandbox keeps its world in the data folder: after a restart of the
sandbox and the bot, a user from before is answered at once (update ids continue above the
handled ones in the bot's inbox) and a new user is new to the bot (a fresh user id)."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import LANGUAGE_ENDONYMS
from bot.storage import migrate
from sandbox import Sandbox

from .kit import ManualClock, bot_process, bot_settings
from .test_conversation import TUESDAY_10, rasa_nowhere
from .test_onboarding import is_language_choice, language_buttons


async def test_after_a_restart_a_known_user_is_answered_at_once_and_a_new_one_is_new(
    sqlite_url: str, redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    migrate(sqlite_url)
    clock = ManualClock(TUESDAY_10)
    settings = bot_settings(sqlite_url, redis_key_prefix, rasa_nowhere())
    state = tmp_path / "sandbox-world.json"
    async with (
        Sandbox(clock=clock.now, state_path=state) as sandbox,
        bot_process(settings, sandbox, clock),
    ):
        amina = sandbox.add_user("Amina", "ar")
        await amina.send_text("/start")
        await amina.wait_for_message(is_language_choice)
        await amina.press(LANGUAGE_ENDONYMS["ar"])
        await amina.wait_for_message(lambda m: m.reply_markup is not None)
        seen = max(message.message_id for message in amina.received())

    async with (
        Sandbox(clock=clock.now, state_path=state) as sandbox,
        bot_process(settings, sandbox, clock),
    ):
        amina = sandbox.user(amina.id)
        await amina.send_text("/start")
        # Answered, not ignored as an update the inbox handled before the restart.
        await amina.wait_for_message(lambda m: m.message_id > seen, timeout=5)
        # Not Amina to the bot, who chose Arabic: his own language is offered first.
        yonas = sandbox.add_user("Yonas", "ti")
        await yonas.send_text("/start")
        choice = await yonas.wait_for_message(is_language_choice, timeout=5)
        assert language_buttons(choice)[0] == LANGUAGE_ENDONYMS["ti"]
