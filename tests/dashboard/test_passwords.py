"""New passwords: long, not common, not predictable, not the account's name or address, not the
current one (issue 14: `aaaaaaaaaaaa` was accepted, and so was reusing the password), wherever
a password is set: the command line, a new account or a reset on the admin page, and one's own
change on the account page."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.models import Coordinator, Organisation, SignInThrottle
from dashboard import passwords
from dashboard.passwords import password_problem

from .kit import PASSWORD, csrf_of, dashboard, new_account_form, sign_in

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
ANNA, BRAM = "anna@tilburg.example", "bram.de-vries@tilburg.example"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", passwords.TOO_SHORT),
        ("aaaaaaaaaaaa", passwords.PREDICTABLE),
        ("abcabcabcabc", passwords.PREDICTABLE),
        ("abcdefghijkl", passwords.PREDICTABLE),
        ("123456789012", passwords.PREDICTABLE),
        ("lkjhgfdsa987", passwords.PREDICTABLE),
        ("zyxwvu111111", passwords.PREDICTABLE),
        ("x7kqx7kqx7kq", passwords.PREDICTABLE),
        ("passwordpassword", passwords.PREDICTABLE),
        ("password1234", passwords.COMMON),
        ("Password123!", passwords.COMMON),
        ("!!Sunshine2024", passwords.COMMON),
        ("wachtwoord12", passwords.COMMON),
        ("iloveyou!!!!", passwords.COMMON),
        ("Bram loves the sea", passwords.PERSONAL),
        ("my de-vries passphrase", passwords.PERSONAL),
        ("bram.de-vries1", passwords.PERSONAL),
    ],
)
def test_weak_passwords_are_refused_with_their_reason(password: str, problem: str) -> None:
    assert password_problem(password, email=BRAM, name="Bram de Vries") == problem


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "x7#kP2m!qL9z", "Dit is mijn fiets 1234", "olifant regenboog kachel"],
)
def test_strong_passwords_are_accepted(password: str) -> None:
    assert password_problem(password, email=BRAM, name="Bram de Vries") is None


async def test_every_form_that_sets_a_password_refuses_weak_and_reused_ones(
    database_url: str,
) -> None:
    async with dashboard(database_url, TUESDAY_10) as board:
        await board.coordinator("Gemeente Tilburg", ANNA, admin=True)
        bram = await board.coordinator("Gemeente Tilburg", BRAM, name="Bram de Vries")
        async with board.signed_in(ANNA) as anna:
            token = await csrf_of(anna, "/admin")
            async with board.sessions() as session:
                tilburg = await session.scalar(select(Organisation.id))
            created = await anna.post(
                "/admin/coordinators",
                data=new_account_form(
                    token, tilburg, "Nina", "nina@tilburg.example", "aaaaaaaaaaaa"
                ),
            )
            assert created.status_code == 400 and "too predictable" in created.text
            for password, refusal in (
                (PASSWORD, "must differ from the current one"),
                ("Bram's new passphrase", "name or e-mail address"),
                ("Password123!", "most common passwords"),
            ):
                reset = await anna.post(
                    f"/admin/coordinators/{bram.id}/password",
                    data={"csrf_token": token, "password": password},
                )
                assert reset.status_code == 400 and refusal in reset.text, password
        async with board.sessions() as session:
            accounts = (await session.scalars(select(Coordinator.email))).all()
        assert sorted(accounts) == [ANNA, BRAM]
        async with board.client() as client:
            assert (await sign_in(client, BRAM, PASSWORD)).status_code == 303


async def test_changing_to_the_current_password_is_refused_before_a_guess_counts(
    database_url: str,
) -> None:
    async with dashboard(database_url, TUESDAY_10) as board:
        await board.coordinator("Gemeente Tilburg", ANNA, locale="nl")

        async def guesses() -> list[int]:
            async with board.sessions() as session:
                return sorted((await session.scalars(select(SignInThrottle.guesses))).all())

        async with board.signed_in(ANNA) as anna:
            token = await csrf_of(anna, "/account")
            before = await guesses()
            same = await anna.post(
                "/account/password",
                data={"csrf_token": token, "current": PASSWORD, "new": PASSWORD, "again": PASSWORD},
            )
            assert same.status_code == 400
            assert "Het nieuwe wachtwoord moet anders zijn dan het huidige." in same.text
            assert await guesses() == before


def test_the_command_line_refuses_weak_passwords(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATABASE_URL", "SLEUTELBRUG_ENV", "DASHBOARD_SECRET_KEY", "BOT_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("sys.stdin", io.StringIO("aaaaaaaaaaaa\n"))
    command = ["coordinator", "add", "--email", ANNA, "--name", "Anna", "--organisation", "Oss"]
    assert main([*command, "--password-stdin"]) == 2
    assert "too predictable" in capsys.readouterr().err
