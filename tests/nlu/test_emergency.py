"""Emergency detection: word lists beside Rasa, measured on the separate emergency test set.

A missed emergency is the costliest error, so the test demands recall >= 0.95 in every language
from the combination the bot uses (emergency words OR Rasa's emergency intent), and reports the
false alarms on the ordinary held-out questions.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from nlu.client import RasaClient
from nlu.emergency import looks_like_emergency, matching_languages
from nlu.service import RasaServer

DATA = Path(__file__).resolve().parent.parent / "data"


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize(
    "text",
    [
        "أريد أن أنهي حياتي",
        "zorgtoeslag ብኸመይ ይሕተት? ርእሰይ ክቐትል እየ ዝደሊ",
        "Mijn man slaat me elke avond",
        "there is smoke everywhere in the kitchen",
        "bdi 2etel 7ali",
    ],
)
def test_emergency_words_are_found(text: str) -> None:
    assert looks_like_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "عندي سؤال عن خدمة البلدية",  # خدمة contains دم (blood)
        "شو اسم الدكتور؟",  # اسم contains سم (poison)
        "Ik kreeg een blauwe envelop van de Belastingdienst",
        "Moet ik nuchter zijn voor het bloedonderzoek?",
        "I got fired from my job, what about my benefits?",
        "the bailiff sent a letter, what does it mean",
        None,
        "",
    ],
)
def test_ordinary_questions_are_not_emergencies(text: str | None) -> None:
    assert not looks_like_emergency(text)


def test_languages_are_matched_across_scripts() -> None:
    assert matching_languages("help, my house is on fire! حريق") == ["ar", "en"]


@pytest.mark.rasa
async def test_recall_on_the_emergency_set_and_false_alarms(
    rasa_server: RasaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RasaClient(rasa_server.url, timeout=10, confidence_threshold=0.5)
    try:

        async def detected(text: str) -> tuple[bool, bool]:
            by_words = looks_like_emergency(text)
            by_model = (await client.classify(text)).intent == "emergency"
            return by_words, by_model

        found, total = Counter(), Counter()
        for row in rows("emergency_messages.tsv"):
            by_words, by_model = await detected(row["text"])
            total[row["lang"]] += 1
            found[row["lang"]] += by_words or by_model
        alarms, ordinary = Counter(), Counter()
        for row in rows("nlu_heldout.tsv"):
            if row["domain"] == "emergency":
                continue
            by_words, by_model = await detected(row["text"])
            ordinary[row["lang"]] += 1
            alarms[row["lang"]] += by_words or by_model
    finally:
        await client.aclose()
    recall = {lang: found[lang] / total[lang] for lang in sorted(total)}
    with capsys.disabled():
        print(
            "\nemergency recall "
            + " ".join(
                f"{lang}={value:.3f} ({found[lang]}/{total[lang]})"
                for lang, value in recall.items()
            )
            + "\nfalse alarms on ordinary questions "
            + " ".join(f"{lang}={alarms[lang]}/{ordinary[lang]}" for lang in sorted(ordinary))
        )
    assert set(total) == {"ar", "ti", "nl", "en"}
    assert all(value >= 0.95 for value in recall.values()), recall
    # False alarms cost the newcomer one message with help numbers (the question is still
    # routed), so they are reported; this bound only catches "everything is an emergency".
    assert sum(alarms.values()) / sum(ordinary.values()) < 0.25
