"""Async client for the Rasa NLU server (`rasa run --enable-api`).

The app never imports Rasa: it reaches the model only through `/model/parse` over HTTP. A
server that is down, slow or answers nonsense raises `NluUnavailable`, so the caller can fall
back to asking the newcomer with buttons instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from nlu.domains import Domain, domain_of_intent


class NluUnavailable(Exception):
    """The Rasa server could not classify the text (down, timed out or a bad answer)."""


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Classification:
    """Rasa's best guess; `domain` is None when the guess is too unsure to route on.

    `routine_domain` is where the question goes when it is not an emergency (the newcomer
    said so, or Rasa's emergency reading was too weak to act on): the best other intent, its
    confidence taken among the other intents only; None when that is too unsure to route on.
    """

    intent: str | None
    confidence: float
    domain: Domain | None
    entities: tuple[Entity, ...] = field(default_factory=tuple)
    ranking: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    routine_domain: Domain | None = None

    @property
    def unsure(self) -> bool:
        return self.domain is None


class RasaClient:
    """Talks to one Rasa server; one instance per process, closed with `aclose()`."""

    def __init__(self, base_url: str, *, timeout: float, confidence_threshold: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._threshold = confidence_threshold
        self._http = httpx.AsyncClient(base_url=self._base_url, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            response = await self._http.get("/status")
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def classify(self, text: str) -> Classification:
        """Classify one message; raise `NluUnavailable` instead of ever guessing silently."""
        try:
            response = await self._http.post("/model/parse", json={"text": text})
        except httpx.TimeoutException as exc:
            raise NluUnavailable(f"Rasa at {self._base_url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise NluUnavailable(
                f"Rasa at {self._base_url} is unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code != 200:
            raise NluUnavailable(f"Rasa at {self._base_url} answered HTTP {response.status_code}")
        try:
            return self._parse_answer(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise NluUnavailable(f"Rasa at {self._base_url} sent an unreadable answer") from exc

    def _parse_answer(self, body: dict[str, Any]) -> Classification:
        intent = body.get("intent") or {}
        name = intent.get("name")
        confidence = float(intent.get("confidence") or 0.0)
        entities = tuple(
            Entity(
                entity=str(item["entity"]),
                value=str(item["value"]),
                start=int(item["start"]),
                end=int(item["end"]),
            )
            for item in body.get("entities") or []
        )
        ranking = tuple(
            (str(item["name"]), float(item["confidence"]))
            for item in body.get("intent_ranking") or []
        )
        # Emergencies are never dropped for low confidence: a false alarm costs far less than a
        # missed one, so an emergency guess routes to professional help at any confidence.
        sure = confidence >= self._threshold or name == "emergency"
        domain = domain_of_intent(name) if name and sure else None
        if name == "emergency":
            routine_domain = self._routine_domain(ranking)
        else:
            routine_domain = domain if domain is not Domain.EMERGENCY else None
        return Classification(
            intent=name,
            confidence=confidence,
            domain=domain,
            entities=entities,
            ranking=ranking,
            routine_domain=routine_domain,
        )

    def _routine_domain(self, ranking: tuple[tuple[str, float], ...]) -> Domain | None:
        """The domain of the best intent other than emergency, when it is sure enough among the
        other intents (its share of what emergency leaves)."""
        others = [(name, confidence) for name, confidence in ranking if name != "emergency"]
        if not others:
            return None
        name, confidence = max(others, key=lambda pair: pair[1])
        rest = sum(confidence for _name, confidence in others)
        if rest <= 0 or confidence / rest < self._threshold:
            return None
        return domain_of_intent(name)
