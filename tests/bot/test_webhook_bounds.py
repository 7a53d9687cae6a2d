"""The webhook refuses what is not a Telegram update, whatever its size or shape, and never
answers 500: a body over 1 MB gets 413 without being read whole, JSON nested deeper than any
update gets 400, and so do ids that do not fit the database's signed 64-bit columns."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.intake import MAX_BODY_BYTES, SECRET_HEADER, WEBHOOK_PATH, webhook_app
from bot.storage import create_engine_for, migrate, session_factory

SECRET = "webhook-test-secret"
HEADERS = {SECRET_HEADER: SECRET, "content-type": "application/json"}
INT64 = 2**63


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def message(update_id: object, chat_id: object = 42, user_id: object = 42) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_765_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "N"},
            "text": "hallo",
        },
    }


def nested(depth: int) -> bytes:
    return ('{"update_id": 1, "deep": ' + "[" * depth + "]" * depth + "}").encode()


HUGE = st.sampled_from([INT64, INT64 + 1, -INT64 - 1, 10**23, 10**400]) | st.integers(
    min_value=INT64
)
IDS = st.integers(min_value=0, max_value=INT64 - 1) | HUGE | st.integers(max_value=-1)
JUNK = st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
BODIES = st.one_of(
    st.builds(message, IDS).map(lambda u: json.dumps(u).encode()),
    st.builds(message, st.integers(0, 1000), IDS, IDS).map(lambda u: json.dumps(u).encode()),
    st.sampled_from([100, 1_000, 100_000]).map(nested),
    JUNK,
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)


def client_of(database_url: str) -> tuple[httpx.AsyncClient, object]:
    migrate(database_url)
    engine = create_engine_for(database_url)
    cipher = MessageCipher(parse_keys(new_key_spec("test")))
    app = webhook_app(session_factory(engine), cipher, None, SECRET, FixedClock())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://bot.test"), engine


async def test_the_webhook_never_answers_500(database_url: str) -> None:
    client, engine = client_of(database_url)
    loop = asyncio.get_running_loop()
    tried: list[int] = []

    @settings(
        max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    # Megabytes of trailing whitespace: the same body over the cap (JSON allows the spaces).
    @given(body=BODIES, padding=st.sampled_from([0, 0, 0, 1, 3]))
    def post(body: bytes, padding: int) -> None:
        body += b" " * (padding * MAX_BODY_BYTES)
        sent = client.post(WEBHOOK_PATH, content=body, headers=HEADERS)
        response = asyncio.run_coroutine_threadsafe(sent, loop).result()
        tried.append(response.status_code)
        assert response.status_code != 500, body[:200]
        if len(body) > MAX_BODY_BYTES:
            assert response.status_code == 413
        elif response.status_code == 200:
            stored = json.loads(body)
            assert 0 <= stored["update_id"] < INT64

    started = time.monotonic()
    try:
        await asyncio.to_thread(post)
    finally:
        await client.aclose()
        await engine.dispose()  # type: ignore[attr-defined]
    print(
        f"webhook fuzz: {len(tried)} requests in {time.monotonic() - started:.1f} s, "
        f"statuses {sorted(set(tried))}"
    )


async def test_the_edge_cases_reported_in_issue_13(sqlite_url: str) -> None:
    client, engine = client_of(sqlite_url)
    try:
        for update_id in (INT64, 2**64):
            response = await client.post(WEBHOOK_PATH, json=message(update_id), headers=HEADERS)
            assert response.status_code == 400, update_id
        for chat_id in (INT64, -INT64 - 1):
            response = await client.post(
                WEBHOOK_PATH, json=message(7, chat_id=chat_id), headers=HEADERS
            )
            assert response.status_code == 400, chat_id
        response = await client.post(WEBHOOK_PATH, content=nested(100_000), headers=HEADERS)
        assert response.status_code == 400
        largest = message(INT64 - 1, chat_id=-(INT64), user_id=INT64 - 1)
        response = await client.post(WEBHOOK_PATH, json=largest, headers=HEADERS)
        assert response.status_code == 200
    finally:
        await client.aclose()
        await engine.dispose()


async def test_a_50_mb_body_is_refused_after_the_first_megabyte(sqlite_url: str) -> None:
    client, engine = client_of(sqlite_url)
    chunk = b" " * 65_536
    sent: list[int] = []

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        for _ in range(50 * 2**20 // len(chunk)):
            sent.append(len(chunk))
            yield chunk

    try:
        response = await client.post(WEBHOOK_PATH, content=fifty_megabytes(), headers=HEADERS)
    finally:
        await client.aclose()
        await engine.dispose()
    assert response.status_code == 413
    # Read only until the cap was passed: the rest of the 50 MB was never taken in.
    assert sum(sent) <= MAX_BODY_BYTES + 2 * len(chunk)
