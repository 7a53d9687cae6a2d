"""The NLU's requirements, measured with the real Rasa at the shipped thresholds on sets written
apart from the training data (nlu/README.md, "How it is measured", says which set is which and
since which commit each is frozen). The bounds are the requirements, not today's figures:

- a missed emergency can cost a life: every emergency set, urgent >= 0.95 per language; the
  fresh emergencies (written as frightened people type) also get the help numbers at once
  (urgent, or the danger question with 112 in it) >= 0.98;
- a false urgent tells someone with a bank-card question to call 112 and wakes the coordinator
  on call: at most 2 % of ordinary messages per language (risky-sounding ones, the traps, the
  ordinary held-out questions);
- hand-written dialect, Arabizi and Tigrinya questions: macro-F1 >= 0.95 in ar and ti, >= 0.90
  in nl and en;
- questions in the style of public sets nobody here wrote, per kind (banking, clinician, forum,
  ...), and ordinary messages with risky words: >= 0.80 routed to the right domain by the bot
  itself (a question it asks about with buttons is not counted as routed).

The figures are printed (pytest -s, or in the CI log) for nlu/README.md.
"""

from __future__ import annotations

import asyncio
import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nlu.client import Classification, RasaClient
from nlu.danger import Danger, danger_of
from nlu.evaluate import CONCURRENT_REQUESTS, DEFAULT_THRESHOLD, macro_f1, routed_domain
from nlu.service import NLU_DIR, RasaServer

DATA = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = ("ar", "ti", "nl", "en")
HELD_OUT = "nlu_heldout.tsv"
BREADTH = "nlu_breadth.tsv"
RISKY = "risky_ordinary.tsv"
FRESH_EMERGENCIES = "emergency_fresh.tsv"
EMERGENCY_SETS = ("emergency_messages.tsv", "emergency_independent.tsv", FRESH_EMERGENCIES)
TRAPS = "emergency_traps.tsv"

MIN_URGENT_RECALL = 0.95
MIN_HELP_RECALL = 0.98
MAX_FALSE_URGENT = 0.02
MIN_MACRO_F1 = {"ar": 0.95, "ti": 0.95, "nl": 0.90, "en": 0.90}
MIN_ROUTED = 0.80


@dataclass(frozen=True)
class Reading:
    lang: str
    domain: str
    kind: str
    text: str
    danger: Danger
    routed: str  # the domain nlu.evaluate scores (Rasa's guess even when unsure)
    routed_by_the_bot: str | None  # the domain the bot itself sends it to; None: it asks


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def all_sets() -> list[str]:
    return [HELD_OUT, BREADTH, RISKY, TRAPS, *EMERGENCY_SETS]


def bot_route(danger: Danger, classification: Classification) -> str | None:
    if danger is Danger.URGENT:
        return "emergency"
    routine = classification.routine_domain
    return routine.value if routine is not None else None


@pytest.fixture(scope="module")
def readings(rasa_server: RasaServer) -> dict[str, list[Reading]]:
    texts = sorted({row["text"] for name in all_sets() for row in rows(name)})

    async def classify_all() -> dict[str, Classification]:
        client = RasaClient(rasa_server.url, timeout=30, confidence_threshold=DEFAULT_THRESHOLD)
        limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

        async def one(text: str) -> Classification:
            async with limit:
                return await client.classify(text)

        try:
            return dict(zip(texts, await asyncio.gather(*map(one, texts)), strict=True))
        finally:
            await client.aclose()

    classified = asyncio.run(classify_all())
    result = {}
    for name in all_sets():
        result[name] = []
        for row in rows(name):
            classification = classified[row["text"]]
            danger = danger_of(row["text"], classification)
            result[name].append(
                Reading(
                    row["lang"],
                    row["domain"],
                    row.get("kind") or row["domain"],
                    row["text"],
                    danger,
                    routed_domain(row["text"], classification),
                    bot_route(danger, classification),
                )
            )
    return result


def by_language(items: list[Reading]) -> Iterator[tuple[str, list[Reading]]]:
    for lang in LANGUAGES:
        yield lang, [item for item in items if item.lang == lang]


def share(hits: int, total: int) -> float:
    assert total > 0
    return hits / total


def lines_of(paths: Iterator[Path]) -> set[str]:
    """The examples of Rasa training files (`- text` lines) and the texts of TSV files."""
    found = set()
    for path in paths:
        for line in path.read_text("utf-8").splitlines():
            text = line.split("\t")[-1] if path.suffix == ".tsv" else line.strip()[2:]
            found.add(" ".join(text.casefold().split()))
    return found


def test_the_measurement_sets_are_apart_from_the_training_data() -> None:
    """No message of a measurement set is a training example, or one of the development sets
    that chose the pipeline and the thresholds (compared case- and space-insensitively)."""
    training = lines_of((NLU_DIR / "data" / "nlu").glob("*.yml"))
    development = lines_of((NLU_DIR / "experiments").rglob("*.tsv"))
    for name in all_sets():
        texts = {" ".join(row["text"].casefold().split()) for row in rows(name)}
        assert sorted(texts & training) == [], name
        assert {row["lang"] for row in rows(name)} == set(LANGUAGES), name
    for name in (BREADTH, RISKY, FRESH_EMERGENCIES):
        texts = {" ".join(row["text"].casefold().split()) for row in rows(name)}
        assert sorted(texts & development) == [], name


@pytest.mark.rasa
def test_emergencies_are_urgent_and_fresh_ones_always_get_the_help_numbers(
    readings: dict[str, list[Reading]], capsys: pytest.CaptureFixture[str]
) -> None:
    held_out_emergencies = [r for r in readings[HELD_OUT] if r.domain == "emergency"]
    sets = {name: readings[name] for name in EMERGENCY_SETS} | {
        f"{HELD_OUT} (emergencies)": held_out_emergencies
    }
    failures = []
    with capsys.disabled():
        print("\nemergencies: urgent / help numbers at once (urgent or asked)")
        for name, items in sets.items():
            cells = []
            for lang, mine in by_language(items):
                urgent = sum(r.danger is Danger.URGENT for r in mine)
                helped = sum(r.danger is not Danger.NONE for r in mine)
                cells.append(f"{lang} {urgent}/{helped}/{len(mine)}")
                if share(urgent, len(mine)) < MIN_URGENT_RECALL:
                    failures.append((name, lang, "urgent", urgent, len(mine)))
                if name == FRESH_EMERGENCIES and share(helped, len(mine)) < MIN_HELP_RECALL:
                    failures.append((name, lang, "help", helped, len(mine)))
            print(f"  {name}: " + ", ".join(cells))
    assert failures == []


@pytest.mark.rasa
def test_ordinary_messages_are_seldom_urgent(
    readings: dict[str, list[Reading]], capsys: pytest.CaptureFixture[str]
) -> None:
    sets = {
        RISKY: readings[RISKY],
        TRAPS: readings[TRAPS],
        f"{HELD_OUT} (ordinary)": [r for r in readings[HELD_OUT] if r.domain != "emergency"],
        BREADTH: readings[BREADTH],
    }
    failures = []
    with capsys.disabled():
        print("\nordinary messages: urgent / asked about danger / all")
        for name, items in sets.items():
            cells = []
            for lang, mine in by_language(items):
                urgent = sum(r.danger is Danger.URGENT for r in mine)
                asked = sum(r.danger is Danger.CHECK for r in mine)
                cells.append(f"{lang} {urgent}/{asked}/{len(mine)}")
                if share(urgent, len(mine)) > MAX_FALSE_URGENT:
                    failures.append((name, lang, urgent, len(mine)))
            print(f"  {name}: " + ", ".join(cells))
    assert failures == []


@pytest.mark.rasa
def test_hand_written_dialect_questions_reach_the_macro_f1(
    readings: dict[str, list[Reading]], capsys: pytest.CaptureFixture[str]
) -> None:
    domains = ("post", "finance", "health", "emergency", "other")
    scores = {}
    for lang, mine in by_language(readings[HELD_OUT]):
        scores[lang] = macro_f1([r.domain for r in mine], [r.routed for r in mine], domains)
    with capsys.disabled():
        print(f"\n{HELD_OUT} macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    assert {lang: f1 for lang, f1 in scores.items() if f1 < MIN_MACRO_F1[lang]} == {}


@pytest.mark.rasa
def test_public_style_questions_and_risky_messages_are_routed_right(
    readings: dict[str, list[Reading]], capsys: pytest.CaptureFixture[str]
) -> None:
    cells: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for reading in readings[BREADTH]:
        cells[(reading.kind, reading.lang)].append(reading)
    for reading in readings[RISKY]:
        cells[(f"risky ({RISKY})", reading.lang)].append(reading)
    failures = []
    with capsys.disabled():
        print("\nrouted to the right domain by the bot (guessed right, counting the asked ones)")
        for kind in sorted({kind for kind, _lang in cells}):
            line = []
            for lang in LANGUAGES:
                mine = cells[(kind, lang)]
                routed = sum(r.routed_by_the_bot == r.domain for r in mine)
                guessed = sum(r.routed == r.domain for r in mine)
                line.append(f"{lang} {routed}/{len(mine)} ({guessed})")
                if share(routed, len(mine)) < MIN_ROUTED:
                    failures.append((kind, lang, routed, len(mine)))
            print(f"  {kind}: " + ", ".join(line))
    assert failures == []
