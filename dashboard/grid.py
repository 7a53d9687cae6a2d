"""Weekly office hours as a grid of half-hour cells, and back.

The grid is what a coordinator edits; the windows are what matching reads (`office_windows`).
Adjacent checked cells on a day become one window. Windows that do not start or end on a half
hour are shown by the cells they touch, so saving the grid rounds them outward: nobody loses
hours by an edit they did not make.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from matching.office_hours import WeeklyWindow

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES

Cell = tuple[int, int]  # (weekday 0 = Monday, slot 0 = 00:00-00:30)


def slot_start(slot: int) -> time:
    minutes = slot * SLOT_MINUTES
    return time(minutes // 60, minutes % 60)


def _slot_end(slot: int) -> time:
    # The last slot of the day ends at midnight, which windows write as time(0).
    return time(0) if slot == SLOTS_PER_DAY - 1 else slot_start(slot + 1)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def cells_of(windows: Iterable[WeeklyWindow]) -> set[Cell]:
    """Every cell a window touches."""
    cells: set[Cell] = set()
    for window in windows:
        start = _minutes(window.start)
        end = 24 * 60 if window.end == time(0) else _minutes(window.end)
        if window.end.second or window.end.microsecond:
            end += 1
        first = start // SLOT_MINUTES
        last = (end - 1) // SLOT_MINUTES
        cells.update((window.weekday, slot) for slot in range(first, last + 1))
    return cells


def windows_of(cells: Iterable[Cell]) -> tuple[WeeklyWindow, ...]:
    """The fewest windows that cover exactly the checked cells."""
    windows: list[WeeklyWindow] = []
    by_day: dict[int, list[int]] = {}
    for weekday, slot in set(cells):
        if not (0 <= weekday <= 6 and 0 <= slot < SLOTS_PER_DAY):
            raise ValueError(f"no such cell: day {weekday}, slot {slot}")
        by_day.setdefault(weekday, []).append(slot)
    for weekday in sorted(by_day):
        slots = sorted(by_day[weekday])
        run_start = previous = slots[0]
        for slot in slots[1:]:
            if slot != previous + 1:
                windows.append(WeeklyWindow(weekday, slot_start(run_start), _slot_end(previous)))
                run_start = slot
            previous = slot
        windows.append(WeeklyWindow(weekday, slot_start(run_start), _slot_end(previous)))
    return tuple(windows)


def parse_cells(values: Iterable[str]) -> set[Cell]:
    """Form values `"<weekday>-<slot>"` to cells; raises ValueError for anything else."""
    cells: set[Cell] = set()
    for value in values:
        day_text, _, slot_text = value.partition("-")
        if not (day_text.isdigit() and slot_text.isdigit()):
            raise ValueError(f"not a grid cell: {value!r}")
        cells.add((int(day_text), int(slot_text)))
    windows_of(cells)  # validates the ranges
    return cells


def is_exact(windows: Iterable[WeeklyWindow]) -> bool:
    """Whether the grid shows these windows without rounding (all on half-hour boundaries)."""
    return all(
        moment.minute % SLOT_MINUTES == 0 and not moment.second and not moment.microsecond
        for window in windows
        for moment in (window.start, window.end)
    )
