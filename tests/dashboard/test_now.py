"""The "Now" page: waiting requests with when they will be offered, the queue with manual
assignment through the bot's own offers, urgent requests first, load within hours."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.models import (
    AuditAction,
    AuditEntry,
    DangerCheck,
    HelpRequest,
    Offer,
    OfferStatus,
    OutboxMessage,
    OutboxOutcome,
    RequestStatus,
)
from dashboard.web import LANGUAGE_COOKIE

from .kit import Dashboard, add_conversation, add_person, add_request, csrf_of, dashboard

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
TILBURG = "Gemeente Tilburg"


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator(TILBURG, "anna@tilburg.example")
        yield running


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_waiting_queue_urgent_and_load(board: Dashboard) -> None:
    await add_person(board, TILBURG, "Amal", telegram_user_id=1101)
    await add_person(board, TILBURG, "Sanne", languages=("nl",), hours="sat 10:00-12:00")
    wednesday_9 = TUESDAY_10 + timedelta(hours=23)
    waiting = await add_request(board, RequestStatus.WAITING, next_match_at=wednesday_9)
    urgent = await add_request(board, RequestStatus.CHOOSING, urgent=True)
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/now")
        assert page.status_code == 200 and "Urgent: emergency words detected" in page.text
        table = rows((await anna.get("/now?format=csv&table=waiting")).text)
        assert table[0][6] == "Will be offered at"
        by_request = {row[0]: row for row in table[1:]}
        assert by_request[f"#{waiting}"][6] == "2026-12-09T09:00+01:00"
        assert by_request[f"#{waiting}"][5] == str(30 * 60)
        assert rows((await anna.get("/now?format=csv&table=urgent")).text)[1][0] == f"#{urgent}"
        load = rows((await anna.get("/now?format=csv&table=load")).text)
        assert load[1][:4] == ["Amal", "0 / 3", "0 / 5", "yes"]
        assert load[2][0] == "Sanne" and load[2][3] == "no"
        assert load[2][6].startswith("invited, until")
        assert load[2][4] == "2026-12-12T10:00+01:00"


async def test_a_danger_question_left_unanswered_is_listed_until_answered(
    board: Dashboard,
) -> None:
    await add_person(board, TILBURG, "Amal", telegram_user_id=1101)
    asked = await add_request(board, RequestStatus.OFFERED, danger_check=DangerCheck.ASKED)
    await add_request(board, RequestStatus.OFFERED, danger_check=DangerCheck.NO)
    await add_request(board, RequestStatus.OFFERED)
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/now")
        assert "Asked about danger, no answer" in page.text
        table = rows((await anna.get("/now?format=csv&table=danger_unanswered")).text)
        assert [row[0] for row in table[1:]] == [f"#{asked}"]
        async with board.sessions.begin() as session:
            request = await session.get_one(HelpRequest, asked)
            request.danger_check = DangerCheck.NO
        assert "Asked about danger, no answer" not in (await anna.get("/now")).text


async def test_a_queued_request_is_assigned_as_an_offer_within_hours(board: Dashboard) -> None:
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=1201)
    sanne = await add_person(board, TILBURG, "Sanne", languages=("nl",), telegram_user_id=1202)
    queued = await add_request(board, RequestStatus.QUEUED)
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/now")
        assert f'action="/requests/{queued}/assign"' in page.text
        token = await csrf_of(anna, "/now")
        wrong = await anna.post(
            f"/requests/{queued}/assign", data={"csrf_token": token, "sleutelpersoon_id": sanne}
        )
        assert wrong.status_code == 400
        assert "does not speak the request's language" in wrong.text
        async with board.sessions() as session:
            assert (await session.scalars(select(Offer))).all() == []
        done = await anna.post(
            f"/requests/{queued}/assign", data={"csrf_token": token, "sleutelpersoon_id": amal}
        )
        assert done.status_code == 303
        assert "The request was offered" in (await anna.get(done.headers["location"])).text
        again = await anna.post(
            f"/requests/{queued}/assign", data={"csrf_token": token, "sleutelpersoon_id": amal}
        )
        assert again.status_code == 400 and "no longer waiting" in again.text
    async with board.sessions() as session:
        offer = await session.scalar(select(Offer))
        assert offer is not None and (offer.sleutelpersoon_id, offer.status) == (
            amal,
            OfferStatus.PENDING,
        )
        # The bot's own offer: an office-time limit and a message the outbox sends in hours.
        assert offer.expires_at == TUESDAY_10 + timedelta(minutes=10)
        outbox = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.purpose == f"offer:{offer.id}")
        )
        assert outbox is not None and outbox.chat_id == 1201
        assert outbox.sleutelpersoon_id == amal
        assert (await session.get_one(HelpRequest, queued)).status == RequestStatus.OFFERED
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == AuditAction.REQUEST_ASSIGNED)
        )
        assert entry is not None and (entry.request_id, entry.sleutelpersoon_id) == (queued, amal)


async def test_an_offer_held_until_office_hours_shows_when_it_will_be_offered(
    board: Dashboard,
) -> None:
    amal = await add_person(board, TILBURG, "Amal", hours="mon 09:00-17:00", telegram_user_id=1251)
    queued = await add_request(board, RequestStatus.QUEUED)
    next_monday_9 = datetime(2026, 12, 14, 9, 0, tzinfo=AMSTERDAM)
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, "/now")
        assigned = await anna.post(
            f"/requests/{queued}/assign", data={"csrf_token": token, "sleutelpersoon_id": amal}
        )
        assert assigned.status_code == 303

        async def offered_at() -> str:
            table = rows((await anna.get("/now?format=csv&table=waiting")).text)
            by_request = {row[0]: row for row in table[1:]}
            assert by_request[f"#{queued}"][7] == "Amal"
            return by_request[f"#{queued}"][6]

        # Before the outbox has looked at it: Amal's next hours, as the outbox will decide.
        assert await offered_at() == next_monday_9.isoformat(timespec="minutes")
        # The outbox held it until a later time (e.g. she took leave on Monday): that time.
        async with board.sessions.begin() as session:
            held = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.purpose.startswith("offer:"))
            )
            assert held is not None and held.sent_at is None
            held.not_before = next_monday_9 + timedelta(days=7)
        assert await offered_at() == (next_monday_9 + timedelta(days=7)).isoformat(
            timespec="minutes"
        )
        # Sent: no longer held, so nothing is shown.
        async with board.sessions.begin() as session:
            sent = await session.get_one(OutboxMessage, held.id)
            sent.sent_at = board.clock.now()
        assert await offered_at() == ""


async def uncertain_row(
    board: Dashboard, conversation_id: int, *, to_person: int | None, chat_id: int
) -> None:
    """An outbox row whose sender stopped during the Bot API call (bot/outbox.py)."""
    now = board.clock.now()
    async with board.sessions.begin() as session:
        session.add(
            OutboxMessage(
                chat_id=chat_id,
                sleutelpersoon_id=to_person,
                method="copyMessage",
                params={"chat_id": chat_id},
                purpose=f"relay:{conversation_id}",
                not_before=now,
                created_at=now - timedelta(minutes=3),
                sent_at=now,
                attempts=1,
                outcome=OutboxOutcome.UNCERTAIN,
            )
        )


async def test_messages_that_may_not_have_arrived_are_shown_to_their_organisation_only(
    board: Dashboard,
) -> None:
    await board.coordinator("Gemeente Breda", "bram@breda.example")
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=1301)
    yonas = await add_person(board, "Gemeente Breda", "Yonas", telegram_user_id=1302)
    tilburg_talk = await add_conversation(board, amal, [("newcomer", "salam")])
    breda_talk = await add_conversation(board, yonas, [("newcomer", "selam")])
    async with board.signed_in("anna@tilburg.example") as anna:
        calm = await anna.get("/now")
        assert "Messages that may not have arrived" not in calm.text
    await uncertain_row(board, tilburg_talk, to_person=amal, chat_id=1301)
    await uncertain_row(board, tilburg_talk, to_person=None, chat_id=900001)
    await uncertain_row(board, breda_talk, to_person=yonas, chat_id=1302)
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get("/now")
        assert "Messages that may not have arrived" in page.text
        assert "Ask in the conversation whether it came through." in page.text
        assert f'href="/conversations/{tilburg_talk}"' in page.text
        assert f'href="/conversations/{breda_talk}"' not in page.text
        table = rows((await anna.get("/now?format=csv&table=uncertain")).text)
        assert table[0] == ["Conversation", "Recipient", "Written"]
        assert [row[1] for row in table[1:]] == ["Amal", "the newcomer"]
    async with board.signed_in("bram@breda.example") as bram:
        bram.cookies.set(LANGUAGE_COOKIE, "nl")
        page = await bram.get("/now")
        assert "Berichten die misschien niet zijn aangekomen" in page.text
        table = rows((await bram.get("/now?format=csv&table=uncertain")).text)
        assert [row[1] for row in table[1:]] == ["Yonas"]
