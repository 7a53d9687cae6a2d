"""The dashboard under test: the real app on a real database, a clock the test moves, and
coordinators signed in through the real sign-in form."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.handover import Handover, HandoverPolicy
from bot.i18n import load_all_texts
from bot.models import (
    Conversation,
    ConversationMessage,
    Coordinator,
    CoordinatorRole,
    HelpRequest,
    Newcomer,
    Offer,
    OfferStatus,
    RequestStatus,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from bot.storage import create_engine_for, migrate, session_factory
from dashboard import auth
from dashboard.app import create_app
from dashboard.web import DashboardConfig
from matching.office_hours import parse_weekly_hours

SECRET_KEY = "test-dashboard-secret-key-for-csrf-tokens"
PASSWORD = "correct horse battery staple"
NEWCOMER_IDS = itertools.count(900_000)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


@dataclass
class Dashboard:
    app: Starlette
    config: DashboardConfig
    sessions: async_sessionmaker[AsyncSession]
    clock: ManualClock
    cipher: MessageCipher

    def client(
        self, base_url: str = "http://dashboard.test", peer: str = "127.0.0.1"
    ) -> httpx.AsyncClient:
        """A browser connecting from the address `peer`. English unless a test asks otherwise
        (the default for browsers without a preference is Dutch)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=(peer, 123)),
            base_url=base_url,
            headers={"accept-language": "en"},
        )

    async def coordinator(
        self,
        organisation: str,
        email: str,
        *,
        admin: bool = False,
        platform_admin: bool = False,
        password: str = PASSWORD,
        name: str | None = None,
        locale: str = "en",
    ) -> Coordinator:
        async with self.sessions.begin() as session:
            found = await auth.organisation_named(session, self.clock.now(), organisation)
            return await auth.create_coordinator(
                session,
                self.clock.now(),
                organisation=found,
                email=email,
                display_name=name or email.split("@")[0].title(),
                password=password,
                role=CoordinatorRole.PLATFORM_ADMIN
                if platform_admin
                else CoordinatorRole.ADMIN
                if admin
                else CoordinatorRole.COORDINATOR,
                locale=locale,
            )

    @asynccontextmanager
    async def signed_in(
        self, email: str, password: str = PASSWORD
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with self.client() as client:
            response = await sign_in(client, email, password)
            assert response.status_code == 303, response.text
            yield client


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_FIELD.search(page.text)
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = await csrf_of(client, "/login")
    return await client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password, "next": "/now"}
    )


async def lock_out(board: Dashboard, email: str) -> None:
    """Wrong passwords until the account is locked for this test client's address."""
    async with board.client() as client:
        statuses = [
            (await sign_in(client, email, "not the password")).status_code
            for _ in range(board.config.throttle.per_address_and_account)
        ]
    assert 429 in statuses, statuses


@asynccontextmanager
async def dashboard(
    database_url: str, start: datetime, cipher: MessageCipher | None = None
) -> AsyncIterator[Dashboard]:
    migrate(database_url)
    engine = create_engine_for(database_url)
    clock = ManualClock(start)
    cipher = cipher or MessageCipher(parse_keys(new_key_spec("test")))
    config = DashboardConfig(
        sessions=session_factory(engine),
        clock=clock,
        secret_key=SECRET_KEY,
        secure_cookies=False,
        bot_username="SleutelbrugSandboxBot",
        cipher=cipher,
        handover=Handover(load_all_texts(), HandoverPolicy(), cipher),
    )
    try:
        yield Dashboard(create_app(config), config, config.sessions, clock, cipher)
    finally:
        await engine.dispose()


async def add_person(
    dashboard: Dashboard,
    organisation_name: str,
    name: str,
    *,
    languages: tuple[str, ...] = ("ar",),
    hours: str = "mon-fri 09:00-17:00",
    telegram_user_id: int | None = None,
) -> int:
    """A sleutelpersoon of the organisation, connected unless told otherwise."""
    async with dashboard.sessions.begin() as session:
        organisation = await auth.organisation_named(
            session, dashboard.clock.now(), organisation_name
        )
        person, _token = create_sleutelpersoon(
            session,
            dashboard.clock.now(),
            NewProfile(
                display_name=name,
                languages=languages,
                domains=("post", "finance", "health"),
                windows=parse_weekly_hours(hours),
                organisation=organisation.name,
                telegram_user_id=telegram_user_id,
            ),
        )
        person.organisation_id = organisation.id
        await session.flush()
        return person.id


async def add_conversation(
    dashboard: Dashboard,
    person_id: int,
    lines: list[tuple[str, str]],
    *,
    language: str = "ar",
    domain: str = "post",
    asked: datetime | None = None,
    accepted_after: timedelta = timedelta(minutes=5),
    newcomer_user_id: int | None = None,
    message_times: list[timedelta] | None = None,
) -> int:
    """A newcomer's request accepted by the sleutelpersoon, with encrypted messages
    (author, text) one minute apart (or `message_times` after the accept)."""
    asked = asked or dashboard.clock.now()
    async with dashboard.sessions.begin() as session:
        newcomer = Newcomer(
            telegram_user_id=newcomer_user_id or next(NEWCOMER_IDS),
            locale=language,
            consented_at=asked,
            created_at=asked,
            updated_at=asked,
        )
        session.add(newcomer)
        await session.flush()
        request = HelpRequest(
            newcomer_id=newcomer.id,
            language=language,
            domain=domain,
            status=RequestStatus.ACCEPTED,
            institutions=[],
            created_at=asked,
            updated_at=asked,
        )
        session.add(request)
        await session.flush()
        opened = asked + accepted_after
        session.add(
            Offer(
                request_id=request.id,
                sleutelpersoon_id=person_id,
                status=OfferStatus.ACCEPTED,
                created_at=asked,
                telegram_message_id=1,
            )
        )
        conversation = Conversation(
            request_id=request.id,
            newcomer_id=newcomer.id,
            sleutelpersoon_id=person_id,
            label="",
            status="open",
            opened_at=opened,
            feedback_pending=False,
        )
        session.add(conversation)
        await session.flush()
        conversation.label = f"#{conversation.id}"
        times = message_times or [timedelta(minutes=n) for n in range(1, len(lines) + 1)]
        for (author, text), after in zip(lines, times, strict=True):
            session.add(
                ConversationMessage(
                    conversation_id=conversation.id,
                    author=author,
                    kind="text",
                    body_encrypted=dashboard.cipher.encrypt(text),
                    created_at=opened + after,
                )
            )
        return conversation.id


async def add_request(
    dashboard: Dashboard,
    status: RequestStatus,
    *,
    language: str = "ar",
    urgent: bool = False,
    next_match_at: datetime | None = None,
    danger_check: str | None = None,
) -> int:
    """A newcomer's finance request in `status`, asked half an hour ago."""
    now = dashboard.clock.now()
    async with dashboard.sessions.begin() as session:
        newcomer = Newcomer(
            telegram_user_id=next(NEWCOMER_IDS),
            locale=language,
            consented_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(newcomer)
        await session.flush()
        help_request = HelpRequest(
            newcomer_id=newcomer.id,
            language=language,
            domain="finance",
            status=status,
            institutions=["cjib"],
            urgent=urgent,
            danger_check=danger_check,
            next_match_at=next_match_at,
            created_at=now - timedelta(minutes=30),
            updated_at=now,
        )
        session.add(help_request)
        await session.flush()
        return help_request.id


def new_account_form(
    token: str, organisation_id: int | None, display_name: str, email: str, password: str
) -> dict[str, str]:
    """The admin page's form for a new coordinator account (Dutch, no admin)."""
    return {
        "csrf_token": token,
        "organisation_id": str(organisation_id),
        "display_name": display_name,
        "email": email,
        "password": password,
        "role": "coordinator",
        "locale": "nl",
    }
