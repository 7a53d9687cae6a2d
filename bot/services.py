"""The long-lived objects handlers use, kept in `application.bot_data` under one key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext

from bot.clock import Clock
from bot.handover import Handover
from bot.i18n import Texts
from bot.nlu_guard import GuardedClassifier
from bot.outbox import OutboxSender

SERVICES_KEY = "services"


@dataclass(frozen=True)
class Services:
    texts: dict[str, Texts]
    sessions: async_sessionmaker[AsyncSession]
    nlu: GuardedClassifier
    clock: Clock
    handover: Handover
    outbox: OutboxSender
    # Where erased chats are forgotten after commit (bot/erasure.py).
    redis: Redis
    redis_key_prefix: str
    retention_days: int = 90


def services_of(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    services = context.application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services
