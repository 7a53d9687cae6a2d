"""`sleutelbrug coordinator add` and the dashboard's settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.crypto import new_key_spec
from bot.models import AuditAction, AuditEntry, Coordinator, Organisation
from bot.settings import SettingsError, load_settings

GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "SLEUTELBRUG_ENV", "DASHBOARD_SECRET_KEY", "BOT_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def add(monkeypatch: pytest.MonkeyPatch, password: str, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(
        [
            "coordinator", "add", "--email", "Anna@Tilburg.example", "--name", "Anna",
            "--organisation", "Gemeente  Tilburg", "--password-stdin", *extra,
        ]
    )  # fmt: skip


def test_coordinator_add_creates_the_first_admin(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(monkeypatch, "short") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert add(monkeypatch, "a long enough passphrase", "--admin") == 0
    assert "admin anna@tilburg.example created in Gemeente Tilburg" in capsys.readouterr().out
    assert add(monkeypatch, "another long passphrase") == 2
    assert "already an account" in capsys.readouterr().err
    engine = create_engine(f"sqlite:///{data_dir / 'sleutelbrug.sqlite3'}")
    with Session(engine) as session:
        coordinator = session.scalars(select(Coordinator)).one()
        assert (coordinator.email, coordinator.role) == ("anna@tilburg.example", "admin")
        assert coordinator.password_hash.startswith("$argon2id$")
        assert "long enough" not in coordinator.password_hash
        assert session.scalars(select(Organisation.name)).all() == ["Gemeente Tilburg"]
        actions = set(session.scalars(select(AuditEntry.action)).all())
    engine.dispose()
    assert actions == {AuditAction.ORGANISATION_CREATED, AuditAction.COORDINATOR_CREATED}


def test_production_refuses_the_development_dashboard_secret(data_dir: Path) -> None:
    production = {
        "SLEUTELBRUG_ENV": "production",
        "TELEGRAM_BOT_TOKEN": GOOD_TOKEN,
        "MESSAGE_KEYS": new_key_spec("k1"),
    }
    with pytest.raises(SettingsError, match="DASHBOARD_SECRET_KEY must be set"):
        load_settings(**production)
    with pytest.raises(SettingsError, match="DASHBOARD_SECRET_KEY must be at least 32"):
        load_settings(**production, DASHBOARD_SECRET_KEY="short-but-secret")
    with pytest.raises(SettingsError, match="DASHBOARD_SECRET_KEY is a short pattern repeated"):
        load_settings(**production, DASHBOARD_SECRET_KEY="s3cr3t-" * 6)
    settings = load_settings(**production, DASHBOARD_SECRET_KEY="q7Vd2LpR9sKw4nTz8bHc1mYf6gJx3aUe")
    assert settings.dashboard_port == 8082 and settings.dashboard_host == "127.0.0.1"
    with pytest.raises(SettingsError, match="BOT_USERNAME"):
        load_settings(BOT_USERNAME="not a username")
    with pytest.raises(SettingsError, match="DASHBOARD_PORT"):
        load_settings(DASHBOARD_PORT="eighty")


def test_on_call_hours_are_checked_and_stored(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(monkeypatch, "a long enough password", "--on-call", "sat 20:00-24:00") == 2
    assert "--telegram-id" in capsys.readouterr().err
    assert (
        add(monkeypatch, "a long enough password", "--telegram-id", "77", "--on-call", "zat 9-5")
        == 2
    )
    assert "--on-call: unknown day" in capsys.readouterr().err
    assert (
        add(monkeypatch, "a long enough password", "--telegram-id", "77",
            "--on-call", "sat-sun 00:00-24:00")
        == 0
    )  # fmt: skip
    engine = create_engine(f"sqlite:///{data_dir / 'sleutelbrug.sqlite3'}")
    with Session(engine) as session:
        coordinator = session.scalar(select(Coordinator))
        assert coordinator is not None
        assert (coordinator.telegram_user_id, coordinator.on_call_hours) == (
            77,
            "sat-sun 00:00-24:00",
        )
    engine.dispose()


def test_the_platform_role_is_granted_and_revoked_on_the_command_line_only(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["coordinator", "platform-admin", "nobody@example.org"]) == 2
    assert "no account with this e-mail address" in capsys.readouterr().err
    assert add(monkeypatch, "a long enough passphrase", "--admin") == 0
    assert main(["coordinator", "platform-admin", "ANNA@tilburg.example"]) == 0
    assert "anna@tilburg.example is now platform admin" in capsys.readouterr().out
    assert main(["coordinator", "platform-admin", "anna@tilburg.example", "--revoke"]) == 0
    assert "anna@tilburg.example is now admin" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("yet another long passphrase\n"))
    assert main(
        [
            "coordinator", "add", "--email", "pia@platform.example", "--name", "Pia",
            "--organisation", "Sleutelbrug platform", "--platform-admin", "--password-stdin",
        ]
    ) == 0  # fmt: skip
    assert "platform admin pia@platform.example created" in capsys.readouterr().out
    engine = create_engine(f"sqlite:///{data_dir / 'sleutelbrug.sqlite3'}")
    with Session(engine) as session:
        roles = {
            email: role
            for email, role in session.execute(select(Coordinator.email, Coordinator.role))
        }
        logged = session.execute(
            select(AuditEntry.action, Organisation.name, AuditEntry.coordinator_id)
            .join(Organisation, Organisation.id == AuditEntry.organisation_id)
            .where(AuditEntry.action.like("platform_admin_%"))
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert roles == {"anna@tilburg.example": "admin", "pia@platform.example": "platform_admin"}
    # In the account's organisation, by no coordinator: the command line.
    assert [tuple(row) for row in logged] == [
        (AuditAction.PLATFORM_ADMIN_GRANTED, "Gemeente Tilburg", None),
        (AuditAction.PLATFORM_ADMIN_REVOKED, "Gemeente Tilburg", None),
    ]
