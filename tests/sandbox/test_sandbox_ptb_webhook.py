"""A real python-telegram-bot Application receiving updates by webhook from the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from sandbox import Sandbox
from tests.sandbox.sandbox_testkit import AnyApplication, build_application, free_port

SECRET = "s3cret"


@pytest.fixture
async def webhook_app(sandbox: Sandbox) -> AsyncIterator[tuple[AnyApplication, str]]:
    """An echo bot in webhook mode; yields the application and its webhook URL."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    application = build_application(sandbox, [MessageHandler(filters.TEXT, echo)])
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/telegram"
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=webhook_url,
            secret_token=SECRET,
        )
        try:
            yield application, webhook_url
        finally:
            await application.updater.stop()
            await application.stop()


async def test_updates_arrive_by_webhook(
    sandbox: Sandbox, webhook_app: tuple[AnyApplication, str]
) -> None:
    _application, webhook_url = webhook_app
    assert sandbox.world.webhook is not None
    assert sandbox.world.webhook.url == webhook_url
    assert sandbox.world.webhook.secret_token == SECRET

    amina = sandbox.add_user("Amina", language_code="ar")
    await amina.send_text("مرحبا")
    reply = await amina.wait_for_message(timeout=5)
    assert reply.text == "echo: مرحبا"
    assert not any(request.method == "getUpdates" for request in sandbox.requests)


async def test_ptb_refuses_posts_without_the_right_secret(
    sandbox: Sandbox, webhook_app: tuple[AnyApplication, str]
) -> None:
    _application, webhook_url = webhook_app
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1, "type": "private", "first_name": "Mallory"},
            "text": "forged",
        },
    }
    async with httpx.AsyncClient(trust_env=False) as client:
        missing = await client.post(webhook_url, json=update)
        wrong = await client.post(
            webhook_url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
        )
    assert missing.status_code == 403
    assert wrong.status_code == 403


async def test_sandbox_retries_until_the_webhook_accepts(
    sandbox: Sandbox, webhook_app: tuple[AnyApplication, str]
) -> None:
    application, webhook_url = webhook_app
    # With the wrong secret PTB answers 403, so the sandbox keeps the update and retries.
    await application.bot.set_webhook(webhook_url, secret_token="not-the-secret")
    amina = sandbox.add_user("Amina")
    await amina.send_text("hallo")

    def delivery_failed() -> bool:
        webhook = sandbox.world.webhook
        return webhook is not None and webhook.last_error_message is not None

    await sandbox.wait_until(delivery_failed, timeout=5)
    assert amina.received() == []
    info = await application.bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message is not None
    assert info.last_error_message.startswith("Wrong response from the webhook: 403")

    await application.bot.set_webhook(webhook_url, secret_token=SECRET)
    reply = await amina.wait_for_message(timeout=5)
    assert reply.text == "echo: hallo"
    assert (await application.bot.get_webhook_info()).pending_update_count == 0
