"""Reading what was said needs a reason; the access record is written in the same transaction
as the reading, and the audit log shows it."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.crypto import MessageCipher, new_key_spec, parse_keys
from bot.models import AuditAction, AuditEntry, Coordinator

from .kit import Dashboard, add_conversation, add_person, csrf_of, dashboard

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
SECRET_LINE = "Ik heb een boete van het CJIB gekregen"
REASON = "Klacht van de nieuwkomer over de toon van het gesprek"


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator("Gemeente Tilburg", "anna@tilburg.example", name="Anna")
        yield running


async def entries(board: Dashboard) -> list[AuditEntry]:
    """The transcript access records."""
    async with board.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == AuditAction.TRANSCRIPT_OPENED)
                    .order_by(AuditEntry.id)
                )
            ).all()
        )


async def test_a_transcript_opens_only_with_a_reason_that_is_recorded(board: Dashboard) -> None:
    amal = await add_person(board, "Gemeente Tilburg", "Amal", telegram_user_id=801)
    conversation = await add_conversation(
        board, amal, [("newcomer", SECRET_LINE), ("sleutelpersoon", "Ik help je met de brief")]
    )
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get(f"/conversations/{conversation}")
        assert page.status_code == 200 and "Amal" in page.text
        assert SECRET_LINE not in page.text
        token = await csrf_of(anna, f"/conversations/{conversation}")
        for reason in ("", "   ", "too short"):
            refused = await anna.post(
                f"/conversations/{conversation}/transcript",
                data={"csrf_token": token, "reason": reason},
            )
            assert refused.status_code == 400
            assert "Nothing was opened and nothing was recorded." in refused.text
            assert SECRET_LINE not in refused.text
        assert await entries(board) == []

        board.clock.set(TUESDAY_10.replace(hour=11))
        opened = await anna.post(
            f"/conversations/{conversation}/transcript",
            data={"csrf_token": token, "reason": REASON},
        )
        assert opened.status_code == 200
        assert SECRET_LINE in opened.text and "Ik help je met de brief" in opened.text
        assert opened.headers["cache-control"] == "no-store"

        recorded = await entries(board)
        assert len(recorded) == 1
        record = recorded[0]
        async with board.sessions() as session:
            who = await session.scalar(
                select(Coordinator.display_name).where(Coordinator.id == record.coordinator_id)
            )
        assert (record.action, record.conversation_id, record.reason, who) == (
            AuditAction.TRANSCRIPT_OPENED,
            conversation,
            REASON,
            "Anna",
        )
        assert record.at == TUESDAY_10.replace(hour=11)

        # The audit log lists it, with who, when, which conversation and why.
        log = await anna.get("/audit")
        assert REASON in log.text and f"#{conversation}" in log.text and "Anna" in log.text
        export = await anna.get("/audit?format=csv&table=audit")
        rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
        assert rows[0][:3] == ["When", "Who", "What"]
        assert rows[1][1:3] == ["Anna", "opened a transcript"] and REASON in rows[1]
        assert export.headers["content-disposition"].startswith("attachment;")
        # The conversation page shows who opened it before, never the content.
        again = await anna.get(f"/conversations/{conversation}")
        assert REASON in again.text and SECRET_LINE not in again.text


async def test_no_content_is_shown_when_the_access_cannot_be_recorded(database_url: str) -> None:
    """A transcript that cannot be read (wrong key) rolls back its access record with it."""
    other_key = MessageCipher(parse_keys(new_key_spec("other")))
    async with dashboard(database_url, TUESDAY_10) as board:
        await board.coordinator("Gemeente Tilburg", "anna@tilburg.example")
        amal = await add_person(board, "Gemeente Tilburg", "Amal", telegram_user_id=802)
        writer = Dashboard(board.app, board.config, board.sessions, board.clock, other_key)
        conversation = await add_conversation(writer, amal, [("newcomer", SECRET_LINE)])
        async with board.signed_in("anna@tilburg.example") as anna:
            token = await csrf_of(anna, f"/conversations/{conversation}")
            with pytest.raises(Exception, match="cannot decrypt"):
                await anna.post(
                    f"/conversations/{conversation}/transcript",
                    data={"csrf_token": token, "reason": REASON},
                )
        assert await entries(board) == []


async def test_the_database_refuses_a_transcript_access_without_reason(board: Dashboard) -> None:
    amal = await add_person(board, "Gemeente Tilburg", "Amal", telegram_user_id=803)
    conversation = await add_conversation(board, amal, [("newcomer", "hallo")])
    with pytest.raises(IntegrityError):
        async with board.sessions.begin() as session:
            session.add(
                AuditEntry(
                    at=TUESDAY_10,
                    action=AuditAction.TRANSCRIPT_OPENED,
                    conversation_id=conversation,
                    details={},
                )
            )
    assert await entries(board) == []
