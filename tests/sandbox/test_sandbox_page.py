"""The chat page: its JSON API, and the page itself in Debian's Chromium through Playwright."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, FilePayload, expect
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from sandbox import Sandbox, make_png
from tests.sandbox.sandbox_testkit import AnyHandler, polling_application

SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "sandbox-page.png"
LANGUAGE_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("English", callback_data="lang:en"),
            InlineKeyboardButton("العربية", callback_data="lang:ar"),
        ],
        [InlineKeyboardButton("Website", url="https://example.org")],
    ]
)


def echo_bot_handlers() -> list[AnyHandler]:
    """A tiny bot: greets on /start, echoes text with a language keyboard, returns photos."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Welkom! Schrijf iets.")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        if message.photo:
            await message.reply_photo(message.photo[-1].file_id, caption="Foto ontvangen")
            return
        await context.bot.send_chat_action(message.chat_id, "typing")
        await message.reply_text(
            f"<b>Echo</b>: {message.text}", parse_mode="HTML", reply_markup=LANGUAGE_KEYBOARD
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Taal opgeslagen")
        await query.edit_message_text(f"Gekozen: {query.data}", reply_markup=LANGUAGE_KEYBOARD)

    return [
        CommandHandler("start", start),
        MessageHandler(filters.TEXT | filters.PHOTO, echo),
        CallbackQueryHandler(choose),
    ]


async def test_page_api_creates_users_and_chats(sandbox: Sandbox) -> None:
    async with (
        polling_application(sandbox, echo_bot_handlers()),
        httpx.AsyncClient(base_url=sandbox.url, trust_env=False, timeout=10) as client,
    ):
        page = await client.get("/")
        assert page.status_code == 200
        assert 'dir="auto"' in page.text
        assert (await client.get("/static/app.js")).status_code == 200

        created = await client.post(
            "/sandbox/api/users", json={"first_name": "Amina", "language_code": "ar"}
        )
        user = created.json()
        assert (user["first_name"], user["language_code"], user["has_started"]) == (
            "Amina",
            "ar",
            False,
        )
        state = (await client.get("/sandbox/api/state", params={"user": user["id"]})).json()

        # The long poll answers as soon as the bot has replied.
        waiting = asyncio.create_task(
            client.get(
                "/sandbox/api/state",
                params={"user": user["id"], "since": state["version"], "wait": 10},
            )
        )
        await client.post(f"/sandbox/api/users/{user['id']}/messages", json={"text": "/start"})
        await sandbox.user(user["id"]).wait_for_message(lambda m: "Welkom" in (m.text or ""))
        assert (await waiting).json()["version"] > state["version"]

        await client.post(f"/sandbox/api/users/{user['id']}/messages", json={"text": "سلام"})
        amina = sandbox.user(user["id"])
        echoed = await amina.wait_for_message(lambda m: m.reply_markup is not None)
        pressed = await client.post(
            f"/sandbox/api/users/{user['id']}/press",
            json={"message_id": echoed.message_id, "text": "English"},
        )
        assert pressed.status_code == 200
        await amina.wait_for_message(lambda m: m.text == "Gekozen: lang:en")

        png = make_png(6, 6)
        uploaded = await client.post(
            f"/sandbox/api/users/{user['id']}/files",
            data={"kind": "photo", "caption": "brief"},
            files={"file": ("brief.png", png, "image/png")},
        )
        assert uploaded.status_code == 200
        photo_reply = await amina.wait_for_message(lambda m: m.photo is not None)
        assert photo_reply.photo is not None
        served = await client.get(f"/sandbox/api/files/{photo_reply.photo[-1].file_id}")
        assert served.content == png

        chat = (await client.get("/sandbox/api/state", params={"user": user["id"]})).json()["chat"]
        assert chat["messages"][1]["text"] == "Welkom! Schrijf iets."
        assert chat["callback_answers"][0]["text"] == "Taal opgeslagen"
        bad_press = await client.post(
            f"/sandbox/api/users/{user['id']}/press", json={"message_id": 1, "text": "Nope"}
        )
        assert bad_press.status_code == 400


@pytest.mark.browser
async def test_chat_page_in_chromium(sandbox: Sandbox, chromium: Browser) -> None:
    async with polling_application(sandbox, echo_bot_handlers()):
        page = await chromium.new_page(viewport={"width": 1100, "height": 800})
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        await page.goto(sandbox.page_url)

        # Create an Arabic-speaking newcomer; like on Telegram she first presses START.
        await page.fill("input[name=first_name]", "أمينة")
        await page.fill("input[name=language_code]", "ar")
        await page.click("#new-user-form button[type=submit]")
        await page.wait_for_url("**/?user=*")
        await page.click("#start-button")
        await expect(page.locator(".from-bot .text").first).to_have_text("Welkom! Schrijf iets.")

        await page.fill("#message-input", "عندي رسالة من البلدية")
        await page.press("#message-input", "Enter")
        own_bubble = page.locator(".from-user .text", has_text="عندي رسالة من البلدية")
        await expect(own_bubble).to_have_css("direction", "rtl")
        await expect(page.locator("#message-input")).to_have_attribute("dir", "auto")
        echo = page.locator(".from-bot .text", has_text="Echo: عندي رسالة من البلدية")
        await expect(echo).to_have_css("direction", "ltr")
        await expect(echo.locator("b")).to_have_text("Echo")

        await page.locator(".inline-keyboard button", has_text="العربية").click()
        await expect(page.locator(".from-bot .text", has_text="Gekozen: lang:ar")).to_be_visible()
        await expect(page.locator("#toast")).to_have_text("Taal opgeslagen")

        photo: FilePayload = {
            "name": "brief.png",
            "mimeType": "image/png",
            "buffer": make_png(96, 64),
        }
        await page.set_input_files("#file-input", files=[photo])
        bot_photo = page.locator(".from-bot img.photo")
        await expect(bot_photo).to_be_visible()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('img.photo')]"
            ".every(image => image.complete && image.naturalWidth === 96)"
        )
        await expect(page.locator(".from-bot .caption")).to_have_text("Foto ontvangen")

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT))
        assert page_errors == []

    [amina] = [sandbox.user(user_id) for user_id in sandbox.world.users]
    assert amina.language_code == "ar"
    assert [m.text for m in amina.received()][:2] == ["Welkom! Schrijf iets.", "Gekozen: lang:ar"]
