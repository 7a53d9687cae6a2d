"""The benchmark's pure parts, fast: its output format, its statistics and the matching
benchmark at small sizes. The full benchmark (`python -m bench`) is not run here."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bench import matching
from bench.__main__ import relay_ratios, targets_table
from bench.nlu import NluResult, PipelineScore
from bench.relay import BURST, CHAT_PACE, ECHO_BOT, UNCAPPED, BotRun, PhaseResult, RelayLoad
from bench.relay_worker import ECHO, WorkerConfig
from bench.report import Headline, markdown_table, percentile

LAST_LINE = re.compile(
    r"bench relay_vs_echo=(\S+) p99_ms=(\S+) match_10k_us=(\S+)"
    r" nlu_macro_f1_vs_default=(\S+) rss_mb=(\S+)"
)


def test_the_last_line_has_the_agreed_shape() -> None:
    line = Headline(
        relay_vs_echo=0.5123,
        p99_ms=41.26,
        match_10k_us=812.4,
        nlu_macro_f1_vs_default=3.46,
        rss_mb=131.6,
    ).line()
    assert line == (
        "bench relay_vs_echo=0.51 p99_ms=41.3 match_10k_us=812"
        " nlu_macro_f1_vs_default=+3.5 rss_mb=132"
    )
    match = LAST_LINE.fullmatch(line)
    assert match is not None
    assert [float(value) for value in match.groups()] == [0.51, 41.3, 812, 3.5, 132]


def test_a_figure_that_could_not_be_measured_is_n_a_and_the_shape_holds() -> None:
    line = Headline(0.2, 46.0, 9000.0, None, 130.0).line()
    match = LAST_LINE.fullmatch(line)
    assert match is not None and match.group(4) == "n/a"
    assert Headline(0.2, 46.0, 9000.0, -1.25, 130.0).line().count("=-1.2") == 1


def test_percentile_interpolates_between_neighbours() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.0) == 1.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_markdown_table_lines_up_and_refuses_ragged_rows() -> None:
    table = markdown_table(("a", "long header"), [("1", "2"), ("333", "4")])
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].startswith("|--") and lines[1].endswith(":|")
    with pytest.raises(ValueError, match="cells"):
        markdown_table(("a", "b"), [("only one",)])


def test_matching_benchmark_at_small_sizes() -> None:
    results = [matching.measure(size, decisions=60) for size in (50, 200)]
    for result in results:
        assert result.decisions == 60
        assert 0 < result.mean_speakers <= result.pool_size
        assert 0 < result.median_us <= result.p90_us
        assert 0.0 <= result.nobody_in_hours <= 1.0
    exponents = matching.growth_exponents(results)
    assert exponents[0] is None and isinstance(exponents[1], float)


def test_generated_pool_and_requests_are_reproducible_and_varied() -> None:
    first = matching.generate_pool(300, random.Random(7))
    again = matching.generate_pool(300, random.Random(7))
    assert first == again
    assert {"ar", "ti", "nl", "en"} <= {lang for person in first for lang in person.languages}
    assert len({person.schedule.windows for person in first}) == len(matching.SCHEDULE_TEMPLATES)
    requests = matching.generate_requests(200, 300, random.Random(7))
    assert {request.language for request, _ in requests} == {"ar", "ti", "nl", "en"}
    assert len({instant.hour for _, instant in requests}) > 12


def test_growth_exponent_is_one_for_time_proportional_to_speakers() -> None:
    def result(speakers: float, median_us: float) -> matching.MatchingResult:
        return matching.MatchingResult(
            pool_size=int(speakers * 2),
            decisions=1,
            mean_speakers=speakers,
            median_us=median_us,
            p90_us=median_us,
            median_ns_per_speaker=1.0,
            nobody_in_hours=0.0,
            pool_build_ms=0.0,
        )

    exponents = matching.growth_exponents(
        [result(100, 50), result(1000, 500), result(10000, 50000)]
    )
    assert exponents[1] == pytest.approx(1.0)
    assert exponents[2] == pytest.approx(2.0)


def phase(name: str, messages: int, seconds: float) -> PhaseResult:
    return PhaseResult(
        phase=name,
        messages=messages,
        seconds=seconds,
        sending_seconds=seconds / 2,
        latencies_ms=(10.0, 20.0, 30.0),
        bot_cpu_ms=1.0,
        sandbox_cpu_ms=1.0,
    )


def run(bot: str, messages_per_second: float) -> BotRun:
    return BotRun(
        bot=bot,
        phases=(phase(BURST, 100, 100 / messages_per_second), phase(CHAT_PACE, 10, 1.0)),
        peak_rss_mb=100.0,
    )


def test_relay_is_compared_with_the_echo_run_of_the_same_round() -> None:
    runs = [
        run(ECHO_BOT, 200.0),
        run(UNCAPPED, 50.0),
        run(ECHO_BOT, 100.0),
        run(UNCAPPED, 40.0),
        run("relay, 30/s cap", 30.0),
    ]
    assert relay_ratios(runs) == [pytest.approx(0.25), pytest.approx(0.4)]
    assert runs[0].phase(CHAT_PACE).p50_ms == 20.0


def score(pipeline: str, macro_f1: dict[str, float]) -> PipelineScore:
    return PipelineScore(
        pipeline=pipeline,
        model="nlu-x.tar.gz",
        macro_f1=macro_f1,
        accuracy=macro_f1,
        messages=10,
        classify_seconds=1.0,
        server_peak_rss_mb=500.0,
    )


def test_nlu_difference_is_taken_on_the_chosen_pipelines_weaker_language() -> None:
    result = NluResult(
        chosen=score("chosen", {"ar": 0.80, "ti": 0.70, "nl": 0.90}),
        default=score("Rasa default", {"ar": 0.60, "ti": 0.66, "nl": 0.95}),
        latency=None,
        notes=(),
    )
    assert result.weaker_language() == "ti"
    assert result.macro_f1_points_vs_default() == pytest.approx(4.0)
    assert result.points_vs_default("nl") == pytest.approx(-5.0)
    without_default = NluResult(result.chosen, None, None, ("not cached",))
    assert without_default.macro_f1_points_vs_default() is None


def rows_of(table: str) -> dict[str, list[str]]:
    """A Markdown table's rows by their first cell, header and rule left out."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    return {row[0]: row[1:] for row in rows[2:]}


def test_targets_say_by_how_much_they_were_missed() -> None:
    rows = rows_of(targets_table(Headline(0.25, 40.0, 2000.0, None, 150.0), []))
    assert rows["relay_vs_echo >= 0.5"] == ["0.25", "missed by 0.25 (0.50x the target)"]
    assert rows["match_10k_us <= 1000"] == ["2,000", "missed by 1,000 (2.00x the target)"]
    assert rows["p99_ms <= 50 (chat pace, 100 conversations)"] == ["40", "met"]
    assert rows["rss_mb <= 200"] == ["150", "met"]
    # No matching sizes and no NLU figure: nothing to judge.
    assert rows["matching growth exponent <= 1.1"] == ["n/a", "not measured"]
    assert rows["nlu_macro_f1_vs_default >= +3 points"] == ["n/a", "not measured"]
    worse_than_default = rows_of(targets_table(Headline(0.25, 40.0, 2000.0, -9.86, 150.0), []))
    assert worse_than_default["nlu_macro_f1_vs_default >= +3 points"] == ["-9.86", "missed by 12.9"]


def test_worker_config_survives_the_trip_through_json(tmp_path: Path) -> None:
    config = WorkerConfig(
        kind=ECHO,
        token="1:x",
        base_url="http://127.0.0.1:1/bot",
        base_file_url="http://127.0.0.1:1/file/bot",
        partners=((1, 2), (2, 1)),
    )
    path = tmp_path / "worker.json"
    config.write(path)
    assert WorkerConfig.read(path) == config


def test_relay_load_refuses_phases_that_would_send_nothing() -> None:
    load = RelayLoad(conversations=100, burst=2, chat_interval=10.0, paced_seconds=6.0)
    assert load.paced_rates() == {CHAT_PACE: 10.0, "30/s": 30.0}
    with pytest.raises(ValueError, match="paced phase"):
        RelayLoad(conversations=1, burst=1, chat_interval=10.0, paced_seconds=1.0)
