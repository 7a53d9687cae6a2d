"""Settings read from the environment (and `.env`), validated once at start-up.

Every problem is reported as a `SettingsError` that names the environment variable, so an
operator never has to guess which line of their configuration is wrong.
"""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.crypto import CipherError, parse_keys, weakness_of, weakness_of_text_secret
from matching.candidates import TieBreak
from matching.office_hours import parse_weekly_hours

# Telegram tokens look like "123456789:AAH..." (bot id, colon, 35 url-safe characters).
TELEGRAM_TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Telegram accepts 1-256 characters of this alphabet for a webhook secret token.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# In production the webhook secret is the only thing that tells Telegram's updates from anyone
# else's requests to the webhook port: as long as the dashboard's key, as token_urlsafe(24) makes.
MIN_WEBHOOK_SECRET_LENGTH = 32
MIN_DASHBOARD_SECRET_KEY_LENGTH = 32
# How to make a good value for a text secret, named in every refusal of one.
GENERATOR_ADVICE = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Values copied from an example file must never reach production. Only words: a random secret
# contains one of them with a probability below 1e-8, while it contained "xxx" (once a marker)
# about once in 800; a run of x's is refused as a pattern repeated (`weakness_of_text_secret`).
PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example")
# The dashboard's development secret; production refuses it (DASHBOARD_SECRET_KEY).
DEV_DASHBOARD_SECRET_KEY = "development-only-dashboard-secret"  # noqa: S105
IPNetwork = IPv4Network | IPv6Network


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the environment variable."""


class BotMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """All configuration of the bot process; field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: Environment = Field(default=Environment.DEVELOPMENT, alias="SLEUTELBRUG_ENV")
    data_dir: Path = Field(default=Path("data"), alias="DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    # Every key this deployment writes starts with the prefix, so tests and other apps sharing
    # one Redis never touch each other's keys.
    redis_key_prefix: str = Field(default="sleutelbrug:", min_length=1, alias="REDIS_KEY_PREFIX")

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    bot_mode: BotMode = Field(default=BotMode.POLLING, alias="BOT_MODE")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    webhook_listen: str = Field(default="0.0.0.0", alias="WEBHOOK_LISTEN")  # noqa: S104 - container
    webhook_port: int = Field(default=8443, ge=1, le=65535, alias="WEBHOOK_PORT")

    rasa_url: str = Field(default="http://127.0.0.1:5005", alias="RASA_URL")
    rasa_timeout_seconds: float = Field(default=3.0, gt=0, le=60, alias="RASA_TIMEOUT_SECONDS")
    nlu_confidence_threshold: float = Field(
        default=0.5, ge=0, le=1, alias="NLU_CONFIDENCE_THRESHOLD"
    )

    # Telegram's flood limits, kept by the bot itself across all its processes (bot/rate_limit.py):
    # about one message a second per chat and thirty a second overall. Raise them only where
    # Telegram allows more (paid broadcasts) or for a local Telegram without limits (bench/).
    telegram_messages_per_second: int = Field(
        default=30, ge=1, le=1000, alias="TELEGRAM_MESSAGES_PER_SECOND"
    )
    telegram_messages_per_chat_per_second: int = Field(
        default=1, ge=1, le=1000, alias="TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND"
    )
    retention_days: int = Field(default=90, ge=1, le=3650, alias="RETENTION_DAYS")
    offer_timeout_minutes: int = Field(default=10, ge=1, le=24 * 60, alias="OFFER_TIMEOUT_MINUTES")
    tie_break: TieBreak = Field(default=TieBreak.NONE, alias="TIE_BREAK")

    sandbox_host: str = Field(default="127.0.0.1", alias="SANDBOX_HOST")
    sandbox_port: int = Field(default=8081, ge=0, le=65535, alias="SANDBOX_PORT")
    # Office hours of the demo sleutelpersonen in the no-token run (see bot/demo.py): long days,
    # so the demo works at most hours, while 23:00-07:00 shows how a newcomer is told to wait.
    demo_office_hours: str = Field(default="mon-sun 07:00-23:00", alias="DEMO_OFFICE_HOURS")

    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    # Keys for message texts at rest: `id:base64key,...`, the first encrypts (see bot/crypto.py).
    message_keys: SecretStr | None = Field(default=None, alias="MESSAGE_KEYS")

    # --- dashboard (dashboard/) ---
    # Signs the dashboard's CSRF tokens. The default only serves local development.
    dashboard_secret_key: SecretStr = Field(
        default=SecretStr(DEV_DASHBOARD_SECRET_KEY), alias="DASHBOARD_SECRET_KEY"
    )
    dashboard_host: str = Field(default="127.0.0.1", alias="DASHBOARD_HOST")
    dashboard_port: int = Field(default=8082, ge=0, le=65535, alias="DASHBOARD_PORT")
    # Reverse proxies in front of the dashboard (addresses or networks, comma-separated): only
    # from these is X-Forwarded-For believed for the client address that sign-in throttling
    # counts (dashboard/throttle.py). Empty: the connection's own peer is the client.
    dashboard_trusted_proxies: str = Field(default="", alias="DASHBOARD_TRUSTED_PROXIES")
    # For the invite links the dashboard makes: https://t.me/<BOT_USERNAME>?start=<token>.
    bot_username: str = Field(
        default="SleutelbrugBot", pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$", alias="BOT_USERNAME"
    )

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TELEGRAM_TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("does not look like a Telegram bot token (digits:secret)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("rasa_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(redis|rediss|unix)://", value):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("demo_office_hours")
    @classmethod
    def _weekly_hours(cls, value: str) -> str:
        if not parse_weekly_hours(value):
            raise ValueError("names no hours; write e.g. 'mon-sun 07:00-23:00'")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("message_keys")
    @classmethod
    def _message_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                parse_keys(value.get_secret_value())
            except CipherError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("dashboard_trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.bot_mode is BotMode.WEBHOOK:
            if self.webhook_url is None:
                raise _named_error("WEBHOOK_URL", "is required when BOT_MODE=webhook")
            if self.webhook_secret is None:
                raise _named_error("WEBHOOK_SECRET", "is required when BOT_MODE=webhook")
        if self.environment is Environment.PRODUCTION:
            if self.telegram_bot_token is None:
                raise _named_error("TELEGRAM_BOT_TOKEN", "is required in production")
            for name, secret in (
                ("TELEGRAM_BOT_TOKEN", self.telegram_bot_token),
                ("WEBHOOK_SECRET", self.webhook_secret),
            ):
                if secret is not None and _is_placeholder(secret.get_secret_value()):
                    raise _named_error(name, "still holds a placeholder value")
            bot_secret = self.telegram_bot_token.get_secret_value().partition(":")[2]
            if (weakness := weakness_of_text_secret(bot_secret)) is not None:
                raise _named_error("TELEGRAM_BOT_TOKEN", f"{weakness}: not a token from BotFather")
            if self.message_keys is None:
                raise _named_error("MESSAGE_KEYS", "is required in production (encryption at rest)")
            for key_id, key in parse_keys(self.message_keys.get_secret_value()).items():
                weakness = weakness_of(key)
                if weakness is not None:
                    raise _named_error(
                        "MESSAGE_KEYS",
                        f"key {key_id!r} {weakness}; make each key from 32 random bytes",
                    )
            dashboard_key = self.dashboard_secret_key.get_secret_value()
            if dashboard_key == DEV_DASHBOARD_SECRET_KEY or _is_placeholder(dashboard_key):
                raise _named_error(
                    "DASHBOARD_SECRET_KEY",
                    f"must be set to a secret in production; {GENERATOR_ADVICE}",
                )
            _refuse_weak_text_secret(
                "DASHBOARD_SECRET_KEY", dashboard_key, MIN_DASHBOARD_SECRET_KEY_LENGTH
            )
            if self.webhook_secret is not None:
                _refuse_weak_text_secret(
                    "WEBHOOK_SECRET",
                    self.webhook_secret.get_secret_value(),
                    MIN_WEBHOOK_SECRET_LENGTH,
                )
            # Telegram sends every update, and the secret with it, to this address.
            if self.webhook_url is not None and not self.webhook_url.startswith("https://"):
                raise _named_error(
                    "WEBHOOK_URL",
                    "must be an https:// URL in production: Telegram sends the updates and the "
                    "webhook secret to it (put the bot behind a TLS proxy or use a certificate)",
                )
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.dashboard_trusted_proxies)

    @property
    def effective_database_url(self) -> str:
        """The configured database, or an SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sleutelbrug.sqlite3').resolve()}"


class _NamedSettingError(ValueError):
    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


def _named_error(variable: str, problem: str) -> _NamedSettingError:
    return _NamedSettingError(variable, problem)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or networks (`10.0.0.0/8, ::1`); ValueError names a bad one."""
    networks = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


def _refuse_weak_text_secret(variable: str, secret: str, min_length: int) -> None:
    """Refuse a production secret that is short or cannot have come from a random generator."""
    if len(secret) < min_length:
        problem = f"must be at least {min_length} characters in production"
        raise _named_error(variable, f"{problem}; {GENERATOR_ADVICE}")
    weakness = weakness_of_text_secret(secret)
    if weakness is not None:
        raise _named_error(variable, f"{weakness}; {GENERATOR_ADVICE}")


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raise `SettingsError` naming the variable for anything wrong."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            context = error.get("ctx") or {}
            cause = context.get("error")
            if isinstance(cause, _NamedSettingError):
                problems.append(str(cause))
                continue
            variable = ".".join(str(part) for part in error["loc"]) or "configuration"
            message = str(cause) if cause is not None else error["msg"]
            problems.append(f"{variable.upper()}: {message}")
        raise SettingsError("Invalid configuration: " + "; ".join(problems)) from None
