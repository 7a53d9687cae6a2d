"""docker-compose.yml is valid Compose and its services fit the bot's settings.

No Docker engine runs here, so the file is validated against the Compose specification
(the schema check-jsonschema ships as `vendor.compose-spec`) instead of being run.
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.settings import BotMode, Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def compose_schema() -> dict:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))


def test_file_matches_the_compose_specification(compose: dict) -> None:
    jsonschema.validate(compose, compose_schema())


def test_the_validation_would_catch_a_broken_file(compose: dict) -> None:
    broken = dict(compose, services={"bot": {"image": "x", "restart": 5, "bogus_key": True}})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def test_the_expected_services_exist(compose: dict) -> None:
    assert set(compose["services"]) == {"bot", "worker", "dashboard", "rasa", "redis", "postgres"}
    assert compose["services"]["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    rasa_command = " ".join(compose["services"]["rasa"]["command"])
    assert "rasa train nlu" in rasa_command and "rasa run --enable-api" in rasa_command
    assert "./nlu:/app/nlu:ro" in compose["services"]["rasa"]["volumes"]


def interpolate(value: str) -> str:
    """Fill `${NAME:?message}` and `${NAME:-default}` the way compose would with a plausible
    operator environment (which leaves the defaulted ones unset)."""
    samples = {
        "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "WEBHOOK_URL": "https://bot.gemeente.nl",
        "WEBHOOK_SECRET": "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7",
        "POSTGRES_PASSWORD": "pw",
        # A key as an operator makes it (README): 32 random bytes, URL-safe base64.
        "MESSAGE_KEYS": "k1:1DvFq4INN8zmKq7pXcHZfHrb0YCmBO41ATe_7mdMZuc=",
        "DASHBOARD_SECRET_KEY": "q7Vd2LpR9sKw4nTz8bHc1mYf6gJx3aUe5oWi0Q",
        "BOT_USERNAME": "SleutelbrugBot",
    }

    def fill(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        return samples[name] if default is None else samples.get(name, default)

    return re.sub(r"\$\{(\w+)(?::\?[^}]*|:-([^}]*))?\}", fill, value)


@pytest.mark.parametrize("service", ["bot", "worker", "dashboard"])
def test_dashboard_environment_is_accepted_by_the_settings(compose: dict, service: str) -> None:
    environment = {
        name: interpolate(str(value))
        for name, value in compose["services"][service]["environment"].items()
    }
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert set(environment) <= aliases, f"unknown settings: {set(environment) - aliases}"
    settings = load_settings(**environment)
    assert settings.effective_database_url.startswith("postgresql")


def test_bot_environment_is_accepted_by_the_settings(compose: dict) -> None:
    environment = {
        name: interpolate(str(value))
        for name, value in compose["services"]["bot"]["environment"].items()
    }
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert set(environment) <= aliases, f"unknown settings: {set(environment) - aliases}"
    settings = load_settings(**environment)
    assert settings.bot_mode is BotMode.WEBHOOK
    assert settings.effective_database_url.startswith("postgresql")
    # The services it points at are the ones in this file.
    assert settings.redis_url is not None and "//redis:" in settings.redis_url
    assert "//rasa:" in settings.rasa_url
    assert "@postgres:" in settings.effective_database_url
    assert str(settings.webhook_port) + ":" in compose["services"]["bot"]["ports"][0]


def test_bot_waits_for_healthy_dependencies(compose: dict) -> None:
    depends = compose["services"]["bot"]["depends_on"]
    assert {name: spec["condition"] for name, spec in depends.items()} == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "rasa": "service_healthy",
    }
    for name in depends:
        assert "healthcheck" in compose["services"][name]


def test_workers_scale_and_reach_the_same_services_as_the_bot(compose: dict) -> None:
    worker = compose["services"]["worker"]
    assert worker["command"] == ["sleutelbrug", "worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "ports" not in worker and "container_name" not in worker  # or it could not scale
    bot = compose["services"]["bot"]["environment"]
    for name in ("DATABASE_URL", "REDIS_URL", "RASA_URL", "MESSAGE_KEYS", "TELEGRAM_BOT_TOKEN"):
        assert worker["environment"][name] == bot[name]
    assert {name: spec["condition"] for name, spec in worker["depends_on"].items()} == {
        "bot": "service_started",
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "rasa": "service_healthy",
    }


def test_the_image_holds_every_package_the_distribution_declares() -> None:
    """The bot, worker and dashboard services run the image; a package left out of it crashes
    them."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    declared = {pattern.rstrip("*") for pattern in includes}
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert declared <= copied, f"packages missing from the Dockerfile: {sorted(declared - copied)}"
    assert "locales" in copied, "the gettext catalogs must be in the image"
