"""How alarming a newcomer's message is: the one rule the bot and `nlu.evaluate` share.

Rules kept here (nlu/README.md, "Emergencies in two tiers", says which set chose the numbers):
- URGENT: an emergency phrase matches (`nlu/emergency.py`) in a message that does not place it
  in the past, say it is over or deny danger (`says_not_now`), or Rasa ranks `emergency` first
  with a confidence of at least `URGENT_CONFIDENCE`. The bot sends the help numbers at once,
  marks the request urgent and alerts the coordinator on call.
- CHECK: otherwise, an emergency phrase matches in a message that says "not now" ("a chest
  pain last week, now it is gone"), Rasa ranks `emergency` first at a lower confidence, or
  gives it at least `CHECK_CONFIDENCE` while another intent is first. The bot asks at once
  whether the newcomer or someone else is in danger right now, with 112 in the very text (a
  person in danger never waits for a button); only "yes" makes it urgent.
- NONE: anything else, and a text without words.
A missed emergency can cost a life, so an urgent reading is never lowered by anything else;
a false urgent tells someone with a bank-card question to call 112 and wakes the coordinator
on call, which is why Rasa alone needs real confidence to make it urgent.
"""

from __future__ import annotations

from enum import StrEnum

from nlu.client import Classification
from nlu.emergency import looks_like_emergency, says_not_now

EMERGENCY_INTENT = "emergency"
# Chosen on the development set (nlu/experiments/dev/), never on the test sets.
URGENT_CONFIDENCE = 0.6
CHECK_CONFIDENCE = 0.2


class Danger(StrEnum):
    NONE = "none"
    CHECK = "check"
    URGENT = "urgent"


def emergency_confidence(classification: Classification) -> float:
    """Rasa's confidence in the emergency intent, wherever it is in the ranking."""
    if classification.intent == EMERGENCY_INTENT:
        return classification.confidence
    return dict(classification.ranking).get(EMERGENCY_INTENT, 0.0)


def danger_of(
    text: str | None,
    classification: Classification | None,
    *,
    urgent_confidence: float = URGENT_CONFIDENCE,
    check_confidence: float = CHECK_CONFIDENCE,
) -> Danger:
    """The tier of `text` given Rasa's reading of it (None while Rasa is unavailable: then the
    phrases decide alone). The bot uses the defaults; other values only to choose them."""
    if not text:
        return Danger.NONE
    phrase = looks_like_emergency(text)
    if phrase and not says_not_now(text):
        return Danger.URGENT
    rasa = Danger.NONE
    if classification is not None:
        confidence = emergency_confidence(classification)
        if classification.intent == EMERGENCY_INTENT:
            rasa = Danger.URGENT if confidence >= urgent_confidence else Danger.CHECK
        elif confidence >= check_confidence:
            rasa = Danger.CHECK
    if phrase and rasa is Danger.NONE:
        return Danger.CHECK  # a phrase told as past or over is still asked about
    return rasa
