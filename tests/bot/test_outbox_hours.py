"""The office-hours guarantee where it is kept: the outbox sender, over random schedules.

Hypothesis draws two sleutelpersonen's weekly hours (several windows a day, some inside the
spring-forward gap or the doubled autumn hour), leave, `/away` and the public-holiday choice;
a start just before a change of summer time or a Dutch public holiday; and a run of clock
jumps, each followed by rows written as bot/handover.py and bot/erasure.py write them (offers,
conversation headers, relayed copies, "already taken" edits of a delivered offer, thanks,
erasure notices), the person's answers to their own commands, and messages to the newcomer.
After every flush, each chat's deliveries in the sandbox Telegram must be exactly what the
definition allows (tests/bot/hours_oracle.py, independent of matching/): within the person's
hours, everything waiting, in the order written; outside them, only the answers to their own
commands, in order. Then the clock goes to each next opening until nothing is left, so all
that was written arrives, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ExtBot

from bot import notices
from bot.models import Conversation, Leave, OfficeWindow, OutboxMessage, Sleutelpersoon
from bot.outbox import RECHECK_HELD, OutboxSender, enqueue
from bot.rate_limit import SharedRateLimiter, TelegramRateLimiter
from bot.storage import create_engine_for, migrate, session_factory
from sandbox import Sandbox, SimUser

from .hours_oracle import AMSTERDAM, Hours
from .kit import NO_FLOOD_LIMITS, TEXTS, ManualClock, add_sleutelpersoon, bot_process, world
from .test_conversation import WORKDAYS, join_conversation, open_conversation, rasa_nowhere

EXAMPLES = 40
# The turns of summer time and public holidays of 2026 and 2027 (Good Friday, King's Day,
# Ascension, Christmas): a run starts at noon up to three days before one of them.
ANCHORS = (
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2026, 4, 3),
    date(2026, 4, 27),
    date(2026, 5, 14),
    date(2026, 12, 25),
)
# How far the final phase looks for a next opening (long leave plus a holiday fit in it).
HORIZON = timedelta(days=40)
# Rows to a sleutelpersoon, each as the bot writes it; "answer" is a reply to their own command.
DUTCH = TEXTS["nl"]
HELD_KINDS = ("offer", "header", "copy", "edit", "thanks", "erasure")
KINDS = (*HELD_KINDS, "answer", "to_newcomer")


@dataclass(frozen=True)
class Plan:
    hours: tuple[Hours, Hours]
    start: datetime
    # Each step: minutes the clock moves, then (kind, which sleutelpersoon) rows written.
    steps: tuple[tuple[int, tuple[tuple[str, int], ...]], ...]


quarter_hours = st.one_of(
    st.integers(0, 95),
    st.integers(8, 12),  # 02:00-03:00, the hour that is skipped in spring and doubled in autumn
)


@st.composite
def windows(draw: st.DrawFn, anchor: date) -> tuple[int, time, time]:
    # Often on the anchor's weekday, so that its DST turn or holiday matters.
    weekday = draw(st.one_of(st.integers(0, 6), st.just(anchor.weekday())))
    start = draw(quarter_hours)
    end = min(96, start + draw(st.integers(1, 48)))
    return weekday, _quarter(start), _quarter(end % 96)


def _quarter(index: int) -> time:
    return time(index // 4, index % 4 * 15)


@st.composite
def hours_near(draw: st.DrawFn, anchor: date) -> Hours:
    leave = draw(
        st.lists(
            st.tuples(st.integers(-3, 10), st.integers(0, 4)).map(
                lambda span: (
                    anchor + timedelta(days=span[0]),
                    anchor + timedelta(days=span[0] + span[1]),
                )
            ),
            max_size=2,
        )
    )
    away = draw(st.none() | st.integers(-2, 4).map(lambda days: anchor + timedelta(days=days)))
    return Hours(
        windows=tuple(draw(st.lists(windows(anchor), min_size=1, max_size=8))),
        leave=tuple(leave),
        away_until=away,
        works_on_public_holidays=draw(st.booleans()),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    anchor = draw(st.sampled_from(ANCHORS))
    noon = datetime.combine(anchor, time(12), AMSTERDAM).astimezone(UTC)
    start = noon - timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
    moves = st.one_of(st.integers(0, 60), st.integers(0, 180), st.integers(181, 24 * 60))
    rows = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 1)), max_size=5)
    return Plan(
        hours=(draw(hours_near(anchor)), draw(hours_near(anchor))),
        start=start,
        steps=tuple(draw(st.lists(st.tuples(moves, rows.map(tuple)), min_size=1, max_size=12))),
    )


@dataclass
class Delivery:
    """The sender under test, the sandbox it sends to, and the clock both read."""

    sandbox: Sandbox
    clock: ManualClock
    sessions: async_sessionmaker[AsyncSession]
    sender: OutboxSender


@pytest.fixture
async def delivery(
    database_url: str, redis: Redis, redis_key_prefix: str
) -> AsyncIterator[Delivery]:
    migrate(database_url)
    clock = ManualClock(datetime.combine(ANCHORS[0], time(12), AMSTERDAM).astimezone(UTC))
    engine = create_engine_for(database_url)
    limiter = SharedRateLimiter(redis, redis_key_prefix, NO_FLOOD_LIMITS)
    try:
        async with Sandbox(flood_limits=None, clock=clock.now) as sandbox:
            bot: ExtBot[Any] = ExtBot(
                sandbox.token,
                base_url=sandbox.base_url,
                rate_limiter=TelegramRateLimiter(limiter),
            )
            async with bot:
                sessions = session_factory(engine)
                yield Delivery(
                    sandbox, clock, sessions, OutboxSender(sessions, bot, clock, limiter=limiter)
                )
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Written:
    label: str  # what identifies it in the sandbox's record of calls
    held: bool  # carries the office-hours hold


class Run:
    """One example: two sleutelpersonen, a newcomer, and what each chat still awaits."""

    def __init__(self, delivery: Delivery, people: list[SimUser], newcomer: SimUser) -> None:
        self.delivery = delivery
        self.people = people
        self.newcomer = newcomer
        self.person_ids: list[int] = []
        self.awaited: dict[int, list[Written]] = {user.id: [] for user in (*people, newcomer)}
        self.labels = count()
        self.seen_requests = len(delivery.sandbox.requests)

    async def write(self, rows: tuple[tuple[str, int], ...]) -> None:
        """Write one step's rows in one transaction, as one handler would."""
        now = self.delivery.clock.now()
        async with self.delivery.sessions.begin() as session:
            for kind, which in rows:
                await self._write_one(session, now, kind, which)

    async def _write_one(self, session: AsyncSession, now: datetime, kind: str, which: int) -> None:
        """One row as the bot writes it for `kind` (see KINDS), to sleutelpersoon `which`."""
        chat, number = self.people[which].id, next(self.labels)
        method, params = "sendMessage", {"text": f"{kind} {number}"}
        purposes = {"offer": "offer", "header": "header", "copy": "relay", "erasure": "notice"}
        purpose = f"{purposes[kind]}:{number}" if kind in purposes else None
        if kind == "offer":
            keyboard = [[{"text": "✅", "callback_data": f"oa:{number}"}]]
            params["reply_markup"] = {"inline_keyboard": keyboard}
        elif kind == "copy":
            question = await self.newcomer.send_text(f"question {number}")
            method = "copyMessage"
            params = {"from_chat_id": self.newcomer.id, "message_id": question.message_id}
        elif kind == "edit":
            offers = [m for m in self.people[which].received() if m.reply_markup is not None]
            if not offers:
                return  # the bot edits an offer only once it has been delivered
            method = "editMessageText"
            params = {"message_id": offers[-1].message_id, "text": f"taken {number}"}
        elif kind == "to_newcomer":
            chat = self.newcomer.id
        held = kind in HELD_KINDS
        person_id = self.person_ids[which] if held else None
        enqueue(session, now, chat, method, params, sleutelpersoon_id=person_id, purpose=purpose)
        self.awaited[chat].append(Written(_label(method, params), held))

    async def flush_and_judge(self, hours: tuple[Hours, Hours]) -> None:
        """Flush every chat, then compare each chat's deliveries with the definition."""
        now = self.delivery.clock.now()
        await self.delivery.sender.flush()
        calls = self.delivery.sandbox.requests[self.seen_requests :]
        self.seen_requests += len(calls)
        delivered: dict[int, list[str]] = {chat: [] for chat in self.awaited}
        for method, params, status in calls:
            assert status == 200, (method, params)
            delivered[int(params["chat_id"])].append(_label(method, params))
        for chat, awaited in self.awaited.items():
            reachable = next(
                (h.reachable(now) for h, p in zip(hours, self.people, strict=True) if p.id == chat),
                True,  # the newcomer's chat has no hours
            )
            allowed = [row for row in awaited if reachable or not row.held]
            assert delivered[chat] == [row.label for row in allowed], (
                f"at {now.astimezone(AMSTERDAM):%a %Y-%m-%d %H:%M %Z}, reachable={reachable}"
            )
            self.awaited[chat] = [row for row in awaited if row not in allowed]

    def next_opening(self, hours: tuple[Hours, Hours]) -> datetime | None:
        """The earliest next reachable instant of someone who still awaits a held row."""
        now = self.delivery.clock.now()
        openings = [
            h.next_reachable(now, HORIZON)
            for h, person in zip(hours, self.people, strict=True)
            if any(row.held for row in self.awaited[person.id])
        ]
        return min((moment for moment in openings if moment is not None), default=None)


def _label(method: str, params: dict[str, Any]) -> str:
    if method == "copyMessage":
        return f"copy {int(params['message_id'])}"
    return str(params["text"])


async def _start(delivery: Delivery, plan: Plan) -> Run:
    delivery.clock.set(plan.start)
    sandbox = delivery.sandbox
    run = Run(
        delivery, [sandbox.add_user("Amal"), sandbox.add_user("Tesfay")], sandbox.add_user("Amina")
    )
    async with delivery.sessions.begin() as session:
        for table in (OutboxMessage, Leave, OfficeWindow, Sleutelpersoon):
            await session.execute(delete(table))
        for user, hours in zip(run.people, plan.hours, strict=True):
            person = Sleutelpersoon(
                telegram_user_id=user.id,
                display_name=user.first_name,
                languages=["ar"],
                domains=["post"],
                roles=[],
                works_on_public_holidays=hours.works_on_public_holidays,
                away_until=hours.away_until,
                created_at=plan.start,
                windows=[
                    OfficeWindow(weekday=d, starts_at=s, ends_at=e) for d, s, e in hours.windows
                ],
                leaves=[Leave(first_day=first, last_day=last) for first, last in hours.leave],
            )
            session.add(person)
            await session.flush()
            run.person_ids.append(person.id)
    return run


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
async def test_nothing_reaches_a_sleutelpersoon_outside_their_hours_and_all_arrives_in_order(
    delivery: Delivery, plan: Plan
) -> None:
    run = await _start(delivery, plan)
    for minutes, rows in plan.steps:
        delivery.clock.advance(timedelta(minutes=minutes))
        await run.write(rows)
        await run.flush_and_judge(plan.hours)
    while (opening := run.next_opening(plan.hours)) is not None:
        delivery.clock.set(opening)
        await run.flush_and_judge(plan.hours)
    never_open = {
        person.id
        for h, person in zip(plan.hours, run.people, strict=True)
        if h.next_reachable(delivery.clock.now(), HORIZON) is None
    }
    assert all(not rows or chat in never_open for chat, rows in run.awaited.items())


async def test_her_own_commands_are_answered_at_night_while_what_was_sent_to_her_waits(
    sqlite_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    """A newcomer writes at 23:00 and the copy waits for 09:00; Amal's /hours, /away and /mine
    a minute later are answered at once, not queued behind it."""
    tuesday_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), tuesday_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        amina = await open_conversation(sandbox, bot, amal)
        clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=AMSTERDAM))
        await amina.send_text("هل أنت هنا؟")
        await amina.wait_for_message(lambda m: "Amal" in (m.text or ""))  # told: 09:00

        clock.set(datetime(2026, 12, 8, 23, 1, tzinfo=AMSTERDAM))
        await amal.send_text("/hours")
        await amal.wait_for_message(lambda m: "09:00" in (m.text or ""))
        await amal.send_text("/away 2026-12-08")
        await amal.wait_for_message(
            lambda m: m.text == notices.away_until(DUTCH, date(2026, 12, 8))
        )
        await amal.send_text("/mine")
        await amal.wait_for_message(lambda m: m.reply_markup is not None)
        await bot.tick()
        night = [m for m in amal.received() if m.date.astimezone(AMSTERDAM).hour == 23]
        assert len(night) == 3 and all(m.text != "هل أنت هنا؟" for m in night)

        clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        copy = await amal.wait_for_message(lambda m: m.text == "هل أنت هنا؟")
        assert copy.date == clock.now() and copy.message_id > max(m.message_id for m in night)


async def test_what_she_does_at_night_is_answered_at_once_what_others_do_waits(
    sqlite_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    """Amal /close-s Amina's conversation at 23:00 and is told at once; Hamid's /done a minute
    later closes his, and her notice of that waits for 09:00."""
    tuesday_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
    async with (
        world(sqlite_url, redis_key_prefix, rasa_nowhere(), tuesday_10) as (sandbox, clock, cfg),
        bot_process(cfg, sandbox, clock) as bot,
    ):
        amal = sandbox.add_user("Amal", "nl")
        await add_sleutelpersoon(bot, amal, WORKDAYS, languages=("ar",), domains=("post",))
        amina, aminas_letter = await join_conversation(sandbox, amal, "Amina")
        hamid, _ = await join_conversation(sandbox, amal, "Hamid")
        async with bot.services.sessions() as session:
            aminas_label, hamids_label = (
                await session.scalars(select(Conversation.label).order_by(Conversation.id))
            ).all()

        clock.set(datetime(2026, 12, 8, 23, 0, tzinfo=AMSTERDAM))
        await amal.send_text("/close", reply_to=aminas_letter.message_id)
        closed = await amal.wait_for_message(
            lambda m: m.text == notices.conversation_closed_for_sleutelpersoon(DUTCH, aminas_label)
        )
        assert closed.date == clock.now()
        await amina.wait_for_message(lambda m: m.reply_markup is not None)  # 👍 / 👎

        clock.set(datetime(2026, 12, 8, 23, 1, tzinfo=AMSTERDAM))
        await hamid.send_text("/done")
        await hamid.wait_for_message(lambda m: m.reply_markup is not None)
        await bot.tick()
        hamids_closing = notices.conversation_closed_for_sleutelpersoon(DUTCH, hamids_label)
        assert all(m.text != hamids_closing for m in amal.received())

        clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=AMSTERDAM))
        await bot.tick()
        held = await amal.wait_for_message(lambda m: m.text == hamids_closing)
        assert held.date == clock.now()


async def test_a_schedule_changed_while_rows_wait_counts_within_the_recheck_time(
    delivery: Delivery,
) -> None:
    """Amal is away until today; an offer at 16:00 waits for tomorrow 09:00. She ends her
    leave (/away off) and is within her hours again: the offer follows within RECHECK_HELD."""
    workdays = tuple((day, time(9), time(17)) for day in range(5))
    away = Hours(workdays, away_until=date(2026, 12, 8))
    tuesday_16 = datetime(2026, 12, 8, 16, 0, tzinfo=AMSTERDAM).astimezone(UTC)
    run = await _start(delivery, Plan(hours=(away, away), start=tuesday_16, steps=()))
    await run.write((("offer", 0),))
    await run.flush_and_judge((away, away))
    assert run.awaited[run.people[0].id]  # waits

    async with delivery.sessions.begin() as session:
        amal = await session.get_one(Sleutelpersoon, run.person_ids[0])
        amal.away_until = None
    back = Hours(workdays)
    delivery.clock.advance(RECHECK_HELD)
    await run.flush_and_judge((back, away))
    assert not run.awaited[run.people[0].id]
