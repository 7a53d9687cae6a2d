"""The simulated Telegram world: the bot, users, their private chats, files and pending updates.

Pure in-memory state without I/O. The Bot API methods (``methods.py``) and the simulated users
(``harness.py`` and the browser page) both act on one :class:`World`; every change wakes the
coroutines waiting in :attr:`World.changes` (long polls, the page, test helpers).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sandbox.errors import (
    BOT_BLOCKED,
    CHAT_NOT_FOUND,
    bad_request,
    conflict,
    forbidden,
    too_many_requests,
)
from sandbox.formatting import Entity, detect_user_entities
from sandbox.images import image_size

JsonObject = dict[str, Any]
FileKind = Literal["photo", "voice", "document"]
Clock = Callable[[], datetime]

# Update kinds Telegram leaves out unless a bot asks for them explicitly.
OPT_IN_UPDATE_KINDS = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# How long Telegram clients show a chat action such as "typing…".
CHAT_ACTION_SECONDS = 5.0
FIRST_USER_ID = 100_000_001
FIRST_CALLBACK_QUERY_ID = 4_000_000_000_000_000_001
_TOKEN_BOT_ID = re.compile(r"([0-9]+):")

_FILE_PATH_FOLDERS = {"photo": "photos", "voice": "voice", "document": "documents"}
_FILE_ID_PREFIXES = {"photo": "AgAC", "voice": "AwAC", "document": "BQAC"}
_DEFAULT_MIME_TYPES = {"photo": "image/jpeg", "voice": "audio/ogg", "document": None}
_IMAGE_EXTENSIONS = {b"\x89PNG": "png", b"GIF8": "gif", b"RIFF": "webp", b"BM": "bmp"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class SandboxUsageError(ValueError):
    """A simulated user was asked to do something a real user could not do."""


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's message rate limits. ``FloodLimits()`` is strict: 1/s per chat, 30/s overall."""

    enabled: bool = True
    per_chat_per_second: int = 1
    global_per_second: int = 30


@dataclass(frozen=True)
class BotIdentity:
    id: int
    first_name: str
    username: str

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class UserProfile:
    """A simulated Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked_bot: bool = False

    def to_json(self) -> JsonObject:
        data: JsonObject = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> JsonObject:
        data: JsonObject = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class PhotoSize:
    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int


@dataclass(frozen=True)
class Document:
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    file_size: int


@dataclass(frozen=True)
class Voice:
    file_id: str
    file_unique_id: str
    duration: int
    mime_type: str | None
    file_size: int


@dataclass
class StoredFile:
    """File bytes held by the sandbox, uploaded by a user or by the bot."""

    file_id: str
    file_unique_id: str
    kind: FileKind
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0

    def as_photo(self) -> list[PhotoSize]:
        return [
            PhotoSize(self.file_id, self.file_unique_id, self.width, self.height, len(self.data))
        ]

    def as_document(self) -> Document:
        return Document(
            self.file_id, self.file_unique_id, self.file_name, self.mime_type, len(self.data)
        )

    def as_voice(self) -> Voice:
        return Voice(
            self.file_id, self.file_unique_id, self.duration, self.mime_type, len(self.data)
        )


@dataclass
class ChatMessage:
    """A message in a private chat, sent by the bot or by the user."""

    message_id: int
    chat_id: int
    sender_id: int
    from_bot: bool
    date: datetime
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    photo: list[PhotoSize] | None = None
    document: Document | None = None
    voice: Voice | None = None
    # The inline keyboard as buttons, and exactly as the bot sent it (for the JSON answers).
    reply_markup: list[list[InlineButton]] | None = None
    reply_markup_json: JsonObject | None = None
    forward_origin: JsonObject | None = None
    reply_to_message_id: int | None = None
    edit_date: datetime | None = None
    has_protected_content: bool = False
    # Counts edits, so waiting helpers can tell an edited message from the one they saw.
    revision: int = 0

    @property
    def has_media(self) -> bool:
        return bool(self.photo or self.document or self.voice)

    def find_button(self, text: str) -> InlineButton | None:
        for row in self.reply_markup or ():
            for button in row:
                if button.text == text:
                    return button
        return None


@dataclass
class ChatState:
    """The private chat between the bot and one user."""

    user_id: int
    has_started: bool
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    # A custom (reply) keyboard the bot put in place of the user's keyboard.
    reply_keyboard: list[list[str]] | None = None
    reply_keyboard_one_time: bool = False
    chat_action: str | None = None
    chat_action_at: float = 0.0

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class CallbackQueryRecord:
    """A press on an inline button, and the bot's answer once it gave one."""

    id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    answer_url: str | None = None


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One Bot API call the bot made, as the sandbox answered it."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None
    # When the sandbox answered it, on the monotonic clock that flood limits count with.
    monotonic_at: float | None = None

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``(method, params, status)``."""
        return iter((self.method, self.params, self.status))


class ChangeSignal:
    """Wakes coroutines waiting for the world to change.

    Waiters check their condition and then call :meth:`wait` without awaiting anything in
    between; otherwise a change made in that gap would not wake them.
    """

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        self.version += 1
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, max_seconds: float) -> None:
        """Return after the next change, after ``max_seconds``, or at once if closed."""
        if self.closed or max_seconds <= 0:
            return
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max_seconds)

    def close(self) -> None:
        """Release every waiter for good (the server is shutting down)."""
        self.closed = True
        self.notify()


class FloodGate:
    """Counts messages in a rolling second, per chat and overall."""

    def __init__(self, limits: FloodLimits, monotonic: Callable[[], float]) -> None:
        self.limits = limits
        self._monotonic = monotonic
        self._sent_overall: deque[float] = deque()
        self._sent_per_chat: dict[int, deque[float]] = {}

    def check(self, chat_id: int) -> None:
        """Raise HTTP 429 if one more message to ``chat_id`` now would exceed a limit."""
        if not self.limits.enabled:
            return
        now = self._monotonic()
        waits = [
            self._wait_needed(self._sent_overall, self.limits.global_per_second, now),
            self._wait_needed(
                self._sent_per_chat.get(chat_id, deque()), self.limits.per_chat_per_second, now
            ),
        ]
        longest = max(waits)
        if longest > 0:
            raise too_many_requests(max(1, math.ceil(longest)))

    def record(self, chat_id: int) -> None:
        if not self.limits.enabled:
            return
        now = self._monotonic()
        self._sent_overall.append(now)
        self._sent_per_chat.setdefault(chat_id, deque()).append(now)

    @staticmethod
    def _wait_needed(sent: deque[float], limit: int, now: float) -> float:
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) < limit:
            return 0.0
        return sent[len(sent) - limit] + 1.0 - now


class World:
    """Everything the simulated Telegram knows. Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        token: str,
        *,
        bot_first_name: str = "Sleutelbrug",
        bot_username: str = "SleutelbrugSandboxBot",
        clock: Clock | None = None,
        flood_limits: FloodLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        match = _TOKEN_BOT_ID.match(token)
        self.token = token
        self.bot = BotIdentity(
            id=int(match.group(1)) if match else 1, first_name=bot_first_name, username=bot_username
        )
        self.clock: Clock = clock or utc_now
        self.monotonic = monotonic
        self.flood = FloodGate(flood_limits or FloodLimits(enabled=False), monotonic)
        self.changes = ChangeSignal()

        self.users: dict[int, UserProfile] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        # What the bot set about itself, as Telegram keeps it: command menus by (scope as
        # sorted JSON, language code), menu buttons by chat id (0: the default), and its
        # name, description and short description by (kind, language code).
        self.bot_commands: dict[tuple[str, str], list[JsonObject]] = {}
        self.menu_buttons: dict[int, JsonObject] = {}
        self.bot_profile_texts: dict[tuple[str, str], str] = {}
        self.requests: list[RecordedRequest] = []

        self.pending_updates: deque[JsonObject] = deque()
        self.allowed_updates: frozenset[str] = frozenset()
        self.webhook: WebhookConfig | None = None
        # Each getUpdates call takes a new ticket; a newer call ends an older waiting one.
        self.poll_ticket = 0

        # The next ids to give out; a persisted world (sandbox/persistence.py) carries them over.
        self.next_user_id = FIRST_USER_ID
        self.next_update_id = 1
        self.next_file_number = 1
        self._callback_query_ids = itertools.count(FIRST_CALLBACK_QUERY_ID)

    # --- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def timestamp(self, moment: datetime | None = None) -> int:
        return int((moment or self.now()).timestamp())

    # --- users and chats ------------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        has_started: bool = True,
    ) -> UserProfile:
        """Create a user. ``has_started=False`` means they never opened the chat with the bot,
        so the bot cannot write to them until they send something."""
        user = UserProfile(
            id=self.next_user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.next_user_id += 1
        self.users[user.id] = user
        self.chats[user.id] = ChatState(user_id=user.id, has_started=has_started)
        self.changes.notify()
        return user

    def user(self, user_id: int) -> UserProfile:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxUsageError(f"no simulated user with id {user_id}") from None

    def chat_for_bot(self, chat_id: int | str) -> ChatState:
        """The chat a Bot API call names; usernames cannot be resolved for private chats."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def require_reachable(self, chat: ChatState) -> None:
        if self.users[chat.user_id].blocked_bot:
            raise forbidden(BOT_BLOCKED)
        if not chat.has_started:
            raise forbidden("bot can't initiate conversation with a user")

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Block or unblock the bot; Telegram tells the bot with a my_chat_member update."""
        user = self.user(user_id)
        if user.blocked_bot == blocked:
            return
        user.blocked_bot = blocked
        old_status, new_status = ("member", "kicked") if blocked else ("kicked", "member")
        self.enqueue_update(
            "my_chat_member",
            {
                "chat": user.chat_json(),
                "from": user.to_json(),
                "date": self.timestamp(),
                "old_chat_member": self._member_json(old_status),
                "new_chat_member": self._member_json(new_status),
            },
        )

    def _member_json(self, status: str) -> JsonObject:
        member: JsonObject = {"status": status, "user": self.bot.to_json()}
        if status == "kicked":
            member["until_date"] = 0
        return member

    # --- what users do --------------------------------------------------------------------

    def _new_user_message(self, user_id: int) -> tuple[ChatState, ChatMessage]:
        user = self.user(user_id)
        if user.blocked_bot:
            raise SandboxUsageError(f"{user.first_name} blocked the bot; unblock first")
        chat = self.chats[user_id]
        chat.has_started = True
        message = ChatMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.user_id,
            sender_id=user.id,
            from_bot=False,
            date=self.now(),
        )
        return chat, message

    def _publish_user_message(self, chat: ChatState, message: ChatMessage) -> ChatMessage:
        chat.messages[message.message_id] = message
        if chat.reply_keyboard_one_time and message.text is not None:
            chat.reply_keyboard = None
        self.enqueue_update("message", self.message_json(message))
        return message

    def user_sends_text(
        self, user_id: int, text: str, *, reply_to: int | None = None
    ) -> ChatMessage:
        """A text from the user; ``reply_to`` makes it a reply to a message of their chat."""
        if not text.strip():
            raise SandboxUsageError("Telegram clients do not send empty messages")
        chat, message = self._new_user_message(user_id)
        if reply_to is not None:
            if reply_to not in chat.messages:
                raise SandboxUsageError(f"message {reply_to} is not in this chat")
            message.reply_to_message_id = reply_to
        message.text = text
        message.entities = detect_user_entities(text)
        return self._publish_user_message(chat, message)

    def user_sends_file(
        self,
        user_id: int,
        kind: FileKind,
        data: bytes,
        *,
        caption: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int = 1,
    ) -> ChatMessage:
        chat, message = self._new_user_message(user_id)
        stored = self.store_file(
            kind, data, file_name=file_name, mime_type=mime_type, duration=duration
        )
        self.attach_file(message, stored)
        if caption:
            message.caption = caption
            message.caption_entities = detect_user_entities(caption)
        return self._publish_user_message(chat, message)

    def user_edits_text(self, user_id: int, message_id: int, text: str) -> ChatMessage:
        chat = self.chats[self.user(user_id).id]
        message = chat.messages.get(message_id)
        if message is None or message.from_bot or message.text is None:
            raise SandboxUsageError(f"message {message_id} is not a text message of this user")
        message.text = text
        message.entities = detect_user_entities(text)
        message.edit_date = self.now()
        message.revision += 1
        self.enqueue_update("edited_message", self.message_json(message))
        return message

    def user_presses_button(self, user_id: int, message_id: int, text: str) -> CallbackQueryRecord:
        """Press the inline button labelled ``text`` under bot message ``message_id``."""
        user = self.user(user_id)
        message = self.chats[user_id].messages.get(message_id)
        button = message.find_button(text) if message is not None else None
        if message is None or button is None:
            raise SandboxUsageError(f"message {message_id} has no button {text!r}")
        if button.callback_data is None:
            raise SandboxUsageError(f"button {text!r} does not send a callback query")
        query = CallbackQueryRecord(
            id=str(next(self._callback_query_ids)),
            user_id=user_id,
            message_id=message_id,
            data=button.callback_data,
        )
        self.callback_queries[query.id] = query
        self.enqueue_update(
            "callback_query",
            {
                "id": query.id,
                "from": user.to_json(),
                "message": self.message_json(message),
                "chat_instance": f"{user_id}0{self.bot.id}",
                "data": query.data,
            },
        )
        return query

    # --- files ----------------------------------------------------------------------------

    def store_file(
        self,
        kind: FileKind,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int = 0,
    ) -> StoredFile:
        number = self.next_file_number
        self.next_file_number += 1
        size = image_size(data) if kind == "photo" else None
        width, height = size or (0, 0)
        extension = _file_extension(kind, data, file_name)
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIXES[kind]}{number:06d}SandboxFile",
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            data=data,
            file_path=f"{_FILE_PATH_FOLDERS[kind]}/file_{number}.{extension}",
            file_name=file_name,
            mime_type=mime_type or _DEFAULT_MIME_TYPES[kind],
            # A client would only send a real image as a photo; any bytes get a nominal size.
            width=width or 512,
            height=height or 512,
            duration=duration,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def attach_file(message: ChatMessage, stored: StoredFile) -> None:
        if stored.kind == "photo":
            message.photo = stored.as_photo()
        elif stored.kind == "voice":
            message.voice = stored.as_voice()
        else:
            message.document = stored.as_document()

    # --- updates --------------------------------------------------------------------------

    def enqueue_update(self, kind: str, payload: JsonObject) -> None:
        """Queue an update unless the bot's allowed_updates exclude its kind."""
        if self.allowed_updates:
            wanted = kind in self.allowed_updates
        else:
            wanted = kind not in OPT_IN_UPDATE_KINDS
        if wanted:
            self.pending_updates.append({"update_id": self.next_update_id, kind: payload})
            self.next_update_id += 1
        self.changes.notify()

    def confirm_updates(self, offset: int) -> None:
        """Apply getUpdates ``offset``: forget every update with a smaller id, or for a
        negative offset keep only the last ``-offset`` updates."""
        if offset > 0:
            while self.pending_updates and self.pending_updates[0]["update_id"] < offset:
                self.pending_updates.popleft()
        elif offset < 0:
            while len(self.pending_updates) > -offset:
                self.pending_updates.popleft()

    def take_poll_ticket(self) -> int:
        if self.webhook is not None:
            raise conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first"
            )
        self.poll_ticket += 1
        self.changes.notify()
        return self.poll_ticket

    def set_allowed_updates(self, kinds: list[str] | None) -> None:
        """None keeps the previous setting; an empty list restores the default."""
        if kinds is not None:
            self.allowed_updates = frozenset(kinds)

    def set_webhook(self, config: WebhookConfig, *, drop_pending_updates: bool) -> None:
        self.webhook = config
        if drop_pending_updates:
            self.pending_updates.clear()
        self.changes.notify()

    def delete_webhook(self, *, drop_pending_updates: bool) -> None:
        self.webhook = None
        if drop_pending_updates:
            self.pending_updates.clear()
        self.changes.notify()

    def record_webhook_error(self, message: str) -> None:
        if self.webhook is not None:
            self.webhook.last_error_date = self.timestamp()
            self.webhook.last_error_message = message
            self.changes.notify()

    def confirm_delivered(self, update_id: int) -> None:
        if self.pending_updates and self.pending_updates[0]["update_id"] == update_id:
            self.pending_updates.popleft()
            self.changes.notify()

    # --- messages -------------------------------------------------------------------------

    def bot_messages(self, user_id: int) -> Iterator[ChatMessage]:
        for message in self.chats[user_id].messages.values():
            if message.from_bot:
                yield message

    def snapshot(self, message: ChatMessage) -> ChatMessage:
        """A copy that later edits do not change."""
        return copy.deepcopy(message)

    def message_json(self, message: ChatMessage, *, with_reply: bool = True) -> JsonObject:
        """The Bot API ``Message`` object for ``message``."""
        user = self.users[message.chat_id]
        sender = self.bot.to_json() if message.from_bot else user.to_json()
        data: JsonObject = {
            "message_id": message.message_id,
            "from": sender,
            "chat": user.chat_json(),
            "date": self.timestamp(message.date),
        }
        if message.forward_origin is not None:
            data["forward_origin"] = message.forward_origin
        replied = self.chats[message.chat_id].messages.get(message.reply_to_message_id or 0)
        if with_reply and replied is not None:
            data["reply_to_message"] = self.message_json(replied, with_reply=False)
        if message.edit_date is not None:
            data["edit_date"] = self.timestamp(message.edit_date)
        if message.has_protected_content:
            data["has_protected_content"] = True
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.photo:
            data["photo"] = [vars(size).copy() for size in message.photo]
        if message.document is not None:
            data["document"] = {k: v for k, v in vars(message.document).items() if v is not None}
        if message.voice is not None:
            data["voice"] = {k: v for k, v in vars(message.voice).items() if v is not None}
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.reply_markup_json is not None:
            data["reply_markup"] = message.reply_markup_json
        return data


def inline_buttons(markup: JsonObject) -> list[list[InlineButton]]:
    return [
        [
            InlineButton(
                text=button["text"],
                callback_data=button.get("callback_data"),
                url=button.get("url"),
            )
            for button in row
        ]
        for row in markup["inline_keyboard"]
    ]


def _file_extension(kind: FileKind, data: bytes, file_name: str | None) -> str:
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()
    if kind == "voice":
        return "oga"
    if kind == "photo":
        for signature, extension in _IMAGE_EXTENSIONS.items():
            if data.startswith(signature):
                return extension
        return "jpg"
    return "bin"


__all__ = [
    "BotIdentity",
    "CallbackQueryRecord",
    "ChangeSignal",
    "ChatMessage",
    "ChatState",
    "Document",
    "FloodGate",
    "FloodLimits",
    "InlineButton",
    "PhotoSize",
    "RecordedRequest",
    "SandboxUsageError",
    "StoredFile",
    "UserProfile",
    "Voice",
    "WebhookConfig",
    "World",
]
