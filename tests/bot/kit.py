"""A bot process under test: the real PTB Application against the sandbox Telegram, with a
clock the test moves, the machine's Redis, a real database and (when given) the real Rasa."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from babel.messages.pofile import read_po
from sqlalchemy import func, select
from telegram.ext import Application, CallbackQueryHandler

from bot.app import build_application
from bot.cli import dependencies_for, poll_and_work
from bot.crypto import new_key_spec
from bot.dispatcher import tick
from bot.i18n import LOCALES_DIR, load_all_texts
from bot.inbound_limit import InboundLimits
from bot.models import Coordinator, InboxUpdate, Organisation
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.rate_limit import SendLimits
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings, load_settings
from bot.storage import migrate
from matching.office_hours import parse_weekly_hours
from sandbox import CallbackQueryRecord, Sandbox, SimUser

TEXTS = load_all_texts()
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The sandbox of `world` has no flood limits, so the bot need not pace itself for them;
# tests of the pacing pass Telegram's own limits (tests/reliability).
NO_FLOOD_LIMITS = SendLimits(per_chat=1000, overall=1000, reserved_for_conversation=0)
# Tests that feed more than a person could type (hundreds of generated updates) are not about
# the inbound limit; tests/bot/test_flood.py passes the shipped `InboundLimits()`.
NO_INBOUND_LIMIT = InboundLimits(burst=1_000_000, seconds_per_update=0.000_001)
_forged_ids = itertools.count(50_000)
SHIPPED_CONFIDENCE_THRESHOLD: float = Settings.model_fields["nlu_confidence_threshold"].default


class ManualClock:
    """A clock that only moves when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def bot_settings(database_url: str, redis_key_prefix: str, rasa_url: str) -> Settings:
    """The settings the bot ships with, but for where it finds its services."""
    return load_settings(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=redis_key_prefix,
        RASA_URL=rasa_url,
        RASA_TIMEOUT_SECONDS="10",
        # The shipped threshold, whatever an environment or .env says: the tests must see
        # what the model decides in production.
        NLU_CONFIDENCE_THRESHOLD=str(SHIPPED_CONFIDENCE_THRESHOLD),
        MESSAGE_KEYS=new_key_spec("test"),
    )


@dataclass
class BotProcess:
    application: Application  # type: ignore[type-arg]

    @property
    def services(self) -> Services:
        services = self.application.bot_data[SERVICES_KEY]
        assert isinstance(services, Services)
        return services

    async def unhandled_updates(self) -> int:
        """Updates stored in the inbox and not handled yet."""
        async with self.services.sessions() as session:
            count = await session.scalar(
                select(func.count()).where(InboxUpdate.handled_at.is_(None))
            )
        return count or 0

    async def tick(self) -> None:
        """One round of the dispatcher, as the background loop would run it."""
        await tick(self.services)


@asynccontextmanager
async def bot_process(
    settings: Settings,
    sandbox: Sandbox,
    clock: ManualClock,
    send_limits: SendLimits = NO_FLOOD_LIMITS,
    inbound_limits: InboundLimits = NO_INBOUND_LIMIT,
) -> AsyncIterator[BotProcess]:
    """Start the bot polling the sandbox through the durable inbox, as `sleutelbrug bot`
    does; stopped again on exit (a process lifetime)."""
    async with dependencies_for(settings, clock, send_limits, inbound_limits) as dependencies:
        application = build_application(
            sandbox.token,
            dependencies,
            base_url=sandbox.base_url,
            base_file_url=sandbox.base_file_url,
        )
        async with application:
            stop = asyncio.Event()
            polling = asyncio.create_task(poll_and_work(application, dependencies, stop))
            try:
                yield BotProcess(application)
            finally:
                stop.set()
                await polling


@asynccontextmanager
async def world(
    database_url: str, redis_key_prefix: str, rasa_url: str, start: datetime
) -> AsyncIterator[tuple[Sandbox, ManualClock, Settings]]:
    """A migrated database and a sandbox Telegram that share one manual clock."""
    migrate(database_url)
    clock = ManualClock(start)
    async with Sandbox(flood_limits=None, clock=clock.now) as sandbox:
        yield sandbox, clock, bot_settings(database_url, redis_key_prefix, rasa_url)


async def add_sleutelpersoon(process: BotProcess, user: SimUser, hours: str, **profile: Any) -> int:
    """A connected sleutelpersoon profile for a simulated Telegram user."""
    services = process.services
    async with services.sessions.begin() as session:
        person, _token = create_sleutelpersoon(
            session,
            services.clock.now(),
            NewProfile(
                display_name=profile.pop("display_name", user.first_name),
                windows=parse_weekly_hours(hours),
                telegram_user_id=user.id,
                **profile,
            ),
        )
        await session.flush()
        return person.id


async def add_on_call_coordinator(
    process: BotProcess, user: SimUser, hours: str, organisation: str = "Gemeente Tilburg"
) -> None:
    """A coordinator of a new organisation, on call in `hours`, reachable on Telegram."""
    async with process.services.sessions.begin() as session:
        now = process.services.clock.now()
        owner = Organisation(name=organisation, created_at=now)
        session.add(owner)
        await session.flush()
        session.add(
            Coordinator(
                organisation_id=owner.id,
                email=f"{user.first_name}@{organisation.split()[-1].lower()}.nl",
                display_name=user.first_name,
                password_hash="-",
                role="coordinator",
                locale="nl",
                active=True,
                created_at=now,
                telegram_user_id=user.id,
                on_call_hours=hours,
            )
        )


async def onboard(newcomer: SimUser, language_button: str) -> None:
    """/start, choose the language, agree to the consent text."""
    await newcomer.send_text("/start")
    await newcomer.wait_for_message(lambda m: m.reply_markup is not None)
    await newcomer.press(language_button)
    consent = await newcomer.wait_for_message(lambda m: m.reply_markup is not None)
    assert consent.reply_markup is not None
    await newcomer.press(consent.reply_markup[0][0].text)
    await newcomer.wait_for_message(lambda m: m.text is not None and "/preferences" in m.text)


def forge_callback(sandbox: Sandbox, user: SimUser, data: str) -> CallbackQueryRecord:
    """A callback query as a modified client could send it: any data, on any message. Telegram
    gives it a real query id, so the bot's answer (or its silence) is recorded."""
    query = CallbackQueryRecord(
        id=f"forged-{next(_forged_ids)}", user_id=user.id, message_id=1, data=data
    )
    sandbox.world.callback_queries[query.id] = query
    chat = {"id": user.id, "type": "private", "first_name": user.first_name}
    message = {"message_id": 1, "date": 0, "chat": chat, "text": "x"}
    sandbox.world.enqueue_update(
        "callback_query",
        {"id": query.id, "from": sandbox.world.user(user.id).to_json(), "chat_instance": "c",
         "data": data, "message": message},
    )  # fmt: skip
    return query


def button_prefixes(application: Application) -> tuple[str, ...]:  # type: ignore[type-arg]
    """The callback data prefixes the wiring routes to a handler (patterns `^prefix`)."""
    return tuple(
        handler.pattern.pattern.removeprefix("^")
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
    )


@cache
def catalog_patterns(locale: str) -> tuple[re.Pattern[str], ...]:
    """Every text of the locale's catalog as a pattern, its {placeholders} matching anything."""
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "sleutelbrug.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    texts = {message.string for message in catalog if message.id and message.string}
    return tuple(
        re.compile(re.sub(r"\\\{\w+\\\}", "(?s:.+)", re.escape(text)), re.DOTALL)
        for text in texts
        if isinstance(text, str)
    )


def in_language(text: str, locale: str) -> bool:
    """The text is one of the locale's catalog texts, or starts with one on its own line (a
    list under a heading; the language choice, whose first line is in the suggested language)."""
    first_line = text.split("\n", 1)[0]
    if first_line == TEXTS[locale].gettext("Choose your language"):
        return True
    return any(
        pattern.fullmatch(text) or pattern.fullmatch(first_line)
        for pattern in catalog_patterns(locale)
    )


async def quiet(bot: BotProcess, sandbox: Sandbox) -> None:
    """Wait until every update was fetched and handled and the outbox is empty."""
    calm = 0
    while calm < 5:
        await asyncio.sleep(0.05)
        busy = bool(sandbox.world.pending_updates) or await bot.unhandled_updates() > 0
        calm = 0 if busy else calm + 1
    await bot.tick()
