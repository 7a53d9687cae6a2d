"""Validation of Bot API calls against api.json, without a server."""

from __future__ import annotations

import json

import pytest

from sandbox import ApiError, ApiSpec, UploadedFile
from sandbox.spec import InvalidValue

SPEC = ApiSpec.bundled()


def validate(method: str, **params: str | UploadedFile) -> dict[str, object]:
    method_spec = SPEC.find_method(method)
    assert method_spec is not None
    return SPEC.validate_call(method_spec, params, {})


def refusal(method: str, **params: str | UploadedFile) -> str:
    with pytest.raises(ApiError) as refused:
        validate(method, **params)
    assert refused.value.status == 400
    return refused.value.description


def test_bundled_spec_is_bot_api_10() -> None:
    assert SPEC.version == "Bot API 10.0"
    assert SPEC.find_method("sendmessage") is SPEC.find_method("sendMessage")
    assert SPEC.find_method("noSuchMethod") is None


def test_text_parameters_are_decoded_to_their_types() -> None:
    params = validate(
        "sendMessage",
        chat_id="42",
        text="hallo",
        disable_notification="true",
        reply_markup=json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}),
    )
    assert params == {
        "chat_id": 42,
        "text": "hallo",
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }
    assert validate("sendMessage", chat_id="@channel", text="x")["chat_id"] == "@channel"


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": "1"}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": "1", "text": "  "}, "Bad Request: message text is empty"),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "colour": "red"},
            'Bad Request: unknown parameter "colour"',
        ),
        (
            "deleteMessage",
            {"chat_id": "1", "message_id": "abc"},
            'Bad Request: parameter "message_id" must be of type Integer',
        ),
        (
            "sendMessage",
            {"chat_id": '{"id": 1}', "text": "x"},
            'Bad Request: parameter "chat_id" must be of type Integer or String',
        ),
        ("getFile", {}, 'Bad Request: parameter "file_id" is required'),
        (
            "sendMessage",
            {"chat_id": "1", "text": UploadedFile(b"x")},
            'Bad Request: parameter "text" must be of type String',
        ),
        (
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "setWebhook",
            {"url": "https://example.org/hook", "secret_token": "has:colon"},
            "Bad Request: secret token contains unallowed characters",
        ),
    ],
)
def test_refusals_use_telegram_texts(method: str, params: dict[str, str], description: str) -> None:
    assert refusal(method, **params) == description


def test_nested_objects_are_checked_field_by_field() -> None:
    def markup(button: dict[str, object]) -> str:
        return json.dumps({"inline_keyboard": [[button]]})

    wrong_type = refusal(
        "sendMessage", chat_id="1", text="x", reply_markup=markup({"text": "A", "callback_data": 5})
    )
    assert wrong_type == (
        'Bad Request: can\'t parse parameter "reply_markup": '
        'field "inline_keyboard[0][0].callback_data" must be of type String'
    )
    unknown_field = refusal(
        "sendMessage",
        chat_id="1",
        text="x",
        reply_markup=markup({"text": "A", "callback_data": "a", "colour": "red"}),
    )
    assert 'field "inline_keyboard[0][0].colour" is unknown' in unknown_field
    no_action = refusal("sendMessage", chat_id="1", text="x", reply_markup=markup({"text": "A"}))
    assert no_action == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )


@pytest.mark.parametrize(("size", "accepted"), [(1, True), (64, True), (65, False)])
def test_callback_data_is_limited_to_64_bytes(size: int, accepted: bool) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "d" * size}]]})
    if accepted:
        validate("sendMessage", chat_id="1", text="x", reply_markup=markup)
    else:
        assert refusal("sendMessage", chat_id="1", text="x", reply_markup=markup) == (
            "Bad Request: BUTTON_DATA_INVALID"
        )


def test_callback_data_counts_bytes_not_characters() -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "ع" * 33}]]})
    assert refusal("sendMessage", chat_id="1", text="x", reply_markup=markup) == (
        "Bad Request: BUTTON_DATA_INVALID"
    )


def test_subtypes_are_told_apart_by_their_type_field() -> None:
    commands = json.dumps([{"command": "start", "description": "Begin"}])
    chat_scope = json.dumps({"type": "chat", "chat_id": 5})
    assert validate("setMyCommands", commands=commands, scope=chat_scope)["scope"] == {
        "type": "chat",
        "chat_id": 5,
    }
    missing = refusal("setMyCommands", commands=commands, scope=json.dumps({"type": "chat"}))
    assert missing.endswith('field "chat_id" is required')
    unknown = refusal("setMyCommands", commands=commands, scope=json.dumps({"type": "planet"}))
    assert 'field "type" must be one of' in unknown


def test_files_arrive_as_uploads_or_attach_references() -> None:
    method = SPEC.find_method("sendPhoto")
    assert method is not None
    upload = UploadedFile(b"\x89PNG", filename="a.png", content_type="image/png")
    assert SPEC.validate_call(method, {"chat_id": "1", "photo": upload}, {})["photo"] == upload
    by_reference = SPEC.validate_call(
        method, {"chat_id": "1", "photo": "attach://picture"}, {"picture": upload}
    )
    assert by_reference["photo"] == upload
    file_id = SPEC.validate_call(method, {"chat_id": "1", "photo": "AgACfileid"}, {})
    assert file_id["photo"] == "AgACfileid"
    with pytest.raises(ApiError):
        SPEC.validate_call(method, {"chat_id": "1", "photo": "attach://missing"}, {})


def test_check_json_validates_answers_too() -> None:
    SPEC.check_json("User", {"id": 1, "is_bot": False, "first_name": "Amina"})
    with pytest.raises(InvalidValue) as invalid:
        SPEC.check_json("User", {"id": "1", "is_bot": False, "first_name": "Amina"})
    assert invalid.value.describe() == 'field "id" must be of type Integer'
    with pytest.raises(InvalidValue):
        SPEC.check_json("Message", {"message_id": 1, "date": 0})
