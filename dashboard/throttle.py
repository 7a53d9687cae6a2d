"""Throttling password guesses: each guess is counted before its password is hashed.

Rules kept here:
- A guess is counted in each of its buckets by one atomic statement per bucket (INSERT … ON
  CONFLICT DO UPDATE … WHERE guesses < limit RETURNING), in a short transaction of its own,
  before the slow hash. Concurrent guesses queue on the bucket's row, so no more than a
  bucket's limit are ever checked in its window, however many arrive at once. A guess that a
  full bucket refuses is not hashed and counts in no bucket; a right guess is given back, and
  forgives its client address the wrong ones on that account.
- Three buckets, each counting over a 15-minute window; the wrong guess that fills one closes
  it for 15 minutes:
  - the account typed, from one client address (5): a stranger fills only their own bucket,
    so the owner signing in from another address is not locked out;
  - one client address, whatever account it types (20): one address cannot try a password on
    many accounts;
  - the account typed, from all addresses together (50): many addresses together (a botnet)
    cannot brute-force it either, and the address the owner last signed in from is not held
    by this bucket, so they cannot lock the owner out.
- Buckets are keyed by the e-mail address typed, whether an account has it or not: an unknown
  address is throttled exactly like a known one, so throttling tells nobody which addresses
  have accounts.
- The client address is the connection's peer, unless the peer is a trusted proxy
  (DASHBOARD_TRUSTED_PROXIES): then the right-most X-Forwarded-For entry that is not a trusted
  proxy. Entries left of it are whatever the client sent and are never believed.
- Buckets are always counted in the same order (address, address and account, account), so
  two guesses never wait for each other's rows in a cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from ipaddress import ip_address

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from bot.models import SignInThrottle
from bot.settings import IPNetwork


class Scope(StrEnum):
    ADDRESS_AND_ACCOUNT = "address_and_account"
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True)
class ThrottlePolicy:
    """Where client addresses come from, and how many guesses each bucket holds."""

    trusted_proxies: tuple[IPNetwork, ...] = ()
    per_address_and_account: int = 5
    per_address: int = 20
    per_account: int = 50
    window: timedelta = timedelta(minutes=15)
    closed_for: timedelta = timedelta(minutes=15)

    def limit(self, scope: Scope) -> int:
        return {
            Scope.ADDRESS_AND_ACCOUNT: self.per_address_and_account,
            Scope.ADDRESS: self.per_address,
            Scope.ACCOUNT: self.per_account,
        }[scope]


@dataclass(frozen=True)
class Bucket:
    scope: Scope
    key: str
    # The digest of the account typed; None for the bucket of a client address.
    account_key: str | None


@dataclass(frozen=True)
class Guess:
    """A guess as its buckets counted it: its number in each bucket, or when the first full
    bucket it met opens again (then it was counted nowhere)."""

    numbers: dict[Bucket, int] = field(default_factory=dict)
    closed_until: datetime | None = None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def account_key(account: str) -> str:
    return _digest(Scope.ACCOUNT, account)


def address_key(client: str) -> str:
    return _digest(Scope.ADDRESS, client)


def buckets_of(account: str, client: str, *, owner_address: bool) -> list[Bucket]:
    """The buckets a guess of `account` from `client` counts in; from the address the owner
    last signed in from, not the bucket of all addresses together."""
    of_account = account_key(account)
    pair = _digest(Scope.ADDRESS_AND_ACCOUNT, account, client)
    buckets = [
        Bucket(Scope.ADDRESS, address_key(client), None),
        Bucket(Scope.ADDRESS_AND_ACCOUNT, pair, of_account),
    ]
    if not owner_address:
        buckets.append(Bucket(Scope.ACCOUNT, of_account, of_account))
    return buckets


def client_address(request: Request, trusted_proxies: tuple[IPNetwork, ...]) -> str:
    """Who sent the request: the peer, or what trusted proxies say their own peer was."""
    address = request.client.host if request.client is not None else ""
    forwarded = [
        entry.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for entry in header.split(",")
        if entry.strip()
    ]
    while forwarded and _is_trusted(address, trusted_proxies):
        address = forwarded.pop()
    return address


def _is_trusted(address: str, trusted_proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted_proxies)


async def take_guess(
    session: AsyncSession, now: datetime, policy: ThrottlePolicy, buckets: Iterable[Bucket]
) -> Guess:
    """Count one guess in every bucket, or in none when one of them is full."""
    numbers: dict[Bucket, int] = {}
    for bucket in buckets:
        number = await _count(session, now, policy, bucket)
        if number is None:
            await _give_back(session, numbers)
            # The row is there (the statement that found it full locked it); were it not, the
            # guess is still refused rather than hashed uncounted.
            closed_until = await session.scalar(
                select(SignInThrottle.resets_at).where(SignInThrottle.key == bucket.key)
            )
            return Guess(closed_until=closed_until or now + policy.closed_for)
        numbers[bucket] = number
    return Guess(numbers)


async def _count(
    session: AsyncSession, now: datetime, policy: ThrottlePolicy, bucket: Bucket
) -> int | None:
    """The guess's number in the bucket, counted atomically; None when the bucket is full."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(SignInThrottle).values(
        key=bucket.key,
        scope=bucket.scope,
        account_key=bucket.account_key,
        guesses=1,
        resets_at=now + policy.window,
    )
    # SET and WHERE read the row as it was: a passed window starts again at this guess.
    passed = SignInThrottle.resets_at <= now
    restarted = statement.excluded.resets_at
    statement = statement.on_conflict_do_update(
        index_elements=[SignInThrottle.key],
        set_={
            "guesses": case((passed, 1), else_=SignInThrottle.guesses + 1),
            "resets_at": case((passed, restarted), else_=SignInThrottle.resets_at),
        },
        where=passed | (SignInThrottle.guesses < policy.limit(bucket.scope)),
    )
    return await session.scalar(statement.returning(SignInThrottle.guesses))


async def _give_back(session: AsyncSession, buckets: Iterable[Bucket]) -> None:
    for bucket in buckets:
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == bucket.key, SignInThrottle.guesses > 0)
            .values(guesses=SignInThrottle.guesses - 1)
        )


async def settle_right(session: AsyncSession, guess: Guess) -> None:
    """A right guess counts nowhere, and forgives this address its wrong guesses on this
    account (as a lock-out counter "in a row" would)."""
    for bucket in guess.numbers:
        if bucket.scope is Scope.ADDRESS_AND_ACCOUNT:
            await session.execute(delete(SignInThrottle).where(SignInThrottle.key == bucket.key))
        else:
            await _give_back(session, [bucket])


async def settle_wrong(
    session: AsyncSession, now: datetime, policy: ThrottlePolicy, guess: Guess
) -> list[Bucket]:
    """Close the buckets this wrong guess filled; returns them."""
    filled = [
        bucket for bucket, number in guess.numbers.items() if number >= policy.limit(bucket.scope)
    ]
    for bucket in filled:
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == bucket.key)
            .values(resets_at=now + policy.closed_for)
        )
    return filled


async def forget_expired(session: AsyncSession, now: datetime) -> None:
    """Drop buckets whose window has passed, so the table does not grow without end. Rows a
    guess holds at this moment are skipped (PostgreSQL), so this never waits for a guess."""
    expired = (
        select(SignInThrottle.key)
        .where(SignInThrottle.resets_at <= now)
        .with_for_update(skip_locked=True)
    )
    await session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(expired)))


async def unlock(session: AsyncSession, account: str) -> None:
    """Open every bucket of the account: from all addresses, and from each one."""
    await session.execute(
        delete(SignInThrottle).where(SignInThrottle.account_key == account_key(account))
    )


async def closed_accounts(
    session: AsyncSession, now: datetime, policy: ThrottlePolicy, accounts: Iterable[str]
) -> dict[str, datetime]:
    """Until when each account is closed, from all addresses or from at least one."""
    by_key = {account_key(account): account for account in accounts}
    rows = await session.execute(
        select(
            SignInThrottle.account_key,
            SignInThrottle.scope,
            SignInThrottle.guesses,
            SignInThrottle.resets_at,
        ).where(SignInThrottle.account_key.in_(by_key), SignInThrottle.resets_at > now)
    )
    closed: dict[str, datetime] = {}
    for key, scope, guesses, resets_at in rows:
        if key is not None and guesses >= policy.limit(Scope(scope)):
            account = by_key[key]
            closed[account] = max(resets_at, closed.get(account, resets_at))
    return closed
