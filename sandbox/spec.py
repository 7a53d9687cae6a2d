"""The Bot API 10.0 specification (``api.json``) and validation of incoming method calls.

Every call the bot makes is checked here before the sandbox acts on it, so a bot that would be
refused by Telegram is refused by the sandbox too. Top-level parameters arrive as text (form
fields, query strings, or JSON bodies flattened the same way) because that is how Telegram
receives them: python-telegram-bot JSON-encodes every non-string value. Values inside
JSON-serialized objects keep their JSON types and are checked strictly.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sandbox.errors import bad_request

ARRAY_PREFIX = "Array of "
SCALAR_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_TRUE_TEXTS = frozenset({"true", "1"})
_FALSE_TEXTS = frozenset({"false", "0"})
# A subtype's first field states the value that identifies it, e.g. 'Scope type, must be chat'
# or 'Type of the message origin, always "user"'.
_TAG_VALUE = re.compile(r"(?:must be|always) [\"“]?([a-z_]+)[\"”]?")

# Telegram's own wording for a few missing parameters; the rest get a generic text.
_MISSING_PARAMETER_TEXTS = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
}
# Exactly one of these must be set on an inline keyboard button (the api.json prose says so).
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class UploadedFile:
    """A file that arrived as a multipart part."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str

    @property
    def type_text(self) -> str:
        return " or ".join(self.types)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    # (field, value) that identifies this type among the subtypes of its parent, if any.
    tag: tuple[str, str] | None


class InvalidValue(Exception):
    """A JSON value does not match its declared type; ``path`` locates it inside the value."""

    def __init__(self, problem: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path = path

    def within(self, step: str | int) -> InvalidValue:
        return InvalidValue(self.problem, (step, *self.path))

    @property
    def path_text(self) -> str:
        text = ""
        for step in self.path:
            text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
        return text

    def describe(self) -> str:
        if not self.path:
            return self.problem
        return f'field "{self.path_text}" {self.problem}'


def _fields(raw_fields: Sequence[Mapping[str, Any]] | None) -> dict[str, FieldSpec]:
    return {
        raw["name"]: FieldSpec(
            name=raw["name"],
            types=tuple(raw["types"]),
            required=bool(raw["required"]),
            description=raw.get("description", ""),
        )
        for raw in raw_fields or ()
    }


def _tag_of(fields: Mapping[str, FieldSpec]) -> tuple[str, str] | None:
    if not fields:
        return None
    first = next(iter(fields.values()))
    match = _TAG_VALUE.search(first.description)
    if first.types != ("String",) or match is None:
        return None
    return first.name, match.group(1)


def _type_mismatch(type_names: Sequence[str]) -> InvalidValue:
    return InvalidValue(f"must be of type {' or '.join(type_names)}")


class ApiSpec:
    """Methods and types of the Bot API, with the checks derived from them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.version: str = document["version"]
        self.methods: dict[str, MethodSpec] = {
            name: MethodSpec(
                name=name,
                fields=_fields(raw.get("fields")),
                returns=tuple(raw.get("returns", ())),
            )
            for name, raw in document["methods"].items()
        }
        self.types: dict[str, TypeSpec] = {}
        for name, raw in document["types"].items():
            fields = _fields(raw.get("fields"))
            self.types[name] = TypeSpec(
                name=name,
                fields=fields,
                subtypes=tuple(raw.get("subtypes") or ()),
                tag=_tag_of(fields) if raw.get("subtype_of") else None,
            )
        # Telegram matches method names case-insensitively.
        self._methods_by_lower_name = {name.lower(): spec for name, spec in self.methods.items()}

    @classmethod
    @functools.cache
    def bundled(cls) -> ApiSpec:
        """The specification shipped with the package (parsed once per process)."""
        text = resources.files("sandbox").joinpath("api.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def find_method(self, name: str) -> MethodSpec | None:
        return self._methods_by_lower_name.get(name.lower())

    # --- incoming calls -------------------------------------------------------------------

    def validate_call(
        self,
        method: MethodSpec,
        params: Mapping[str, str | UploadedFile],
        attachments: Mapping[str, UploadedFile],
    ) -> dict[str, Any]:
        """Check a call against the specification and return its decoded parameters.

        ``params`` are the named parameters as received; ``attachments`` are uploaded files that
        parameters refer to as ``attach://<name>``. Raises :class:`~sandbox.errors.ApiError`
        (HTTP 400) with a Telegram-style description on the first problem found.
        """
        for name in params:
            if name not in method.fields:
                raise bad_request(f'unknown parameter "{name}"')

        decoded: dict[str, Any] = {}
        for field in method.fields.values():
            raw = params.get(field.name)
            # Telegram treats an empty parameter like a missing one, except for texts that
            # may legitimately be empty (an empty caption removes it).
            if raw is None or (raw == "" and (field.required or field.types != ("String",))):
                if field.required:
                    raise bad_request(
                        _MISSING_PARAMETER_TEXTS.get(
                            field.name, f'parameter "{field.name}" is required'
                        )
                    )
                continue
            decoded[field.name] = self._decode_parameter(field, raw, attachments)

        self._check_prose_rules(method, decoded)
        return decoded

    def _decode_parameter(
        self,
        field: FieldSpec,
        raw: str | UploadedFile,
        attachments: Mapping[str, UploadedFile],
    ) -> Any:
        if isinstance(raw, UploadedFile):
            if "InputFile" in field.types:
                return raw
            raise bad_request(f'parameter "{field.name}" must be of type {field.type_text}')

        failures: list[InvalidValue] = []
        # Strings accept anything, so they are the fallback after every stricter reading.
        ordered = sorted(field.types, key=lambda type_name: type_name == "String")
        for type_name in ordered:
            try:
                return self._decode_text(type_name, raw, field, attachments)
            except InvalidValue as failure:
                failures.append(failure)

        deepest = max(failures, key=lambda failure: len(failure.path))
        if deepest.path:
            raise bad_request(f'can\'t parse parameter "{field.name}": {deepest.describe()}')
        raise bad_request(f'parameter "{field.name}" must be of type {field.type_text}')

    def _decode_text(
        self,
        type_name: str,
        text: str,
        field: FieldSpec,
        attachments: Mapping[str, UploadedFile],
    ) -> Any:
        if type_name == "Integer":
            if _INTEGER_TEXT.fullmatch(text) and _INT64_MIN <= int(text) <= _INT64_MAX:
                return int(text)
            raise _type_mismatch([type_name])
        if type_name == "Float":
            try:
                number = float(text)
            except ValueError:
                raise _type_mismatch([type_name]) from None
            if not math.isfinite(number):
                raise _type_mismatch([type_name])
            return number
        if type_name == "Boolean":
            if text.lower() in _TRUE_TEXTS:
                return True
            if text.lower() in _FALSE_TEXTS:
                return False
            raise _type_mismatch([type_name])
        if type_name == "InputFile":
            if not text.startswith("attach://"):
                raise _type_mismatch([type_name])
            attachment = attachments.get(text.removeprefix("attach://"))
            if attachment is None:
                raise bad_request(f'can\'t find attached file for parameter "{field.name}"')
            return attachment
        if type_name == "String":
            # An identifier such as chat_id ("Integer or String") is never a JSON object or
            # array; such a value is a client bug, not a username.
            if len(field.types) > 1 and _looks_like_json_container(text):
                raise _type_mismatch(field.types)
            return text
        try:
            value = json.loads(text)
        except ValueError:
            if field.name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise _type_mismatch([type_name]) from None
        self.check_json(type_name, value)
        return value

    def _check_prose_rules(self, method: MethodSpec, params: Mapping[str, Any]) -> None:
        """Rules that api.json states only in its descriptions."""
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            for row in markup["inline_keyboard"]:
                for button in row:
                    check_inline_button(button)
        secret_token = params.get("secret_token") if method.name == "setWebhook" else None
        if secret_token is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if "text" in params and method.fields["text"].required and not params["text"].strip():
            raise bad_request(_MISSING_PARAMETER_TEXTS["text"])

    # --- JSON values ----------------------------------------------------------------------

    def check_json(self, type_name: str, value: Any) -> None:
        """Raise :class:`InvalidValue` unless ``value`` (decoded JSON) is a valid ``type_name``."""
        if type_name.startswith(ARRAY_PREFIX):
            if not isinstance(value, list):
                raise _type_mismatch([type_name])
            item_type = type_name.removeprefix(ARRAY_PREFIX)
            for index, item in enumerate(value):
                try:
                    self.check_json(item_type, item)
                except InvalidValue as failure:
                    raise failure.within(index) from None
            return
        if type_name in SCALAR_TYPES:
            if not _is_json_scalar(type_name, value):
                raise _type_mismatch([type_name])
            return
        type_spec = self.types.get(type_name)
        if type_spec is None:
            raise ValueError(f"api.json does not define type {type_name}")
        self._check_object(type_spec, value)

    def check_union(self, type_names: Sequence[str], value: Any) -> None:
        """Accept ``value`` if it matches any of ``type_names``."""
        failures: list[InvalidValue] = []
        for type_name in type_names:
            try:
                self.check_json(type_name, value)
            except InvalidValue as failure:
                failures.append(failure)
            else:
                return
        # The failure that got deepest into the value is the one the sender most likely meant.
        deepest = max(failures, key=lambda failure: len(failure.path))
        if len(type_names) > 1 and not deepest.path:
            raise _type_mismatch(type_names)
        raise deepest

    def _check_object(self, type_spec: TypeSpec, value: Any) -> None:
        if not isinstance(value, dict):
            raise _type_mismatch([type_spec.name])
        if type_spec.subtypes:
            self._check_subtype(type_spec, value)
            return
        if type_spec.tag is not None:
            tag_field, tag_value = type_spec.tag
            if tag_field in value and value[tag_field] != tag_value:
                raise InvalidValue(f'must be "{tag_value}"', (tag_field,))
        for key in value:
            if key not in type_spec.fields:
                raise InvalidValue("is unknown", (key,))
        for field in type_spec.fields.values():
            if field.name not in value:
                if field.required:
                    raise InvalidValue("is required", (field.name,))
                continue
            try:
                self.check_union(field.types, value[field.name])
            except InvalidValue as failure:
                raise failure.within(field.name) from None

    def _check_subtype(self, type_spec: TypeSpec, value: Mapping[str, Any]) -> None:
        subtypes = [self.types[name] for name in type_spec.subtypes]
        tags = {subtype.tag for subtype in subtypes if subtype.tag is not None}
        if len(tags) == len(subtypes):
            tag_field = next(iter(tags))[0]
            for subtype in subtypes:
                if subtype.tag == (tag_field, value.get(tag_field)):
                    self._check_object(subtype, value)
                    return
            allowed = ", ".join(f'"{tag_value}"' for _, tag_value in sorted(tags))
            raise InvalidValue(f"must be one of {allowed}", (tag_field,))
        self.check_union(type_spec.subtypes, value)


def _looks_like_json_container(text: str) -> bool:
    if not text.lstrip().startswith(("{", "[")):
        return False
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def _is_json_scalar(type_name: str, value: Any) -> bool:
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    # Strings, and InputFile references inside JSON objects ("attach://<name>" or a file_id).
    return isinstance(value, str)


def check_inline_button(button: Mapping[str, Any]) -> None:
    actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


def check_text_length(text: str) -> None:
    """Telegram counts characters after entity parsing and ignores surrounding whitespace."""
    if not text.strip():
        raise bad_request(_MISSING_PARAMETER_TEXTS["text"])
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def check_caption_length(caption: str) -> None:
    if len(caption) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")


__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "ApiSpec",
    "FieldSpec",
    "InvalidValue",
    "MethodSpec",
    "TypeSpec",
    "UploadedFile",
    "check_caption_length",
    "check_inline_button",
    "check_text_length",
]
