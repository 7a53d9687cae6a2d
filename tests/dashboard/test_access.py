"""One organisation never sees another's data: every such object answers 404, and lists leave
it out. Admins and platform admins manage accounts but read no more than anyone else."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.models import AuditEntry, HelpRequest, Newcomer, Offer, RequestStatus, Sleutelpersoon

from .kit import Dashboard, add_conversation, add_person, csrf_of, dashboard

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
TILBURG = "Gemeente Tilburg"
BREDA = "VluchtelingenWerk Breda"


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator(TILBURG, "anna@tilburg.example", admin=True)
        await running.coordinator(BREDA, "bram@breda.example")
        yield running


async def audit_count(board: Dashboard) -> int:
    async with board.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry)) or 0


async def test_another_organisations_objects_are_not_found(board: Dashboard) -> None:
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=601)
    conversation = await add_conversation(board, amal, [("newcomer", "geheim")])
    async with board.sessions() as session:
        leave_free = await session.get_one(Sleutelpersoon, amal)
        assert leave_free.organisation_id is not None
    before = await audit_count(board)
    async with board.signed_in("bram@breda.example") as bram:
        token = await csrf_of(bram, "/now")
        for path in (
            f"/sleutelpersonen/{amal}",
            f"/conversations/{conversation}",
            "/admin",
        ):
            response = await bram.get(path)
            assert response.status_code == 404, path
            assert "not yours to see" in response.text
        posts = {
            f"/conversations/{conversation}/transcript": {"reason": "I want to read it, please"},
            f"/sleutelpersonen/{amal}/profile": {"display_name": "Hacked", "languages": "ar"},
            f"/sleutelpersonen/{amal}/hours": {"cell": "1-20"},
            f"/sleutelpersonen/{amal}/invite": {},
            f"/sleutelpersonen/{amal}/deactivate": {},
            "/admin/organisations": {"name": "Mine now"},
        }
        for path, data in posts.items():
            response = await bram.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 404, path
        # Lists leave it out, and the CSV export too.
        for path in ("/sleutelpersonen", "/conversations", "/now"):
            page = await bram.get(path)
            assert "Amal" not in page.text, path
        export = await bram.get("/conversations?format=csv&table=conversations")
        assert export.status_code == 200 and f"#{conversation}" not in export.text
    # Nothing was recorded, read or changed by the refused requests.
    assert await audit_count(board) == before
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, amal)
        assert person.display_name == "Amal" and person.active and person.telegram_user_id == 601


async def test_platform_admins_manage_accounts_but_read_only_their_own_organisation(
    board: Dashboard,
) -> None:
    await board.coordinator("Sleutelbrug platform", "pia@platform.example", platform_admin=True)
    bart = await add_person(board, BREDA, "Bart", telegram_user_id=602)
    conversation = await add_conversation(board, bart, [("newcomer", "vertrouwelijk")])
    async with board.signed_in("pia@platform.example") as anna:
        assert (await anna.get(f"/conversations/{conversation}")).status_code == 404
        admin = await anna.get("/admin")
        assert admin.status_code == 200 and BREDA in admin.text
        token = await csrf_of(anna, "/admin")
        created = await anna.post(
            "/admin/coordinators",
            data={
                "csrf_token": token,
                "organisation_id": "2",
                "display_name": "Bea",
                "email": "bea@breda.example",
                "password": "long enough password",
                "role": "coordinator",
                "locale": "en",
            },
        )
        assert created.status_code == 303
        short = await anna.post(
            "/admin/coordinators",
            data={
                "csrf_token": token,
                "organisation_id": "2",
                "display_name": "Ben",
                "email": "ben@breda.example",
                "password": "short",
            },
        )
        assert short.status_code == 400 and "at least 12 characters" in short.text
    async with board.signed_in("bea@breda.example", "long enough password") as bea:
        assert (await bea.get(f"/conversations/{conversation}")).status_code == 200


async def test_queued_requests_are_seen_by_organisations_that_speak_the_language(
    board: Dashboard,
) -> None:
    await add_person(board, TILBURG, "Amal", languages=("ar",), telegram_user_id=603)
    await add_person(board, BREDA, "Tesfay", languages=("ti",), telegram_user_id=604)
    now = board.clock.now()
    async with board.sessions.begin() as session:
        for number, language in enumerate(("ar", "ti", "so")):
            newcomer = Newcomer(
                telegram_user_id=700 + number,
                locale="en",
                consented_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(newcomer)
            await session.flush()
            session.add(
                HelpRequest(
                    newcomer_id=newcomer.id,
                    language=language,
                    domain="post",
                    status=RequestStatus.QUEUED,
                    institutions=[],
                    created_at=now,
                    updated_at=now,
                )
            )
    async with board.signed_in("anna@tilburg.example") as anna:
        export = (await anna.get("/now?format=csv&table=queue")).text
        # Arabic (spoken here) and Somali (spoken nowhere, so nobody misses it); not Tigrinya.
        assert "#1" in export and "#3" in export and "#2" not in export
        token = await csrf_of(anna, "/now")
        assert (
            await anna.post(
                "/requests/2/assign", data={"csrf_token": token, "sleutelpersoon_id": "2"}
            )
        ).status_code == 404
    async with board.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Offer)) == 0
