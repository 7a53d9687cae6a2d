"""Insight per week: requests by topic and language, first response, answered within office
hours, declines, timeouts, feedback, time spent; signals; CSV and inline SVG."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.models import (
    Conversation,
    HelpRequest,
    Newcomer,
    Offer,
    OfferStatus,
    RequestStatus,
    Signal,
)

from .kit import NEWCOMER_IDS, Dashboard, add_conversation, add_person, dashboard

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=AMSTERDAM)
TUESDAY_12 = datetime(2026, 12, 8, 12, 0, tzinfo=AMSTERDAM)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day_offset, hours=hour, minutes=minute)


async def unanswered_request(
    board: Dashboard, person_id: int, asked: datetime, offer: OfferStatus, sent: bool
) -> None:
    async with board.sessions.begin() as session:
        newcomer = Newcomer(
            telegram_user_id=next(NEWCOMER_IDS),
            locale="ar",
            consented_at=asked,
            created_at=asked,
            updated_at=asked,
        )
        session.add(newcomer)
        await session.flush()
        request = HelpRequest(
            newcomer_id=newcomer.id,
            language="ar",
            domain="health",
            status=RequestStatus.QUEUED,
            institutions=[],
            created_at=asked,
            updated_at=asked,
        )
        session.add(request)
        await session.flush()
        session.add(
            Offer(
                request_id=request.id,
                sleutelpersoon_id=person_id,
                status=offer,
                created_at=asked,
                expires_at=None,
                telegram_message_id=77 if sent else None,
            )
        )


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_12) as running:
        await running.coordinator("Gemeente Tilburg", "anna@tilburg.example")
        amal = await add_person(running, "Gemeente Tilburg", "Amal", telegram_user_id=1001)
        await add_person(running, "Elders", "Tesfay", languages=("ti",), telegram_user_id=1002)
        # Monday 10:00, accepted at 10:04, within the hours it was offered in; 17 minutes of
        # work (a 1-minute reply counts 2, a 30-minute gap counts 15); closed with thanks.
        first = await add_conversation(
            running,
            amal,
            [
                ("newcomer", "a"),
                ("sleutelpersoon", "b"),
                ("newcomer", "c"),
                ("sleutelpersoon", "d"),
            ],
            asked=at(0, 10),
            accepted_after=timedelta(minutes=4),
            message_times=[timedelta(minutes=m) for m in (1, 2, 16, 46)],
        )
        # Monday 16:50, accepted on Tuesday 09:30: not within the hours it was offered in.
        second = await add_conversation(
            running, amal, [], asked=at(0, 16, 50), accepted_after=timedelta(hours=16, minutes=40)
        )
        third = await add_conversation(
            running, amal, [], asked=at(1, 9), accepted_after=timedelta(minutes=10)
        )
        await unanswered_request(running, amal, at(1, 9, 30), OfferStatus.DECLINED, sent=True)
        await unanswered_request(running, amal, at(1, 9, 40), OfferStatus.PENDING, sent=True)
        async with running.sessions.begin() as session:
            closed = await session.get_one(Conversation, first)
            closed.status, closed.closed_at, closed.feedback = "closed", at(0, 11), "up"
            for conversation, text in (
                (first, "Many  CJIB fines"),
                (third, "many cjib fines"),
                (second, "=HYPERLINK(evil)"),
                (second, "<script>alert(1)</script>"),
            ):
                session.add(Signal.tag(conversation, amal, text, at(1, 10), running.cipher))
        yield running


def table(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_the_weeks_numbers(board: Dashboard) -> None:
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/insight")
        assert page.status_code == 200 and page.text.count("<svg") == 2
        response = table((await anna.get("/insight?format=csv&table=response")).text)
        assert response[0] == [
            "Period", "Requests", "Accepted", "First response, median (seconds)",
            "First response, 90th percentile (seconds)", "Answered within office hours",
            "Declines", "Timeouts", "Handed back", "Feedback 👍", "Feedback 👎",
        ]  # fmt: skip
        assert len(response) == 9  # eight weeks
        assert response[-1] == [
            "7 Dec", "5", "3", "600", str(16 * 3600 + 40 * 60), "0.4", "1", "1", "0", "1", "0"
        ]  # fmt: skip
        assert response[-2][1:3] == ["0", "0"]
        topics = table((await anna.get("/insight?format=csv&table=requests_by_domain")).text)
        assert topics[0] == ["Period", "Letters and forms", "Health", "Total"]
        assert topics[-1] == ["7 Dec", "3", "2", "5"]
        languages = table((await anna.get("/insight?format=csv&table=requests_by_language")).text)
        # Only what reached this organisation: Tigrinya elsewhere is not counted here.
        assert languages[0] == ["Period", "Arabic", "Total"] and languages[-1] == [
            "7 Dec",
            "5",
            "5",
        ]
        people = table((await anna.get("/insight?format=csv&table=sleutelpersonen")).text)
        assert people[1:] == [["7 Dec", "Amal", "3", str(17 * 60), "1", "1", "1"]]
        months = table((await anna.get("/insight?period=month&format=csv&table=response")).text)
        assert len(months) == 7 and months[-1][0] == "Dec 2026" and months[-1][1] == "5"
        assert (await anna.get("/insight?format=csv&table=nope")).status_code == 404


async def test_signals_are_counted_per_period_and_exported_safely(board: Dashboard) -> None:
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/signals")
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)" in page.text
        assert "<svg" in page.text
        summary = table((await anna.get("/signals?format=csv&table=signals")).text)
        assert summary[0][:4] == ["Signal", "Times given", "Conversations", "Sleutelpersonen"]
        assert summary[1][:4] == ["Many CJIB fines", "2", "2", "1"]
        assert summary[1][4:6] == ["Arabic", "Letters and forms"]
        # A cell a spreadsheet would run as a formula is written as text.
        assert ["'=HYPERLINK(evil)", "1"] in [row[:2] for row in summary]
        per_period = table((await anna.get("/signals?format=csv&table=signals_per_period")).text)
        assert per_period[1][0] == "Many CJIB fines" and per_period[1][-1] == "2"


async def test_another_organisation_sees_none_of_it(board: Dashboard) -> None:
    await board.coordinator("Elders", "eva@elders.example")
    async with board.signed_in("eva@elders.example") as eva:
        response = table((await eva.get("/insight?format=csv&table=response")).text)
        assert response[-1][1:3] == ["0", "0"]
        signals = table((await eva.get("/signals?format=csv&table=signals")).text)
        assert signals[1:] == []
