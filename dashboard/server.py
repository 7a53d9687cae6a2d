"""Serving the dashboard with uvicorn inside the caller's event loop (next to the bot)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.clock import Clock, SystemClock
from bot.crypto import MessageCipher
from bot.handover import Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.serving import serving as serving_asgi
from bot.settings import Environment, Settings
from bot.storage import create_engine_for, session_factory
from dashboard.app import create_app
from dashboard.throttle import ThrottlePolicy
from dashboard.web import DashboardConfig

log = logging.getLogger(__name__)


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
        throttle=ThrottlePolicy(trusted_proxies=settings.trusted_proxy_networks),
    )
    return config, stack


@contextlib.asynccontextmanager
async def serving(config: DashboardConfig, host: str, port: int) -> AsyncIterator[str]:
    """Serve the dashboard on host:port (0 picks a free port); yields its URL."""
    async with serving_asgi(create_app(config), host, port, "DASHBOARD_HOST/DASHBOARD_PORT") as url:
        log.info("dashboard listening on %s", url)
        yield url


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
