"""`nlu.evaluate`: metrics on hand-computed examples, file errors, and the real held-out scores."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.client import Classification
from nlu.danger import Danger
from nlu.domains import Domain
from nlu.evaluate import (
    EvaluationFileError,
    LabelledText,
    accuracy,
    confusion,
    domain_scores,
    format_reports,
    language_reports,
    macro_f1,
    main,
    read_labelled_file,
)
from nlu.service import PROJECT_ROOT, RasaServer

DATA = Path(__file__).resolve().parent.parent / "data"
HELDOUT = DATA / "nlu_heldout.tsv"

# Six messages: gold and predicted domain. Worked out by hand:
#   post:      tp=1 fp=1 fn=1  precision 1/2, recall 1/2, f1 1/2
#   finance:   tp=2 fp=0 fn=0  precision 1,   recall 1,   f1 1
#   emergency: tp=1 fp=1 fn=0  precision 1/2, recall 1,   f1 2/3
#   health:    tp=0 fp=0 fn=1  precision 0,   recall 0,   f1 0
GOLD = ["post", "post", "finance", "finance", "emergency", "health"]
PREDICTED = ["post", "emergency", "finance", "finance", "emergency", "post"]


def test_accuracy_counts_exact_matches() -> None:
    assert accuracy(GOLD, PREDICTED) == pytest.approx(4 / 6)
    assert accuracy([], []) == 0.0
    with pytest.raises(ValueError, match="length"):
        accuracy(["post"], [])


def test_domain_scores_match_the_hand_computed_ones() -> None:
    scores = domain_scores(GOLD, PREDICTED, ["post", "finance", "emergency", "health"])
    assert (scores["post"].precision, scores["post"].recall, scores["post"].f1) == (0.5, 0.5, 0.5)
    assert (scores["finance"].precision, scores["finance"].recall) == (1.0, 1.0)
    assert scores["emergency"].precision == 0.5
    assert scores["emergency"].recall == 1.0
    assert scores["emergency"].f1 == pytest.approx(2 / 3)
    assert (scores["health"].precision, scores["health"].f1) == (0.0, 0.0)
    assert [scores[d].support for d in ("post", "finance", "emergency", "health")] == [2, 2, 1, 1]


def test_macro_f1_averages_the_given_domains_only() -> None:
    domains = ["post", "finance", "emergency", "health"]
    assert macro_f1(GOLD, PREDICTED, domains) == pytest.approx((0.5 + 1 + 2 / 3 + 0) / 4)
    assert macro_f1(GOLD, PREDICTED, ["finance"]) == 1.0
    assert macro_f1(GOLD, PREDICTED, []) == 0.0


def test_confusion_has_gold_rows_and_predicted_columns() -> None:
    labels = ["post", "finance", "emergency", "health"]
    assert confusion(GOLD, PREDICTED, labels) == [
        [1, 0, 1, 0],
        [0, 2, 0, 0],
        [0, 0, 1, 0],
        [1, 0, 0, 0],
    ]


def classification(intent: str, *, unsure: bool = False) -> Classification:
    domain = None if unsure else Domain(intent if intent != "greet" else "other")
    return Classification(intent=intent, confidence=0.4 if unsure else 0.9, domain=domain)


def test_reports_score_each_language_and_end_with_the_summary_lines() -> None:
    items = [
        LabelledText("ti", "post", "a"),
        LabelledText("ti", "health", "b"),
        LabelledText("ar", "post", "c"),
        LabelledText("ar", "other", "d"),
    ]
    answers = [
        classification("post"),
        classification("post", unsure=True),
        classification("post"),
        classification("greet"),
    ]
    reports = language_reports(items, answers)
    assert [report.lang for report in reports] == ["ar", "ti"]
    ar, ti = reports
    assert ar.domains == ("post", "health", "other")  # the file's domains, in Domain order
    assert (ar.accuracy, ti.accuracy) == (1.0, 0.5)
    # ar: post and other perfect, health absent in both columns (f1 0 by convention).
    assert ar.macro_f1 == pytest.approx(2 / 3)
    # ti: post precision 1/2 recall 1 f1 2/3, health 0, other 0.
    assert ti.macro_f1 == pytest.approx((2 / 3) / 3)
    # The unsure health question is scored by the domain of Rasa's guess, and counted as asked.
    assert (ti.asked, ti.confident_wrong, ar.asked) == (1, 0, 0)
    lines = format_reports(reports, threshold=0.5).splitlines()
    assert lines[-4:] == [
        "accuracy ar=1.000 ti=0.500",
        "macro_f1 ar=0.667 ti=0.222",
        "urgent ar=0.000 ti=0.000",
        "help ar=0.000 ti=0.000",
    ]


def test_urgent_and_help_shares_follow_the_two_tiers() -> None:
    """Urgent: a phrase, or Rasa's emergency intent with confidence; help: urgent or asked
    (Rasa's emergency intent below that, or a phrase told as past). An asked question is
    scored where the bot sends it: the best intent other than emergency."""
    items = [
        LabelledText("nl", "emergency", "mijn man slaat me en ik ben bang"),
        LabelledText("nl", "emergency", "help snel kom"),
        LabelledText("nl", "health", "ik ben bang voor de prik"),
        LabelledText("nl", "health", "vorig jaar had ik pijn op de borst, nu niet meer"),
        LabelledText("nl", "finance", "mijn pas is weg"),
    ]
    answers = [
        classification("health"),
        Classification("emergency", 0.95, Domain.EMERGENCY, ranking=(("emergency", 0.95),)),
        Classification(
            "emergency",
            0.4,
            Domain.EMERGENCY,
            ranking=(("emergency", 0.4), ("health", 0.35), ("post", 0.25)),
        ),
        classification("health"),
        classification("finance"),
    ]
    (report,) = language_reports(items, answers)
    assert report.danger == (
        Danger.URGENT,
        Danger.URGENT,
        Danger.CHECK,
        Danger.CHECK,
        Danger.NONE,
    )
    assert report.predicted == ("emergency", "emergency", "health", "health", "finance")
    assert (report.urgent_share, report.help_share) == (0.4, 0.8)
    lines = format_reports([report], threshold=0.5).splitlines()
    assert lines[-2:] == ["urgent nl=0.400", "help nl=0.800"]


def test_emergency_words_route_as_the_bot_does_unless_rasa_only() -> None:
    """The bot treats a message with emergency phrases as urgent whatever Rasa says."""
    items = [
        LabelledText("nl", "emergency", "mijn man slaat me en ik ben bang"),
        LabelledText("nl", "health", "ik zoek een huisarts"),
    ]
    answers = [classification("health"), classification("health")]
    (routed,) = language_reports(items, answers)
    assert routed.predicted == ("emergency", "health")
    (rasa_alone,) = language_reports(items, answers, rasa_only=True)
    assert rasa_alone.predicted == rasa_alone.rasa_predicted == ("health", "health")
    assert "scored: Rasa's first intent alone" in format_reports([rasa_alone], 0.5, rasa_only=True)


def write(tmp_path: Path, content: str, name: str = "file.tsv") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_columns_in_any_order_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffid\ttext\tnote\tdomain\tlang\n"
        '1\tIk heb een "brief"\tx\tpost\tnl\n'
        "\n"
        "2\tI want to die\t\temergency\ten\n",
    )
    assert read_labelled_file(path) == [
        LabelledText("nl", "post", 'Ik heb een "brief"'),
        LabelledText("en", "emergency", "I want to die"),
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ("lang\tdomain\ttext\n", "no labelled rows"),
        ("lang\ttext\nnl\thallo\n", "lacks column(s) domain"),
        ("language\tdomain\tmessage\nnl\tpost\thallo\n", "lacks column(s) lang, text"),
        ("lang\tdomain\ttext\nnl\tletters\thallo\n", "2: unknown domain 'letters'"),
        ("lang\tdomain\ttext\nnl\tpost\thallo\nnl\tpost\n", "3: 2 fields, but the header has 3"),
        ("lang\tdomain\ttext\nnl\tpost\t \n", "2: empty lang or text"),
    ],
)
def test_bad_files_are_refused_with_the_problem_named(
    tmp_path: Path, content: str, problem: str
) -> None:
    with pytest.raises(EvaluationFileError, match=re.escape(problem)):
        read_labelled_file(write(tmp_path, content))


def test_missing_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EvaluationFileError, match="no such file"):
        read_labelled_file(tmp_path / "absent.tsv")
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes("lang\tdomain\ttext\nnl\tpost\tbrief café\n".encode("latin-1"))
    with pytest.raises(EvaluationFileError, match="not UTF-8"):
        read_labelled_file(latin1)


def test_a_bad_file_exits_with_2_and_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "lang\tdomain\ttext\nar\tfood\tشو في اكل\n")
    assert main([str(path)]) == 2
    assert "unknown domain 'food'" in capsys.readouterr().err


def test_the_command_line_exits_with_2_before_touching_rasa(tmp_path: Path) -> None:
    path = write(tmp_path, "lang\ttext\nnl\thallo\n")
    result = subprocess.run(
        [sys.executable, "-m", "nlu.evaluate", str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RASA_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "lacks column(s) domain" in result.stderr
    assert result.stdout == ""


@pytest.mark.rasa
def test_the_command_prints_per_language_scores_last(rasa_server: RasaServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nlu.evaluate", str(HELDOUT)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RASA_URL": rasa_server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-4:]
    for line, name in zip(last, ("accuracy", "macro_f1", "urgent", "help"), strict=True):
        label, *values = line.split(" ")
        assert label == name
        assert [value.split("=")[0] for value in values] == ["ar", "en", "nl", "ti"]
        assert all(len(value.split("=")[1]) == 5 for value in values)  # 0.xxx or 1.000
