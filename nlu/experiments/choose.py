"""Choose a pipeline and the danger thresholds on the development set, never on a test set.

`python -m nlu.experiments.choose [--config PIPELINE.yml ...] [--folds N] [FILE.tsv ...]` trains a
model for each pipeline (cached by input hash, as the bot's), classifies the development files
(`nlu/experiments/dev/*.tsv` by default) and prints, per pipeline and language: macro-F1 of the
bot's routing, and for each candidate threshold the share of emergencies the bot would treat
as urgent (or give the help numbers) and of the other messages it would wrongly treat as urgent
(or ask about). With `--folds N` it also cross-validates each pipeline on the training data
(`rasa test nlu --cross-validation`) and prints the domain macro-F1 per language of the
held-out folds. nlu/README.md records what it printed and what was chosen from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nlu.client import Classification
from nlu.danger import CHECK_CONFIDENCE, URGENT_CONFIDENCE, Danger, danger_of
from nlu.domains import domain_of_intent
from nlu.evaluate import (
    DEFAULT_THRESHOLD,
    LabelledText,
    classify_all,
    language_reports,
    macro_f1,
    read_labelled_file,
)
from nlu.service import (
    NLU_DIR,
    default_rasa_executable,
    ensure_model,
    rasa_environment,
    start_rasa_server,
)

DEV_DIR = NLU_DIR / "experiments" / "dev"
URGENT_CANDIDATES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CHECK_CANDIDATES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 1.01)


def classify_with(config: Path, items: Sequence[LabelledText]) -> list[Classification]:
    model = ensure_model(config=config)
    with tempfile.TemporaryDirectory(prefix="nlu-choose-") as log_dir:
        server = start_rasa_server(model, log_dir=Path(log_dir))
        try:
            return asyncio.run(
                classify_all([item.text for item in items], server.url, DEFAULT_THRESHOLD)
            )
        finally:
            server.stop()


def _share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.3f})" if total else "-"


def _tiers(
    pairs: Sequence[tuple[LabelledText, Classification]], urgent: float, check: float
) -> list[Danger]:
    return [
        danger_of(item.text, c, urgent_confidence=urgent, check_confidence=check)
        for item, c in pairs
    ]


def report(items: Sequence[LabelledText], classifications: Sequence[Classification]) -> str:
    lines = []
    for lang_report in language_reports(items, classifications):
        lines.append(
            f"  {lang_report.lang}: macro-F1 routing {lang_report.macro_f1:.3f}, "
            f"accuracy {lang_report.accuracy:.3f}, asked with buttons {lang_report.asked}"
        )
    for lang in sorted({item.lang for item in items}):
        pairs = [(i, c) for i, c in zip(items, classifications, strict=True) if i.lang == lang]
        emergencies = [(i, c) for i, c in pairs if i.domain == "emergency"]
        ordinary = [(i, c) for i, c in pairs if i.domain != "emergency"]
        for urgent in URGENT_CANDIDATES:
            e_tiers = _tiers(emergencies, urgent, CHECK_CONFIDENCE)
            o_tiers = _tiers(ordinary, urgent, CHECK_CONFIDENCE)
            lines.append(
                f"  {lang} urgent>={urgent}: urgent "
                f"{_share(e_tiers.count(Danger.URGENT), len(emergencies))}, false urgent "
                f"{_share(o_tiers.count(Danger.URGENT), len(ordinary))}"
            )
        for check in CHECK_CANDIDATES:
            e_tiers = _tiers(emergencies, URGENT_CONFIDENCE, check)
            o_tiers = _tiers(ordinary, URGENT_CONFIDENCE, check)
            helped = len(e_tiers) - e_tiers.count(Danger.NONE)
            lines.append(
                f"  {lang} check>={check}: help {_share(helped, len(emergencies))}, "
                f"asked without need {_share(o_tiers.count(Danger.CHECK), len(ordinary))}"
            )
    return "\n".join(lines)


def training_languages() -> dict[str, str]:
    """Each training example's language (the prefix of its file's name)."""
    languages = {}
    for path in sorted((NLU_DIR / "data" / "nlu").glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := re.match(r"^\s+- (.+)$", line):
                languages[match.group(1).strip()] = path.stem.split("_")[0]
    return languages


def cross_validate(config: Path, folds: int) -> str:
    """Domain macro-F1 per language over the held-out folds of `rasa test nlu`."""
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as out:
        command = [
            str(default_rasa_executable()), "test", "nlu", "--cross-validation",
            "--folds", str(folds), "--config", str(config), "--nlu", str(NLU_DIR / "data"),
            "--out", out, "--successes", "--no-plot",
        ]  # fmt: skip
        subprocess.run(  # noqa: S603 - fixed executable, arguments built here
            command, cwd=NLU_DIR.parent, env=rasa_environment(), capture_output=True, check=True
        )
        predictions = []
        for name in ("intent_successes.json", "intent_errors.json"):
            path = Path(out) / name
            if path.exists():
                predictions += json.loads(path.read_text(encoding="utf-8"))
    languages = training_languages()
    by_language: dict[str, tuple[list[str], list[str]]] = {}
    for item in predictions:
        lang = languages.get(str(item["text"]).strip())
        if lang is None:
            continue
        gold, predicted = by_language.setdefault(lang, ([], []))
        gold.append(domain_of_intent(item["intent"]).value)
        predicted.append(domain_of_intent((item.get("intent_prediction") or {}).get("name")).value)
    cells = []
    for lang, (gold, predicted) in sorted(by_language.items()):
        domains = sorted(set(gold))
        cells.append(f"{lang} {macro_f1(gold, predicted, domains):.3f} ({len(gold)})")
    return f"  {folds}-fold cross-validation, domain macro-F1: " + ", ".join(cells)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.experiments.choose")
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--config", action="append", type=Path)
    parser.add_argument("--folds", type=int, default=0)
    args = parser.parse_args(argv)
    files = args.files or sorted(DEV_DIR.glob("*.tsv"))
    items = [item for path in files for item in read_labelled_file(path)]
    print(f"shipped: urgent >= {URGENT_CONFIDENCE}, check >= {CHECK_CONFIDENCE}")
    for config in args.config or [NLU_DIR / "config.yml"]:
        print(f"== {config.name}: {len(items)} messages from {len(files)} files")
        print(report(items, classify_with(config, items)), flush=True)
        if args.folds:
            print(cross_validate(config, args.folds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
