"""`sleutelbrug` command line: run everything locally, run the bot alone, migrate, train.

`sleutelbrug run` is the one-command local run: it starts what is missing (an embedded Redis,
the Rasa server with a model trained when `nlu/` changed, and — without a Telegram token —
the sandbox Telegram with its chat page) and stops all of it again on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis

from bot.app import build_application, register_commands
from bot.embedded_redis import EmbeddedRedis, EmbeddedRedisError, start_embedded_redis
from bot.i18n import load_all_texts
from bot.nlu_guard import GuardedClassifier
from bot.services import Services
from bot.settings import BotMode, Settings, SettingsError, load_settings
from bot.storage import NewcomerStore, create_engine_for, migrate, session_factory
from nlu.client import RasaClient
from nlu.service import RasaServer, RasaServiceError, ensure_model, rasa_is_ready, start_rasa_server

log = logging.getLogger("sleutelbrug")

# Only the local sandbox accepts this token; Telegram would refuse it.
SANDBOX_TOKEN = "123456789:SANDBOX-local-token-not-for-telegram"  # noqa: S105


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sleutelbrug` console script."""
    parser = argparse.ArgumentParser(prog="sleutelbrug", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with everything it needs on this machine")
    commands.add_parser("bot", help="run only the bot (polling or webhook, per BOT_MODE)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("train", help="train the NLU model if nlu/ changed")
    arguments = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        if arguments.command == "migrate":
            migrate(settings.effective_database_url)
        elif arguments.command == "train":
            print(ensure_model())
        elif arguments.command == "bot":
            asyncio.run(_until_signalled(lambda stop: run_bot(settings, stop)))
        else:
            asyncio.run(_until_signalled(lambda stop: run_everything(settings, stop)))
    except (RasaServiceError, EmbeddedRedisError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


async def _until_signalled(run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run until Ctrl-C or SIGTERM sets the stop event, so that cleanup always runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run(stop)


async def run_everything(settings: Settings, stop: asyncio.Event) -> None:
    """Start what is missing locally, run the bot until `stop`, then stop all that was started."""
    async with contextlib.AsyncExitStack() as started:
        migrate(settings.effective_database_url)
        redis_url = settings.redis_url
        if redis_url is None:
            embedded: EmbeddedRedis = await asyncio.to_thread(
                start_embedded_redis, settings.data_dir / "redis"
            )
            started.callback(embedded.stop)
            redis_url = embedded.url
            log.info("embedded Redis started at %s", redis_url)
        rasa_url = settings.rasa_url
        if not await asyncio.to_thread(rasa_is_ready, rasa_url):
            rasa = await asyncio.to_thread(_start_local_rasa, settings)
            started.callback(rasa.stop)
            rasa_url = rasa.url
        log.info("Rasa NLU ready at %s", rasa_url)
        settings = settings.model_copy(update={"redis_url": redis_url, "rasa_url": rasa_url})
        if settings.telegram_bot_token is not None:
            await run_bot(settings, stop)
            return
        from sandbox import FloodLimits, Sandbox  # the sandbox is only for the no-token run

        async with Sandbox(
            token=SANDBOX_TOKEN,
            flood_limits=FloodLimits(enabled=True),
            host=settings.sandbox_host,
            port=settings.sandbox_port,
        ) as sandbox:
            print(f"\nSandbox Telegram chat page: {sandbox.page_url}\n", flush=True)
            await run_bot(
                settings,
                stop,
                token=SANDBOX_TOKEN,
                base_url=sandbox.base_url,
                base_file_url=sandbox.base_file_url,
            )


def _start_local_rasa(settings: Settings) -> RasaServer:
    parts = urlsplit(settings.rasa_url)
    if parts.hostname not in {"127.0.0.1", "localhost"}:
        raise RasaServiceError(f"RASA_URL {settings.rasa_url} does not answer")
    model = ensure_model()
    log.info("starting Rasa server with %s", model.name)
    return start_rasa_server(
        model,
        host="127.0.0.1",
        port=parts.port or 5005,
        log_dir=settings.data_dir / "logs",
    )


@contextlib.asynccontextmanager
async def services_for(settings: Settings) -> AsyncIterator[Services]:
    """The services handlers need, closed again on exit."""
    if settings.redis_url is None:
        raise SettingsError("REDIS_URL is required to run the bot alone")
    engine = create_engine_for(settings.effective_database_url)
    redis: Redis = Redis.from_url(settings.redis_url)
    rasa = RasaClient(
        settings.rasa_url,
        timeout=settings.rasa_timeout_seconds,
        confidence_threshold=settings.nlu_confidence_threshold,
    )
    try:
        await redis.ping()
        yield Services(
            texts=load_all_texts(),
            newcomers=NewcomerStore(session_factory(engine)),
            nlu=GuardedClassifier(rasa, redis, settings.redis_key_prefix),
        )
    finally:
        await rasa.aclose()
        await redis.aclose()
        await engine.dispose()


async def run_bot(
    settings: Settings,
    stop: asyncio.Event,
    *,
    token: str | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
) -> None:
    """Run the Telegram bot until `stop` is set."""
    if token is None:
        if settings.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is required to run the bot alone")
        token = settings.telegram_bot_token.get_secret_value()
    async with services_for(settings) as services:
        application = build_application(
            token, services, base_url=base_url, base_file_url=base_file_url
        )
        async with application:
            assert application.updater is not None
            await register_commands(application)
            if settings.bot_mode is BotMode.WEBHOOK:
                assert settings.webhook_url is not None and settings.webhook_secret is not None
                await application.updater.start_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path="telegram",
                    webhook_url=f"{settings.webhook_url}/telegram",
                    secret_token=settings.webhook_secret.get_secret_value(),
                )
            else:
                await application.updater.start_polling()
            await application.start()
            log.info("bot running in %s mode", settings.bot_mode)
            await stop.wait()
            log.info("stopping")
            await application.updater.stop()
            await application.stop()


if __name__ == "__main__":
    sys.exit(main())
