"""Serving the dashboard with uvicorn inside the caller's event loop (next to the bot)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator
from datetime import timedelta

import uvicorn

from bot.clock import Clock, SystemClock
from bot.crypto import MessageCipher
from bot.handover import Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.settings import Environment, Settings, SettingsError
from bot.storage import create_engine_for, session_factory
from dashboard.app import create_app
from dashboard.web import DashboardConfig

log = logging.getLogger(__name__)
STARTUP_TIMEOUT_SECONDS = 10.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0


class _EmbeddedUvicorn(uvicorn.Server):
    """Leaves Ctrl-C to the supervisor, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def config_from_settings(
    settings: Settings, clock: Clock | None = None
) -> tuple[DashboardConfig, contextlib.AsyncExitStack]:
    """The dashboard's dependencies, with a stack that closes the database engine."""
    engine = create_engine_for(settings.effective_database_url)
    cipher = MessageCipher.from_settings(settings)
    stack = contextlib.AsyncExitStack()
    stack.push_async_callback(engine.dispose)
    config = DashboardConfig(
        sessions=session_factory(engine),
        clock=clock or SystemClock(),
        secret_key=settings.dashboard_secret_key.get_secret_value(),
        secure_cookies=settings.environment is Environment.PRODUCTION,
        bot_username=settings.bot_username,
        cipher=cipher,
        handover=Handover(
            load_all_texts(),
            HandoverPolicy(
                offer_timeout=timedelta(minutes=settings.offer_timeout_minutes),
                tie_break=settings.tie_break,
            ),
            cipher,
        ),
    )
    return config, stack


@contextlib.asynccontextmanager
async def serving(config: DashboardConfig, host: str, port: int) -> AsyncIterator[str]:
    """Serve the dashboard on host:port (0 picks a free port); yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SettingsError(
            f"DASHBOARD_HOST/DASHBOARD_PORT: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    listener.listen(128)
    listener.setblocking(False)
    server = _EmbeddedUvicorn(
        uvicorn.Config(
            create_app(config),
            log_level="warning",
            # Access logs would put request paths (and filters) in the log; errors still show.
            access_log=False,
            lifespan="off",
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
                raise RuntimeError("the dashboard stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError("the dashboard did not start")
            await asyncio.sleep(0.01)
        bound_port = listener.getsockname()[1]
        url = f"http://{host}:{bound_port}/"
        log.info("dashboard listening on %s", url)
        yield url
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, SHUTDOWN_TIMEOUT_SECONDS)
        finally:
            listener.close()


@contextlib.asynccontextmanager
async def running_dashboard(settings: Settings, clock: Clock | None = None) -> AsyncIterator[str]:
    """The dashboard as `sleutelbrug run` starts it; yields its URL."""
    config, stack = config_from_settings(settings, clock)
    async with stack, serving(config, settings.dashboard_host, settings.dashboard_port) as url:
        yield url


async def run_dashboard(settings: Settings, stop: asyncio.Event) -> None:
    """Only the dashboard (`sleutelbrug dashboard`), until `stop` is set."""
    async with running_dashboard(settings) as url:
        print(f"Coordinator dashboard: {url}", flush=True)
        await stop.wait()
