"""Emergency phrases (nlu/emergency.py): what they must find, what they must leave alone, and
how often they alone would raise a false alarm. What the bot decides with Rasa, on every
measurement set, is tested against the requirements in tests/nlu/test_requirements.py.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from nlu.emergency import looks_like_emergency, matching_languages, says_not_now
from nlu.service import NLU_DIR

DATA = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = {"ar", "ti", "nl", "en"}
# The older set (emergency_messages.tsv) and one written later, before the phrase lists were
# rewritten from the categories (emergency_independent.tsv).
EMERGENCY_SETS = ("emergency_messages.tsv", "emergency_independent.tsv")
TRAPS = "emergency_traps.tsv"
HELD_OUT = "nlu_heldout.tsv"
# Trap set, 20 questions per language: the phrases alone may fire on at most one (they exist to
# tell "ik rook" from "er komt rook onder de deur").
TRAP_ALARMS_BY_PHRASES = 1
# Ordinary held-out questions: the share of false alarms per language.
HELD_OUT_ALARM_SHARE_BY_PHRASES = 0.02


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def ordinary_held_out() -> list[dict[str, str]]:
    return [row for row in rows(HELD_OUT) if row["domain"] != "emergency"]


@pytest.mark.parametrize(
    "text",
    [
        "أريد أن أنهي حياتي",
        "ما بدي عيش بعد اليوم",
        "زوجي عم يضربني وهددني بالسكين",
        "zorgtoeslag ብኸመይ ይሕተት? ርእሰይ ክቐትል እየ ዝደሊ",
        "Mijn man slaat me elke avond",
        "ik wil er een einde aan maken",
        "there is smoke everywhere in the kitchen",
        "I don't want to live anymore",
        "he isn’t breathing",  # a curly apostrophe, as phones type it
        "I took too many pills",
        "bdi 2etel 7ali",
    ],
)
def test_emergency_phrases_are_found(text: str) -> None:
    assert looks_like_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "عندي سؤال عن خدمة البلدية",  # خدمة contains دم (blood)
        "شو اسم الدكتور؟",  # اسم contains سم (poison)
        "بسم الله، عندي سؤال عن الرسالة",  # بسم: ب + سم
        "عندي نوبة عمل بالليل",  # a work shift, not a fit
        "بدي اترك الدخان",  # stop smoking
        "mijn wc is verstopt",
        "hoe zit de zorgtoeslag in elkaar",
        "heb ik een brandverzekering nodig?",
        "ik rook, kan ik hulp krijgen om te stoppen?",
        "Ik kreeg een blauwe envelop van de Belastingdienst",
        "Moet ik nuchter zijn voor het bloedonderzoek?",
        "I take folic acid every day",
        "he had a stroke last year, can he get home care?",
        "I got fired from my job, what about my benefits?",
        None,
        "",
    ],
)
def test_ordinary_questions_are_not_emergencies(text: str | None) -> None:
    assert not looks_like_emergency(text)


def test_languages_are_matched_across_scripts() -> None:
    assert matching_languages("help, my house is on fire! حريق") == ["ar", "en"]


def test_the_measurement_sets_are_apart_from_training_and_from_each_other() -> None:
    training = "\n".join(path.read_text("utf-8") for path in (NLU_DIR / "data").rglob("*.yml"))
    emergencies = [row["text"] for name in EMERGENCY_SETS for row in rows(name)]
    traps = [row["text"] for row in rows(TRAPS)]
    assert [text for text in emergencies + traps if text in training] == []
    assert set(emergencies).isdisjoint(traps)
    for name in (*EMERGENCY_SETS, TRAPS):
        counts = Counter(row["lang"] for row in rows(name))
        assert set(counts) == LANGUAGES and min(counts.values()) >= 15, (name, counts)
    assert {row["domain"] for row in rows(TRAPS)} <= {"post", "finance", "health", "other"}


def test_the_phrases_alone_raise_few_false_alarms() -> None:
    """Phrases make a message urgent without Rasa (and while Rasa is down), so on their own they
    may fire on at most one trap per language and on at most 2 % of the ordinary held-out
    questions; a phrase in a message told as past or over only asks (nlu/danger.py)."""
    for name, limit in ((TRAPS, TRAP_ALARMS_BY_PHRASES), (HELD_OUT, None)):
        items = rows(name) if name == TRAPS else ordinary_held_out()
        alarms: Counter[str] = Counter()
        totals: Counter[str] = Counter(row["lang"] for row in items)
        for row in items:
            alarms[row["lang"]] += looks_like_emergency(row["text"]) and not says_not_now(
                row["text"]
            )
        for lang in LANGUAGES:
            bound = limit if limit is not None else HELD_OUT_ALARM_SHARE_BY_PHRASES * totals[lang]
            assert alarms[lang] <= bound, (name, lang, alarms)
