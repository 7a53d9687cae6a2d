"""The long-lived objects handlers use, kept in `application.bot_data` under one key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext

from bot.i18n import Texts
from bot.nlu_guard import GuardedClassifier
from bot.storage import NewcomerStore

SERVICES_KEY = "services"


@dataclass(frozen=True)
class Services:
    texts: dict[str, Texts]
    newcomers: NewcomerStore
    nlu: GuardedClassifier


def services_of(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    services = context.application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services
