"""Pure helpers for the benchmark's output: percentiles, Markdown tables and the last line."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) quantile, interpolating linearly between the two nearest values."""
    if not values:
        raise ValueError("no values")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, not {share}")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose columns line up in a terminal too (numbers right-aligned)."""
    widths = [len(header) for header in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(headers)} columns")
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.rjust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 1) + ":" for width in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


@dataclass(frozen=True)
class Headline:
    """The five numbers of the last line; None where a measurement could not be made."""

    relay_vs_echo: float | None
    p99_ms: float | None
    match_10k_us: float | None
    # Macro-F1 points (F1 x 100) of the chosen pipeline minus Rasa's default pipeline.
    nlu_macro_f1_vs_default: float | None
    rss_mb: float | None

    def line(self) -> str:
        """`bench relay_vs_echo=R p99_ms=L match_10k_us=M nlu_macro_f1_vs_default=D rss_mb=S`"""
        return (
            f"bench relay_vs_echo={_number(self.relay_vs_echo, '.2f')}"
            f" p99_ms={_number(self.p99_ms, '.1f')}"
            f" match_10k_us={_number(self.match_10k_us, '.0f')}"
            f" nlu_macro_f1_vs_default={_number(self.nlu_macro_f1_vs_default, '+.1f')}"
            f" rss_mb={_number(self.rss_mb, '.0f')}"
        )


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
