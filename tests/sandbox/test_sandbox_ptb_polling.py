"""A real python-telegram-bot Application polling the sandbox."""

from __future__ import annotations

import asyncio

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox import Sandbox, make_png
from tests.sandbox.sandbox_testkit import polling_application

LANGUAGE_KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("English", callback_data="lang:en")],
        [InlineKeyboardButton("العربية", callback_data="lang:ar")],
    ]
)


async def test_start_command_button_press_and_edit(sandbox: Sandbox) -> None:
    received_queries: list[str] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        await update.message.reply_text(
            f"Welkom {update.effective_user.first_name}! Kies je taal.",
            reply_markup=LANGUAGE_KEYBOARD,
        )

    async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        received_queries.append(query.data)
        await query.answer("Opgeslagen")
        await query.edit_message_text(f"Taal: {query.data}")

    handlers = [CommandHandler("start", start), CallbackQueryHandler(choose)]
    async with polling_application(sandbox, handlers):
        amina = sandbox.add_user("Amina", language_code="ar")
        await amina.send_text("/start")
        welcome = await amina.wait_for_message(lambda m: "Welkom Amina" in (m.text or ""))
        assert welcome.reply_markup is not None
        assert [[button.text for button in row] for row in welcome.reply_markup] == [
            ["English"],
            ["العربية"],
        ]

        query = await amina.press("العربية")
        edited = await amina.wait_for_message(lambda m: m.text == "Taal: lang:ar")
        assert edited.message_id == welcome.message_id
        assert edited.reply_markup is None
        assert received_queries == ["lang:ar"]
        await sandbox.wait_until(lambda: query.answered)
        assert query.answer_text == "Opgeslagen"


async def test_photo_download_copy_and_forward(sandbox: Sandbox) -> None:
    downloads: list[bytes] = []

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.photo
        photo_file = await message.photo[-1].get_file()
        downloads.append(bytes(await photo_file.download_as_bytearray()))
        copied = await context.bot.copy_message(
            chat_id=message.chat_id, from_chat_id=message.chat_id, message_id=message.message_id
        )
        await message.reply_text(f"copy {copied.message_id}")
        await message.forward(message.chat_id)

    png = make_png(12, 8, (10, 120, 200))
    async with polling_application(sandbox, [MessageHandler(filters.PHOTO, on_photo)]):
        bram = sandbox.add_user("Bram", language_code="nl")
        sent = await bram.send_photo(png, caption="Mijn brief van de gemeente")
        copy = await bram.wait_for_message(
            lambda m: m.photo is not None and m.forward_origin is None
        )
        forwarded = await bram.wait_for_message(lambda m: m.forward_origin is not None)

    assert downloads == [png]
    assert sent.photo is not None and copy.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (12, 8)
    assert copy.photo[-1].file_id == sent.photo[-1].file_id
    assert copy.caption == "Mijn brief van de gemeente"
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin["sender_user"]["id"] == bram.id
    assert sandbox.file_bytes(copy.photo[-1].file_id) == png


async def test_bot_uploads_documents_voice_and_photos(sandbox: Sandbox) -> None:
    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        chat_id = update.message.chat_id
        await context.bot.send_chat_action(chat_id, "upload_document")
        await context.bot.send_document(chat_id, b"%PDF-1.4 sandbox", filename="uitleg.pdf")
        await context.bot.send_voice(chat_id, b"OggS voice", duration=3)
        await context.bot.send_photo(
            chat_id, make_png(2, 2), caption="<b>kaart</b>", parse_mode="HTML"
        )

    async with polling_application(sandbox, [MessageHandler(filters.TEXT, on_text)]):
        sara = sandbox.add_user("Sara", language_code="fa")
        await sara.send_text("stuur alles")
        document = await sara.wait_for_message(lambda m: m.document is not None)
        voice = await sara.wait_for_message(lambda m: m.voice is not None)
        photo = await sara.wait_for_message(lambda m: m.photo is not None)

    assert document.document is not None and document.document.file_name == "uitleg.pdf"
    assert sandbox.file_bytes(document.document.file_id) == b"%PDF-1.4 sandbox"
    assert voice.voice is not None and voice.voice.duration == 3
    assert photo.caption == "kaart"
    assert photo.caption_entities == [{"type": "bold", "offset": 0, "length": 5}]


@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
async def test_user_documents_voice_and_edits_reach_the_bot(sandbox: Sandbox) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if update.edited_message is not None:
            seen.append(f"edited:{message.text}")
        elif message.document is not None:
            document_file = await message.document.get_file()
            content = bytes(await document_file.download_as_bytearray())
            seen.append(f"document:{message.document.file_name}:{content.decode()}")
        elif message.voice is not None:
            seen.append(f"voice:{message.voice.duration}")
        else:
            seen.append(f"text:{message.text}")

    async with polling_application(sandbox, [MessageHandler(filters.ALL, record)]):
        amina = sandbox.add_user("Amina")
        await amina.send_document(b"brief", "brief.txt", mime_type="text/plain")
        await amina.send_voice(b"OggS", duration=4)
        sent = await amina.send_text("typo")
        await amina.edit_text(sent.message_id, "fixed")
        await sandbox.wait_until(lambda: len(seen) == 4)

    assert seen == ["document:brief.txt:brief", "voice:4", "text:typo", "edited:fixed"]


async def test_application_stops_without_refused_calls(sandbox: Sandbox) -> None:
    async with polling_application(sandbox, []):
        await asyncio.sleep(0.1)
    assert [request for request in sandbox.requests if request.status != 200] == []
    assert sandbox.requests[0].method == "getMe"
