"""Serving an ASGI app with uvicorn inside the caller's event loop (dashboard, webhook)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn

from bot.settings import SettingsError

STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class _EmbeddedUvicorn(uvicorn.Server):
    """Leaves Ctrl-C to the supervisor, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, host: str, port: int, variables: str) -> AsyncIterator[str]:
    """Serve `app` on host:port (0 picks a free port); yields its URL. `variables` names the
    settings to blame when the address cannot be used."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SettingsError(
            f"{variables}: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    listener.listen(128)
    listener.setblocking(False)
    server = _EmbeddedUvicorn(
        uvicorn.Config(
            app,
            log_level="warning",
            # Access logs would put request paths (and filters) in the log; errors still show.
            access_log=False,
            lifespan="off",
            # The client address comes from the connection; the dashboard alone reads
            # X-Forwarded-For, and only from DASHBOARD_TRUSTED_PROXIES (dashboard/throttle.py).
            proxy_headers=False,
            timeout_graceful_shutdown=2,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"the server on {host}:{port} stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError(f"the server on {host}:{port} did not start")
            await asyncio.sleep(0.01)
        bound_port = listener.getsockname()[1]
        url = f"http://{host}:{bound_port}/"
        yield url
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, SHUTDOWN_TIMEOUT_SECONDS)
        finally:
            listener.close()
