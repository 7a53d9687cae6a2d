"""The NLU client against the real Rasa server, and against servers that fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.nlu_guard import PAUSE_SECONDS, GuardedClassifier
from bot.settings import Settings
from nlu.client import NluUnavailable, RasaClient
from nlu.domains import Domain, domain_of_intent
from nlu.service import NLU_DIR, RasaServer, free_port

# What the bot ships with, not a threshold lowered for the test.
SHIPPED_THRESHOLD: float = Settings.model_fields["nlu_confidence_threshold"].default
# Questions written for this test, in none of the training files: the model must generalise.
UNSEEN_QUESTIONS = [
    ("ar", "البلدية بعتتلي ورقة فيها كلمات هولندية كتير وما عرفت شو لازم اعمل فيها", Domain.POST),
    ("ar", "ما عندي مصاري ادفع فاتورة الكهربا هالشهر، شو بعمل؟", Domain.FINANCE),
    ("ar", "ابني حرارته عالية من يومين، كيف بلاقي دكتور عام؟", Domain.HEALTH),
    ("ti", "ካብ ቤት ጽሕፈት ስደተኛታት ወረቐት መጺኡኒ ክትርጎመለይ እደሊ", Domain.POST),
    ("ti", "ናይ ኤሌክትሪክ ሕሳብ ክኸፍል ገንዘብ የብለይን", Domain.FINANCE),
    ("ti", "ጓለይ ሰዓል ኣለዋ ናብ ዶክተር ክወስዳ ደልየ", Domain.HEALTH),
    (
        "nl",
        "Ik heb een envelop van de gemeente gekregen en snap niet wat ik moet invullen",
        Domain.POST,
    ),
    ("nl", "Mijn energierekening is veel te hoog, ik kan hem niet betalen", Domain.FINANCE),
    ("en", "My son has had a fever for two days, how do I find a doctor?", Domain.HEALTH),
]


@pytest.fixture
async def rasa(rasa_server: RasaServer) -> AsyncIterator[RasaClient]:
    client = RasaClient(rasa_server.url, timeout=10, confidence_threshold=SHIPPED_THRESHOLD)
    yield client
    await client.aclose()


@pytest.mark.rasa
async def test_server_reports_ready(rasa: RasaClient) -> None:
    assert await rasa.is_ready()


def test_the_questions_are_not_training_data() -> None:
    training = "\n".join(path.read_text("utf-8") for path in (NLU_DIR / "data").rglob("*.yml"))
    assert [text for _lang, text, _domain in UNSEEN_QUESTIONS if text in training] == []


@pytest.mark.rasa
@pytest.mark.parametrize(("language", "text", "domain"), UNSEEN_QUESTIONS)
async def test_real_rasa_classifies_unseen_questions_at_the_shipped_threshold(
    rasa: RasaClient, language: str, text: str, domain: Domain
) -> None:
    classification = await rasa.classify(text)
    assert classification.domain is domain, (language, classification)


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
    assert domain_of_intent("feedback") is Domain.OTHER


def answer(ranking: list[tuple[str, float]]) -> dict[str, object]:
    """A /model/parse answer with this ranking, the first being the intent."""
    name, confidence = ranking[0]
    return {
        "intent": {"name": name, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


def test_the_routine_domain_is_the_best_other_intent_among_the_others() -> None:
    client = RasaClient("http://127.0.0.1:9", timeout=1, confidence_threshold=0.5)
    # Emergency first: the question goes, if it goes on, where the best other intent says,
    # judged by its share of what emergency leaves (0.35 of 0.6 is above 0.5).
    weak = client._parse_answer(answer([("emergency", 0.4), ("health", 0.35), ("post", 0.25)]))
    assert weak.domain is Domain.EMERGENCY and weak.routine_domain is Domain.HEALTH
    split = client._parse_answer(
        answer([("emergency", 0.4), ("health", 0.25), ("post", 0.2), ("finance", 0.15)])
    )
    assert split.routine_domain is None  # 0.25 of 0.6: unsure, the newcomer chooses
    plain = client._parse_answer(answer([("finance", 0.7), ("emergency", 0.3)]))
    assert plain.domain is plain.routine_domain is Domain.FINANCE
    unsure = client._parse_answer(answer([("finance", 0.4), ("post", 0.35)]))
    assert unsure.domain is unsure.routine_domain is None
