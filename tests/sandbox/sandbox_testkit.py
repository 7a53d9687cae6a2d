"""Helpers shared by the sandbox tests (kept out of conftest.py so tests can import them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp
from telegram.ext import Application, ApplicationBuilder, BaseHandler

from sandbox import Sandbox

# Tests wait for webhook retries, so they should come quickly.
WEBHOOK_RETRY_DELAY = 0.05

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
AnyHandler = BaseHandler[Any, Any, Any]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RawBotApi:
    """Calls the sandbox's Bot API directly, without python-telegram-bot."""

    def __init__(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        self.client = client
        self.sandbox = sandbox

    def url(self, method: str, token: str | None = None) -> str:
        return f"{self.sandbox.base_url}{token or self.sandbox.token}/{method}"

    async def form(self, method: str, **params: Any) -> httpx.Response:
        """Form-encoded like PTB: strings as they are, anything else JSON-encoded."""
        data = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in params.items()
        }
        return await self.client.post(self.url(method), data=data)

    async def json(self, method: str, **params: Any) -> httpx.Response:
        return await self.client.post(self.url(method), json=params)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.form(method, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        return body["result"]


def assert_refused(response: httpx.Response, status: int, description: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"ok": False, "error_code": status, "description": description}


def build_application(sandbox: Sandbox, handlers: Iterable[AnyHandler]) -> AnyApplication:
    application = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    for handler in handlers:
        application.add_handler(handler)
    return application


@contextlib.asynccontextmanager
async def polling_application(
    sandbox: Sandbox, handlers: Iterable[AnyHandler]
) -> AsyncIterator[AnyApplication]:
    """A real PTB Application polling the sandbox, stopped cleanly afterwards."""
    application = build_application(sandbox, handlers)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=2)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        assert not task.done(), "test server failed to start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        listener.close()
