"""Which routing domain each Rasa intent belongs to, and when a guess is too unsure to route."""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    POST = "post"
    FINANCE = "finance"
    HEALTH = "health"
    EMERGENCY = "emergency"
    OTHER = "other"


INTENT_DOMAINS: dict[str, Domain] = {
    "post": Domain.POST,
    "finance": Domain.FINANCE,
    "health": Domain.HEALTH,
    "emergency": Domain.EMERGENCY,
    "request_human": Domain.OTHER,
    "greet": Domain.OTHER,
    "thanks": Domain.OTHER,
    "goodbye": Domain.OTHER,
    "out_of_scope": Domain.OTHER,
    # Praise of a sleutelpersoon, compliments and complaints about the service.
    "feedback": Domain.OTHER,
}


def domain_of_intent(intent: str | None) -> Domain:
    """The domain of a Rasa intent; an unknown or missing intent is `other`."""
    if intent is None:
        return Domain.OTHER
    return INTENT_DOMAINS.get(intent, Domain.OTHER)
