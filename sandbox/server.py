"""The HTTP side of the sandbox: a Starlette app that speaks the Bot API and serves the chat page.

Routes:

- ``/bot{token}/{method}`` (GET and POST): the Bot API, validated against ``api.json``.
- ``/file/bot{token}/{file_path}``: file downloads, as on ``api.telegram.org``.
- ``/``, ``/static/...``: the chat page; ``/sandbox/api/...``: the JSON API the page uses.

A background task delivers pending updates to the webhook while one is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.errors import ApiError, bad_request, conflict, not_found, unauthorized
from sandbox.methods import BotMethods, Params
from sandbox.spec import ApiSpec, MethodSpec, UploadedFile
from sandbox.state import (
    ChatMessage,
    FileKind,
    JsonObject,
    RecordedRequest,
    SandboxUsageError,
    World,
)

logger = logging.getLogger(__name__)

STATIC_DIRECTORY = Path(__file__).parent / "static"
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Telegram accepts uploads up to 50 MB from bots.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PAGE_WAIT_SECONDS = 30.0
_FILE_KINDS: dict[str, FileKind] = {"photo": "photo", "voice": "voice", "document": "document"}


class SandboxServer:
    """The Starlette application around one :class:`World`."""

    def __init__(
        self,
        world: World,
        *,
        spec: ApiSpec | None = None,
        webhook_retry_delay: float = 1.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.world = world
        self.spec = spec or ApiSpec.bundled()
        self.methods = BotMethods(world)
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self.bot_api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self.download_file),
                Route("/", self.page),
                Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
                Route("/sandbox/api/state", self.page_state),
                Route("/sandbox/api/users", self.page_add_user, methods=["POST"]),
                Route(
                    "/sandbox/api/users/{user_id:int}/messages",
                    self.page_send_text,
                    methods=["POST"],
                ),
                Route(
                    "/sandbox/api/users/{user_id:int}/files", self.page_send_file, methods=["POST"]
                ),
                Route("/sandbox/api/users/{user_id:int}/press", self.page_press, methods=["POST"]),
                Route(
                    "/sandbox/api/users/{user_id:int}/blocked",
                    self.page_set_blocked,
                    methods=["POST"],
                ),
                Route("/sandbox/api/files/{file_id}", self.page_file),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        delivery = asyncio.create_task(self._deliver_webhook_updates())
        try:
            yield
        finally:
            self.close()
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    def close(self) -> None:
        """Release long polls so that the HTTP server can shut down promptly."""
        self.world.changes.close()

    # --- Bot API ----------------------------------------------------------------------------

    async def bot_api(self, request: Request) -> Response:
        method_name = request.path_params["method"]
        method = self.spec.find_method(method_name)
        # The request log shows decoded parameters, or the raw ones for a call refused as invalid.
        params: dict[str, Any] = {}
        try:
            if request.path_params["token"] != self.world.token:
                raise unauthorized()
            if method is None:
                raise not_found()
            method_name = method.name
            raw_params, attachments = await self._read_parameters(request, method)
            params = dict(raw_params)
            params = self.spec.validate_call(method, raw_params, attachments)
            if method.name == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                result = self.methods.call(method.name, params)
        except _ClientGone:
            # Nobody reads this answer (e.g. PTB cancelled its long poll while stopping).
            return Response(status_code=204)
        except ApiError as error:
            self._record(method_name, params, error.status, error.description)
            return JSONResponse(error.to_json(), status_code=error.status)
        self._record(method_name, params, 200)
        return JSONResponse({"ok": True, "result": result})

    def _record(
        self, method: str, params: dict[str, Any], status: int, description: str | None = None
    ) -> None:
        logger.debug("Bot API call %s answered %d", method, status)
        self.world.requests.append(
            RecordedRequest(method, params, status, description, self.world.monotonic())
        )

    async def _read_parameters(
        self, request: Request, method: MethodSpec
    ) -> tuple[dict[str, str | UploadedFile], dict[str, UploadedFile]]:
        """Collect parameters from the query string and any body encoding Telegram accepts.

        JSON bodies are flattened to the text form the other encodings use, so that one
        decoder handles them all. Uploaded parts that are not parameters are attachments
        referred to as ``attach://<name>``.
        """
        params: dict[str, str | UploadedFile] = dict(request.query_params)
        attachments: dict[str, UploadedFile] = {}
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = await request.body()
            if body.strip():
                try:
                    document = json.loads(body)
                except ValueError:
                    raise bad_request("can't parse JSON encoded request") from None
                if not isinstance(document, dict):
                    raise bad_request("can't parse JSON encoded request")
                for name, value in document.items():
                    if value is not None:
                        params[name] = value if isinstance(value, str) else json.dumps(value)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            async with request.form(max_files=1000, max_fields=1000) as form:
                for name, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        uploaded = UploadedFile(
                            data=await value.read(),
                            filename=value.filename,
                            content_type=value.content_type,
                        )
                        if name in method.fields:
                            params[name] = uploaded
                        else:
                            attachments[name] = uploaded
                    else:
                        params[name] = value
        return params, attachments

    async def _get_updates(self, params: Params, request: Request) -> list[JsonObject]:
        """Long polling: answer as soon as an update is pending or the timeout expires."""
        ticket = self.world.take_poll_ticket()
        self.world.set_allowed_updates(params.get("allowed_updates"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(params.get("timeout", 0), 0)
        while True:
            if await request.is_disconnected():
                raise _ClientGone
            # No awaiting from here to changes.wait(), or a change could slip in unnoticed.
            updates = self.methods.get_updates_now(params)
            if updates:
                return updates
            if self.world.poll_ticket != ticket:
                raise conflict(
                    "terminated by other getUpdates request; make sure that only one bot "
                    "instance is running"
                )
            remaining = deadline - loop.time()
            if remaining <= 0 or self.world.changes.closed or self.world.webhook is not None:
                return []
            await self.world.changes.wait(remaining)

    async def download_file(self, request: Request) -> Response:
        if request.path_params["token"] != self.world.token:
            return JSONResponse(unauthorized().to_json(), status_code=401)
        stored = self.world.files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return JSONResponse(not_found().to_json(), status_code=404)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")

    # --- webhook ----------------------------------------------------------------------------

    async def _deliver_webhook_updates(self) -> None:
        """Post pending updates to the webhook one at a time, in order, retrying failures."""
        changes = self.world.changes
        async with httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False) as client:
            while not changes.closed:
                webhook = self.world.webhook
                if webhook is None or not self.world.pending_updates:
                    await changes.wait(MAX_PAGE_WAIT_SECONDS)
                    continue
                update = self.world.pending_updates[0]
                headers = (
                    {SECRET_TOKEN_HEADER: webhook.secret_token} if webhook.secret_token else {}
                )
                try:
                    response = await client.post(webhook.url, json=update, headers=headers)
                except httpx.HTTPError as error:
                    problem = _connection_problem(error)
                else:
                    if response.is_success:
                        self.world.confirm_delivered(update["update_id"])
                        continue
                    problem = (
                        "Wrong response from the webhook: "
                        f"{response.status_code} {response.reason_phrase}"
                    )
                logger.info(
                    "Webhook delivery of update %d failed (%s); retrying in %.2f s",
                    update["update_id"],
                    problem,
                    self.webhook_retry_delay,
                )
                self.world.record_webhook_error(problem)
                await asyncio.sleep(self.webhook_retry_delay)

    # --- chat page --------------------------------------------------------------------------

    async def page(self, _request: Request) -> Response:
        return FileResponse(STATIC_DIRECTORY / "index.html")

    async def page_state(self, request: Request) -> Response:
        """Everything the page shows; waits (long poll) until the world changed after ``since``."""
        since = _int_query(request, "since", -1)
        wait = min(float(_int_query(request, "wait", 0)), MAX_PAGE_WAIT_SECONDS)
        changes = self.world.changes
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while changes.version <= since and not changes.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await changes.wait(remaining)
        user_id = _int_query(request, "user", 0)
        return JSONResponse(
            {
                "version": changes.version,
                "bot": self.world.bot.to_json(),
                "webhook_url": self.world.webhook.url if self.world.webhook else None,
                "users": [self._page_user(user.id) for user in self.world.users.values()],
                "chat": self._page_chat(user_id) if user_id in self.world.users else None,
            }
        )

    def _page_user(self, user_id: int) -> JsonObject:
        user = self.world.users[user_id]
        return {
            **user.to_json(),
            "blocked": user.blocked_bot,
            "has_started": self.world.chats[user_id].has_started,
        }

    def _page_chat(self, user_id: int) -> JsonObject:
        chat = self.world.chats[user_id]
        answers = [
            {"id": query.id, "text": query.answer_text, "show_alert": query.show_alert}
            for query in self.world.callback_queries.values()
            if query.user_id == user_id and query.answered and query.answer_text
        ]
        return {
            "user": self._page_user(user_id),
            "messages": [self._page_message(message) for message in chat.messages.values()],
            "reply_keyboard": chat.reply_keyboard,
            "chat_action": self.methods.chat_action_active(chat),
            "commands": self.methods.commands_for_user(user_id),
            "callback_answers": answers,
        }

    def _page_message(self, message: ChatMessage) -> JsonObject:
        def file_url(file_id: str) -> str:
            return f"/sandbox/api/files/{file_id}"

        data: JsonObject = {
            "message_id": message.message_id,
            "from_bot": message.from_bot,
            "date": message.date.isoformat(),
            "text": message.text,
            "entities": message.entities,
            "caption": message.caption,
            "caption_entities": message.caption_entities,
            "edited": message.edit_date is not None,
            "buttons": [[vars(button) for button in row] for row in message.reply_markup or ()],
        }
        if message.photo:
            largest = message.photo[-1]
            data["photo"] = {
                "url": file_url(largest.file_id),
                "width": largest.width,
                "height": largest.height,
            }
        if message.document is not None:
            data["document"] = {
                "url": file_url(message.document.file_id),
                "file_name": message.document.file_name or "document",
            }
        if message.voice is not None:
            data["voice"] = {
                "url": file_url(message.voice.file_id),
                "duration": message.voice.duration,
            }
        if message.forward_origin is not None:
            data["forwarded_from"] = message.forward_origin["sender_user"]["first_name"]
        replied = self.world.chats[message.chat_id].messages.get(message.reply_to_message_id or 0)
        if replied is not None:
            data["reply_to"] = {
                "message_id": replied.message_id,
                "excerpt": (replied.text or replied.caption or "")[:80],
            }
        return data

    async def page_add_user(self, request: Request) -> Response:
        async def add(body: JsonObject) -> JsonObject:
            first_name = str(body.get("first_name") or "").strip()
            if not first_name:
                raise SandboxUsageError("a user needs a first name")
            user = self.world.add_user(
                first_name,
                last_name=_optional_text(body.get("last_name")),
                username=_optional_text(body.get("username")),
                language_code=_optional_text(body.get("language_code")),
                # Like a new Telegram user, they have to press Start before the bot can write.
                has_started=False,
            )
            return self._page_user(user.id)

        return await _page_action(request, add)

    async def page_send_text(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]

        async def send(body: JsonObject) -> JsonObject:
            message = self.world.user_sends_text(user_id, str(body.get("text") or ""))
            return {"message_id": message.message_id}

        return await _page_action(request, send)

    async def page_send_file(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]
        async with request.form(max_part_size=MAX_UPLOAD_BYTES) as form:
            upload = form.get("file")
            kind = _FILE_KINDS.get(str(form.get("kind") or "photo"))
            caption = str(form.get("caption") or "") or None
            if not isinstance(upload, UploadFile) or kind is None:
                return JSONResponse({"error": "send a file and a kind"}, status_code=400)
            data = await upload.read()
            try:
                message = self.world.user_sends_file(
                    user_id,
                    kind,
                    data,
                    caption=caption,
                    file_name=upload.filename,
                    mime_type=upload.content_type,
                )
            except SandboxUsageError as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"message_id": message.message_id})

    async def page_press(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]

        async def press(body: JsonObject) -> JsonObject:
            query = self.world.user_presses_button(
                user_id, int(body.get("message_id") or 0), str(body.get("text") or "")
            )
            return {"callback_query_id": query.id}

        return await _page_action(request, press)

    async def page_set_blocked(self, request: Request) -> Response:
        user_id = request.path_params["user_id"]

        async def set_blocked(body: JsonObject) -> JsonObject:
            self.world.set_blocked(user_id, bool(body.get("blocked")))
            return self._page_user(user_id)

        return await _page_action(request, set_blocked)

    async def page_file(self, request: Request) -> Response:
        stored = self.world.files.get(request.path_params["file_id"])
        if stored is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        return Response(stored.data, media_type=stored.mime_type or "application/octet-stream")


class _ClientGone(Exception):
    """The client closed the connection while its long poll was waiting."""


async def _page_action(
    request: Request, action: Callable[[JsonObject], Awaitable[JsonObject]]
) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    try:
        return JSONResponse(await action(body))
    except (SandboxUsageError, ValueError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)


def _int_query(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def _optional_text(value: object) -> str | None:
    text = str(value or "").strip()
    return text or None


def _connection_problem(error: httpx.HTTPError) -> str:
    """Describe a failed delivery the way getWebhookInfo's last_error_message does."""
    if isinstance(error, httpx.ConnectError):
        return "Connection refused"
    if isinstance(error, httpx.TimeoutException):
        return "Read timeout expired"
    return "Connection error"
