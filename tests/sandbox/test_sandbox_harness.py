"""The Python harness (Sandbox, SimUser) and conformance of every answer to api.json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox import ApiSpec, Sandbox, SandboxUsageError, make_png
from tests.sandbox.sandbox_testkit import RawBotApi, assert_refused

SPEC = ApiSpec.bundled()


def keyboard(*labels: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [[{"text": label, "callback_data": label.lower()} for label in labels]]
    }


async def test_wait_for_message_returns_each_message_once_and_edits_again(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina", language_code="ar")
    first = await raw_api.ok("sendMessage", chat_id=amina.id, text="een")
    await raw_api.ok("sendMessage", chat_id=amina.id, text="twee")
    assert (await amina.wait_for_message()).text == "een"
    assert (await amina.wait_for_message()).text == "twee"
    with pytest.raises(TimeoutError, match="received so far: \\['een', 'twee'\\]"):
        await amina.wait_for_message(timeout=0.1)

    await raw_api.ok("editMessageText", chat_id=amina.id, message_id=first["message_id"], text="1")
    edited = await amina.wait_for_message(timeout=1)
    assert (edited.message_id, edited.text) == (first["message_id"], "1")
    assert edited.edit_date is not None
    assert [message.text for message in amina.received()] == ["1", "twee"]

    await raw_api.ok("deleteMessage", chat_id=amina.id, message_id=first["message_id"])
    assert [message.text for message in amina.received()] == ["twee"]


async def test_received_messages_are_snapshots(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    sent = await raw_api.ok("sendMessage", chat_id=amina.id, text="voor")
    before = amina.received()[0]
    await raw_api.ok("editMessageText", chat_id=amina.id, message_id=sent["message_id"], text="na")
    assert before.text == "voor"
    assert amina.received()[0].text == "na"


async def test_press_uses_the_latest_message_with_that_button(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    await raw_api.ok("sendMessage", chat_id=amina.id, text="oud", reply_markup=keyboard("Ja"))
    newest = await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="nieuw", reply_markup=keyboard("Ja", "Nee")
    )
    query = await amina.press("Ja")
    assert query.message_id == newest["message_id"]
    assert query.data == "ja"
    [update] = await raw_api.ok("getUpdates")
    assert update["callback_query"]["message"]["text"] == "nieuw"
    assert update["callback_query"]["from"]["id"] == amina.id

    await raw_api.ok("answerCallbackQuery", callback_query_id=query.id, text="Top", show_alert=True)
    assert (query.answered, query.answer_text, query.show_alert) == (True, "Top", True)
    assert_refused(
        await raw_api.form("answerCallbackQuery", callback_query_id=query.id),
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    with pytest.raises(SandboxUsageError):
        await amina.press("Misschien")


async def test_blocked_user_cannot_send(sandbox: Sandbox) -> None:
    amina = sandbox.add_user("Amina")
    amina.block()
    with pytest.raises(SandboxUsageError):
        await amina.send_text("hallo")


async def test_dates_come_from_the_injected_clock(raw_api: RawBotApi) -> None:
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def clock() -> datetime:
        return now

    async with Sandbox(clock=clock) as sandbox:
        raw_api.sandbox = sandbox
        amina = sandbox.add_user("Amina")
        sent = await amina.send_text("goedemorgen")
        now += timedelta(minutes=5)
        reply = await raw_api.ok("sendMessage", chat_id=amina.id, text="hallo")
        [update] = await raw_api.ok("getUpdates")

    assert sent.date == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert update["message"]["date"] == int(datetime(2026, 3, 1, 9, 30, tzinfo=UTC).timestamp())
    assert reply["date"] == int(datetime(2026, 3, 1, 9, 35, tzinfo=UTC).timestamp())


async def test_reply_keyboards(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    await raw_api.ok(
        "sendMessage",
        chat_id=amina.id,
        text="Deel je taal",
        reply_markup={
            "keyboard": [[{"text": "Nederlands"}, {"text": "العربية"}]],
            "one_time_keyboard": True,
        },
    )
    assert amina.reply_keyboard == [["Nederlands", "العربية"]]
    await amina.send_text("العربية")
    assert amina.reply_keyboard is None
    await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="Kies", reply_markup={"keyboard": [[{"text": "A"}]]}
    )
    await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="Klaar", reply_markup={"remove_keyboard": True}
    )
    assert amina.reply_keyboard is None


async def test_commands_per_scope_and_language(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina", language_code="ar")
    bram = sandbox.add_user("Bram", language_code="nl")
    await raw_api.ok("setMyCommands", commands=[{"command": "start", "description": "Begin"}])
    await raw_api.ok(
        "setMyCommands",
        commands=[{"command": "start", "description": "ابدأ"}],
        language_code="ar",
    )
    assert sandbox.server.methods.commands_for_user(amina.id)[0]["description"] == "ابدأ"
    assert sandbox.server.methods.commands_for_user(bram.id)[0]["description"] == "Begin"
    assert await raw_api.ok("getMyCommands", language_code="ar") == [
        {"command": "start", "description": "ابدأ"}
    ]
    assert_refused(
        await raw_api.form("setMyCommands", commands=[{"command": "Start", "description": "x"}]),
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )


async def test_bot_photos_must_be_images(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    url = raw_api.url("sendPhoto")
    refused = await raw_api.client.post(
        url, data={"chat_id": str(amina.id)}, files={"photo": ("x.jpg", b"nope")}
    )
    assert_refused(refused, 400, "Bad Request: IMAGE_PROCESS_FAILED")
    accepted = await raw_api.client.post(
        url, data={"chat_id": str(amina.id)}, files={"photo": ("x.png", make_png(5, 4))}
    )
    assert accepted.json()["result"]["photo"][0]["width"] == 5
    # The same upload referred to as attach://<name>, as PTB does for media groups.
    by_reference = await raw_api.client.post(
        url,
        data={"chat_id": str(amina.id), "photo": "attach://picture"},
        files={"picture": ("p.png", make_png(3, 3))},
    )
    assert by_reference.json()["result"]["photo"][0]["height"] == 3


def assert_conforms(method: str, result: Any) -> None:
    """The result must match one of the return types api.json gives for ``method``."""
    method_spec = SPEC.find_method(method)
    assert method_spec is not None
    SPEC.check_union(method_spec.returns, result)


async def test_every_answer_matches_api_json(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina", language_code="ar", username="amina_ar", last_name="K.")
    bram = sandbox.add_user("Bram", language_code="nl")
    photo = await amina.send_photo(make_png(), caption="foto")
    await amina.send_voice(b"OggS", duration=2)
    await amina.send_document(b"doc", "brief.pdf")
    await amina.send_text("/start hallo https://example.org @someone")
    assert photo.photo is not None

    calls: list[tuple[str, dict[str, Any]]] = [
        ("getMe", {}),
        ("getChat", {"chat_id": amina.id}),
        (
            "sendMessage",
            {
                "chat_id": amina.id,
                "text": "<i>hoi</i>",
                "parse_mode": "HTML",
                "reply_markup": keyboard("A"),
            },
        ),
        ("sendPhoto", {"chat_id": amina.id, "photo": photo.photo[-1].file_id, "caption": "terug"}),
        (
            "copyMessage",
            {"chat_id": bram.id, "from_chat_id": amina.id, "message_id": photo.message_id},
        ),
        (
            "forwardMessage",
            {"chat_id": bram.id, "from_chat_id": amina.id, "message_id": photo.message_id},
        ),
        (
            "sendMessage",
            {
                "chat_id": amina.id,
                "text": "antwoord",
                "reply_parameters": {"message_id": photo.message_id},
            },
        ),
        ("sendChatAction", {"chat_id": amina.id, "action": "typing"}),
        ("setMyCommands", {"commands": [{"command": "start", "description": "Begin"}]}),
        ("getMyCommands", {}),
        ("getMyName", {}),
        ("getWebhookInfo", {}),
        ("getFile", {"file_id": photo.photo[-1].file_id}),
    ]
    for method, params in calls:
        assert_conforms(method, await raw_api.ok(method, **params))

    sent = await raw_api.ok(
        "sendMessage", chat_id=amina.id, text="kies", reply_markup=keyboard("A")
    )
    edited = await raw_api.ok(
        "editMessageText", chat_id=amina.id, message_id=sent["message_id"], text="gekozen"
    )
    assert_conforms("editMessageText", edited)
    # The edit left out reply_markup, which removed the keyboard; put a new one in place.
    await raw_api.ok(
        "editMessageReplyMarkup",
        chat_id=amina.id,
        message_id=sent["message_id"],
        reply_markup=keyboard("B"),
    )
    await amina.press("B")
    amina.block()
    assert_refused(
        await raw_api.form(
            "editMessageText", chat_id=amina.id, message_id=sent["message_id"], text="x"
        ),
        403,
        "Forbidden: bot was blocked by the user",
    )
    amina.unblock()

    updates = await raw_api.ok("getUpdates")
    kinds = [next(key for key in update if key != "update_id") for update in updates]
    assert kinds == ["message"] * 4 + ["callback_query", "my_chat_member", "my_chat_member"]
    assert_conforms("getUpdates", updates)
    command = updates[3]["message"]
    assert [entity["type"] for entity in command["entities"]] == ["bot_command", "url", "mention"]
