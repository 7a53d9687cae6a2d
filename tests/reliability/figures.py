"""The figures a fault test measured, kept in artifacts/ for the closing note and printed."""

from __future__ import annotations

from tests.conftest import ARTIFACTS


def record_figures(name: str, report: str) -> None:
    """Write `report` to artifacts/reliability-<name>.txt and show it in the test output."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"reliability-{name}.txt").write_text(report, encoding="utf-8")
    print(report)
