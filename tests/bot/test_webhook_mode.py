"""The real bot in webhook mode (`BOT_MODE=webhook`, as `sleutelbrug bot` runs it): it sets
its webhook with a secret token, a newcomer's /start reaches it through the sandbox's webhook
delivery and is answered, and a post without the right secret token is refused with 403 and
stores nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import select

from bot.cli import run_bot
from bot.intake import SECRET_HEADER, WEBHOOK_PATH
from bot.models import InboxUpdate
from bot.settings import BotMode, Settings, load_settings
from bot.storage import create_engine_for, session_factory
from nlu.service import free_port

from .kit import TEXTS, world
from .test_conversation import TUESDAY_10, rasa_nowhere

SECRET = "webhook-mode-test-secret"
ARRIVAL_TIMEOUT = 30.0


def webhook_settings(settings: Settings, port: int) -> Settings:
    return load_settings(
        **settings.model_dump(by_alias=True)
        | {
            "BOT_MODE": "webhook",
            "WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
    )


async def stored_updates(database_url: str) -> list[int]:
    engine = create_engine_for(database_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.scalars(select(InboxUpdate.update_id))).all())
    finally:
        await engine.dispose()


def forged_start(user_id: int) -> dict[str, Any]:
    """A /start as Telegram would post it, from someone who is not Telegram."""
    chat = {"id": user_id, "type": "private", "first_name": "Forger"}
    sender = {"id": user_id, "is_bot": False, "first_name": "Forger", "language_code": "ar"}
    message = {
        "message_id": 1,
        "date": int(TUESDAY_10.timestamp()),
        "chat": chat,
        "from": sender,
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": 990_001, "message": message}


async def test_webhook_mode_answers_through_the_webhook_and_refuses_forged_posts(
    postgres_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    port = free_port()
    async with world(postgres_url, redis_key_prefix, rasa_nowhere(), TUESDAY_10) as (
        sandbox,
        clock,
        cfg,
    ):
        settings = webhook_settings(cfg, port)
        assert settings.bot_mode is BotMode.WEBHOOK
        stop = asyncio.Event()
        bot = asyncio.create_task(
            run_bot(
                settings,
                stop,
                token=sandbox.token,
                base_url=sandbox.base_url,
                base_file_url=sandbox.base_file_url,
                clock=clock,
            )
        )
        try:
            await sandbox.wait_until(lambda: sandbox.world.webhook is not None, ARRIVAL_TIMEOUT)
            webhook = sandbox.world.webhook
            assert webhook is not None
            assert webhook.url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            assert webhook.secret_token == SECRET

            amina = sandbox.add_user("Amina", "ar")
            await amina.send_text("/start")
            choice = await amina.wait_for_message(
                lambda m: m.reply_markup is not None, timeout=ARRIVAL_TIMEOUT
            )
            assert choice.text is not None
            assert TEXTS["ar"].gettext("Choose your language") in choice.text
            # Telegram's deliveries carried the secret and were all accepted.
            assert not sandbox.world.pending_updates
            assert webhook.last_error_message is None
            delivered = await stored_updates(postgres_url)
            assert len(delivered) == 1

            forged = forged_start(user_id=777_001)
            refusals = []
            async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
                for headers in ({}, {SECRET_HEADER: "not-the-secret"}, {SECRET_HEADER: ""}):
                    response = await client.post(
                        f"http://127.0.0.1:{port}{WEBHOOK_PATH}", json=forged, headers=headers
                    )
                    refusals.append(response.status_code)
            assert refusals == [403, 403, 403]
            assert await stored_updates(postgres_url) == delivered
        finally:
            stop.set()
            await asyncio.wait_for(bot, ARRIVAL_TIMEOUT)
        # The bot never wrote to the forger.
        assert not [r for r in sandbox.requests if r.params.get("chat_id") == 777_001]
