"""End to end: the real PTB Application, run by `bot.cli.run_bot`, against the sandbox Telegram,
with the real Rasa server, this machine's Redis and a fresh SQLite database.

A newcomer chooses a language, asks a question, and hears in their language what the bot
understood; without text, or without Rasa, they choose with buttons.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.cli import run_bot
from bot.i18n import load_all_texts
from bot.settings import Settings, load_settings
from bot.storage import migrate
from nlu.service import RasaServer, free_port
from sandbox import ChatMessage, Sandbox, SimUser, make_png

TEXTS = load_all_texts()
STOP_TIMEOUT = 15


def text_is(expected: str) -> Callable[[ChatMessage], bool]:
    return lambda message: message.text == expected


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Sandbox]:
    """The sandbox plus the bot process logic running against it until the block ends."""
    migrate(settings.effective_database_url)
    async with Sandbox(flood_limits=None, webhook_retry_delay=0.1) as sandbox:
        stop = asyncio.Event()
        bot = asyncio.create_task(
            run_bot(
                settings,
                stop,
                token=sandbox.token,
                base_url=sandbox.base_url,
                base_file_url=sandbox.base_file_url,
            )
        )
        try:
            await sandbox.wait_until(lambda: any(r.method == "getMe" for r in sandbox.requests))
            yield sandbox
        finally:
            stop.set()
            await asyncio.wait_for(bot, STOP_TIMEOUT)


def settings_for(tmp_path: Path, redis_key_prefix: str, rasa_url: str, **extra: str) -> Settings:
    return load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        REDIS_URL=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        REDIS_KEY_PREFIX=redis_key_prefix,
        RASA_URL=rasa_url,
        RASA_TIMEOUT_SECONDS="10",
        NLU_CONFIDENCE_THRESHOLD="0.3",
        **extra,
    )


async def choose_language(user: SimUser, button: str) -> None:
    await user.send_text("/start")
    prompt = await user.wait_for_message(lambda m: m.reply_markup is not None)
    assert button in [row[0].text for row in prompt.reply_markup or []]
    await user.press(button)


@pytest.mark.rasa
async def test_arabic_newcomer_chooses_language_and_gets_the_domain(
    tmp_path: Path, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    arabic = TEXTS["ar"]
    async with running_bot(settings_for(tmp_path, redis_key_prefix, rasa_server.url)) as sandbox:
        amina = sandbox.add_user(first_name="Amina", language_code="ar")
        await amina.send_text("/start")
        prompt = await amina.wait_for_message(lambda m: m.reply_markup is not None)
        # The language Telegram suggests comes first, each prompt line in its own language.
        assert [row[0].text for row in prompt.reply_markup or []] == [
            "العربية",
            "ትግርኛ",
            "Nederlands",
            "English",
        ]
        assert prompt.text is not None
        assert prompt.text.splitlines()[0] == arabic.gettext("Choose your language")
        await amina.press("العربية")
        await amina.wait_for_message(
            text_is(
                arabic.gettext(
                    "Welcome to Sleutelbrug. Write your question about a letter, money or "
                    "health in your own words."
                )
            )
        )
        await amina.send_text("وصلتني رسالة من البلدية ومو فاهمة شو لازم اعمل")
        await amina.wait_for_message(
            text_is(arabic.gettext("I understand: your question is about a letter or a form."))
        )


@pytest.mark.rasa
async def test_tigrinya_question_without_start_is_answered_in_tigrinya(
    tmp_path: Path, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    tigrinya = TEXTS["ti"]
    async with running_bot(settings_for(tmp_path, redis_key_prefix, rasa_server.url)) as sandbox:
        # Telegram says English, but the newcomer writes Ge'ez script.
        selam = sandbox.add_user(first_name="Selam", language_code="en")
        await selam.send_text("ሓኪም ክረክብ ደልየ ቆልዓይ ሓሚሙ")
        await selam.wait_for_message(
            text_is(
                tigrinya.gettext(
                    "I understand: your question is about health, such as a doctor or medicine."
                )
            )
        )


@pytest.mark.rasa
async def test_a_photo_gets_domain_buttons_in_the_chosen_language(
    tmp_path: Path, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    tigrinya = TEXTS["ti"]
    async with running_bot(settings_for(tmp_path, redis_key_prefix, rasa_server.url)) as sandbox:
        selam = sandbox.add_user(first_name="Selam", language_code="nl")
        await choose_language(selam, "ትግርኛ")
        await selam.send_photo(make_png(40, 30))
        buttons = await selam.wait_for_message(lambda m: m.reply_markup is not None)
        assert buttons.text == tigrinya.gettext("What is your question about? Tap a button.")
        labels = [row[0].text for row in buttons.reply_markup or []]
        assert labels == [
            tigrinya.gettext("✉️ Letter"),
            tigrinya.gettext("💶 Money"),
            tigrinya.gettext("🏥 Health"),
            tigrinya.gettext("❓ Other"),
        ]
        await selam.press(tigrinya.gettext("💶 Money"))
        await selam.wait_for_message(
            text_is(
                tigrinya.gettext(
                    "I understand: your question is about money, such as bills, debts or toeslagen."
                )
            )
        )


async def test_without_rasa_the_newcomer_chooses_with_buttons(
    tmp_path: Path, redis, redis_key_prefix: str
) -> None:
    dutch = TEXTS["nl"]
    rasa_down = f"http://127.0.0.1:{free_port()}"
    async with running_bot(settings_for(tmp_path, redis_key_prefix, rasa_down)) as sandbox:
        sanne = sandbox.add_user(first_name="Sanne", language_code="nl")
        for _ in range(2):  # the second message hits the pause, and is not lost either
            await sanne.send_text("Ik heb een brief gekregen")
            reply = await sanne.wait_for_message(lambda m: m.reply_markup is not None)
            assert reply.text == dutch.gettext(
                "I cannot read your message automatically right now. "
                "What is your question about? Tap a button."
            )
        await sanne.press(dutch.gettext("✉️ Letter"))
        await sanne.wait_for_message(
            text_is(dutch.gettext("I understand: your question is about a letter or a form."))
        )


@pytest.mark.rasa
async def test_emergency_gets_help_numbers_at_once(
    tmp_path: Path, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    async with running_bot(settings_for(tmp_path, redis_key_prefix, rasa_server.url)) as sandbox:
        user = sandbox.add_user(first_name="Sam", language_code="en")
        await user.send_text("my husband is beating me and I am scared he will kill me")
        reply = await user.wait_for_message()
        assert reply.text is not None and "112" in reply.text and "0800-2000" in reply.text


@pytest.mark.rasa
async def test_webhook_mode_with_secret_token(
    tmp_path: Path, redis, redis_key_prefix: str, rasa_server: RasaServer
) -> None:
    port = free_port()
    settings = settings_for(
        tmp_path,
        redis_key_prefix,
        rasa_server.url,
        BOT_MODE="webhook",
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET="test_secret-123",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    arabic = TEXTS["ar"]
    async with running_bot(settings) as sandbox:
        await sandbox.wait_until(lambda: any(r.method == "setWebhook" for r in sandbox.requests))
        set_webhook = next(r for r in sandbox.requests if r.method == "setWebhook")
        assert set_webhook.params["secret_token"] == "test_secret-123"
        amina = sandbox.add_user(first_name="Amina", language_code="ar")
        await amina.send_text("عندي موعد عند طبيب الأسنان وما عندي تأمين")
        await amina.wait_for_message(
            text_is(
                arabic.gettext(
                    "I understand: your question is about health, such as a doctor or medicine."
                )
            )
        )
        assert not any(r.method == "getUpdates" for r in sandbox.requests)
