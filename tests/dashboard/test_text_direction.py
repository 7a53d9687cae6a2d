"""Issue 14: a name `\u202eB-RTL gnp.exe` showed as 'exe.png LTR-B', signals read reversed and a
NUL byte was stored in a name. Names and labels lose control and direction characters where
they come in (bot/text.py), and the pages isolate every text a user wrote (`<bdi>`,
`dir="auto"`)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.models import Coordinator, Organisation, Signal, Sleutelpersoon
from bot.text import one_line

from .kit import PASSWORD, add_conversation, add_person, csrf_of, dashboard, new_account_form

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
TILBURG = "Gemeente Tilburg"
ANNA = "anna@tilburg.example"
SPOOFED = "\u202eB-RTL gnp.exe\x00"
ARABIC = "أمل"


def test_one_line_drops_control_and_direction_characters_but_keeps_the_text() -> None:
    assert one_line(SPOOFED) == "B-RTL gnp.exe"
    assert one_line("\u2067Amal\u2069 \u200fal-Hassan\u200e") == "Amal al-Hassan"
    assert one_line(" Hawa\tAbdi\r\n\x85Farah\x9b ") == "Hawa Abdi Farah"
    # Right-to-left script itself, and joiners that some scripts need, stay.
    assert one_line(f"{ARABIC} علي") == f"{ARABIC} علي"
    assert one_line("می\u200cخواهم") == "می\u200cخواهم"


async def test_names_from_every_form_are_stored_without_control_characters(
    database_url: str,
) -> None:
    async with dashboard(database_url, TUESDAY_10) as board:
        await board.coordinator(TILBURG, ANNA, admin=True)
        async with board.signed_in(ANNA) as anna:
            token = await csrf_of(anna, "/sleutelpersonen/new")
            invited = await anna.post(
                "/sleutelpersonen/new",
                data={
                    "csrf_token": token,
                    "display_name": SPOOFED,
                    "languages": "ar",
                    "locale": "ar",
                    "domains": "post",
                    "roles": "verbinder",
                    "circle": "\u202eairyS",
                    "max_open_conversations": "3",
                    "max_new_per_week": "5",
                },
            )
            assert invited.status_code == 200, invited.text
            async with board.sessions() as session:
                tilburg = await session.scalar(select(Organisation.id))
            created = await anna.post(
                "/admin/coordinators",
                data=new_account_form(
                    token, tilburg, "\u202enaB\x00", "ban@tilburg.example", PASSWORD
                ),
            )
            assert created.status_code == 303, created.text
        async with board.sessions() as session:
            person = await session.scalar(select(Sleutelpersoon))
            coordinator = await session.scalar(
                select(Coordinator).where(Coordinator.email == "ban@tilburg.example")
            )
        assert person is not None and coordinator is not None
        assert (person.display_name, person.circle) == ("B-RTL gnp.exe", "airyS")
        assert coordinator.display_name == "naB"


async def test_user_text_on_the_pages_is_isolated(database_url: str) -> None:
    async with dashboard(database_url, TUESDAY_10) as board:
        await board.coordinator(TILBURG, ANNA, name=ARABIC)
        person = await add_person(board, TILBURG, f"{ARABIC} Qxname")
        conversation = await add_conversation(
            board, person, [("newcomer", "مرحبا Qxmessage"), ("sleutelpersoon", "hallo")]
        )
        async with board.sessions.begin() as session:
            signal = Signal.tag(
                conversation, person, "\u202eQxsignal\x00", board.clock.now(), board.cipher
            )
            session.add(signal)
        async with board.signed_in(ANNA) as anna:
            people = (await anna.get("/sleutelpersonen")).text
            assert re.search(rf"<bdi>{ARABIC} Qxname</bdi>", people)
            assert f"<bdi>{ARABIC}</bdi> · <bdi>{TILBURG}</bdi>" in people  # who is signed in
            token = await csrf_of(anna, f"/conversations/{conversation}")
            transcript = (
                await anna.post(
                    f"/conversations/{conversation}/transcript",
                    data={"csrf_token": token, "reason": "Qxreason \u202ea complaint"},
                )
            ).text
        assert "<bdi>Qxreason \u202ea complaint</bdi>" in transcript
        assert f"<bdi>{ARABIC} Qxname</bdi>" in transcript
        assert "<bdi>Qxsignal</bdi>" in transcript
        assert '<p dir="auto">مرحبا Qxmessage</p>' in transcript
        # Outside an isolate, no user text at all.
        outside = re.sub(r"<bdi>.*?</bdi>|<p dir=\"auto\">.*?</p>", "", transcript, flags=re.S)
        for marker in ("Qxname", "Qxsignal", "Qxreason", "Qxmessage"):
            assert marker not in outside.split("<body>", 1)[1], marker
