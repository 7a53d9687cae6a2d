"""Refusals as python-telegram-bot sees them: the right exception classes and messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from sandbox import FloodLimits, Sandbox


def keyboard(callback_data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Kies", callback_data=callback_data)]])


async def test_too_long_text(sandbox: Sandbox, bot: Bot) -> None:
    amina = sandbox.add_user("Amina")
    sent = await bot.send_message(amina.id, "x" * 4096)
    assert sent.text == "x" * 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(amina.id, "x" * 4097)


async def test_too_long_callback_data(sandbox: Sandbox, bot: Bot) -> None:
    amina = sandbox.add_user("Amina")
    await bot.send_message(amina.id, "Kies", reply_markup=keyboard("d" * 64))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(amina.id, "Kies", reply_markup=keyboard("d" * 65))


# PTB lower-cases Telegram's descriptions after the first letter, hence (?i) in the patterns.
@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'")
async def test_missing_chat_and_wrong_type(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat_id is empty"):
        await bot.send_message("", "hallo")
    with pytest.raises(
        BadRequest, match=r'(?i)parameter "chat_id" must be of type integer or string'
    ):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": {"id": 1}, "text": "x"})
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hallo")


async def test_unknown_method_and_parameter(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram")
    amina = sandbox.add_user("Amina")
    with pytest.raises(BadRequest, match=r'(?i)unknown parameter "urgent"'):
        await bot.send_message(amina.id, "hallo", api_kwargs={"urgent": True})


async def test_wrong_token(sandbox: Sandbox) -> None:
    wrong = Bot("999:WRONG", base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_message_not_modified(sandbox: Sandbox, bot: Bot) -> None:
    amina = sandbox.add_user("Amina")
    sent = await bot.send_message(amina.id, "Kies", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await sent.edit_text("Kies", reply_markup=keyboard("a"))
    edited = await sent.edit_text("Kies", reply_markup=keyboard("b"))
    assert isinstance(edited, type(sent))
    assert edited.reply_markup == keyboard("b")


async def test_blocked_user(sandbox: Sandbox, bot: Bot) -> None:
    amina = sandbox.add_user("Amina")
    amina.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(amina.id, "hallo")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(amina.id, "typing")


@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
async def test_flood_limit_raises_retry_after() -> None:
    async with Sandbox(flood_limits=FloodLimits(per_chat_per_second=1)) as sandbox:
        amina = sandbox.add_user("Amina")
        bot = Bot(sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)
        async with bot:
            await bot.send_message(amina.id, "een")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(amina.id, "twee")
            retry_after = refused.value.retry_after
            seconds = (
                retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
            )
            assert seconds == 1
            with pytest.raises(RetryAfter):
                await bot.copy_message(amina.id, amina.id, amina.received()[0].message_id)
        assert [message.text for message in amina.received()] == ["een"]


async def test_get_updates_conflicts_with_webhook(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_bad_html_is_refused(sandbox: Sandbox, bot: Bot) -> None:
    amina = sandbox.add_user("Amina")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(amina.id, "a <br> b", parse_mode="HTML")
