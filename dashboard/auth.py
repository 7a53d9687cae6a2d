"""Coordinator accounts: argon2id passwords, lock-out, server-side sessions and CSRF tokens.

Rules kept here:
- Passwords are stored only as argon2id hashes. Hashing takes tens of milliseconds of CPU,
  so it runs in a worker thread: the bot shares this event loop.
- Every guess is counted in throttle buckets (per client address and account, per client
  address, per account; dashboard/throttle.py) before its password is hashed; a full bucket
  refuses even the right password without hashing it. An unknown address is counted, answered
  and timed like a known one, so sign-in does not reveal which addresses have accounts.
- A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256.
  Signing out deletes it, and it ends after two idle hours or twelve hours in all.
- Every form carries a CSRF token derived with HMAC from the secret key and the session (or,
  before sign-in, from a random per-browser nonce), checked on every POST.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditAction,
    AuditEntry,
    Coordinator,
    CoordinatorRole,
    DashboardSession,
    Organisation,
    Sleutelpersoon,
)
from bot.text import one_line
from dashboard import throttle
from dashboard.access import Viewer
from dashboard.i18n import N_
from dashboard.passwords import password_problem
from dashboard.throttle import ThrottlePolicy

SESSION_IDLE = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class PasswordCheck:
    """A checked password: right (the account), locked (until when), or else wrong."""

    coordinator: Coordinator | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class SignIn:
    check: PasswordCheck
    # The new session's token for the cookie, when the password was right.
    token: str | None = None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def is_current_password(coordinator: Coordinator, password: str) -> bool:
    """Whether `password` is the account's password now: a new one must differ
    (dashboard/passwords.py)."""
    return await _verify(coordinator.password_hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@cache
def _decoy_hash() -> str:
    """A hash to verify against for unknown addresses, so they take as long as known ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def check_password(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    policy: ThrottlePolicy,
    email: str,
    password: str,
    client: str,
) -> PasswordCheck:
    """Check the password of the account `email` from the client address `client`: the guess is
    counted in its throttle buckets first, and only a counted guess is hashed."""
    account = normalise_email(email)
    async with sessions.begin() as session:
        coordinator = await session.scalar(select(Coordinator).where(Coordinator.email == account))
        from_here = throttle.address_key(client)
        owner_address = coordinator is not None and coordinator.last_sign_in_from == from_here
        guess = await throttle.take_guess(
            session, now, policy, throttle.buckets_of(account, client, owner_address=owner_address)
        )
    if guess.closed_until is not None:
        return PasswordCheck(locked_until=guess.closed_until)
    # Hashed outside any transaction: no connection or row is held while the CPU works. An
    # unknown or deactivated account is checked against a decoy hash, so it costs the same time.
    usable = coordinator if coordinator is not None and coordinator.active else None
    right = await _verify(
        usable.password_hash if usable else await asyncio.to_thread(_decoy_hash), password
    )
    async with sessions.begin() as session:
        if usable is not None and right:
            await throttle.settle_right(session, guess)
            check = PasswordCheck(coordinator=usable)
        else:
            filled = await throttle.settle_wrong(session, now, policy, guess)
            for bucket in filled:
                session.add(_closed_entry(now, policy, bucket, client, coordinator))
            check = PasswordCheck(locked_until=now + policy.closed_for if filled else None)
    # A transaction of its own, holding no bucket: it never waits for a guess in a cycle.
    async with sessions.begin() as session:
        await throttle.forget_expired(session, now)
    return check


async def sign_in(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    policy: ThrottlePolicy,
    email: str,
    password: str,
    client: str,
) -> SignIn:
    """Check a password, counted as `check_password` does; a right one opens a session."""
    check = await check_password(sessions, now, policy, email, password, client)
    if check.coordinator is None:
        return SignIn(check)
    rehashed = (
        await hash_password(password)
        if _hasher.check_needs_rehash(check.coordinator.password_hash)
        else None
    )
    async with sessions.begin() as session:
        signed_in = await session.get_one(Coordinator, check.coordinator.id)
        signed_in.last_login_at = now
        signed_in.last_sign_in_from = throttle.address_key(client)
        if rehashed is not None:
            signed_in.password_hash = rehashed
        token = await _open_session(session, now, signed_in)
    return SignIn(check, token)


async def check_current_password(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    policy: ThrottlePolicy,
    coordinator_id: int,
    password: str,
    client: str,
) -> PasswordCheck:
    """A signed-in coordinator's current password, counted like a sign-in: an unattended
    session gives no more guesses at the password than the sign-in form does."""
    async with sessions() as session:
        email = (await session.get_one(Coordinator, coordinator_id)).email
    return await check_password(sessions, now, policy, email, password, client)


def _closed_entry(
    now: datetime,
    policy: ThrottlePolicy,
    bucket: throttle.Bucket,
    client: str,
    coordinator: Coordinator | None,
) -> AuditEntry:
    """The audit entry of a closed bucket: in the organisation of the account typed when there
    is one (the bucket of an address alone names none); never the password."""
    named = coordinator if bucket.scope is not throttle.Scope.ADDRESS else None
    return AuditEntry(
        at=now,
        organisation_id=named.organisation_id if named else None,
        coordinator_id=None,
        subject_coordinator_id=named.id if named else None,
        action=AuditAction.SIGN_IN_LOCKED,
        details={
            "scope": str(bucket.scope),
            "address": client,
            "minutes": int(policy.closed_for.total_seconds() // 60),
        },
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _open_session(session: AsyncSession, now: datetime, coordinator: Coordinator) -> str:
    """A new session for the coordinator; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    # Expired sessions are removed on the way, so the table does not grow without end.
    await session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    session.add(
        DashboardSession(
            token_hash=_token_hash(token),
            coordinator_id=coordinator.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


async def viewer_of(session: AsyncSession, now: datetime, token: str | None) -> Viewer | None:
    """The coordinator behind a session cookie, if the session is still valid."""
    if not token:
        return None
    row = await session.execute(
        select(DashboardSession, Coordinator, Organisation)
        .join(Coordinator, Coordinator.id == DashboardSession.coordinator_id)
        .join(Organisation, Organisation.id == Coordinator.organisation_id)
        .where(DashboardSession.token_hash == _token_hash(token))
    )
    found = row.first()
    if found is None:
        return None
    dashboard_session, coordinator, organisation = found
    if (
        not coordinator.active
        or dashboard_session.expires_at <= now
        or dashboard_session.last_seen_at + SESSION_IDLE <= now
    ):
        await session.delete(dashboard_session)
        return None
    dashboard_session.last_seen_at = now
    return Viewer(
        coordinator_id=coordinator.id,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        display_name=coordinator.display_name,
        role=coordinator.role,
        locale=coordinator.locale,
    )


async def change_password(
    session: AsyncSession, coordinator_id: int, new: str, keep_token: str
) -> None:
    """Set a new password, checked with `passwords.password_problem` and after the current one was
    checked with `check_current_password`. Other sessions are ended."""
    coordinator = await session.get_one(Coordinator, coordinator_id)
    coordinator.password_hash = await hash_password(new)
    # Whoever may have had the old password is signed out everywhere but here.
    await session.execute(
        delete(DashboardSession).where(
            DashboardSession.coordinator_id == coordinator_id,
            DashboardSession.token_hash != _token_hash(keep_token),
        )
    )


async def reset_password(session: AsyncSession, coordinator: Coordinator, new: str) -> None:
    """An admin sets a checked new password for someone who lost theirs: the account is
    unlocked, and whoever had the old password is signed out everywhere."""
    coordinator.password_hash = await hash_password(new)
    await throttle.unlock(session, coordinator.email)
    await end_sessions_of(session, coordinator.id)


async def close_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(
            delete(DashboardSession).where(DashboardSession.token_hash == _token_hash(token))
        )


async def end_sessions_of(session: AsyncSession, coordinator_id: int) -> None:
    """Sign a coordinator out everywhere (deactivated account)."""
    await session.execute(
        delete(DashboardSession).where(DashboardSession.coordinator_id == coordinator_id)
    )


def csrf_token(secret_key: str, purpose: str, binding: str) -> str:
    """The token forms must send back: bound to the session (or pre-sign-in nonce)."""
    message = f"{purpose}:{binding}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, purpose: str, binding: str | None, sent: object) -> bool:
    if not binding or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(csrf_token(secret_key, purpose, binding), sent)


async def create_coordinator(
    session: AsyncSession,
    now: datetime,
    *,
    organisation: Organisation,
    email: str,
    display_name: str,
    password: str,
    role: CoordinatorRole = CoordinatorRole.COORDINATOR,
    locale: str = "nl",
    created_by: int | None = None,
) -> Coordinator:
    """A new account; raises ValueError (a msgid) for a bad password or a taken address."""
    problem = password_problem(password, email=email, name=display_name)
    if problem is not None:
        raise ValueError(problem)
    address = normalise_email(email)
    if "@" not in address or len(address) > 254:
        raise ValueError(N_("Give a valid e-mail address."))
    name = one_line(display_name)[:80]
    if not name:
        raise ValueError(N_("Give a name."))
    taken = await session.scalar(select(Coordinator.id).where(Coordinator.email == address))
    if taken is not None:
        raise ValueError(N_("There is already an account with this e-mail address."))
    coordinator = Coordinator(
        organisation_id=organisation.id,
        email=address,
        display_name=name,
        password_hash=await hash_password(password),
        role=role,
        locale=locale,
        active=True,
        created_at=now,
    )
    session.add(coordinator)
    await session.flush()
    session.add(
        AuditEntry(
            at=now,
            organisation_id=organisation.id,
            coordinator_id=created_by,
            subject_coordinator_id=coordinator.id,
            action=AuditAction.COORDINATOR_CREATED,
            details={"role": str(role)},
        )
    )
    return coordinator


async def organisation_named(session: AsyncSession, now: datetime, name: str) -> Organisation:
    """The organisation of that name, created when missing."""
    cleaned = one_line(name)[:120]
    if not cleaned:
        raise ValueError(N_("Give the organisation a name."))
    found = await session.scalar(select(Organisation).where(Organisation.name == cleaned))
    if found is not None:
        return found
    organisation = Organisation(name=cleaned, created_at=now)
    session.add(organisation)
    await session.flush()
    # Profiles made on the command line name their organisation in free text: link them,
    # as migration 0004 did for the organisations that existed then.
    await session.execute(
        update(Sleutelpersoon)
        .where(
            Sleutelpersoon.organisation_id.is_(None),
            func.trim(Sleutelpersoon.organisation) == cleaned,
        )
        .values(organisation_id=organisation.id)
        .execution_options(synchronize_session=False)
    )
    return organisation
