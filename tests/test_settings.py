"""Settings come from the environment and every problem names its variable."""

from __future__ import annotations

import base64
import os
from ipaddress import ip_network

import pytest

from bot.cli import send_limits_of
from bot.crypto import new_key_spec
from bot.rate_limit import SendLimits
from bot.settings import BotMode, SettingsError, load_settings

GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN", "BOT_MODE", "WEBHOOK_URL", "WEBHOOK_SECRET", "RASA_URL",
        "REDIS_URL", "DATABASE_URL", "SLEUTELBRUG_ENV", "WEBHOOK_PORT", "LOG_LEVEL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file is read


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.bot_mode is BotMode.POLLING
    assert settings.telegram_bot_token is None
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("data/sleutelbrug.sqlite3")


def test_environment_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv("RASA_URL", "http://rasa:5005/")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/sleutelbrug")
    settings = load_settings()
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == GOOD_TOKEN
    assert settings.rasa_url == "http://rasa:5005"
    assert settings.effective_database_url == "postgresql+psycopg://u@db/sleutelbrug"


def test_trusted_proxies_are_addresses_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().trusted_proxy_networks == ()
    monkeypatch.setenv("DASHBOARD_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,::1")
    assert load_settings().trusted_proxy_networks == (
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.7/32"),
        ip_network("::1/128"),
    )


def test_env_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=debug\nREDIS_URL=redis://localhost:6380/2\n")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.redis_url == "redis://localhost:6380/2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("RASA_URL", "ftp://rasa"),
        ("REDIS_URL", "localhost:6379"),
        ("DATABASE_URL", "mysql://db"),
        ("WEBHOOK_PORT", "eighty"),
        ("WEBHOOK_PORT", "70000"),
        ("BOT_MODE", "carrier-pigeon"),
        ("LOG_LEVEL", "loud"),
        ("WEBHOOK_SECRET", "has spaces"),
        ("DEMO_OFFICE_HOURS", "every day 9-5"),
        ("DEMO_OFFICE_HOURS", "mon 17:00-09:00"),
        ("DEMO_OFFICE_HOURS", ";"),
        ("TELEGRAM_MESSAGES_PER_SECOND", "0"),
        ("TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND", "many"),
        ("DASHBOARD_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_webhook_mode_requires_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_MODE", "webhook")
    with pytest.raises(SettingsError, match="WEBHOOK_URL is required"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is required"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_value")
    assert load_settings().bot_mode is BotMode.WEBHOOK


def test_production_refuses_missing_or_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEUTELBRUG_ENV", "production")
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN is required"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:changeme_changeme_changeme_00")
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN still holds a placeholder"):
        load_settings()


def test_cli_reports_a_bad_setting_and_exits_2(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("RASA_URL", "nonsense")
    assert main(["migrate"]) == 2
    assert "RASA_URL" in capsys.readouterr().err


def test_flood_limits_come_from_the_settings_with_a_third_kept_for_replies() -> None:
    assert send_limits_of(load_settings()) == SendLimits(
        per_chat=1, overall=30, reserved_for_conversation=10
    )
    raised = load_settings(
        TELEGRAM_MESSAGES_PER_SECOND="300", TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND="5"
    )
    assert send_limits_of(raised) == SendLimits(
        per_chat=5, overall=300, reserved_for_conversation=100
    )


def production_environment(message_keys: str) -> dict[str, str]:
    return {
        "SLEUTELBRUG_ENV": "production",
        "TELEGRAM_BOT_TOKEN": GOOD_TOKEN,
        "DASHBOARD_SECRET_KEY": "q7Vd2LpR9sKw4nTz8bHc1mYf6gJx3aUe5oWi0Q",
        "MESSAGE_KEYS": message_keys,
    }


def key_spec(key_id: str, key: bytes) -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(key).decode()}"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (bytes(32), "repeats a few byte values"),  # "A" * 43 in base64: all zeros
        (b"\x07" * 32, "repeats a few byte values"),
        (bytes(range(8)) * 4, "repeats a few byte values"),
        (bytes([0xFF, 0x00]) * 16, "repeats a few byte values"),
        (b"changeme-changeme-changeme-12345", "is typed text"),
        (b"correct horse battery staple!!!!", "is typed text"),
    ],
)
def test_production_refuses_placeholder_and_low_entropy_message_keys(
    key: bytes, problem: str
) -> None:
    random_key = key_spec("new", os.urandom(32))
    for spec in (key_spec("k1", key), f"{random_key},{key_spec('old', key)}"):
        with pytest.raises(SettingsError, match=f"MESSAGE_KEYS key '(k1|old)' {problem}"):
            load_settings(**production_environment(spec))
    # Development keeps accepting it: its dev key file and test keys are its own business.
    assert load_settings(MESSAGE_KEYS=key_spec("k1", key)).message_keys is not None


def test_production_accepts_random_message_keys() -> None:
    for _ in range(200):
        spec = f"{key_spec('k2', os.urandom(32))},{new_key_spec('k1')}"
        settings = load_settings(**production_environment(spec))
        assert settings.message_keys is not None
        assert settings.message_keys.get_secret_value() == spec


GOOD_TEXT_SECRET = "q7Vd2LpR9sKw4nTz8bHc1mYf6gJx3aUe5oWi0Q"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("WEBHOOK_SECRET", "a", "must be at least 32 characters"),
        ("WEBHOOK_SECRET", "s3cret_value", "must be at least 32 characters"),
        ("WEBHOOK_SECRET", "a" * 32, "is a short pattern repeated"),
        ("WEBHOOK_SECRET", "password" * 4, "is a short pattern repeated"),
        ("WEBHOOK_SECRET", "ab" * 20 + "c", "repeats a few characters"),
        ("WEBHOOK_SECRET", "correcthorsebatterystapleandmore", "is typed text"),
        ("DASHBOARD_SECRET_KEY", "a" * 32, "is a short pattern repeated"),
        ("DASHBOARD_SECRET_KEY", "password" * 4, "is a short pattern repeated"),
        ("DASHBOARD_SECRET_KEY", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", "is typed text"),
        ("DASHBOARD_SECRET_KEY", "short-but-secret", "must be at least 32 characters"),
    ],
)
def test_production_refuses_short_or_patterned_text_secrets_and_says_how_to_make_one(
    variable: str, value: str, problem: str
) -> None:
    environment = production_environment(new_key_spec("k1"))
    environment |= {"BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.sleutelbrug.nl"}
    environment |= {"WEBHOOK_SECRET": GOOD_TEXT_SECRET, variable: value}
    with pytest.raises(SettingsError, match=f"{variable} {problem}") as refused:
        load_settings(**environment)
    assert "secrets.token_urlsafe(32)" in str(refused.value)
    # Development keeps accepting it (a local webhook test, the dashboard's dev key).
    del environment["SLEUTELBRUG_ENV"]
    assert load_settings(**environment) is not None


def test_production_refuses_a_plain_http_webhook_url() -> None:
    environment = production_environment(new_key_spec("k1"))
    environment |= {"BOT_MODE": "webhook", "WEBHOOK_SECRET": GOOD_TEXT_SECRET}
    with pytest.raises(SettingsError, match="WEBHOOK_URL must be an https:// URL in production"):
        load_settings(**environment, WEBHOOK_URL="http://bot.sleutelbrug.nl")
    assert load_settings(**environment, WEBHOOK_URL="https://bot.sleutelbrug.nl").webhook_url


def test_production_accepts_generated_text_secrets() -> None:
    import secrets

    for _ in range(500):
        environment = production_environment(new_key_spec("k1"))
        environment |= {
            "BOT_MODE": "webhook",
            "WEBHOOK_URL": "https://bot.sleutelbrug.nl",
            "WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "DASHBOARD_SECRET_KEY": secrets.token_hex(16),
        }
        assert load_settings(**environment).webhook_secret is not None


def test_production_refuses_a_bot_token_of_xs_but_no_random_value_for_containing_xxx() -> None:
    environment = production_environment(new_key_spec("k1"))
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN is a short pattern repeated"):
        load_settings(**environment | {"TELEGRAM_BOT_TOKEN": "123456:" + "x" * 35})
    secret = "q7Vd2LpR9sKw4nTzxXx8bHc1mYf6gJx3aUe5oWi0Q"
    environment |= {"TELEGRAM_BOT_TOKEN": f"123456:{secret[:35]}", "DASHBOARD_SECRET_KEY": secret}
    environment |= {"BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.sleutelbrug.nl"}
    assert load_settings(**environment | {"WEBHOOK_SECRET": secret}).webhook_secret is not None
