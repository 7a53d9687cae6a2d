"""Sign-in throttling (issue 14, items 1 and 2): guesses are counted before they are checked, by
client address and account, by client address and by account; a stranger cannot lock the
owner out; unknown addresses are answered like known ones; X-Forwarded-For is believed only
from a trusted proxy; every lock is audited."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from ipaddress import ip_network
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.models import AuditAction, AuditEntry, Coordinator
from dashboard.server import serving

from .kit import CSRF_FIELD, PASSWORD, Dashboard, csrf_of, dashboard, sign_in

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
EMAIL = "anna@tilburg.example"
UNKNOWN = "nobody@tilburg.example"
WRONG = "not the password at all"
STRANGER = "203.0.113.9"
OWNER = "198.51.100.7"
# Guesses one address may make on one account before it is locked out (the default policy).
PER_ADDRESS_AND_ACCOUNT = 5


@pytest.fixture
async def board(database_url: str) -> AsyncIterator[Dashboard]:
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator("Gemeente Tilburg", EMAIL)
        yield running


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the dashboard hashes to check it, in the order checked."""
    passwords: list[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        passwords.append(str(password))
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return passwords


def use_throttle(board: Dashboard, **changes: Any) -> None:
    """This dashboard's throttle policy with `changes` (the app reads it on every sign-in)."""
    policy = dataclasses.replace(board.config.throttle, **changes)
    object.__setattr__(board.config, "throttle", policy)


@asynccontextmanager
async def over_http(board: Dashboard) -> AsyncIterator[httpx.AsyncClient]:
    """A browser talking to the dashboard served by uvicorn on a real socket (from 127.0.0.1)."""
    async with (
        serving(board.config, "127.0.0.1", 0) as url,
        httpx.AsyncClient(base_url=url, headers={"accept-language": "en"}, timeout=60) as client,
    ):
        yield client


async def post_login(
    client: httpx.AsyncClient, token: str, email: str, password: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password, "next": "/now"},
        headers=headers,
    )


async def lock_entries(board: Dashboard) -> list[AuditEntry]:
    async with board.sessions() as session:
        return list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == AuditAction.SIGN_IN_LOCKED)
                .order_by(AuditEntry.id)
            )
        )


async def test_a_burst_of_concurrent_guesses_checks_no_more_than_the_limit(
    board: Dashboard, checked: list[str]
) -> None:
    async with over_http(board) as client:
        token = await csrf_of(client, "/login")

        async def burst(passwords: list[str]) -> list[int]:
            responses = await asyncio.gather(
                *(post_login(client, token, EMAIL, password) for password in passwords)
            )
            return [response.status_code for response in responses]

        first = await burst([WRONG] * 30)
        assert len(checked) == PER_ADDRESS_AND_ACCOUNT, first
        assert sorted(first) == [401] * 4 + [429] * 26
        # Locked for this address now: not one more guess is checked, the right one neither.
        second = await burst([WRONG] * 39 + [PASSWORD])
    assert second == [429] * 40
    assert len(checked) == PER_ADDRESS_AND_ACCOUNT
    [entry] = await lock_entries(board)
    assert entry.details["scope"] == "address_and_account"


async def test_a_stranger_cannot_lock_the_owner_out(board: Dashboard, checked: list[str]) -> None:
    async with board.client(peer=STRANGER) as stranger:
        statuses = [(await sign_in(stranger, EMAIL, WRONG)).status_code for _ in range(8)]
    assert statuses == [401] * 4 + [429] * 4
    assert checked == [WRONG] * PER_ADDRESS_AND_ACCOUNT
    # The stranger's own address stays locked even with the right password ...
    async with board.client(peer=STRANGER) as stranger:
        assert (await sign_in(stranger, EMAIL, PASSWORD)).status_code == 429
    # ... while the owner, from their own address, signs in as ever.
    async with board.client(peer=OWNER) as owner:
        assert (await sign_in(owner, EMAIL, PASSWORD)).status_code == 303
    [entry] = await lock_entries(board)
    async with board.sessions() as session:
        anna = await session.scalar(select(Coordinator).where(Coordinator.email == EMAIL))
    assert anna is not None
    assert (entry.organisation_id, entry.subject_coordinator_id) == (anna.organisation_id, anna.id)
    assert entry.details == {"scope": "address_and_account", "address": STRANGER, "minutes": 15}


async def test_unknown_and_known_addresses_are_answered_alike(board: Dashboard) -> None:
    async def attempts(email: str, peer: str) -> list[tuple[int, str, float]]:
        answers = []
        async with board.client(peer=peer) as client:
            for _ in range(8):
                token = await csrf_of(client, "/login")
                started = time.perf_counter()
                response = await post_login(client, token, email, WRONG)
                took = time.perf_counter() - started
                # The form shows back what was typed and this browser's token; nothing else
                # may differ.
                page = CSRF_FIELD.sub("", response.text.replace(email, "EMAIL"))
                answers.append((response.status_code, page, took))
        return answers

    known = await attempts(EMAIL, "203.0.113.10")
    unknown = await attempts(UNKNOWN, "203.0.113.11")
    assert [status for status, _, _ in known] == [401] * 4 + [429] * 4
    assert [(status, page) for status, page, _ in unknown] == [
        (status, page) for status, page, _ in known
    ]
    assert "locked until" in known[-1][1]
    # Timing, coarsely: a checked guess costs about the same (a decoy hash for the unknown
    # address), and a refused one is refused before any hashing, known or not.
    checked_known = statistics.median(took for _, _, took in known[:5])
    checked_unknown = statistics.median(took for _, _, took in unknown[:5])
    assert 0.5 < checked_known / checked_unknown < 2
    for answers in (known, unknown):
        assert statistics.median(took for _, _, took in answers[5:]) < checked_known / 2
    # Both locks are audited; the unknown address belongs to no organisation.
    entries = await lock_entries(board)
    assert sorted(entry.organisation_id is None for entry in entries) == [False, True]


async def test_one_address_cannot_try_many_accounts(board: Dashboard, checked: list[str]) -> None:
    async with board.client(peer=STRANGER) as stranger:
        statuses = [
            (await sign_in(stranger, f"guess{number}@tilburg.example", WRONG)).status_code
            for number in range(20)
        ]
        assert statuses == [401] * 19 + [429]
        assert (await sign_in(stranger, EMAIL, PASSWORD)).status_code == 429
    assert len(checked) == 20
    async with board.client(peer=OWNER) as owner:
        assert (await sign_in(owner, EMAIL, PASSWORD)).status_code == 303
    [entry] = await lock_entries(board)
    assert entry.organisation_id is None and entry.subject_coordinator_id is None
    assert entry.details == {"scope": "address", "address": STRANGER, "minutes": 15}


async def test_many_addresses_together_are_capped_but_the_owners_own_is_not(
    board: Dashboard, checked: list[str]
) -> None:
    use_throttle(board, per_account=6)
    async with board.client(peer=OWNER) as owner:
        assert (await sign_in(owner, EMAIL, PASSWORD)).status_code == 303
    checked.clear()
    statuses = []
    for bot in range(3):
        async with board.client(peer=f"203.0.113.{100 + bot}") as client:
            statuses += [(await sign_in(client, EMAIL, WRONG)).status_code for _ in range(2)]
    assert statuses == [401] * 5 + [429]
    async with board.client(peer="203.0.113.200") as fresh:
        assert (await sign_in(fresh, EMAIL, PASSWORD)).status_code == 429
    assert len(checked) == 6
    async with board.client(peer=OWNER) as owner:
        assert (await sign_in(owner, EMAIL, PASSWORD)).status_code == 303
    [entry] = await lock_entries(board)
    assert entry.details["scope"] == "account" and entry.subject_coordinator_id is not None
    # After the lock the bucket opens again.
    board.clock.set(TUESDAY_10 + timedelta(minutes=15, seconds=1))
    async with board.client(peer="203.0.113.200") as fresh:
        assert (await sign_in(fresh, EMAIL, PASSWORD)).status_code == 303


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(board: Dashboard) -> None:
    async def guesses(client: httpx.AsyncClient, forwarded_for: str, password: str) -> int:
        token = await csrf_of(client, "/login")
        response = await post_login(
            client, token, EMAIL, password, **{"x-forwarded-for": forwarded_for}
        )
        return response.status_code

    # No trusted proxy: every request comes from 127.0.0.1, whatever the header says.
    async with over_http(board) as client:
        for number in range(PER_ADDRESS_AND_ACCOUNT):
            await guesses(client, f"203.0.113.{number}", WRONG)
        assert await guesses(client, OWNER, PASSWORD) == 429

    board.clock.set(TUESDAY_10 + timedelta(minutes=15, seconds=1))
    use_throttle(board, trusted_proxies=(ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")))
    async with over_http(board) as client:
        statuses = [await guesses(client, STRANGER, WRONG) for _ in range(PER_ADDRESS_AND_ACCOUNT)]
        assert statuses == [401] * 4 + [429]
        # What the client wrote left of its real address is not believed.
        assert await guesses(client, f"{OWNER}, {STRANGER}", PASSWORD) == 429
        # The owner, through two proxies, is told apart from the stranger.
        assert await guesses(client, f"{OWNER}, 10.1.2.3", PASSWORD) == 303
    [*_, entry] = await lock_entries(board)
    assert entry.details["address"] == STRANGER


async def test_the_current_password_on_the_account_page_is_counted_like_a_sign_in(
    board: Dashboard, checked: list[str]
) -> None:
    new = "an even longer new passphrase"
    async with board.signed_in(EMAIL) as client:
        checked.clear()
        token = await csrf_of(client, "/account")

        async def change(current: str) -> httpx.Response:
            return await client.post(
                "/account/password",
                data={"csrf_token": token, "current": current, "new": new, "again": new},
            )

        statuses = [(await change(WRONG)).status_code for _ in range(6)]
        assert statuses == [400] * 4 + [429] * 2
        right = await change(PASSWORD)
        assert right.status_code == 429 and "locked until" in right.text
    assert checked == [WRONG] * PER_ADDRESS_AND_ACCOUNT
    # The same bucket as signing in from this address; other addresses are not affected.
    async with board.client() as same_address:
        assert (await sign_in(same_address, EMAIL, PASSWORD)).status_code == 429
    async with board.client(peer=OWNER) as elsewhere:
        assert (await sign_in(elsewhere, EMAIL, PASSWORD)).status_code == 303
    [entry] = await lock_entries(board)
    assert entry.details["scope"] == "address_and_account"
