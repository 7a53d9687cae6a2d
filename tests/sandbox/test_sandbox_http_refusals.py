"""Refusals over raw HTTP: Telegram's status codes and descriptions."""

from __future__ import annotations

import json

from sandbox import FloodLimits, Sandbox
from tests.sandbox.sandbox_testkit import RawBotApi, assert_refused


def inline_keyboard(callback_data: str) -> dict[str, object]:
    return {"inline_keyboard": [[{"text": "Choose", "callback_data": callback_data}]]}


async def test_text_of_4096_characters_is_accepted_and_4097_refused(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina", language_code="ar")
    accepted = await raw_api.ok("sendMessage", chat_id=amina.id, text="ب" * 4096)
    assert len(accepted["text"]) == 4096
    refused = await raw_api.form("sendMessage", chat_id=amina.id, text="ب" * 4097)
    assert_refused(refused, 400, "Bad Request: message is too long")
    assert len(amina.received()) == 1


async def test_caption_over_1024_characters_is_refused(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    photo_message = await amina.send_photo(b"not really a jpeg")
    assert photo_message.photo is not None
    file_id = photo_message.photo[-1].file_id
    await raw_api.ok("sendPhoto", chat_id=amina.id, photo=file_id, caption="c" * 1024)
    refused = await raw_api.form("sendPhoto", chat_id=amina.id, photo=file_id, caption="c" * 1025)
    assert_refused(refused, 400, "Bad Request: message caption is too long")


async def test_callback_data_of_64_bytes_is_accepted_and_65_refused(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="Pick", reply_markup=inline_keyboard("x" * 64)
    )
    refused = await raw_api.form(
        "sendMessage", chat_id=amina.id, text="Pick", reply_markup=inline_keyboard("x" * 65)
    )
    assert_refused(refused, 400, "Bad Request: BUTTON_DATA_INVALID")


async def test_unknown_method_is_404(raw_api: RawBotApi) -> None:
    assert_refused(await raw_api.form("sendHologram", chat_id=1), 404, "Not Found")


async def test_wrong_token_is_401(raw_api: RawBotApi) -> None:
    response = await raw_api.client.post(raw_api.url("getMe", token="999:WRONG"))
    assert_refused(response, 401, "Unauthorized")


async def test_missing_chat_id(raw_api: RawBotApi) -> None:
    assert_refused(
        await raw_api.form("sendMessage", text="hallo"), 400, "Bad Request: chat_id is empty"
    )


async def test_wrong_types(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    assert_refused(
        await raw_api.form("deleteMessage", chat_id=amina.id, message_id="abc"),
        400,
        'Bad Request: parameter "message_id" must be of type Integer',
    )
    assert_refused(
        await raw_api.json("sendMessage", chat_id={"id": amina.id}, text="hallo"),
        400,
        'Bad Request: parameter "chat_id" must be of type Integer or String',
    )


async def test_unknown_parameter(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    assert_refused(
        await raw_api.form("sendMessage", chat_id=amina.id, text="hallo", urgent="true"),
        400,
        'Bad Request: unknown parameter "urgent"',
    )


async def test_unknown_chat(raw_api: RawBotApi) -> None:
    assert_refused(
        await raw_api.form("sendMessage", chat_id=777, text="hallo"),
        400,
        "Bad Request: chat not found",
    )


async def test_edit_without_change_is_not_modified(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    markup = inline_keyboard("a")
    sent = await raw_api.ok("sendMessage", chat_id=amina.id, text="Kies", reply_markup=markup)
    edit = {"chat_id": amina.id, "message_id": sent["message_id"], "text": "Kies"}
    assert_refused(
        await raw_api.form("editMessageText", **edit, reply_markup=markup),
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    # Leaving the markup out removes the keyboard, which is a modification.
    edited = await raw_api.ok("editMessageText", **edit)
    assert "reply_markup" not in edited
    assert "edit_date" in edited


async def test_blocked_user_gives_403(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    amina.block()
    assert_refused(
        await raw_api.form("sendMessage", chat_id=amina.id, text="hallo"),
        403,
        "Forbidden: bot was blocked by the user",
    )
    amina.unblock()
    await raw_api.ok("sendMessage", chat_id=amina.id, text="hallo")


async def test_user_who_never_started_the_bot_cannot_be_messaged(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    stranger = sandbox.add_user("Stranger", has_started=False)
    assert_refused(
        await raw_api.form("sendMessage", chat_id=stranger.id, text="hallo"),
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await stranger.send_text("/start")
    await raw_api.ok("sendMessage", chat_id=stranger.id, text="hallo")


async def test_flood_limit_gives_429_and_sends_nothing(raw_api: RawBotApi) -> None:
    async with Sandbox(flood_limits=FloodLimits(per_chat_per_second=1)) as sandbox:
        raw_api.sandbox = sandbox
        amina = sandbox.add_user("Amina")
        await raw_api.ok("sendMessage", chat_id=amina.id, text="one")
        refused = await raw_api.form("sendMessage", chat_id=amina.id, text="two")
        assert refused.status_code == 429
        assert refused.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        assert [message.text for message in amina.received()] == ["one"]
        # Edits and other chats are not limited by this chat's message rate.
        sent_id = amina.received()[0].message_id
        await raw_api.ok("editMessageText", chat_id=amina.id, message_id=sent_id, text="one!")
        other = sandbox.add_user("Bram")
        await raw_api.ok("sendMessage", chat_id=other.id, text="hoi")


async def test_global_flood_limit(raw_api: RawBotApi) -> None:
    limits = FloodLimits(per_chat_per_second=10, global_per_second=2)
    async with Sandbox(flood_limits=limits) as sandbox:
        raw_api.sandbox = sandbox
        users = [sandbox.add_user(name) for name in ("A", "B", "C")]
        for user in users[:2]:
            await raw_api.ok("sendMessage", chat_id=user.id, text="hoi")
        refused = await raw_api.form("sendMessage", chat_id=users[2].id, text="hoi")
        assert refused.status_code == 429
        assert users[2].received() == []


async def test_query_string_json_body_and_method_case(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    by_query = await raw_api.client.get(
        raw_api.url("sendmessage"), params={"chat_id": amina.id, "text": "via GET"}
    )
    assert by_query.json()["result"]["text"] == "via GET"
    by_json = await raw_api.json(
        "sendMessage",
        chat_id=amina.id,
        text="via JSON",
        reply_markup=inline_keyboard("a"),
        disable_notification=True,
    )
    assert by_json.json()["result"]["reply_markup"] == inline_keyboard("a")
    assert [request.method for request in sandbox.requests] == ["sendMessage", "sendMessage"]


async def test_html_markup_is_parsed_and_bad_markup_refused(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    sent = await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="<b>Welkom</b> &amp; hallo", parse_mode="HTML"
    )
    assert sent["text"] == "Welkom & hallo"
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 6}]
    refused = await raw_api.form("sendMessage", chat_id=amina.id, text="1 < 2", parse_mode="HTML")
    assert refused.status_code == 400
    assert refused.json()["description"].startswith("Bad Request: can't parse entities")
    refused = await raw_api.form(
        "sendMessage", chat_id=amina.id, text="Hoi.", parse_mode="MarkdownV2"
    )
    assert "Character '.' is reserved" in refused.json()["description"]


async def test_requests_are_logged_with_status(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    await raw_api.form("sendMessage", text="x")
    await raw_api.ok("getMe")
    assert [(method, status) for method, _params, status in sandbox.requests] == [
        ("sendMessage", 400),
        ("getMe", 200),
    ]
    assert sandbox.requests[0].description == "Bad Request: chat_id is empty"
    assert json.dumps(sandbox.requests[0].params) == '{"text": "x"}'
