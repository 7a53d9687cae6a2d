"""The NLU client against the real Rasa server, and against servers that fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.nlu_guard import PAUSE_SECONDS, GuardedClassifier
from nlu.client import NluUnavailable, RasaClient
from nlu.domains import Domain, domain_of_intent
from nlu.service import RasaServer, free_port


@pytest.fixture
async def rasa(rasa_server: RasaServer) -> AsyncIterator[RasaClient]:
    client = RasaClient(rasa_server.url, timeout=10, confidence_threshold=0.3)
    yield client
    await client.aclose()


@pytest.mark.rasa
async def test_server_reports_ready(rasa: RasaClient) -> None:
    assert await rasa.is_ready()


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("وصلتني رسالة من البلدية وما فهمت شو مكتوب فيها", Domain.POST),
        ("ሓኪም ክረክብ ደልየ ቆልዓይ ሓሚሙ", Domain.HEALTH),
        ("Ik heb een schuld bij de Belastingdienst en kan niet betalen", Domain.FINANCE),
    ],
)
async def test_real_rasa_classifies_questions(rasa: RasaClient, text: str, domain: Domain) -> None:
    classification = await rasa.classify(text)
    assert classification.domain is domain, classification


@pytest.mark.rasa
async def test_institutions_are_recognised(rasa: RasaClient) -> None:
    classification = await rasa.classify("Ik kreeg een brief van de Belastingdienst")
    assert "Belastingdienst" in {entity.value for entity in classification.entities}


@pytest.mark.rasa
async def test_low_confidence_is_unsure_not_a_guess(rasa_server: RasaServer) -> None:
    strict = RasaClient(rasa_server.url, timeout=10, confidence_threshold=1.0)
    try:
        classification = await strict.classify("zzz qqq")
        assert classification.unsure and classification.domain is None
        assert classification.intent is not None
    finally:
        await strict.aclose()


async def test_a_server_that_is_down_raises_unavailable() -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, confidence_threshold=0.5)
    try:
        with pytest.raises(NluUnavailable, match="unreachable"):
            await client.classify("hallo")
        assert not await client.is_ready()
    finally:
        await client.aclose()


async def test_a_slow_server_times_out() -> None:
    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RasaClient(f"http://127.0.0.1:{port}", timeout=0.3, confidence_threshold=0.5)
    try:
        with pytest.raises(NluUnavailable, match="did not answer in time"):
            await client.classify("hallo")
    finally:
        await client.aclose()
        server.close()


async def test_a_broken_answer_raises_unavailable() -> None:
    async def answers_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"not json"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answers_garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RasaClient(f"http://127.0.0.1:{port}", timeout=2, confidence_threshold=0.5)
    try:
        with pytest.raises(NluUnavailable, match="unreadable"):
            await client.classify("hallo")
    finally:
        await client.aclose()
        server.close()


async def test_a_failure_pauses_classification_for_every_process(
    redis: Redis, redis_key_prefix: str
) -> None:
    down = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1, confidence_threshold=0.5)
    first = GuardedClassifier(down, redis, redis_key_prefix)
    second_process = GuardedClassifier(down, redis, redis_key_prefix)
    try:
        with pytest.raises(NluUnavailable, match="unreachable"):
            await first.classify("hallo")
        ttl = await redis.ttl(f"{redis_key_prefix}nlu:paused")
        assert 0 < ttl <= PAUSE_SECONDS
        with pytest.raises(NluUnavailable, match="paused"):
            await second_process.classify("hallo")
        await first.resume()
        with pytest.raises(NluUnavailable, match="unreachable"):
            await second_process.classify("hallo")
    finally:
        await down.aclose()


def test_intents_map_to_domains() -> None:
    assert domain_of_intent("post") is Domain.POST
    assert domain_of_intent("emergency") is Domain.EMERGENCY
    assert domain_of_intent("greet") is Domain.OTHER
    assert domain_of_intent("something_new") is Domain.OTHER
    assert domain_of_intent(None) is Domain.OTHER
