"""Matching benchmark: how long one routing decision takes as the pool of sleutelpersonen grows.

A decision is what the bot's `Handover.match` asks of the pure core: everyone who may be offered
the request now, best first (`rank_candidates`), and when nobody is, when someone fitting will
be (`earliest_availability`). The pool is generated, seeded, with the variety a national
programme has: Arabic- and Tigrinya-speaking sleutelpersonen (most also speak Dutch, some
English), part-time, evening and weekend office hours, Dutch public holidays and leave, partly
used capacity. Requests arrive mostly in the day and evening, some at night, over four weeks in
March 2027 (which ends with the switch to summer time).

The pool itself is built once per size here; the bot builds it from the database for every
decision, which is a database cost, not a matching one, and is not part of these figures.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from bench.report import percentile
from matching.candidates import (
    CandidatePool,
    HelpRequest,
    Sleutelpersoon,
    earliest_availability,
    rank_candidates,
)
from matching.office_hours import Schedule, WeeklyWindow, parse_weekly_hours

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST_DAY = date(2027, 3, 1)
DAYS = 28
DOMAINS = ("post", "finance", "health", "other")
TOWNS = tuple(f"town-{number}" for number in range(40))
# (office hours, how common): full-time staff, part-timers, and volunteers after work or at
# the weekend.
SCHEDULE_TEMPLATES: tuple[tuple[str, int], ...] = (
    ("mon-fri 09:00-17:00", 15),
    ("mon-fri 09:00-12:00 13:00-17:00", 15),
    ("mon-thu 09:00-13:00", 15),
    ("tue-thu 10:00-15:00; sat 10:00-12:00", 10),
    ("mon 19:00-21:00; wed 19:00-21:00; thu 19:00-21:00", 15),
    ("mon-fri 18:00-21:30", 15),
    ("sat-sun 10:00-16:00", 10),
    ("mon-sun 08:00-22:00", 5),
)
# Request languages as newcomers choose them in the bot.
REQUEST_LANGUAGES = (("ar", 40), ("ti", 35), ("nl", 15), ("en", 10))
# When newcomers write, by local hour: mostly day and evening, some at night.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 4, 4, 3, 2)


@dataclass(frozen=True)
class MatchingResult:
    pool_size: int
    decisions: int
    mean_speakers: float  # sleutelpersonen who speak the request's language, per decision
    median_us: float
    p90_us: float
    median_ns_per_speaker: float
    nobody_in_hours: float  # share of decisions that had to look for the next opening
    pool_build_ms: float


def generate_pool(size: int, rng: random.Random) -> list[Sleutelpersoon]:
    """`size` sleutelpersonen with realistic languages, hours, days off and load."""
    templates = [parse_weekly_hours(spec) for spec, _ in SCHEDULE_TEMPLATES]
    template_weights = [weight for _, weight in SCHEDULE_TEMPLATES]
    public_holidays = frozenset(
        holidays.country_holidays("NL", years=range(FIRST_DAY.year - 1, FIRST_DAY.year + 2))
    )
    return [
        _person(number, rng, rng.choices(templates, template_weights)[0], public_holidays)
        for number in range(1, size + 1)
    ]


def _person(
    number: int,
    rng: random.Random,
    windows: tuple[WeeklyWindow, ...],
    public_holidays: frozenset[date],
) -> Sleutelpersoon:
    languages = {"ar" if rng.random() < 0.55 else "ti"}
    if rng.random() < 0.7:
        languages.add("nl")
    if rng.random() < 0.35:
        languages.add("en")
    domains = frozenset(domain for domain in DOMAINS if rng.random() < 0.5) or frozenset(
        {rng.choice(DOMAINS)}
    )
    days_off: frozenset[date] = frozenset() if rng.random() < 0.2 else public_holidays
    if rng.random() < 0.08:
        leave_start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        days_off |= {leave_start + timedelta(days=day) for day in range(rng.randint(3, 14))}
    max_open = rng.choice((2, 3, 3, 5))
    max_new = rng.choice((3, 5, 5, 10))
    return Sleutelpersoon(
        id=number,
        languages=frozenset(languages),
        domains=domains,
        schedule=Schedule(windows, days_off=days_off),
        max_open_conversations=max_open,
        max_new_per_week=max_new,
        # Most have room; some are full, which the filter must notice.
        open_conversations=min(max_open, int(rng.expovariate(1.0))),
        handovers_last_7_days=min(max_new, int(rng.expovariate(0.5))),
        gender=rng.choice(("f", "m")),
        circle=rng.choice(TOWNS),
        paid=rng.random() < 0.15,
        active=rng.random() < 0.95,
    )


def generate_requests(
    count: int, pool_size: int, rng: random.Random
) -> list[tuple[HelpRequest, datetime]]:
    """`count` requests with the instant each one is matched at."""
    languages = [language for language, _ in REQUEST_LANGUAGES]
    language_weights = [weight for _, weight in REQUEST_LANGUAGES]
    requests = []
    for _ in range(count):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        instant = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=AMSTERDAM)
        request = HelpRequest(
            language=rng.choices(languages, language_weights)[0],
            domain=rng.choice(DOMAINS),
            preferred_gender=rng.choice(("f", "f", "f", "m")) if rng.random() < 0.2 else None,
            avoid_circle=rng.choice(TOWNS) if rng.random() < 0.15 else None,
            previous_helpers=(
                tuple(rng.sample(range(1, pool_size + 1), min(pool_size, rng.randint(1, 2))))
                if rng.random() < 0.25
                else ()
            ),
            excluded=(
                frozenset(rng.sample(range(1, pool_size + 1), min(pool_size, rng.randint(1, 3))))
                if rng.random() < 0.1
                else frozenset()
            ),
        )
        requests.append((request, instant))
    return requests


def measure(pool_size: int, decisions: int, seed: int = 1) -> MatchingResult:
    """Time `decisions` decisions over a generated pool of `pool_size` sleutelpersonen."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    people = generate_pool(pool_size, rng)
    started = time.perf_counter()
    pool = CandidatePool(people)
    pool_build_ms = (time.perf_counter() - started) * 1000
    durations_us: list[float] = []
    per_speaker_ns: list[float] = []
    speakers: list[int] = []
    nobody = 0
    for request, instant in generate_requests(decisions, pool_size, rng):
        started_ns = time.perf_counter_ns()
        ranked = rank_candidates(pool, request, instant)
        if not ranked:
            earliest_availability(pool, request, instant)
        elapsed_ns = time.perf_counter_ns() - started_ns
        speaking = len(pool.speaking(request.language))
        durations_us.append(elapsed_ns / 1000)
        per_speaker_ns.append(elapsed_ns / max(speaking, 1))
        speakers.append(speaking)
        nobody += not ranked
    return MatchingResult(
        pool_size=pool_size,
        decisions=decisions,
        mean_speakers=statistics.fmean(speakers),
        median_us=statistics.median(durations_us),
        p90_us=percentile(durations_us, 0.9),
        median_ns_per_speaker=statistics.median(per_speaker_ns),
        nobody_in_hours=nobody / decisions,
        pool_build_ms=pool_build_ms,
    )


def growth_exponents(results: Sequence[MatchingResult]) -> list[float | None]:
    """For each size after the first: d log(median time) / d log(speakers) from the previous
    size. 1.0 is linear in the number of sleutelpersonen who speak the language."""
    exponents: list[float | None] = [None]
    for previous, current in itertools.pairwise(results):
        exponents.append(
            _log_ratio(current.median_us, previous.median_us)
            / _log_ratio(current.mean_speakers, previous.mean_speakers)
        )
    return exponents


def _log_ratio(after: float, before: float) -> float:
    return math.log(after / before)
