"""Keeps a sandbox world across restarts in one JSON file (opt-in: ``Sandbox(state_path=...)``).

Kept, as Telegram keeps them while a bot restarts: the bot's identity, command menus, menu
buttons and profile texts; the users and their chats with the last
:data:`MAX_MESSAGES_PER_CHAT` messages each (the chat page shows them again); the files those
messages show; up to :data:`MAX_PENDING_UPDATES` updates the bot has not fetched yet; and the
next user, update and file ids. Not kept: the request log, button presses (answering one from
before a restart fails, as an old callback query does on Telegram), and the webhook and
``allowed_updates``, which a bot sets again when it starts.

The rule that keeps a bot's stored data safe: update ids and user ids are never given out
twice, or the bot would ignore updates it thinks it handled and mistake new users for old ones.
So on every start both counters continue from the larger of the saved counter and the wall
clock in milliseconds. The clock covers what no file holds: ids a killed run gave out after its
last save, and the ids of an earlier world whose file was unreadable (it is set aside) or that
predates the file. It stays ahead of them unless a world gave out more than a thousand ids a
second on average since it started counting.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.state import (
    BotIdentity,
    ChatMessage,
    ChatState,
    Document,
    InlineButton,
    JsonObject,
    PhotoSize,
    StoredFile,
    UserProfile,
    Voice,
    World,
)

logger = logging.getLogger(__name__)

# Bumped when the layout changes; a file of another version is set aside like a corrupt one.
FORMAT_VERSION = 1
# Bounds the file: older messages of a chat are dropped from it (they stay in the running world).
MAX_MESSAGES_PER_CHAT = 200
# Bounds the file when no bot fetches updates for a long time; the oldest are dropped first.
MAX_PENDING_UPDATES = 1000

# What a file that cannot be turned back into a world raises while being decoded.
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, binascii.Error)


class WorldFile:
    """The JSON file a persistent sandbox keeps its world in. One sandbox at a time uses it."""

    def __init__(self, path: Path, *, max_messages_per_chat: int = MAX_MESSAGES_PER_CHAT) -> None:
        self.path = path
        self.max_messages_per_chat = max_messages_per_chat
        # The bytes the file holds now, so that saving an unchanged world writes nothing.
        self._written: bytes | None = None

    def load_into(self, world: World) -> None:
        """Restore the saved world into the new ``world``, and move its id counters past the
        wall clock (the module's rule). An unreadable file is renamed, with a warning, and
        never stops the sandbox: it starts with a fresh world."""
        self._restore(world)
        _skip_ids_given_out_unsaved(world)

    def _restore(self, world: World) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            problem = str(error)
        else:
            try:
                _decode(raw, world.bot.id).apply_to(world)
            except _UNREADABLE as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                self._written = raw
                return
        self._set_aside(problem)

    def save(self, world: World) -> None:
        """Write the world if it changed: to a temporary file that then replaces the old one,
        so a crash leaves either the old or the new file, never half of one. A failed write is
        logged and tried again on the next save."""
        data = self._encode(world)
        if data == self._written:
            return
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            logger.warning("could not save the sandbox world to %s: %s", self.path, error)
            return
        self._written = data

    def _set_aside(self, problem: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as error:
            logger.warning(
                "sandbox world %s is unreadable (%s) and could not be set aside (%s); "
                "starting a fresh world that will overwrite it",
                self.path,
                problem,
                error,
            )
            return
        logger.warning(
            "sandbox world %s is unreadable (%s); set aside as %s, starting a fresh world",
            self.path,
            problem,
            aside.name,
        )

    def _encode(self, world: World) -> bytes:
        kept_messages = {
            user_id: list(chat.messages.values())[-self.max_messages_per_chat :]
            for user_id, chat in world.chats.items()
        }
        shown_file_ids = {
            file_id
            for messages in kept_messages.values()
            for message in messages
            for file_id in _file_ids_of(message)
        }
        state: JsonObject = {
            "format": FORMAT_VERSION,
            "bot": dataclasses.asdict(world.bot),
            "next_user_id": world.next_user_id,
            "next_update_id": world.next_update_id,
            "next_file_number": world.next_file_number,
            "users": [
                {
                    **dataclasses.asdict(user),
                    "chat": _encode_chat(world.chats[user_id], kept_messages[user_id]),
                }
                for user_id, user in world.users.items()
            ],
            "files": [
                _encode_file(stored)
                for file_id, stored in world.files.items()
                if file_id in shown_file_ids
            ],
            "pending_updates": list(world.pending_updates)[-MAX_PENDING_UPDATES:],
            "bot_commands": [[*key, commands] for key, commands in world.bot_commands.items()],
            "menu_buttons": [[chat_id, button] for chat_id, button in world.menu_buttons.items()],
            "bot_profile_texts": [[*key, text] for key, text in world.bot_profile_texts.items()],
        }
        return json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class _SavedWorld:
    """A file's content, decoded completely before any of it goes into a world."""

    bot: BotIdentity
    users: dict[int, UserProfile]
    chats: dict[int, ChatState]
    files: dict[str, StoredFile]
    pending_updates: list[JsonObject]
    bot_commands: dict[tuple[str, str], list[JsonObject]]
    menu_buttons: dict[int, JsonObject]
    bot_profile_texts: dict[tuple[str, str], str]
    next_user_id: int
    next_update_id: int
    next_file_number: int

    def apply_to(self, world: World) -> None:
        world.bot = self.bot
        world.users = self.users
        world.chats = self.chats
        world.files = self.files
        world.files_by_path = {stored.file_path: stored for stored in self.files.values()}
        world.pending_updates.extend(self.pending_updates)
        world.bot_commands = self.bot_commands
        world.menu_buttons = self.menu_buttons
        world.bot_profile_texts = self.bot_profile_texts
        world.next_user_id = self.next_user_id
        world.next_update_id = self.next_update_id
        world.next_file_number = self.next_file_number


def _skip_ids_given_out_unsaved(world: World) -> None:
    milliseconds = time.time_ns() // 1_000_000
    world.next_update_id = max(world.next_update_id, milliseconds)
    world.next_user_id = max(world.next_user_id, milliseconds)


def _decode(raw: bytes, bot_id: int) -> _SavedWorld:
    state = json.loads(raw)
    if state["format"] != FORMAT_VERSION:
        raise ValueError(f"format {state['format']!r}, expected {FORMAT_VERSION}")
    bot = BotIdentity(**state["bot"])
    if bot.id != bot_id:
        raise ValueError(f"the world of bot {bot.id}, not of this token's bot {bot_id}")
    users: dict[int, UserProfile] = {}
    chats: dict[int, ChatState] = {}
    for saved_user in state["users"]:
        fields = dict(saved_user)
        saved_chat = fields.pop("chat")
        user = UserProfile(**fields)
        users[user.id] = user
        chats[user.id] = _decode_chat(user.id, saved_chat)
    files = {stored.file_id: stored for stored in map(_decode_file, state["files"])}
    pending_updates = list(state["pending_updates"])
    if not all(isinstance(update["update_id"], int) for update in pending_updates):
        raise ValueError("an update without an integer update_id")
    return _SavedWorld(
        bot=bot,
        users=users,
        chats=chats,
        files=files,
        pending_updates=pending_updates,
        bot_commands={
            (str(scope), str(language)): list(commands)
            for scope, language, commands in state["bot_commands"]
        },
        menu_buttons={int(chat_id): dict(button) for chat_id, button in state["menu_buttons"]},
        bot_profile_texts={
            (str(kind), str(language)): str(text)
            for kind, language, text in state["bot_profile_texts"]
        },
        next_user_id=int(state["next_user_id"]),
        next_update_id=int(state["next_update_id"]),
        next_file_number=int(state["next_file_number"]),
    )


def _encode_chat(chat: ChatState, messages: list[ChatMessage]) -> JsonObject:
    return {
        "has_started": chat.has_started,
        "next_message_id": chat.next_message_id,
        "reply_keyboard": chat.reply_keyboard,
        "reply_keyboard_one_time": chat.reply_keyboard_one_time,
        "messages": [_encode_message(message) for message in messages],
    }


def _decode_chat(user_id: int, saved: JsonObject) -> ChatState:
    messages = [_decode_message(message) for message in saved["messages"]]
    return ChatState(
        user_id=user_id,
        has_started=bool(saved["has_started"]),
        messages={message.message_id: message for message in messages},
        next_message_id=int(saved["next_message_id"]),
        reply_keyboard=saved["reply_keyboard"],
        reply_keyboard_one_time=bool(saved["reply_keyboard_one_time"]),
    )


def _encode_message(message: ChatMessage) -> JsonObject:
    data = dataclasses.asdict(message)
    data["date"] = message.date.isoformat()
    data["edit_date"] = message.edit_date.isoformat() if message.edit_date else None
    return data


def _decode_message(saved: JsonObject) -> ChatMessage:
    fields: dict[str, Any] = dict(saved)
    fields["date"] = datetime.fromisoformat(saved["date"])
    if saved["edit_date"] is not None:
        fields["edit_date"] = datetime.fromisoformat(saved["edit_date"])
    if saved["photo"] is not None:
        fields["photo"] = [PhotoSize(**size) for size in saved["photo"]]
    if saved["document"] is not None:
        fields["document"] = Document(**saved["document"])
    if saved["voice"] is not None:
        fields["voice"] = Voice(**saved["voice"])
    if saved["reply_markup"] is not None:
        fields["reply_markup"] = [
            [InlineButton(**button) for button in row] for row in saved["reply_markup"]
        ]
    return ChatMessage(**fields)


def _file_ids_of(message: ChatMessage) -> list[str]:
    file_ids = [size.file_id for size in message.photo or ()]
    for attachment in (message.document, message.voice):
        if attachment is not None:
            file_ids.append(attachment.file_id)
    return file_ids


def _encode_file(stored: StoredFile) -> JsonObject:
    data = dataclasses.asdict(stored)
    data["data"] = base64.b64encode(stored.data).decode("ascii")
    return data


def _decode_file(saved: JsonObject) -> StoredFile:
    fields: dict[str, Any] = dict(saved)
    fields["data"] = base64.b64decode(saved["data"], validate=True)
    return StoredFile(**fields)
