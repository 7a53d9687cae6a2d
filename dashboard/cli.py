"""`sleutelbrug coordinator add`: the first (and any further) dashboard account from a shell;
`sleutelbrug coordinator platform-admin`: the only way to grant or revoke the platform role.

The password is read without echo (getpass, asked twice) or, for scripts, as one line from
standard input with `--password-stdin`; it never appears in the process list or the history.
The platform role manages every organisation (dashboard/access.py), so no dashboard page can
grant it: only whoever runs this command on the server.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any, TextIO

from sqlalchemy import select

from bot.clock import SystemClock
from bot.models import AuditAction, AuditEntry, Coordinator, CoordinatorRole, Organisation
from bot.settings import Settings
from bot.storage import create_engine_for, migrate, session_factory
from bot.text import one_line
from dashboard import auth
from dashboard.i18n import LOCALES
from dashboard.passwords import password_problem
from matching.office_hours import parse_weekly_hours


def add_parser(commands: Any) -> None:
    """Add `coordinator add` to the `sleutelbrug` subcommands."""
    coordinator = commands.add_parser("coordinator", help="manage dashboard accounts")
    actions = coordinator.add_subparsers(dest="coordinator_command", required=True)
    add = actions.add_parser(
        "add", help="create a coordinator account (give the first one --admin)"
    )
    add.add_argument("--email", required=True, help="their sign-in name")
    add.add_argument("--name", required=True, help="shown in the dashboard and the audit log")
    add.add_argument(
        "--organisation", required=True, help="their organisation (created when it is new)"
    )
    add.add_argument(
        "--admin", action="store_true", help="may also manage their organisation's accounts"
    )
    add.add_argument(
        "--platform-admin",
        action="store_true",
        help="may also create organisations and manage every organisation's accounts",
    )
    add.add_argument("--locale", choices=LOCALES, default="nl", help="dashboard language")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password as one line from stdin"
    )
    add.add_argument("--telegram-id", type=int, help="their Telegram user id, for on-call alerts")
    add.add_argument(
        "--on-call", help="weekly on-call hours for urgent requests, e.g. 'mon-sun 18:00-24:00'"
    )
    platform = actions.add_parser(
        "platform-admin",
        help="grant an existing account the platform role (every organisation's accounts)",
    )
    platform.add_argument("email", help="the account's sign-in name")
    platform.add_argument(
        "--revoke", action="store_true", help="take it back: they stay their organisation's admin"
    )


def run(settings: Settings, arguments: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """Carry out the `coordinator` command; 0 on success, 2 with a message on stderr when
    refused."""
    if arguments.coordinator_command == "platform-admin":
        migrate(settings.effective_database_url)
        try:
            role = asyncio.run(_set_platform_role(settings, arguments.email, not arguments.revoke))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{auth.normalise_email(arguments.email)} is now {role.replace('_', ' ')}")
        return 0
    return _add(settings, arguments, stdin or sys.stdin)


def _add(settings: Settings, arguments: argparse.Namespace, stdin: TextIO) -> int:
    password = _read_password(arguments.password_stdin, stdin)
    if password is None:
        print("error: the passwords do not match", file=sys.stderr)
        return 2
    problem = password_problem(password, email=arguments.email, name=arguments.name)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if arguments.on_call is not None:
        try:
            parse_weekly_hours(arguments.on_call)
        except ValueError as exc:
            print(f"error: --on-call: {exc}", file=sys.stderr)
            return 2
        if arguments.telegram_id is None:
            print("error: --on-call needs --telegram-id to send the alerts to", file=sys.stderr)
            return 2
    migrate(settings.effective_database_url)
    try:
        organisation = asyncio.run(_create(settings, arguments, password))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{_role(arguments).replace('_', ' ')} {auth.normalise_email(arguments.email)} "
        f"created in {organisation}"
    )
    return 0


def _read_password(from_stdin: bool, stdin: TextIO) -> str | None:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    again = getpass.getpass("Password again: ")
    return first if first == again else None


async def _create(settings: Settings, arguments: argparse.Namespace, password: str) -> str:
    engine = create_engine_for(settings.effective_database_url)
    now = SystemClock().now()
    try:
        async with session_factory(engine).begin() as session:
            name = one_line(arguments.organisation)[:120]
            existed = await session.scalar(select(Organisation.id).where(Organisation.name == name))
            organisation = await auth.organisation_named(session, now, name)
            if existed is None:
                session.add(
                    AuditEntry(
                        at=now,
                        organisation_id=organisation.id,
                        action=AuditAction.ORGANISATION_CREATED,
                        details={"name": organisation.name, "by": "command line"},
                    )
                )
            coordinator = await auth.create_coordinator(
                session,
                now,
                organisation=organisation,
                email=arguments.email,
                display_name=arguments.name,
                password=password,
                role=_role(arguments),
                locale=arguments.locale,
            )
            coordinator.telegram_user_id = arguments.telegram_id
            coordinator.on_call_hours = arguments.on_call
            return organisation.name
    finally:
        await engine.dispose()


def _role(arguments: argparse.Namespace) -> CoordinatorRole:
    if arguments.platform_admin:
        return CoordinatorRole.PLATFORM_ADMIN
    return CoordinatorRole.ADMIN if arguments.admin else CoordinatorRole.COORDINATOR


async def _set_platform_role(settings: Settings, email: str, grant: bool) -> CoordinatorRole:
    """Grant or revoke the platform role, logged in the account's organisation (by the command
    line: no coordinator). Revoking leaves them their organisation's admin."""
    engine = create_engine_for(settings.effective_database_url)
    now = SystemClock().now()
    role = CoordinatorRole.PLATFORM_ADMIN if grant else CoordinatorRole.ADMIN
    try:
        async with session_factory(engine).begin() as session:
            account = await session.scalar(
                select(Coordinator).where(Coordinator.email == auth.normalise_email(email))
            )
            if account is None:
                raise ValueError("there is no account with this e-mail address")
            if account.role != role:
                account.role = role
                session.add(
                    AuditEntry(
                        at=now,
                        organisation_id=account.organisation_id,
                        subject_coordinator_id=account.id,
                        action=AuditAction.PLATFORM_ADMIN_GRANTED
                        if grant
                        else AuditAction.PLATFORM_ADMIN_REVOKED,
                        details={"by": "command line"},
                    )
                )
            return role
    finally:
        await engine.dispose()
