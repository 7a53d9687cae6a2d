"""getUpdates semantics (offsets, long polling, allowed_updates) and webhook delivery."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import Sandbox
from tests.sandbox.sandbox_testkit import RawBotApi, assert_refused, serving


async def test_unconfirmed_updates_are_delivered_again(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    await amina.send_text("een")
    await amina.send_text("twee")

    first = await raw_api.ok("getUpdates")
    assert [update["message"]["text"] for update in first] == ["een", "twee"]
    again = await raw_api.ok("getUpdates")
    assert again == first

    # An offset above the first update's id confirms it; the second is still delivered.
    remaining = await raw_api.ok("getUpdates", offset=first[0]["update_id"] + 1)
    assert [update["message"]["text"] for update in remaining] == ["twee"]
    assert await raw_api.ok("getUpdates", offset=first[1]["update_id"] + 1) == []
    assert await raw_api.ok("getUpdates") == []


async def test_limit_and_negative_offset(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    for text in ("een", "twee", "drie"):
        await amina.send_text(text)
    limited = await raw_api.ok("getUpdates", limit=2)
    assert [update["message"]["text"] for update in limited] == ["een", "twee"]
    # A negative offset keeps only the last -offset updates and forgets the others.
    last = await raw_api.ok("getUpdates", offset=-1)
    assert [update["message"]["text"] for update in last] == ["drie"]
    assert [update["message"]["text"] for update in await raw_api.ok("getUpdates")] == ["drie"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")

    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await amina.send_text("hallo")

    started = time.monotonic()
    writer = asyncio.create_task(write_later())
    updates = await raw_api.ok("getUpdates", timeout=10)
    elapsed = time.monotonic() - started
    await writer
    assert [update["message"]["text"] for update in updates] == ["hallo"]
    assert 0.25 < elapsed < 2


async def test_long_poll_times_out_empty(raw_api: RawBotApi) -> None:
    started = time.monotonic()
    assert await raw_api.ok("getUpdates", timeout=1) == []
    assert 0.9 < time.monotonic() - started < 3


async def test_newer_get_updates_ends_an_older_one(raw_api: RawBotApi) -> None:
    older = asyncio.create_task(raw_api.form("getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    assert await raw_api.ok("getUpdates") == []
    assert_refused(
        await older,
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
    )


async def test_allowed_updates_filter_new_updates(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    await raw_api.ok(
        "sendMessage",
        chat_id=amina.id,
        text="Kies",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    assert await raw_api.ok("getUpdates", allowed_updates=["message"]) == []
    await amina.press("A")
    await amina.send_text("hallo")
    updates = await raw_api.ok("getUpdates")
    assert [next(iter(set(update) - {"update_id"})) for update in updates] == ["message"]
    # An empty list restores the default: everything except a few opt-in kinds.
    await raw_api.ok("getUpdates", allowed_updates=[], offset=updates[-1]["update_id"] + 1)
    await amina.press("A")
    assert "callback_query" in (await raw_api.ok("getUpdates"))[0]


async def test_blocking_sends_my_chat_member_updates(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    amina.block()
    amina.unblock()
    updates = await raw_api.ok("getUpdates")
    statuses = [
        (
            update["my_chat_member"]["old_chat_member"]["status"],
            update["my_chat_member"]["new_chat_member"]["status"],
        )
        for update in updates
    ]
    assert statuses == [("member", "kicked"), ("kicked", "member")]


class WebhookReceiver:
    """A webhook endpoint that fails a given number of times before accepting."""

    def __init__(self, failures: int) -> None:
        self.failures_left = failures
        self.attempts: list[tuple[int, str | None]] = []
        self.accepted: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        update = await request.json()
        self.attempts.append(
            (update["update_id"], request.headers.get("x-telegram-bot-api-secret-token"))
        )
        if self.failures_left > 0:
            self.failures_left -= 1
            return Response(status_code=500)
        self.accepted.append(update)
        return Response(status_code=200)


async def test_webhook_retries_failed_deliveries_in_order(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    receiver = WebhookReceiver(failures=2)
    amina = sandbox.add_user("Amina")
    async with serving(receiver.app) as receiver_url:
        await raw_api.ok("setWebhook", url=f"{receiver_url}/hook", secret_token="s3cret-token")
        await amina.send_text("een")
        await amina.send_text("twee")
        await sandbox.wait_until(lambda: len(receiver.accepted) == 2, timeout=5)

    texts = [update["message"]["text"] for update in receiver.accepted]
    assert texts == ["een", "twee"]
    first_id = receiver.accepted[0]["update_id"]
    assert receiver.attempts == [
        (first_id, "s3cret-token"),
        (first_id, "s3cret-token"),
        (first_id, "s3cret-token"),
        (first_id + 1, "s3cret-token"),
    ]
    info = await raw_api.ok("getWebhookInfo")
    assert info["url"] == f"{receiver_url}/hook"
    assert info["pending_update_count"] == 0
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )


async def test_webhook_info_reports_pending_updates_and_connection_errors(
    sandbox: Sandbox, raw_api: RawBotApi
) -> None:
    amina = sandbox.add_user("Amina")
    await amina.send_text("een")
    # Port 9 (discard) is closed on loopback, so every delivery is refused.
    await raw_api.ok("setWebhook", url="http://127.0.0.1:9/hook")
    await sandbox.wait_until(
        lambda: (
            sandbox.world.webhook is not None
            and sandbox.world.webhook.last_error_message is not None
        )
    )
    info = await raw_api.ok("getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Connection refused"
    assert isinstance(info["last_error_date"], int)

    await raw_api.ok("deleteWebhook", drop_pending_updates=True)
    info = await raw_api.ok("getWebhookInfo")
    assert info == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


async def test_set_webhook_can_drop_pending_updates(sandbox: Sandbox, raw_api: RawBotApi) -> None:
    amina = sandbox.add_user("Amina")
    await amina.send_text("old")
    receiver = WebhookReceiver(failures=0)
    async with serving(receiver.app) as receiver_url:
        await raw_api.ok("setWebhook", url=f"{receiver_url}/hook", drop_pending_updates=True)
        await amina.send_text("new")
        await sandbox.wait_until(lambda: len(receiver.accepted) == 1)
    assert receiver.accepted[0]["message"]["text"] == "new"
    assert receiver.attempts[0][1] is None
