"""Emergency detection: phrase lists beside Rasa, measured on emergency sets apart from training.

A missed emergency is the costliest error, so the test demands recall >= 0.95 in every language
from what the bot decides (emergency phrases OR Rasa's emergency intent) on both emergency
sets. A false alarm is not free either: it marks a request urgent and alerts the coordinator on
call, at night too. So false alarms are counted per language on the ordinary held-out questions
and on a trap set of ordinary questions full of risky words ("brandverzekering", "folic acid",
"نوبة عمل"), and bounded (see nlu/README.md for the figures and why these bounds).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nlu.client import RasaClient
from nlu.emergency import looks_like_emergency, matching_languages
from nlu.service import NLU_DIR, RasaServer

DATA = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = {"ar", "ti", "nl", "en"}
# The older set (emergency_messages.tsv) and one written later, before the phrase lists were
# rewritten from the categories (emergency_independent.tsv).
EMERGENCY_SETS = ("emergency_messages.tsv", "emergency_independent.tsv")
TRAPS = "emergency_traps.tsv"
HELD_OUT = "nlu_heldout.tsv"
RECALL_FLOOR = 0.95
# Trap set, 20 questions per language: the phrases alone may fire on at most one (they exist to
# tell "ik rook" from "er komt rook onder de deur"); with Rasa at most two (10 %).
TRAP_ALARMS_BY_PHRASES = 1
TRAP_ALARMS_AS_THE_BOT_DECIDES = 2
# Ordinary held-out questions: the share of false alarms per language.
HELD_OUT_ALARM_SHARE_BY_PHRASES = 0.02
HELD_OUT_ALARM_SHARE_AS_THE_BOT_DECIDES = 0.15


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


@dataclass
class Tally:
    """Per language: messages, and how many the phrases and the bot's decision flagged."""

    total: Counter[str] = field(default_factory=Counter)
    by_phrases: Counter[str] = field(default_factory=Counter)
    as_the_bot_decides: Counter[str] = field(default_factory=Counter)

    def line(self, name: str) -> str:
        cells = [
            f"{lang}: phrases {self.by_phrases[lang]}/{self.total[lang]}, "
            f"phrases+Rasa {self.as_the_bot_decides[lang]}/{self.total[lang]}"
            for lang in sorted(self.total)
        ]
        return f"{name}: " + "; ".join(cells)


@pytest.mark.rasa
async def test_recall_on_the_emergency_sets_and_false_alarms(
    rasa_server: RasaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RasaClient(rasa_server.url, timeout=10, confidence_threshold=0.5)

    async def tally(items: list[dict[str, str]]) -> Tally:
        counted = Tally()
        for row in items:
            by_phrases = looks_like_emergency(row["text"])
            # As the bot decides (bot/handlers.py): an emergency first intent counts at any
            # confidence.
            by_model = (await client.classify(row["text"])).intent == "emergency"
            counted.total[row["lang"]] += 1
            counted.by_phrases[row["lang"]] += by_phrases
            counted.as_the_bot_decides[row["lang"]] += by_phrases or by_model
        return counted

    try:
        emergency_sets = {name: await tally(rows(name)) for name in EMERGENCY_SETS}
        traps = await tally(rows(TRAPS))
        held_out = await tally(ordinary_held_out())
    finally:
        await client.aclose()
    with capsys.disabled():
        print("\nemergencies found")
        for name, counted in emergency_sets.items():
            print("  " + counted.line(name))
        print("false alarms")
        print("  " + traps.line(TRAPS))
        print("  " + held_out.line(HELD_OUT + " (ordinary questions)"))
    for name, counted in emergency_sets.items():
        assert set(counted.total) == LANGUAGES
        recall = {
            lang: counted.as_the_bot_decides[lang] / counted.total[lang] for lang in LANGUAGES
        }
        assert min(recall.values()) >= RECALL_FLOOR, (name, recall)
    assert max(traps.by_phrases.values(), default=0) <= TRAP_ALARMS_BY_PHRASES, traps
    assert max(traps.as_the_bot_decides.values()) <= TRAP_ALARMS_AS_THE_BOT_DECIDES, traps
    for lang in LANGUAGES:
        share_by_phrases = held_out.by_phrases[lang] / held_out.total[lang]
        share = held_out.as_the_bot_decides[lang] / held_out.total[lang]
        assert share_by_phrases <= HELD_OUT_ALARM_SHARE_BY_PHRASES, (lang, held_out)
        assert share <= HELD_OUT_ALARM_SHARE_AS_THE_BOT_DECIDES, (lang, held_out)
