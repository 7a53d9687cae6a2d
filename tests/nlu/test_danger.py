"""The two tiers of danger (nlu/danger.py) as a rule over phrases and Rasa's reading."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlu.client import Classification
from nlu.danger import CHECK_CONFIDENCE, URGENT_CONFIDENCE, Danger, danger_of
from nlu.domains import Domain

PHRASE = "mijn man slaat me"
PHRASE_TOLD_AS_PAST = "vorig jaar sloeg mijn man me, nu woon ik alleen"
PLAIN = "ik heb een vraag over mijn brief"


def reading(intent: str, confidence: float, emergency: float | None = None) -> Classification:
    ranking = [(intent, confidence)]
    if emergency is not None and intent != "emergency":
        ranking.append(("emergency", emergency))
    return Classification(intent, confidence, Domain.OTHER, ranking=tuple(ranking))


def test_a_phrase_is_urgent_whatever_rasa_says_and_also_while_rasa_is_down() -> None:
    assert danger_of(PHRASE, reading("thanks", 0.99, 0.0)) is Danger.URGENT
    assert danger_of(PHRASE, None) is Danger.URGENT


def test_a_phrase_told_as_past_is_asked_about_unless_rasa_is_sure() -> None:
    assert danger_of(PHRASE_TOLD_AS_PAST, reading("health", 0.9, 0.0)) is Danger.CHECK
    assert danger_of(PHRASE_TOLD_AS_PAST, None) is Danger.CHECK
    assert danger_of(PHRASE_TOLD_AS_PAST, reading("emergency", 0.99)) is Danger.URGENT


def test_rasa_alone_at_the_thresholds() -> None:
    assert danger_of(PLAIN, reading("emergency", URGENT_CONFIDENCE)) is Danger.URGENT
    assert danger_of(PLAIN, reading("emergency", URGENT_CONFIDENCE - 0.01)) is Danger.CHECK
    assert danger_of(PLAIN, reading("health", 0.5, CHECK_CONFIDENCE)) is Danger.CHECK
    assert danger_of(PLAIN, reading("health", 0.7, CHECK_CONFIDENCE - 0.01)) is Danger.NONE
    assert danger_of(PLAIN, None) is Danger.NONE
    assert danger_of("", reading("emergency", 0.99)) is Danger.NONE


@given(
    first=st.sampled_from(["emergency", "health", "thanks"]),
    confidence=st.floats(0, 1),
    emergency=st.floats(0, 1),
    text=st.sampled_from([PHRASE, PHRASE_TOLD_AS_PAST, PLAIN]),
)
def test_more_emergency_confidence_never_lowers_the_tier(
    first: str, confidence: float, emergency: float, text: str
) -> None:
    """Monotone: a reading that trusts the emergency intent more is never less alarming, and
    the phrases only ever add."""
    order = [Danger.NONE, Danger.CHECK, Danger.URGENT]
    lower = danger_of(text, reading(first, confidence, emergency * 0.5))
    higher = danger_of(text, reading(first, confidence, emergency))
    assert order.index(higher) >= order.index(lower)
    assert order.index(danger_of(text, reading(first, confidence, emergency))) >= order.index(
        danger_of(PLAIN, reading(first, confidence, emergency))
    )
