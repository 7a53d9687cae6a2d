"""Score the NLU model on a labelled TSV file: `python -m nlu.evaluate FILE.tsv`.

The file is UTF-8 with a header row holding at least the columns `lang`, `domain` and `text`
(any order, other columns ignored). Every message goes through the same `RasaClient` the bot
uses, and the scores are of the domain the bot routes to: emergency when the bot treats the
message as urgent (`nlu/danger.py`), otherwise the domain of the best intent other than
emergency (a message the bot asks "are you in danger?" about goes on as an ordinary question
at once, to that domain). `--rasa-only` scores Rasa's first intent
alone (the pipeline comparison in nlu/README.md); each language's section shows Rasa alone next
to the bot's routing either way. How many messages the bot would instead ask about with buttons
(confidence below the threshold) is reported next to them, with how many confident routes were
wrong.

The last four lines are `accuracy LANG=…`, `macro_f1 LANG=…`, `urgent LANG=…` (the share the
bot treats as urgent: help numbers and the coordinator alerted) and `help LANG=…` (the share
that get the help numbers at once, urgent or check), one pair per language.

The Rasa server is the one at `RASA_URL` (default http://127.0.0.1:5005); when none answers,
one is started with the current model (trained first if needed) and stopped afterwards. The
metric functions are pure; only `read_labelled_file`, `classify_all` and `main` do I/O.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from nlu.client import Classification, NluUnavailable, RasaClient
from nlu.danger import Danger, danger_of
from nlu.domains import Domain, domain_of_intent
from nlu.service import RasaServiceError, ensure_model, rasa_is_ready, start_rasa_server

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
# The bot's default NLU_CONFIDENCE_THRESHOLD (bot/settings.py); the environment overrides both.
DEFAULT_THRESHOLD = 0.5
REQUIRED_COLUMNS = ("lang", "domain", "text")
DOMAINS = tuple(domain.value for domain in Domain)
# Messages in flight at once: enough to keep Rasa busy, few enough not to starve the machine.
CONCURRENT_REQUESTS = 4
REQUEST_TIMEOUT_SECONDS = 60.0
UNSURE = "unsure"


class EvaluationFileError(Exception):
    """The labelled file cannot be evaluated; the message says what is wrong and where."""


@dataclass(frozen=True)
class LabelledText:
    lang: str
    domain: str
    text: str


@dataclass(frozen=True)
class DomainScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class LanguageReport:
    """Scores of one language; `predicted` is the scored domain, `unsure` whether the bot would
    ask, `rasa_predicted` the domain of Rasa's first intent alone, `danger` the bot's tier."""

    lang: str
    gold: tuple[str, ...]
    predicted: tuple[str, ...]
    unsure: tuple[bool, ...]
    domains: tuple[str, ...]
    rasa_predicted: tuple[str, ...]
    danger: tuple[Danger, ...]

    @property
    def urgent_share(self) -> float:
        """Share of the messages the bot treats as urgent (help numbers, coordinator alerted)."""
        return _ratio(sum(d is Danger.URGENT for d in self.danger), len(self.danger))

    @property
    def help_share(self) -> float:
        """Share that get the help numbers at once: urgent, or asked about danger (check)."""
        return _ratio(sum(d is not Danger.NONE for d in self.danger), len(self.danger))

    @property
    def accuracy(self) -> float:
        return accuracy(self.gold, self.predicted)

    @property
    def macro_f1(self) -> float:
        return macro_f1(self.gold, self.predicted, self.domains)

    @property
    def scores(self) -> dict[str, DomainScore]:
        return domain_scores(self.gold, self.predicted, self.domains)

    @property
    def asked(self) -> int:
        return sum(self.unsure)

    @property
    def confident_wrong(self) -> int:
        return sum(
            not unsure and gold != predicted
            for gold, predicted, unsure in zip(self.gold, self.predicted, self.unsure, strict=True)
        )


# --- pure metrics -------------------------------------------------------------------------


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of items whose prediction equals the gold label; 0.0 for no items."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def domain_scores(
    gold: Sequence[str], predicted: Sequence[str], domains: Sequence[str]
) -> dict[str, DomainScore]:
    """Precision, recall and F1 per domain; a ratio with nothing to divide by is 0.0."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_counts, predicted_counts = Counter(gold), Counter(predicted)
    scores = {}
    for domain in domains:
        hits = pairs[(domain, domain)]
        precision = _ratio(hits, predicted_counts[domain])
        recall = _ratio(hits, gold_counts[domain])
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores[domain] = DomainScore(precision, recall, f1, gold_counts[domain])
    return scores


def macro_f1(gold: Sequence[str], predicted: Sequence[str], domains: Sequence[str]) -> float:
    """Unweighted mean of the F1 of each of `domains`."""
    if not domains:
        return 0.0
    scores = domain_scores(gold, predicted, domains)
    return sum(scores[domain].f1 for domain in domains) / len(domains)


def confusion(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> list[list[int]]:
    """Counts with rows for the gold label and columns for the predicted label, both `labels`."""
    pairs = Counter(zip(gold, predicted, strict=True))
    return [[pairs[(row, column)] for column in labels] for row in labels]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def routed_domain(text: str, classification: Classification) -> str:
    """The domain the bot routes `text` to: emergency when it is urgent, else the domain of
    Rasa's best intent other than emergency (where a question asked about goes)."""
    if danger_of(text, classification) is Danger.URGENT:
        return Domain.EMERGENCY.value
    others = [name for name, _confidence in classification.ranking if name != "emergency"]
    if classification.intent != "emergency":
        return domain_of_intent(classification.intent).value
    return domain_of_intent(others[0] if others else None).value


def language_reports(
    items: Sequence[LabelledText],
    classifications: Sequence[Classification],
    *,
    rasa_only: bool = False,
) -> list[LanguageReport]:
    """One report per language, sorted; macro-F1 averages the domains present in the file.

    Scored is the bot's routing (`routed_domain`), or Rasa's first intent with `rasa_only`.
    """
    domains = tuple(domain for domain in DOMAINS if any(item.domain == domain for item in items))
    reports = []
    for lang in sorted({item.lang for item in items}):
        pairs = [
            (item, classification)
            for item, classification in zip(items, classifications, strict=True)
            if item.lang == lang
        ]
        rasa_predicted = tuple(domain_of_intent(c.intent).value for _, c in pairs)
        routed = tuple(routed_domain(item.text, c) for item, c in pairs)
        reports.append(
            LanguageReport(
                lang=lang,
                gold=tuple(item.domain for item, _ in pairs),
                predicted=rasa_predicted if rasa_only else routed,
                unsure=tuple(c.unsure for _, c in pairs),
                domains=domains,
                rasa_predicted=rasa_predicted,
                danger=tuple(danger_of(item.text, c) for item, c in pairs),
            )
        )
    return reports


def format_reports(
    reports: Sequence[LanguageReport], threshold: float, *, rasa_only: bool = False
) -> str:
    """The printed evaluation; its last four lines are the `accuracy`, `macro_f1`, `urgent` and
    `help` summaries."""
    scored = "Rasa's first intent alone" if rasa_only else "the bot's routing (words + Rasa)"
    lines: list[str] = [f"scored: {scored}", ""]
    for report in reports:
        rasa_f1 = macro_f1(report.gold, report.rasa_predicted, report.domains)
        lines += [
            f"== {report.lang}: {len(report.gold)} messages ==",
            f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}   "
            f"(Rasa alone: accuracy {accuracy(report.gold, report.rasa_predicted):.3f}, "
            f"macro-F1 {rasa_f1:.3f})",
            f"{'domain':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}",
        ]
        for domain, score in report.scores.items():
            lines.append(
                f"{domain:<10} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} "
                f"{score.support:>8}"
            )
        labels = list(report.domains) + [
            d for d in DOMAINS if d in report.predicted and d not in report.domains
        ]
        lines.append("confusion (rows: true domain, columns: predicted domain)")
        lines.append(" " * 10 + "".join(f"{label:>10}" for label in labels))
        table = confusion(report.gold, report.predicted, labels)
        for label, row in zip(labels, table, strict=True):
            lines.append(f"{label:<10}" + "".join(f"{count:>10}" for count in row))
        urgent = sum(d is Danger.URGENT for d in report.danger)
        checked = sum(d is Danger.CHECK for d in report.danger)
        lines.append(
            f"danger: urgent {urgent}, asked whether in danger (check) {checked}, "
            f"of {len(report.gold)}"
        )
        lines.append(
            f"would ask with buttons (confidence < {threshold:.2f}): {report.asked} of "
            f"{len(report.gold)}; confident but wrong routes: {report.confident_wrong}"
        )
        lines.append("")
    lines.append("accuracy " + " ".join(f"{r.lang}={r.accuracy:.3f}" for r in reports))
    lines.append("macro_f1 " + " ".join(f"{r.lang}={r.macro_f1:.3f}" for r in reports))
    lines.append("urgent " + " ".join(f"{r.lang}={r.urgent_share:.3f}" for r in reports))
    lines.append("help " + " ".join(f"{r.lang}={r.help_share:.3f}" for r in reports))
    return "\n".join(lines)


# --- I/O ----------------------------------------------------------------------------------


def read_labelled_file(path: Path) -> list[LabelledText]:
    """The rows of a labelled TSV file; `EvaluationFileError` names anything that is wrong."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise EvaluationFileError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise EvaluationFileError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise EvaluationFileError(f"{path}: cannot read ({exc.strerror})") from exc
    reader = csv.reader(content.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        raise EvaluationFileError(f"{path}: the file is empty")
    columns = [name.strip() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise EvaluationFileError(
            f"{path}: header lacks column(s) {', '.join(missing)} "
            f"(need {', '.join(REQUIRED_COLUMNS)}, tab-separated)"
        )
    position = {name: columns.index(name) for name in REQUIRED_COLUMNS}
    items = []
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise EvaluationFileError(
                f"{path}:{line_number}: {len(row)} fields, but the header has {len(columns)}"
            )
        lang, domain, text = (row[position[name]].strip() for name in REQUIRED_COLUMNS)
        if domain not in DOMAINS:
            raise EvaluationFileError(
                f"{path}:{line_number}: unknown domain {domain!r} (use one of {', '.join(DOMAINS)})"
            )
        if not lang or not text:
            raise EvaluationFileError(f"{path}:{line_number}: empty lang or text")
        items.append(LabelledText(lang=lang, domain=domain, text=text))
    if not items:
        raise EvaluationFileError(f"{path}: no labelled rows below the header")
    return items


async def classify_all(
    texts: Sequence[str], rasa_url: str, threshold: float
) -> list[Classification]:
    """Every text through the bot's `RasaClient`, a few at a time, in input order."""
    client = RasaClient(rasa_url, timeout=REQUEST_TIMEOUT_SECONDS, confidence_threshold=threshold)
    limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

    async def classify(text: str) -> Classification:
        async with limit:
            return await client.classify(text)

    try:
        return list(await asyncio.gather(*(classify(text) for text in texts)))
    finally:
        await client.aclose()


@contextmanager
def rasa_at(url: str) -> Iterator[str]:
    """The URL of a Rasa server: `url` when it answers, else one started here until exit."""
    if rasa_is_ready(url):
        yield url
        return
    print(f"no Rasa server answers at {url}; starting one with the current model", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="nlu-evaluate-") as log_dir:
        server = start_rasa_server(ensure_model(), log_dir=Path(log_dir))
        try:
            yield server.url
        finally:
            server.stop()


def model_of(url: str) -> str:
    """The name of the model file the server at `url` has loaded, for the report header."""
    try:
        return Path(str(httpx.get(f"{url}/status", timeout=5.0).json()["model_file"])).name
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return "unknown"


@dataclass(frozen=True)
class Evaluation:
    model: str
    reports: list[LanguageReport]


def evaluate_items(
    items: Sequence[LabelledText],
    *,
    rasa_url: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    rasa_only: bool = False,
) -> Evaluation:
    """Classify every text with Rasa (at `rasa_url`, `RASA_URL` or started here) and score."""
    with rasa_at(rasa_url or os.environ.get("RASA_URL", DEFAULT_RASA_URL)) as url:
        model = model_of(url)
        classifications = asyncio.run(classify_all([item.text for item in items], url, threshold))
    return Evaluation(
        model=model, reports=language_reports(items, classifications, rasa_only=rasa_only)
    )


def evaluate(
    path: Path,
    *,
    rasa_url: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    rasa_only: bool = False,
) -> Evaluation:
    """Read the labelled file at `path` and evaluate it (see `evaluate_items`)."""
    return evaluate_items(
        read_labelled_file(path), rasa_url=rasa_url, threshold=threshold, rasa_only=rasa_only
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.evaluate", description="Score the NLU model on a labelled TSV file."
    )
    parser.add_argument("file", type=Path, help="UTF-8 TSV with the columns lang, domain, text")
    parser.add_argument(
        "--threshold",
        type=float,
        default=os.environ.get("NLU_CONFIDENCE_THRESHOLD", str(DEFAULT_THRESHOLD)),
        help="confidence below which the bot asks with buttons "
        f"(default: NLU_CONFIDENCE_THRESHOLD or {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--rasa-only",
        action="store_true",
        help="score Rasa's first intent alone, without the emergency word lists the bot adds",
    )
    args = parser.parse_args(argv)
    try:
        items = read_labelled_file(args.file)
    except EvaluationFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        evaluation = evaluate_items(items, threshold=args.threshold, rasa_only=args.rasa_only)
    except (RasaServiceError, NluUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model: {evaluation.model}")
    print(format_reports(evaluation.reports, args.threshold, rasa_only=args.rasa_only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
