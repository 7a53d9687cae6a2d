"""NLU benchmark: the chosen pipeline against Rasa's default one, and the Rasa server's speed.

Both models are trained on the same `nlu/data` (the chosen one with `nlu/config.yml`, the other
with `nlu/experiments/pipelines/rasa_default.yml`) and scored on the same held-out file through
the bot's own `RasaClient`, with `nlu.evaluate`'s metrics on Rasa's first intent alone (the
emergency word lists the bot adds are the same for both, so they are left out). Speed is the
chosen model's, as the bot sees it: one message at a time (latency), and `nlu.evaluate`'s
few-at-a-time classification of the whole file (throughput).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.memory import peak_rss_mb
from bench.report import percentile
from nlu.client import RasaClient
from nlu.evaluate import (
    DEFAULT_THRESHOLD,
    REQUEST_TIMEOUT_SECONDS,
    LabelledText,
    evaluate_items,
    read_labelled_file,
)
from nlu.service import (
    NLU_DIR,
    PROJECT_ROOT,
    RasaServer,
    RasaServiceError,
    default_model_cache,
    ensure_model,
    start_rasa_server,
    training_hash,
)

HELDOUT = PROJECT_ROOT / "tests" / "data" / "nlu_heldout.tsv"
CHOSEN_CONFIG = NLU_DIR / "config.yml"
DEFAULT_CONFIG = NLU_DIR / "experiments" / "pipelines" / "rasa_default.yml"


@dataclass(frozen=True)
class PipelineScore:
    pipeline: str
    model: str
    macro_f1: dict[str, float]  # per language
    accuracy: dict[str, float]
    messages: int
    classify_seconds: float  # the whole file through `nlu.evaluate` (a few messages at a time)
    server_peak_rss_mb: float  # once the whole file is classified

    @property
    def throughput(self) -> float:
        return self.messages / self.classify_seconds


@dataclass(frozen=True)
class ParseLatency:
    requests: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class NluResult:
    chosen: PipelineScore | None
    default: PipelineScore | None
    latency: ParseLatency | None
    notes: tuple[str, ...]

    def weaker_language(self) -> str | None:
        """The language the chosen pipeline scores lowest on."""
        if self.chosen is None:
            return None
        scores = self.chosen.macro_f1
        return min(scores, key=scores.__getitem__)

    def points_vs_default(self, language: str) -> float:
        """Chosen minus default macro-F1 on `language`, in points (F1 x 100)."""
        if self.chosen is None or self.default is None:
            raise ValueError("both pipelines must have been scored")
        return 100 * (self.chosen.macro_f1[language] - self.default.macro_f1[language])

    def macro_f1_points_vs_default(self) -> float | None:
        """`points_vs_default` on the weaker language; None without both scores."""
        language = self.weaker_language()
        if self.default is None or language is None:
            return None
        return self.points_vs_default(language)


def cached_model(config: Path) -> Path | None:
    """The cached model for `config` if one was trained already (the name `ensure_model` uses)."""
    model = default_model_cache() / f"nlu-{training_hash(NLU_DIR, config)}.tar.gz"
    return model if model.exists() else None


def measure(*, train: bool, latency_requests: int) -> NluResult:
    """Score both pipelines and time the chosen one. Without `train`, only cached models are
    used, and a missing one is named in the notes."""
    items = read_labelled_file(HELDOUT)
    notes: list[str] = []
    models: dict[str, Path] = {}
    for name, config in (("chosen", CHOSEN_CONFIG), ("Rasa default", DEFAULT_CONFIG)):
        where = config.relative_to(PROJECT_ROOT)
        model = cached_model(config)
        if model is None and train:
            started = time.perf_counter()
            model = ensure_model(config=config)
            notes.append(
                f"{name} pipeline ({where}): trained {model.name} in "
                f"{time.perf_counter() - started:.0f} s (a one-off: cached for this nlu/)"
            )
        elif model is None:
            notes.append(
                f"{name} pipeline ({where}): no cached model for the current nlu/; "
                "--quick does not train (the full run does)"
            )
        else:
            notes.append(f"{name} pipeline ({where}): cached model {model.name}")
        if model is not None:
            models[name] = model
    with (
        tempfile.TemporaryDirectory(prefix="sleutelbrug-bench-rasa-") as log_dir,
        running_servers(models, Path(log_dir)) as servers,
    ):
        scores = {
            name: score_pipeline(name, models[name], server, items)
            for name, server in servers.items()
        }
        # After scoring, so that one-time work on a server's first requests is not in it.
        latency = (
            asyncio.run(parse_latency(servers["chosen"].url, items, latency_requests))
            if "chosen" in servers
            else None
        )
    return NluResult(
        chosen=scores.get("chosen"),
        default=scores.get("Rasa default"),
        latency=latency,
        notes=tuple(notes),
    )


@contextlib.contextmanager
def running_servers(models: dict[str, Path], log_dir: Path) -> Iterator[dict[str, RasaServer]]:
    """A Rasa server for each model, started at once to save time; all stopped on exit."""
    started: dict[str, RasaServer] = {}
    try:
        with ThreadPoolExecutor(max_workers=len(models) or 1) as starter:
            starting = {
                name: starter.submit(start_rasa_server, model, log_dir=log_dir / name)
                for name, model in models.items()
            }
            failure: BaseException | None = None
            for name, future in starting.items():
                try:
                    started[name] = future.result()
                except RasaServiceError as exc:
                    failure = failure or exc
            if failure is not None:
                raise failure
        yield started
    finally:
        for server in started.values():
            server.stop()


def score_pipeline(
    name: str, model: Path, server: RasaServer, items: Sequence[LabelledText]
) -> PipelineScore:
    started = time.perf_counter()
    evaluation = evaluate_items(items, rasa_url=server.url, rasa_only=True)
    classify_seconds = time.perf_counter() - started
    return PipelineScore(
        pipeline=name,
        model=model.name,
        macro_f1={report.lang: report.macro_f1 for report in evaluation.reports},
        accuracy={report.lang: report.accuracy for report in evaluation.reports},
        messages=len(items),
        classify_seconds=classify_seconds,
        server_peak_rss_mb=peak_rss_mb(server.process.pid),
    )


async def parse_latency(url: str, items: Sequence[LabelledText], requests: int) -> ParseLatency:
    """One message at a time through the bot's client, as a single newcomer's question goes."""
    client = RasaClient(
        url, timeout=REQUEST_TIMEOUT_SECONDS, confidence_threshold=DEFAULT_THRESHOLD
    )
    durations_ms: list[float] = []
    try:
        for number in range(requests):
            text = items[number % len(items)].text
            started = time.perf_counter()
            await client.classify(text)
            durations_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await client.aclose()
    return ParseLatency(
        requests=requests,
        p50_ms=percentile(durations_ms, 0.5),
        p99_ms=percentile(durations_ms, 0.99),
    )
