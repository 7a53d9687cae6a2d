"""`python -m bench [--quick]`: measure relay, matching, NLU and memory; print a table for each.

The last line is always
`bench relay_vs_echo=R p99_ms=L match_10k_us=M nlu_macro_f1_vs_default=D rss_mb=S`
(`n/a` where a figure could not be measured, e.g. an NLU model `--quick` does not train).
See bench/RESULTS.md for what each number means and what limits it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import matching, nlu, relay
from bench.report import Headline, markdown_table
from nlu.evaluate import CONCURRENT_REQUESTS

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# Targets of the issue.
RELAY_VS_ECHO_TARGET = 0.5
P99_TARGET_MS = 50.0
MATCH_10K_TARGET_US = 1000.0
# "No worse than linear": time grows at most in proportion to the sleutelpersonen who speak
# the language; a little above 1.0 is within what a noisy machine shows.
GROWTH_EXPONENT_TARGET = 1.1
NLU_POINTS_TARGET = 3.0
RSS_TARGET_MB = 200.0


@dataclass(frozen=True)
class Plan:
    matching_sizes: tuple[tuple[int, int], ...]  # (sleutelpersonen, decisions timed)
    relay: relay.RelayLoad
    relay_rounds: int
    relay_capped: bool  # also run the relay with its deployed 30/s self-limit
    train_nlu: bool
    nlu_latency_requests: int


QUICK = Plan(
    matching_sizes=((100, 1000), (1_000, 500), (10_000, 150)),
    relay=relay.RelayLoad(conversations=100, burst=2, chat_interval=10.0, paced_seconds=6.0),
    relay_rounds=1,
    relay_capped=False,
    train_nlu=False,
    nlu_latency_requests=100,
)
FULL = Plan(
    matching_sizes=((100, 2000), (1_000, 1000), (10_000, 300), (100_000, 40)),
    relay=relay.RelayLoad(conversations=100, burst=3, chat_interval=10.0, paced_seconds=10.0),
    relay_rounds=3,
    relay_capped=True,
    train_nlu=True,
    nlu_latency_requests=500,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller run, under 3 minutes")
    parser.add_argument(
        "--database",
        choices=("postgresql", "sqlite"),
        default="postgresql",
        help="where the relay bot keeps its data (default: PostgreSQL, as in production)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="admin connection")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    arguments = parser.parse_args(argv)
    plan = QUICK if arguments.quick else FULL
    # Each table appears as soon as it is measured, also when the output goes to a file.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started = time.monotonic()

    print(f"# Sleutelbrug benchmark ({'quick' if arguments.quick else 'full'} run)\n")
    print(machine_description())
    print(f"uptime before: {uptime()}\n")

    print("## Matching\n")
    matching_results = [
        matching.measure(size, decisions) for size, decisions in plan.matching_sizes
    ]
    print(matching_table(matching_results), end="\n\n")

    print("## Relay\n")
    round_trip = asyncio.run(relay.sandbox_round_trip())
    print(round_trip_table(round_trip), end="\n\n")
    databases = (
        relay.postgres_databases(arguments.postgres_url)
        if arguments.database == "postgresql"
        else relay.sqlite_database
    )
    runs = asyncio.run(
        relay.measure_relay_and_echo(
            plan.relay,
            databases,
            arguments.redis_url,
            rounds=plan.relay_rounds,
            capped=plan.relay_capped,
        )
    )
    print(relay_description(plan.relay, arguments.database), end="\n\n")
    print(relay_table(runs), end="\n\n")
    ratios = relay_ratios(runs)
    print(
        "relay/echo burst throughput, per round: "
        + ", ".join(f"{ratio:.2f}" for ratio in ratios)
        + "\n"
    )

    print("## NLU\n")
    nlu_result = nlu.measure(train=plan.train_nlu, latency_requests=plan.nlu_latency_requests)
    print(nlu_tables(nlu_result), end="\n\n")

    print("## Memory\n")
    print(memory_table(runs, nlu_result), end="\n\n")

    headline = Headline(
        relay_vs_echo=statistics.median(ratios),
        p99_ms=statistics.median(
            run.phase(relay.CHAT_PACE).p99_ms for run in runs if run.bot == relay.UNCAPPED
        ),
        match_10k_us=next(
            (result.median_us for result in matching_results if result.pool_size == 10_000), None
        ),
        nlu_macro_f1_vs_default=nlu_result.macro_f1_points_vs_default(),
        rss_mb=max(run.peak_rss_mb for run in runs if run.bot != relay.ECHO_BOT),
    )
    print("## Targets\n")
    print(targets_table(headline, matching_results), end="\n\n")
    print(f"uptime after: {uptime()}")
    print(f"took {time.monotonic() - started:.0f} s\n")
    print(headline.line())
    return 0


# --- machine ------------------------------------------------------------------------------------


def machine_description() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_gib = psutil.virtual_memory().total / 2**30
    return (
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"machine: {cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def uptime() -> str:
    return subprocess.run(
        ["/usr/bin/uptime"], capture_output=True, text=True, check=True
    ).stdout.strip()


# --- tables -------------------------------------------------------------------------------------


def matching_table(results: Sequence[matching.MatchingResult]) -> str:
    exponents = matching.growth_exponents(results)
    return markdown_table(
        (
            "sleutelpersonen",
            "decisions",
            "speak the language",
            "median µs",
            "p90 µs",
            "ns per speaker",
            "growth exponent",
            "nobody in hours",
            "pool build ms",
        ),
        [
            (
                f"{result.pool_size:,}",
                f"{result.decisions}",
                f"{result.mean_speakers:,.0f}",
                f"{result.median_us:,.0f}",
                f"{result.p90_us:,.0f}",
                f"{result.median_ns_per_speaker:,.0f}",
                "—" if exponent is None else f"{exponent:.2f}",
                f"{result.nobody_in_hours:.0%}",
                f"{result.pool_build_ms:.1f}",
            )
            for result, exponent in zip(results, exponents, strict=True)
        ],
    )


def relay_description(load: relay.RelayLoad, database: str) -> str:
    rates = load.paced_rates()
    return (
        f"{load.conversations} conversations; burst: {load.burst} messages from each side of "
        f"each at once; chat pace: one message per conversation every {load.chat_interval:.0f} s "
        f"({rates[relay.CHAT_PACE]:.0f}/s); 30/s: Telegram's limit; paced phases "
        f"{load.paced_seconds:.0f} s each. Relay database: {database}. Latency: newcomer's "
        "message received by the sandbox -> copy in the sleutelpersoon's chat."
    )


def round_trip_table(median_ms: float) -> str:
    return markdown_table(
        ("sandbox getMe on a kept-alive connection", "median ms"),
        [("as the sandbox starts", f"{median_ms:.1f}")],
    )


def relay_table(runs: Sequence[relay.BotRun]) -> str:
    rows = []
    for run in runs:
        for phase in run.phases:
            rows.append(
                (
                    run.bot,
                    phase.phase,
                    f"{phase.messages}",
                    f"{phase.offered_rate:,.0f}",
                    f"{phase.throughput:,.1f}",
                    f"{phase.p50_ms:,.1f}",
                    f"{phase.p99_ms:,.1f}",
                    f"{phase.bot_cpu_ms:.2f}",
                    f"{phase.sandbox_cpu_ms:.2f}",
                )
            )
    return markdown_table(
        (
            "bot",
            "phase",
            "messages",
            "sent/s",
            "delivered/s",
            "p50 ms",
            "p99 ms",
            "bot CPU ms/msg",
            "sandbox CPU ms/msg",
        ),
        rows,
    )


def relay_ratios(runs: Sequence[relay.BotRun]) -> list[float]:
    """Relay over echo burst throughput, each relay run against the echo run just before it."""
    ratios = []
    echo: relay.BotRun | None = None
    for run in runs:
        if run.bot == relay.ECHO_BOT:
            echo = run
        elif run.bot == relay.UNCAPPED and echo is not None:
            ratios.append(run.phase(relay.BURST).throughput / echo.phase(relay.BURST).throughput)
    return ratios


def nlu_tables(result: nlu.NluResult) -> str:
    parts = [f"note: {note}" for note in result.notes]
    pipelines = [score for score in (result.chosen, result.default) if score is not None]
    if pipelines:
        languages = sorted(pipelines[0].macro_f1)
        parts.append(
            markdown_table(
                ("pipeline", "model", *(f"macro-F1 {lang}" for lang in languages), "msgs/s"),
                [
                    (
                        score.pipeline,
                        score.model,
                        *(f"{score.macro_f1[lang]:.3f}" for lang in languages),
                        f"{score.throughput:.1f}",
                    )
                    for score in pipelines
                ],
            )
        )
        parts.append(
            f"msgs/s: the held-out file ({pipelines[0].messages} messages) through the bot's "
            f"client, {CONCURRENT_REQUESTS} at a time."
        )
    if result.chosen is not None and result.default is not None:
        parts.append(
            markdown_table(
                ("language", "chosen − default (points)"),
                [
                    (lang, f"{result.points_vs_default(lang):+.1f}")
                    for lang in sorted(result.chosen.macro_f1)
                ],
            )
        )
        parts.append(f"weaker language (lowest chosen macro-F1): {result.weaker_language()}")
    if result.latency is not None:
        parts.append(
            markdown_table(
                ("chosen model, one at a time", "requests", "p50 ms", "p99 ms"),
                [
                    (
                        "/model/parse via the bot's client",
                        f"{result.latency.requests}",
                        f"{result.latency.p50_ms:.1f}",
                        f"{result.latency.p99_ms:.1f}",
                    )
                ],
            )
        )
    return "\n\n".join(parts)


def memory_table(runs: Sequence[relay.BotRun], nlu_result: nlu.NluResult) -> str:
    peaks: dict[str, list[float]] = {}
    for run in runs:
        peaks.setdefault(run.bot, []).append(run.peak_rss_mb)
    rows = [
        (f"{bot} worker ({len(each)} run{'s' * (len(each) > 1)}, highest)", f"{max(each):.0f}")
        for bot, each in peaks.items()
    ]
    for score in (nlu_result.chosen, nlu_result.default):
        if score is not None:
            rows.append((f"Rasa server, {score.pipeline}", f"{score.server_peak_rss_mb:.0f}"))
    return markdown_table(("process", "peak RSS MiB"), rows)


def targets_table(headline: Headline, matching_results: Sequence[matching.MatchingResult]) -> str:
    exponents = [e for e in matching.growth_exponents(matching_results) if e is not None]
    worst_exponent = max(exponents) if exponents else None
    checks: list[tuple[str, float | None, float, bool]] = [
        ("relay_vs_echo >= 0.5", headline.relay_vs_echo, RELAY_VS_ECHO_TARGET, True),
        ("p99_ms <= 50 (chat pace, 100 conversations)", headline.p99_ms, P99_TARGET_MS, False),
        ("match_10k_us <= 1000", headline.match_10k_us, MATCH_10K_TARGET_US, False),
        ("matching growth exponent <= 1.1", worst_exponent, GROWTH_EXPONENT_TARGET, False),
        (
            "nlu_macro_f1_vs_default >= +3 points",
            headline.nlu_macro_f1_vs_default,
            NLU_POINTS_TARGET,
            True,
        ),
        ("rss_mb <= 200", headline.rss_mb, RSS_TARGET_MB, False),
    ]
    rows = []
    for name, value, target, at_least in checks:
        if value is None:
            rows.append((name, "n/a", "not measured"))
            continue
        met = value >= target if at_least else value <= target
        verdict = "met" if met else f"missed by {_figure(abs(value - target))}"
        if not met and value > 0:
            verdict += f" ({value / target:.2f}x the target)"
        rows.append((name, _figure(value), verdict))
    return markdown_table(("target", "measured", "verdict"), rows)


def _figure(value: float) -> str:
    """Three significant digits, without exponents for large values."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


if __name__ == "__main__":
    sys.exit(main())
