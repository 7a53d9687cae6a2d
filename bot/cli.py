"""`sleutelbrug` command line: run everything locally, run the bot alone, migrate, train.

`sleutelbrug run` is the one-command local run: it starts what is missing (an embedded Redis,
the Rasa server with a model trained when `nlu/` changed, and — without a Telegram token —
the sandbox Telegram with its chat page) and stops all of it again on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy import select
from telegram.ext import Application

from bot import handlers
from bot.app import Dependencies, build_application, register_commands
from bot.clock import Clock, SystemClock
from bot.crypto import MessageCipher
from bot.demo import seed_demo_sleutelpersonen
from bot.dispatcher import TICK_SECONDS, run_dispatcher
from bot.embedded_redis import EmbeddedRedis, EmbeddedRedisError, start_embedded_redis
from bot.handover import HandoverPolicy
from bot.i18n import load_all_texts
from bot.inbound_limit import InboundLimiter, InboundLimits
from bot.inbox import DEFAULT_CLAIM, InboxProcessor
from bot.intake import WEBHOOK_PATH, InboxStream, poll_updates, webhook_app
from bot.models import Organisation
from bot.nlu_guard import GuardedClassifier
from bot.profiles import PROFILE_ZONE, NewProfile, create_sleutelpersoon, leave_problems
from bot.rate_limit import SendLimits, SharedRateLimiter
from bot.rekey import reencrypt_all
from bot.services import SERVICES_KEY, Services
from bot.serving import serving
from bot.settings import BotMode, Settings, SettingsError, load_settings
from bot.storage import create_engine_for, migrate, session_factory
from bot.text import one_line
from bot.workers import StreamWorker, polling_scheduler, run_timers_when_leading, sweep_until
from dashboard import cli as dashboard_cli
from dashboard.server import run_dashboard, running_dashboard
from matching.office_hours import parse_weekly_hours
from nlu.client import RasaClient
from nlu.service import RasaServer, RasaServiceError, ensure_model, rasa_is_ready, start_rasa_server
from sandbox import FloodLimits, Sandbox

log = logging.getLogger("sleutelbrug")

# Only the local sandbox accepts this token; Telegram would refuse it.
SANDBOX_TOKEN = "123456789:SANDBOX-local-token-not-for-telegram"  # noqa: S105
# The no-token run's sandbox world (users, chats, id counters), in DATA_DIR.
SANDBOX_WORLD_FILE = "sandbox-world.json"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sleutelbrug` console script."""
    parser = argparse.ArgumentParser(prog="sleutelbrug", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with everything it needs on this machine")
    commands.add_parser("bot", help="run only the bot (polling or webhook, per BOT_MODE)")
    worker = commands.add_parser(
        "worker", help="handle the updates a webhook bot stored (scale by running several)"
    )
    worker.add_argument(
        "--claim-seconds",
        type=float,
        default=DEFAULT_CLAIM.total_seconds(),
        help="how long a worker holds an update; a dead worker's work moves on after this",
    )
    worker.add_argument(
        "--bot-api-url", help="a local Bot API server, e.g. http://127.0.0.1:8081/bot"
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("train", help="train the NLU model if nlu/ changed")
    commands.add_parser(
        "rotate-keys", help="re-encrypt stored texts with the first key of MESSAGE_KEYS"
    )
    commands.add_parser("dashboard", help="run only the coordinators' web dashboard")
    dashboard_cli.add_parser(commands)
    add = commands.add_parser(
        "sleutelpersoon", help="add a sleutelpersoon and print their one-time invite link"
    )
    add.add_argument("--name", required=True, help="display name shown to newcomers")
    add.add_argument("--languages", required=True, help="comma-separated, e.g. ar,ti")
    add.add_argument("--domains", required=True, help="comma-separated: post,finance,health,other")
    add.add_argument(
        "--hours", required=True, help="e.g. 'mon-fri 09:00-12:00 13:00-17:00; sat 10:00-12:00'"
    )
    add.add_argument("--locale", default="nl", help="language of the bot for them (ar/ti/nl/en)")
    add.add_argument("--roles", default="", help="comma-separated Pharos roles")
    add.add_argument("--gender", choices=["f", "m"])
    add.add_argument("--circle", help="their own town or community")
    add.add_argument(
        "--organisation",
        help="the organisation whose coordinators manage them (it must exist: the dashboard "
        "or `sleutelbrug coordinator add` creates it)",
    )
    add.add_argument(
        "--leave",
        action="append",
        default=[],
        metavar="FIRST[/LAST]",
        help="days away, e.g. 2026-12-24/2027-01-02 or 2026-12-31; may be repeated",
    )
    add.add_argument("--paid", action="store_true", help="paid staff (default: volunteer)")
    add.add_argument("--works-on-public-holidays", action="store_true")
    add.add_argument("--max-open", type=int, default=3, help="maximum open conversations")
    add.add_argument("--max-per-week", type=int, default=5, help="maximum new handovers a week")
    add.add_argument("--bot-username", default="SleutelbrugBot", help="for the t.me link")
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
        elif arguments.command == "sleutelpersoon":
            return add_sleutelpersoon(settings, arguments)
        elif arguments.command == "rotate-keys":
            print(f"re-encrypted {asyncio.run(_rotate_keys(settings))} texts")
        elif arguments.command == "coordinator":
            return dashboard_cli.run(settings, arguments)
        elif arguments.command == "dashboard":
            asyncio.run(_until_signalled(lambda stop: run_dashboard(settings, stop)))
        elif arguments.command == "bot":
            asyncio.run(_until_signalled(lambda stop: run_bot(settings, stop)))
        elif arguments.command == "worker":
            claim = timedelta(seconds=arguments.claim_seconds)
            asyncio.run(
                _until_signalled(
                    lambda stop: run_worker(settings, stop, claim, base_url=arguments.bot_api_url)
                )
            )
        else:
            asyncio.run(_until_signalled(lambda stop: run_everything(settings, stop)))
    except (RasaServiceError, EmbeddedRedisError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def add_sleutelpersoon(settings: Settings, arguments: argparse.Namespace) -> int:
    """Create a profile from the command line and print its invite link."""

    def items(text: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in text.split(",") if item.strip())

    try:
        profile = NewProfile(
            display_name=arguments.name,
            languages=items(arguments.languages),
            domains=items(arguments.domains),
            windows=parse_weekly_hours(arguments.hours),
            locale=arguments.locale,
            roles=items(arguments.roles),
            gender=arguments.gender,
            circle=arguments.circle,
            organisation=arguments.organisation,
            paid=arguments.paid,
            works_on_public_holidays=arguments.works_on_public_holidays,
            max_open_conversations=arguments.max_open,
            max_new_per_week=arguments.max_per_week,
            leaves=tuple(_leave_of(text) for text in arguments.leave),
        )
        today = SystemClock().now().astimezone(ZoneInfo(PROFILE_ZONE)).date()
        problems = profile.problems() + leave_problems(profile.leaves, today)
        if problems:
            raise ValueError("; ".join(problems))
        migrate(settings.effective_database_url)
        token = asyncio.run(_store_profile(settings, profile))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Invite link (valid 7 days): https://t.me/{arguments.bot_username}?start={token}")
    print(f"In the sandbox, send as the sleutelpersoon: /start {token}")
    return 0


async def _rotate_keys(settings: Settings) -> int:
    engine = create_engine_for(settings.effective_database_url)
    try:
        return await reencrypt_all(session_factory(engine), MessageCipher.from_settings(settings))
    finally:
        await engine.dispose()


def _leave_of(text: str) -> tuple[date, date]:
    """`2026-12-24/2027-01-02` (first and last day away) or a single day `2026-12-31`."""
    first, _, last = text.partition("/")
    try:
        return date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
    except ValueError:
        raise ValueError(
            f"leave: {text!r} is not FIRST/LAST or one day, e.g. 2026-12-24/2027-01-02"
        ) from None


async def _store_profile(settings: Settings, profile: NewProfile) -> str | None:
    """Store the profile, linked to its organisation, which must exist (ValueError if not)."""
    engine = create_engine_for(settings.effective_database_url)
    try:
        async with session_factory(engine).begin() as session:
            organisation = None
            if profile.organisation is not None:
                name = one_line(profile.organisation)[:120]
                organisation = await session.scalar(
                    select(Organisation).where(Organisation.name == name)
                )
                if organisation is None:
                    raise ValueError(
                        f"organisation: there is no organisation named {name!r}; create it "
                        "in the dashboard or with `sleutelbrug coordinator add --organisation`"
                    )
            person, token = create_sleutelpersoon(session, SystemClock().now(), profile)
            if organisation is not None:
                person.organisation = organisation.name
                person.organisation_id = organisation.id
        return token
    finally:
        await engine.dispose()


# Libraries whose detailed records hold what must not be logged, and the most they may say:
# python-telegram-bot logs every Bot API call's parameters and result (message texts) at
# DEBUG, the database drivers every statement with its parameters, and httpx every request
# URL, which for the Bot API contains the bot token. These floors hold whatever LOG_LEVEL
# says, in development as in production: LOG_LEVEL=DEBUG makes only the bot's own loggers,
# which never log message content, more detailed.
LIBRARY_LOG_FLOORS = {
    "telegram": logging.INFO,
    "aiosqlite": logging.INFO,
    "psycopg": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name, floor in LIBRARY_LOG_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))


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
        # The coordinators' dashboard, in this event loop (dashboard/).
        dashboard_url = await started.enter_async_context(running_dashboard(settings))
        print(f"\nCoordinator dashboard: {dashboard_url}", flush=True)
        if settings.telegram_bot_token is not None:
            await run_bot(settings, stop)
            return
        async with Sandbox(
            token=SANDBOX_TOKEN,
            flood_limits=FloodLimits(enabled=True),
            host=settings.sandbox_host,
            port=settings.sandbox_port,
            # The bot's database outlives a run, so the sandbox must too: a restarted world
            # would reuse update ids (ignored as already handled) and user ids (whose
            # newcomer records, consent included, a new user would inherit).
            state_path=settings.data_dir / SANDBOX_WORLD_FILE,
        ) as sandbox:
            engine = create_engine_for(settings.effective_database_url)
            try:
                names = await seed_demo_sleutelpersonen(
                    sandbox,
                    session_factory(engine),
                    SystemClock().now(),
                    settings.demo_office_hours,
                )
            finally:
                await engine.dispose()
            print(
                f"\nSandbox Telegram chat page: {sandbox.page_url}\n"
                f"Demo sleutelpersonen there: {', '.join(names)}\n",
                flush=True,
            )
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


def send_limits_of(settings: Settings) -> SendLimits:
    """The flood limits the settings ask for; a third of the overall rate is kept for replies."""
    overall = settings.telegram_messages_per_second
    return SendLimits(
        per_chat=settings.telegram_messages_per_chat_per_second,
        overall=overall,
        reserved_for_conversation=overall // 3,
    )


@contextlib.asynccontextmanager
async def dependencies_for(
    settings: Settings,
    clock: Clock | None = None,
    send_limits: SendLimits | None = None,
    inbound_limits: InboundLimits | None = None,
) -> AsyncIterator[Dependencies]:
    """What the bot needs from outside, closed again on exit; `send_limits` are the settings'
    (Telegram's by default) unless a test's Telegram has others, `inbound_limits` the shipped
    ones unless a test feeds more than a person could type."""
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
        yield Dependencies(
            texts=load_all_texts(),
            sessions=session_factory(engine),
            nlu=GuardedClassifier(rasa, redis, settings.redis_key_prefix),
            clock=clock or SystemClock(),
            policy=HandoverPolicy(
                offer_timeout=timedelta(minutes=settings.offer_timeout_minutes),
                tie_break=settings.tie_break,
            ),
            cipher=MessageCipher.from_settings(settings),
            rate_limiter=SharedRateLimiter(
                redis, settings.redis_key_prefix, send_limits or send_limits_of(settings)
            ),
            inbound_limits=inbound_limits or InboundLimits(),
            redis=redis,
            redis_key_prefix=settings.redis_key_prefix,
            retention_days=settings.retention_days,
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
    clock: Clock | None = None,
    tick_seconds: float = TICK_SECONDS,
) -> None:
    """Run the Telegram bot and its dispatcher until `stop` is set.

    Updates go through the durable inbox (bot/inbox.py): in polling mode this process fetches,
    stores and handles them; in webhook mode it receives and stores them, announces them to
    the workers and is one of them itself."""
    async with running_application(settings, clock, token, base_url, base_file_url) as running:
        application, dependencies = running
        await register_commands(application)
        log.info("bot running in %s mode", settings.bot_mode)
        if settings.bot_mode is BotMode.WEBHOOK:
            await _receive_and_work(settings, application, dependencies, stop, tick_seconds)
        else:
            dispatcher = asyncio.create_task(
                run_dispatcher(application.bot_data[SERVICES_KEY], stop, tick_seconds)
            )
            await poll_and_work(application, dependencies, stop)
            await dispatcher
        log.info("stopping")


async def run_worker(
    settings: Settings, stop: asyncio.Event, claim: timedelta, *, base_url: str | None = None
) -> None:
    """Handle announced updates as one of several workers until `stop` (bot/workers.py)."""
    async with running_application(settings, None, None, base_url, None) as running:
        application, dependencies = running
        async with _inbox_stream(settings) as stream:
            inbox = _inbox_processor(application, dependencies, claim)
            worker = StreamWorker(inbox, stream, dependencies.clock)
            print(f"worker {worker.consumer} ready", flush=True)
            await _work_and_keep_time(settings, application, stream, worker, stop, TICK_SECONDS)


@contextlib.asynccontextmanager
async def running_application(
    settings: Settings,
    clock: Clock | None,
    token: str | None,
    base_url: str | None,
    base_file_url: str | None,
) -> AsyncIterator[tuple[Application, Dependencies]]:  # type: ignore[type-arg]
    """The initialised PTB Application with every handler, and what it depends on."""
    if token is None:
        if settings.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is required to run the bot alone")
        token = settings.telegram_bot_token.get_secret_value()
    async with dependencies_for(settings, clock) as dependencies:
        application = build_application(
            token, dependencies, base_url=base_url, base_file_url=base_file_url
        )
        async with application:
            try:
                yield application, dependencies
            finally:
                await application.bot_data[SERVICES_KEY].outbox.settle()


@contextlib.asynccontextmanager
async def _inbox_stream(settings: Settings) -> AsyncIterator[InboxStream]:
    if settings.redis_url is None:
        raise SettingsError("REDIS_URL is required to run the bot alone")
    redis: Redis = Redis.from_url(settings.redis_url)
    try:
        yield InboxStream(redis, settings.redis_key_prefix)
    finally:
        await redis.aclose()


def _inbox_processor(
    application: Application,  # type: ignore[type-arg]
    dependencies: Dependencies,
    claim: timedelta = DEFAULT_CLAIM,
    name: str | None = None,
) -> InboxProcessor:
    services = application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return InboxProcessor(
        dependencies.sessions,
        dependencies.cipher,
        application,
        dependencies.clock,
        name or f"{socket.gethostname()}-{os.getpid()}",
        claim,
        inbound=InboundLimiter(
            dependencies.redis, dependencies.redis_key_prefix, dependencies.inbound_limits
        ),
        on_flood=functools.partial(handlers.tell_to_slow_down, services),
    )


async def _receive_and_work(
    settings: Settings,
    application: Application,  # type: ignore[type-arg]
    dependencies: Dependencies,
    stop: asyncio.Event,
    tick_seconds: float,
) -> None:
    """Webhook mode: our receiver stores and announces; this process also works the stream."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    async with _inbox_stream(settings) as stream:
        receiver = webhook_app(
            dependencies.sessions, dependencies.cipher, stream, secret, dependencies.clock
        )
        address = "WEBHOOK_LISTEN/WEBHOOK_PORT"
        async with serving(receiver, settings.webhook_listen, settings.webhook_port, address):
            await application.bot.set_webhook(
                url=f"{settings.webhook_url}{WEBHOOK_PATH}", secret_token=secret
            )
            worker = StreamWorker(
                _inbox_processor(application, dependencies), stream, dependencies.clock
            )
            await _work_and_keep_time(settings, application, stream, worker, stop, tick_seconds)


async def _work_and_keep_time(
    settings: Settings,
    application: Application,  # type: ignore[type-arg]
    stream: InboxStream,
    worker: StreamWorker,
    stop: asyncio.Event,
    tick_seconds: float,
) -> None:
    """Work the stream, and run the timers whenever this process holds their lease."""
    timers = run_timers_when_leading(
        application.bot_data[SERVICES_KEY],
        stream.redis,
        settings.redis_key_prefix,
        worker.consumer,
        stop,
        every=timedelta(seconds=tick_seconds),
        lease=worker.claim,
    )
    await asyncio.gather(worker.run(stop), timers)


async def poll_and_work(
    application: Application,  # type: ignore[type-arg]
    dependencies: Dependencies,
    stop: asyncio.Event,
) -> None:
    """Polling mode: one process fetches, stores and handles. Its claims carry a name that
    survives a restart, so what it held when it stopped is taken up again at once."""
    inbox = _inbox_processor(application, dependencies, name=f"{socket.gethostname()}-polling")
    chats = polling_scheduler(inbox)

    async def handle(new: list[tuple[int, int]]) -> None:
        for _update, chat in new:
            chats.submit(chat)
        # The next batch is fetched once there is room: the queue of chats stays bounded.
        await chats.room()

    sweeping = asyncio.create_task(sweep_until(inbox, chats, dependencies.clock, stop))
    sessions, cipher, clock = dependencies.sessions, dependencies.cipher, dependencies.clock
    try:
        await poll_updates(application.bot, sessions, cipher, clock, handle, stop)
        await sweeping
    finally:
        await chats.close()
        await application.bot_data[SERVICES_KEY].outbox.settle()


if __name__ == "__main__":
    sys.exit(main())
