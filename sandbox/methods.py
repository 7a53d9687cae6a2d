"""The Bot API methods the sandbox implements, acting on a :class:`~sandbox.state.World`.

Each handler receives parameters already validated and decoded by :mod:`sandbox.spec` and
either returns the ``result`` of the answer or raises :class:`~sandbox.errors.ApiError`. A
refused call leaves the world unchanged: handlers check everything before changing anything.
``getUpdates`` waits, so the server implements it on top of :meth:`BotMethods.get_updates_now`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.errors import MESSAGE_NOT_MODIFIED, bad_request
from sandbox.formatting import Entity, parse_formatted_text
from sandbox.images import image_size
from sandbox.spec import UploadedFile, check_caption_length, check_text_length
from sandbox.state import (
    CHAT_ACTION_SECONDS,
    ChatMessage,
    ChatState,
    FileKind,
    JsonObject,
    StoredFile,
    WebhookConfig,
    World,
    inline_buttons,
)

Params = dict[str, Any]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BOT_COMMAND_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
MAX_BOT_COMMAND_DESCRIPTION = 256
MAX_GET_UPDATES_LIMIT = 100
DEFAULT_MAX_WEBHOOK_CONNECTIONS = 40
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_WEBHOOK_SCHEMES = ("http://", "https://")
# Bot profile texts (setMyName, setMyDescription, setMyShortDescription) and their JSON keys.
_PROFILE_TEXTS = {
    "Name": "name",
    "Description": "description",
    "ShortDescription": "short_description",
}


@dataclass(frozen=True)
class OutgoingContent:
    """What a send method is about to put in a chat, checked but not yet stored."""

    text: str | None = None
    entities: list[Entity] | None = None
    caption: str | None = None
    caption_entities: list[Entity] | None = None
    file: StoredFile | None = None
    new_file: bool = False


class BotMethods:
    """Dispatches validated Bot API calls to their handlers."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._handlers: dict[str, Callable[[Params], Any]] = {
            "getMe": self.get_me,
            "logOut": self.always_true,
            "close": self.always_true,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendVoice": self.send_voice,
            "sendChatAction": self.send_chat_action,
            "copyMessage": self.copy_message,
            "forwardMessage": self.forward_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
            "getChat": self.get_chat,
        }
        for suffix, key in _PROFILE_TEXTS.items():
            self._handlers[f"setMy{suffix}"] = self._profile_text_setter(key)
            self._handlers[f"getMy{suffix}"] = self._profile_text_getter(key)

    def call(self, method: str, params: Params) -> Any:
        handler = self._handlers.get(method)
        if handler is None:
            raise bad_request(f"method {method} is not supported by the sandbox")
        return handler(params)

    # --- bot --------------------------------------------------------------------------------

    def get_me(self, _params: Params) -> JsonObject:
        return {
            **self.world.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def always_true(_params: Params) -> bool:
        return True

    def set_my_commands(self, params: Params) -> bool:
        for command in params["commands"]:
            if not BOT_COMMAND_PATTERN.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= MAX_BOT_COMMAND_DESCRIPTION:
                raise bad_request("command description must be non-empty")
        self.world.bot_commands[self._commands_key(params)] = params["commands"]
        self.world.changes.notify()
        return True

    def get_my_commands(self, params: Params) -> list[JsonObject]:
        return self.world.bot_commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: Params) -> bool:
        self.world.bot_commands.pop(self._commands_key(params), None)
        self.world.changes.notify()
        return True

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    def commands_for_user(self, user_id: int) -> list[JsonObject]:
        """The command menu a user sees: the narrowest scope, then their language, wins."""
        language = self.world.users[user_id].language_code or ""
        scopes = [
            {"chat_id": user_id, "type": "chat"},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        for scope in scopes:
            scope_key = json.dumps(scope, sort_keys=True)
            for language_code in (language, ""):
                commands = self.world.bot_commands.get((scope_key, language_code))
                if commands:
                    return commands
        return []

    def set_chat_menu_button(self, params: Params) -> bool:
        self.world.menu_buttons[params.get("chat_id", 0)] = params.get("menu_button") or {
            "type": "default"
        }
        self.world.changes.notify()
        return True

    def get_chat_menu_button(self, params: Params) -> JsonObject:
        return self.world.menu_buttons.get(params.get("chat_id", 0), {"type": "commands"})

    def _profile_text_setter(self, key: str) -> Callable[[Params], bool]:
        def set_text(params: Params) -> bool:
            language = params.get("language_code", "")
            self.world.bot_profile_texts[(key, language)] = params.get(key, "")
            self.world.changes.notify()
            return True

        return set_text

    def _profile_text_getter(self, key: str) -> Callable[[Params], JsonObject]:
        def get_text(params: Params) -> JsonObject:
            language = params.get("language_code", "")
            texts = self.world.bot_profile_texts
            text = texts.get((key, language), texts.get((key, ""), ""))
            if key == "name" and not text:
                text = self.world.bot.first_name
            return {key: text}

        return get_text

    # --- updates ----------------------------------------------------------------------------

    def get_updates_now(self, params: Params) -> list[JsonObject]:
        """The non-waiting part of getUpdates: confirm by offset, then list what is pending."""
        self.world.confirm_updates(params.get("offset", 0))
        limit = min(max(params.get("limit", MAX_GET_UPDATES_LIMIT), 1), MAX_GET_UPDATES_LIMIT)
        return list(self.world.pending_updates)[:limit]

    def set_webhook(self, params: Params) -> bool:
        url = params["url"]
        drop_pending = params.get("drop_pending_updates", False)
        if url == "":
            self.world.delete_webhook(drop_pending_updates=drop_pending)
            return True
        if not url.startswith(_WEBHOOK_SCHEMES):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.world.set_allowed_updates(params.get("allowed_updates"))
        self.world.set_webhook(
            WebhookConfig(
                url=url,
                secret_token=params.get("secret_token"),
                max_connections=params.get("max_connections", DEFAULT_MAX_WEBHOOK_CONNECTIONS),
                ip_address=params.get("ip_address"),
            ),
            drop_pending_updates=drop_pending,
        )
        return True

    def delete_webhook(self, params: Params) -> bool:
        self.world.delete_webhook(drop_pending_updates=params.get("drop_pending_updates", False))
        return True

    def get_webhook_info(self, _params: Params) -> JsonObject:
        webhook = self.world.webhook
        info: JsonObject = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.pending_updates),
        }
        if webhook is None:
            return info
        info["max_connections"] = webhook.max_connections
        if webhook.ip_address:
            info["ip_address"] = webhook.ip_address
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        if self.world.allowed_updates:
            info["allowed_updates"] = sorted(self.world.allowed_updates)
        return info

    # --- sending ----------------------------------------------------------------------------

    def send_message(self, params: Params) -> JsonObject:
        text, entities = self._formatted(params, "text", "entities")
        check_text_length(text)
        return self._send(params, OutgoingContent(text=text, entities=entities))

    def send_photo(self, params: Params) -> JsonObject:
        return self._send_media(params, "photo")

    def send_document(self, params: Params) -> JsonObject:
        return self._send_media(params, "document")

    def send_voice(self, params: Params) -> JsonObject:
        return self._send_media(params, "voice")

    def _send_media(self, params: Params, kind: FileKind) -> JsonObject:
        stored, is_new = self._media_file(params, kind)
        caption, caption_entities = self._formatted(params, "caption", "caption_entities")
        check_caption_length(caption)
        content = OutgoingContent(
            caption=caption or None,
            caption_entities=caption_entities,
            file=stored,
            new_file=is_new,
        )
        return self._send(params, content)

    def _media_file(self, params: Params, kind: FileKind) -> tuple[StoredFile, bool]:
        """The file to send: a new upload (not stored yet), or one the sandbox already holds."""
        value = params[kind]
        if isinstance(value, UploadedFile):
            if kind == "photo" and image_size(value.data) is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            # Built now but registered only once the whole call is accepted.
            stored = StoredFile(
                file_id="",
                file_unique_id="",
                kind=kind,
                data=value.data,
                file_path="",
                file_name=value.filename,
                mime_type=value.content_type,
                duration=params.get("duration", 0),
            )
            return stored, True
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        existing = self.world.files.get(value)
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind != kind:
            raise bad_request(
                f"can't use file of type {existing.kind.capitalize()} as {kind.capitalize()}"
            )
        return existing, False

    def _formatted(
        self, params: Params, text_key: str, entities_key: str
    ) -> tuple[str, list[Entity]]:
        text = params.get(text_key, "")
        if entities_key in params:
            return text, params[entities_key]
        return parse_formatted_text(text, params.get("parse_mode"))

    def _send(self, params: Params, content: OutgoingContent) -> JsonObject:
        chat = self._reachable_chat(params["chat_id"])
        reply_to = self._reply_target(params, chat)
        self.world.flood.check(chat.user_id)

        message = self._new_bot_message(chat, params)
        message.reply_to_message_id = reply_to
        message.text = content.text
        message.entities = content.entities or []
        message.caption = content.caption
        message.caption_entities = content.caption_entities or []
        if content.file is not None:
            stored = content.file
            if content.new_file:
                stored = self.world.store_file(
                    stored.kind,
                    stored.data,
                    file_name=stored.file_name,
                    mime_type=stored.mime_type,
                    duration=stored.duration,
                )
            self.world.attach_file(message, stored)
        return self._publish(chat, message, params)

    def _reachable_chat(self, chat_id: int | str) -> ChatState:
        chat = self.world.chat_for_bot(chat_id)
        self.world.require_reachable(chat)
        return chat

    def _reply_target(self, params: Params, chat: ChatState) -> int | None:
        reply = params.get("reply_parameters")
        if reply is None:
            return None
        message_id = reply["message_id"]
        if message_id in chat.messages:
            return int(message_id)
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def _new_bot_message(self, chat: ChatState, params: Params) -> ChatMessage:
        return ChatMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.user_id,
            sender_id=self.world.bot.id,
            from_bot=True,
            date=self.world.now(),
            has_protected_content=bool(params.get("protect_content")),
        )

    def _publish(self, chat: ChatState, message: ChatMessage, params: Params) -> JsonObject:
        """Store an accepted bot message and apply its keyboard."""
        markup = params.get("reply_markup")
        if markup is not None and "inline_keyboard" in markup:
            message.reply_markup = inline_buttons(markup)
            message.reply_markup_json = markup
        elif markup is not None and "keyboard" in markup:
            chat.reply_keyboard = [[button["text"] for button in row] for row in markup["keyboard"]]
            chat.reply_keyboard_one_time = bool(markup.get("one_time_keyboard"))
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.messages[message.message_id] = message
        chat.chat_action = None
        self.world.flood.record(chat.user_id)
        self.world.changes.notify()
        return self.world.message_json(message)

    def send_chat_action(self, params: Params) -> bool:
        chat = self._reachable_chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.chat_action = params["action"]
        chat.chat_action_at = self.world.monotonic()
        self.world.changes.notify()
        return True

    def copy_message(self, params: Params) -> JsonObject:
        original = self._source_message(params, "message to copy not found")
        if "caption" in params:
            caption, caption_entities = self._formatted(params, "caption", "caption_entities")
        else:
            caption, caption_entities = original.caption or "", original.caption_entities
        if original.has_media:
            check_caption_length(caption)
        chat = self._reachable_chat(params["chat_id"])
        reply_to = self._reply_target(params, chat)
        self.world.flood.check(chat.user_id)

        copied = self._new_bot_message(chat, params)
        self._copy_content(original, copied)
        copied.reply_to_message_id = reply_to
        if original.has_media:
            copied.caption = caption or None
            copied.caption_entities = caption_entities
        self._publish(chat, copied, params)
        return {"message_id": copied.message_id}

    def forward_message(self, params: Params) -> JsonObject:
        original = self._source_message(params, "message to forward not found")
        chat = self._reachable_chat(params["chat_id"])
        self.world.flood.check(chat.user_id)

        forwarded = self._new_bot_message(chat, params)
        self._copy_content(original, forwarded)
        forwarded.caption, forwarded.caption_entities = original.caption, original.caption_entities
        sender = self.world.users[original.chat_id]
        forwarded.forward_origin = {
            "type": "user",
            "date": self.world.timestamp(original.date),
            "sender_user": self.world.bot.to_json() if original.from_bot else sender.to_json(),
        }
        # Telegram drops the reply markup of forwarded messages.
        return self._publish(chat, forwarded, {})

    def _source_message(self, params: Params, missing: str) -> ChatMessage:
        source_chat = self.world.chat_for_bot(params["from_chat_id"])
        original = source_chat.messages.get(params["message_id"])
        if original is None:
            raise bad_request(missing)
        if original.has_protected_content:
            raise bad_request("message has protected content and can't be forwarded")
        return original

    @staticmethod
    def _copy_content(original: ChatMessage, target: ChatMessage) -> None:
        target.text = original.text
        target.entities = list(original.entities)
        target.photo = original.photo
        target.document = original.document
        target.voice = original.voice

    # --- editing and deleting ---------------------------------------------------------------

    def _message_to_edit(self, params: Params) -> tuple[ChatState, ChatMessage]:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._reachable_chat(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        message: ChatMessage,
        params: Params,
        changes: dict[str, Any],
    ) -> JsonObject:
        # Leaving reply_markup out of an edit removes the inline keyboard, as on Telegram.
        markup = params.get("reply_markup")
        changes = {**changes, "reply_markup_json": markup}
        if all(getattr(message, name) == value for name, value in changes.items()):
            raise bad_request(MESSAGE_NOT_MODIFIED)
        for name, value in changes.items():
            setattr(message, name, value)
        message.reply_markup = inline_buttons(markup) if markup is not None else None
        message.edit_date = self.world.now()
        message.revision += 1
        self.world.changes.notify()
        return self.world.message_json(message)

    def edit_message_text(self, params: Params) -> JsonObject:
        _chat, message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities")
        check_text_length(text)
        return self._apply_edit(message, params, {"text": text, "entities": entities})

    def edit_message_caption(self, params: Params) -> JsonObject:
        _chat, message = self._message_to_edit(params)
        if not message.has_media:
            raise bad_request("there is no caption in the message to edit")
        caption, caption_entities = self._formatted(params, "caption", "caption_entities")
        check_caption_length(caption)
        return self._apply_edit(
            message, params, {"caption": caption or None, "caption_entities": caption_entities}
        )

    def edit_message_reply_markup(self, params: Params) -> JsonObject:
        _chat, message = self._message_to_edit(params)
        return self._apply_edit(message, params, {})

    def delete_message(self, params: Params) -> bool:
        chat = self.world.chat_for_bot(params["chat_id"])
        if params["message_id"] not in chat.messages:
            raise bad_request("message to delete not found")
        del chat.messages[params["message_id"]]
        self.world.changes.notify()
        return True

    def delete_messages(self, params: Params) -> bool:
        chat = self.world.chat_for_bot(params["chat_id"])
        for message_id in params["message_ids"]:
            chat.messages.pop(message_id, None)
        self.world.changes.notify()
        return True

    # --- callbacks, files, chats ------------------------------------------------------------

    def answer_callback_query(self, params: Params) -> bool:
        query = self.world.callback_queries.get(params["callback_query_id"])
        if query is None or query.answered:
            raise bad_request(_QUERY_INVALID)
        query.answered = True
        query.answer_text = params.get("text")
        query.show_alert = params.get("show_alert", False)
        query.answer_url = params.get("url")
        self.world.changes.notify()
        return True

    def get_file(self, params: Params) -> JsonObject:
        stored = self.world.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def get_chat(self, params: Params) -> JsonObject:
        chat = self.world.chat_for_bot(params["chat_id"])
        user = self.world.users[chat.user_id]
        return {
            **user.chat_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def chat_action_active(self, chat: ChatState) -> str | None:
        """The chat action a client would still show (Telegram shows one for 5 seconds)."""
        if chat.chat_action is None:
            return None
        if self.world.monotonic() - chat.chat_action_at > CHAT_ACTION_SECONDS:
            return None
        return chat.chat_action
