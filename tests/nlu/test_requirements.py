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

Requirements not met yet are listed in `UNMET` and expected to fail (see there). The figures
are printed (pytest -s, or in the CI log) for nlu/README.md.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nlu.client import Classification
from nlu.danger import Danger, danger_of
from nlu.evaluate import DEFAULT_THRESHOLD, classify_all, macro_f1, routed_domain
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
    answers = asyncio.run(classify_all(texts, rasa_server.url, DEFAULT_THRESHOLD))
    classified = dict(zip(texts, answers, strict=True))
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


# The requirements as cells: (measure, set, language or kind/language). Each cell is checked
# against the requirement itself.
URGENT_SETS = (*EMERGENCY_SETS, f"{HELD_OUT} (emergencies)")
ORDINARY_SETS = (RISKY, TRAPS, f"{HELD_OUT} (ordinary)", BREADTH)
BREADTH_KINDS = (
    "banking", "finance_other", "clinician", "patient", "mental_forum", "post", "other"
)  # fmt: skip
# Requirements the measurement of 2026-12-07 found unmet (nlu/README.md, "Where it stands"). They
# are still checked against the requirement and expected to fail (strict): the day one is met,
# its cell fails until it is taken off this list, and a met cell that falls back fails too.
UNMET = {
    *(("urgent", "emergency_messages.tsv", lang) for lang in ("ar", "ti")),
    *(("urgent", FRESH_EMERGENCIES, lang) for lang in LANGUAGES),
    *(("urgent", f"{HELD_OUT} (emergencies)", lang) for lang in LANGUAGES),
    *(("help", FRESH_EMERGENCIES, lang) for lang in ("ar", "en")),
    *(("false urgent", RISKY, lang) for lang in LANGUAGES),
    *(("false urgent", f"{HELD_OUT} (ordinary)", lang) for lang in ("ar", "nl", "en")),
    *(("macro-F1", HELD_OUT, lang) for lang in LANGUAGES),
    ("routed", BREADTH, "mental_forum/nl"),
    ("routed", BREADTH, "other/ti"),
    *(("routed", RISKY, lang) for lang in ("ar", "ti")),
}


def cells() -> list[tuple[str, str, str]]:
    found = [("urgent", name, lang) for name in URGENT_SETS for lang in LANGUAGES]
    found += [("help", FRESH_EMERGENCIES, lang) for lang in LANGUAGES]
    found += [("false urgent", name, lang) for name in ORDINARY_SETS for lang in LANGUAGES]
    found += [("macro-F1", HELD_OUT, lang) for lang in LANGUAGES]
    found += [("routed", BREADTH, f"{kind}/{lang}") for kind in BREADTH_KINDS for lang in LANGUAGES]
    found += [("routed", RISKY, lang) for lang in LANGUAGES]
    return found


def as_param(cell: tuple[str, str, str]) -> object:
    marks = [pytest.mark.rasa]
    if cell in UNMET:
        marks.append(pytest.mark.xfail(strict=True, reason="requirement not met (nlu/README.md)"))
    return pytest.param(*cell, marks=marks, id="-".join(cell))


def test_the_unmet_list_names_only_real_cells() -> None:
    assert set(cells()) >= UNMET


def measured(
    readings: dict[str, list[Reading]], measure: str, name: str, where: str
) -> tuple[float, str]:
    """The figure of one cell, and how it was counted."""
    if name == f"{HELD_OUT} (emergencies)":
        items = [r for r in readings[HELD_OUT] if r.domain == "emergency"]
    elif name == f"{HELD_OUT} (ordinary)":
        items = [r for r in readings[HELD_OUT] if r.domain != "emergency"]
    else:
        items = readings[name]
    kind, _, lang = where.rpartition("/")
    mine = [r for r in items if r.lang == lang and (not kind or r.kind == kind)]
    if measure == "macro-F1":
        domains = ("post", "finance", "health", "emergency", "other")
        score = macro_f1([r.domain for r in mine], [r.routed for r in mine], domains)
        return score, f"{score:.3f}"
    if measure == "urgent":
        hits = sum(r.danger is Danger.URGENT for r in mine)
    elif measure == "help":
        hits = sum(r.danger is not Danger.NONE for r in mine)
    elif measure == "false urgent":
        hits = sum(r.danger is Danger.URGENT for r in mine)
    else:
        hits = sum(r.routed_by_the_bot == r.domain for r in mine)
    return share(hits, len(mine)), f"{hits}/{len(mine)}"


def meets(measure: str, where: str, figure: float) -> bool:
    if measure == "urgent":
        return figure >= MIN_URGENT_RECALL
    if measure == "help":
        return figure >= MIN_HELP_RECALL
    if measure == "false urgent":
        return figure <= MAX_FALSE_URGENT
    if measure == "macro-F1":
        return figure >= MIN_MACRO_F1[where]
    return figure >= MIN_ROUTED


@pytest.mark.parametrize(("measure", "name", "where"), [as_param(cell) for cell in cells()])
def test_requirement(
    readings: dict[str, list[Reading]],
    measure: str,
    name: str,
    where: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    figure, counted = measured(readings, measure, name, where)
    with capsys.disabled():
        print(f"\n  {measure} {name} {where}: {counted}", end="")
    assert meets(measure, where.rpartition("/")[2], figure), (measure, name, where, counted)
