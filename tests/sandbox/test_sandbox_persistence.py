"""A sandbox with a state file keeps its world across restarts: users, chats, files, the bot's
menus and ids that are never given out twice; an unreadable file never stops it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from telegram import Bot, BotCommand

from sandbox import Sandbox, harness, make_png
from sandbox.persistence import WorldFile
from sandbox.state import World


def set_aside_files(directory: Path) -> list[Path]:
    return list(directory.glob("world.json.unreadable-*"))


def ptb_bot(sandbox: Sandbox) -> Bot:
    return Bot(sandbox.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)


async def test_a_restarted_sandbox_has_its_users_chats_and_counters(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    photo = make_png(4, 3)
    async with Sandbox(state_path=state) as sandbox, ptb_bot(sandbox) as bot:
        amina = sandbox.add_user("Amina", language_code="ar")
        await amina.send_text("/start")
        await amina.send_photo(photo, caption="brief")
        await bot.set_my_commands([BotCommand("help", "Help")], language_code="ar")
        updates = await bot.get_updates(timeout=0)
        await bot.send_message(amina.chat_id, "Welkom", reply_markup=None)
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        # Sent after the bot's last poll: still to be fetched after the restart.
        await amina.send_text("nog iets")
        me = await bot.get_me()

    async with Sandbox(state_path=state) as sandbox, ptb_bot(sandbox) as bot:
        assert await bot.get_me() == me
        amina_again = sandbox.user(amina.id)
        assert (amina_again.first_name, amina_again.language_code) == ("Amina", "ar")
        assert [message.text for message in amina_again.received()] == ["Welkom"]
        chat = sandbox.world.chats[amina.id]
        assert [message.text or message.caption for message in chat.messages.values()] == [
            "/start",
            "brief",
            "Welkom",
            "nog iets",
        ]
        photo_message = chat.messages[2]
        assert photo_message.photo is not None
        assert sandbox.file_bytes(photo_message.photo[-1].file_id) == photo
        assert amina_again.command_menu == [("help", "Help")]

        [pending] = await bot.get_updates(timeout=0)
        assert pending.message is not None and pending.message.text == "nog iets"
        newcomer = sandbox.add_user("Yonas", language_code="ti")
        assert newcomer.id > amina.id
        await amina_again.send_text("/start")
        await newcomer.send_text("/start")
        later = await bot.get_updates(offset=pending.update_id + 1, timeout=0)
        assert [update.effective_user.id for update in later if update.effective_user] == [
            amina.id,
            newcomer.id,
        ]
        assert min(update.update_id for update in later) > pending.update_id
        assert later[0].message is not None and later[0].message.message_id == 5


async def test_a_corrupt_state_file_is_set_aside_and_ids_start_above_earlier_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "world.json"
    state.write_text('{"format": 1, "users": [{"id": ')
    started_at_milliseconds = time.time_ns() // 1_000_000
    with caplog.at_level(logging.WARNING, logger="sandbox.persistence"):
        sandbox = Sandbox(state_path=state)
    assert "unreadable" in caplog.text
    [aside] = set_aside_files(tmp_path)
    assert aside.read_text() == '{"format": 1, "users": [{"id": '
    async with sandbox, ptb_bot(sandbox) as bot:
        user = sandbox.add_user("Amina")
        await user.send_text("/start")
        [update] = await bot.get_updates(timeout=0)
    # Above what an earlier world could have given out (it counted from its own start).
    assert update.update_id >= started_at_milliseconds
    assert user.id >= started_at_milliseconds
    restored = World(sandbox.token)
    WorldFile(state).load_into(restored)
    assert list(restored.users) == [user.id]


def test_the_file_keeps_the_last_messages_of_each_chat(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    world = World("1:T")
    user = world.add_user("Amina")
    for number in range(1, 6):
        world.user_sends_text(user.id, f"message {number}")
    WorldFile(state, max_messages_per_chat=2).save(world)

    restored = World("1:T")
    WorldFile(state).load_into(restored)
    chat = restored.chats[user.id]
    assert [message.text for message in chat.messages.values()] == ["message 4", "message 5"]
    assert chat.next_message_id == 6


def test_a_file_of_another_bot_is_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    world = World("1:T")
    world.add_user("Amina")
    WorldFile(state).save(world)

    other_bot = World("2:T")
    WorldFile(state).load_into(other_bot)
    assert other_bot.users == {}
    assert set_aside_files(tmp_path)


async def test_changes_are_saved_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved a moment after a change, not only when it stops (a killed run loses little)."""
    monkeypatch.setattr(harness, "SAVE_DELAY_SECONDS", 0.01)
    state = tmp_path / "world.json"

    def saved_user_ids() -> list[int]:
        saved = World(sandbox.token)
        WorldFile(state).load_into(saved)
        return list(saved.users)

    async with Sandbox(state_path=state) as sandbox:
        user = sandbox.add_user("Amina")
        await sandbox.wait_until(lambda: saved_user_ids() == [user.id], timeout=5)
