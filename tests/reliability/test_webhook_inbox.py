"""The webhook receiver stores before it answers: duplicates are handled once, and a database
outage gives 5xx (never 2xx) until the update can be stored, after which it is handled once.

Three worker processes and the sandbox Telegram, on the machine's PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from bot.intake import WORKER_GROUP
from bot.models import InboxUpdate
from tests.reliability.figures import record_figures
from tests.reliability.kit import Deployment, Pair, TcpProxy, deployment, eventually

pytestmark = pytest.mark.timeout(120)

ARRIVAL_TIMEOUT = 60.0


async def pending_update(dep: Deployment) -> dict[str, Any]:
    """The one update the sandbox holds (no webhook is set), as Telegram would post it."""
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.post(
            f"{dep.sandbox.base_url}{dep.sandbox.token}/getUpdates", json={"timeout": 0}
        )
    [update] = response.json()["result"]
    assert isinstance(update, dict)
    return update


async def arrived(pair: Pair, expected: list[str]) -> None:
    async def done() -> bool:
        return len(pair.copies()) >= len(expected)

    await eventually(done, ARRIVAL_TIMEOUT, f"{len(expected)} copies")
    assert pair.copies() == expected


async def test_the_same_update_delivered_five_times_at_once_is_handled_once(
    postgres_url: str, redis: Redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    async with deployment(postgres_url, redis, redis_key_prefix, tmp_path) as dep:
        [pair] = await dep.add_pairs(1)
        await pair.send(1)
        update = await pending_update(dep)
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            statuses = await asyncio.gather(*(dep.post_update(client, update) for _ in range(5)))
        assert statuses == [200] * 5

        await arrived(pair, ["N0 1"])
        # A later message of the same chat is handled after the first; by then a second
        # handling of the first would have shown as well.
        await dep.set_webhook()
        await pair.send(2)
        await arrived(pair, ["N0 1", "N0 2"])

        async with dep.sessions() as session:
            row = await session.get_one(InboxUpdate, update["update_id"])
        assert row.handled_at is not None and row.attempts == 1
        assert row.payload_encrypted is None  # the words are gone once handled
        stream = f"{redis_key_prefix}inbox"
        assert await redis.xlen(stream) == 2  # announced once per update, not per delivery

        async def all_acknowledged() -> bool:
            pending = await redis.xpending(stream, WORKER_GROUP)
            return bool(pending["pending"] == 0)

        await eventually(all_acknowledged, ARRIVAL_TIMEOUT, "every stream entry acknowledged")


async def test_while_the_database_is_down_the_webhook_answers_5xx_then_handles_once(
    postgres_url: str, redis: Redis, redis_key_prefix: str, tmp_path: Path
) -> None:
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    through_proxy = urlunsplit(parts._replace(netloc=f"postgres@127.0.0.1:{proxy.port}"))
    async with deployment(
        postgres_url, redis, redis_key_prefix, tmp_path, receiver_database_url=through_proxy
    ) as dep:
        [pair] = await dep.add_pairs(1)
        await dep.set_webhook()
        await proxy.cut()
        await pair.send(1)

        async def refused_a_few_times() -> bool:
            return sum(len(statuses) for statuses in dep.answers.answers.values()) >= 5

        await eventually(refused_a_few_times, ARRIVAL_TIMEOUT, "five refused deliveries")
        await proxy.restore()
        await arrived(pair, ["N0 1"])
        await pair.send(2)
        await arrived(pair, ["N0 1", "N0 2"])

        [first, second] = sorted(dep.answers.answers)
        refused = dep.answers.answers[first][:-1]
        assert len(refused) >= 5 and set(refused) == {503}
        assert dep.answers.answers[first][-1] == 200
        assert dep.answers.answers[second] == [200]
        async with dep.sessions() as session:
            attempts = (await session.scalars(select(InboxUpdate.attempts))).all()
        assert list(attempts) == [1, 1]
    record_figures(
        "database-outage",
        f"database outage: {len(refused)} deliveries answered 503 and none 2xx while the "
        f"database was away; after it came back 1 answered 200 and the update was handled once "
        f"(copies received: {pair.copies()})\n",
    )
