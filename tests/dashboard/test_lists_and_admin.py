"""The conversation list's and the audit log's filters, the CSV of every table, and the admin's
routes: organisations, coordinator accounts (deactivate, reactivate, unlock, new password), an
organisation's admin kept to their own organisation while a platform admin manages all, and a
coordinator who is no admin being refused all of them."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from bot.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    Coordinator,
    Organisation,
    Sleutelpersoon,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from dashboard.throttle import ThrottlePolicy, closed_accounts
from matching.office_hours import parse_weekly_hours

from .kit import (
    PASSWORD,
    Dashboard,
    add_conversation,
    add_person,
    csrf_of,
    dashboard,
    lock_out,
    sign_in,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
TILBURG = "Gemeente Tilburg"
BREDA = "VluchtelingenWerk Breda"
ANNA, BRAM, BEA = "anna@tilburg.example", "bram@breda.example", "bea@breda.example"
PLATFORM, PIA = "Sleutelbrug platform", "pia@platform.example"
NEW_PASSWORD = "a brand new long password"


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator(TILBURG, ANNA, admin=True)
        await running.coordinator(BREDA, BRAM)
        yield running


async def csv_rows(client: httpx.AsyncClient, path: str, table: str) -> list[list[str]]:
    separator = "&" if "?" in path else "?"
    response = await client.get(f"{path}{separator}format=csv&table={table}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


async def labels(client: httpx.AsyncClient, query: str) -> set[str]:
    """The conversations the list shows for these filters (from its CSV)."""
    return {
        row[0] for row in (await csv_rows(client, f"/conversations?{query}", "conversations"))[1:]
    }


async def test_the_conversation_list_filters(board: Dashboard) -> None:
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=1401)
    sanne = await add_person(board, TILBURG, "Sanne", languages=("nl",), telegram_user_id=1402)
    last_week = await add_conversation(
        board, amal, [], domain="post", asked=TUESDAY_10 - timedelta(days=7)
    )
    monday = await add_conversation(
        board, amal, [], domain="finance", asked=TUESDAY_10 - timedelta(days=1)
    )
    today = await add_conversation(board, sanne, [], language="nl", domain="health")
    async with board.sessions.begin() as session:
        closed = await session.get_one(Conversation, today)
        closed.status, closed.closed_at = "closed", TUESDAY_10 + timedelta(hours=1)
    async with board.signed_in(ANNA) as anna:
        everything = {f"#{last_week}", f"#{monday}", f"#{today}"}
        assert await labels(anna, "") == everything
        assert await labels(anna, "language=nl") == {f"#{today}"}
        assert await labels(anna, "language=ar") == {f"#{last_week}", f"#{monday}"}
        assert await labels(anna, "domain=finance") == {f"#{monday}"}
        assert await labels(anna, "status=closed") == {f"#{today}"}
        assert await labels(anna, "status=open") == {f"#{last_week}", f"#{monday}"}
        assert await labels(anna, f"sleutelpersoon={sanne}") == {f"#{today}"}
        assert await labels(anna, "from=2026-12-07&to=2026-12-07") == {f"#{monday}"}
        assert await labels(anna, "from=2026-12-07") == {f"#{monday}", f"#{today}"}
        assert await labels(anna, "to=2026-12-06") == {f"#{last_week}"}
        assert await labels(anna, f"language=ar&sleutelpersoon={sanne}") == set()
        # Unreadable filters are ignored rather than answered with an error page.
        assert await labels(anna, "from=yesterday&sleutelpersoon=x") == everything
        page = await anna.get("/conversations?language=nl&status=closed")
        assert '<option value="nl" selected>' in page.text
        assert '<option value="closed" selected>' in page.text


async def test_the_audit_log_filters(board: Dashboard) -> None:
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=1411)
    talk = await add_conversation(board, amal, [("newcomer", "salam")])
    async with board.signed_in(ANNA) as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{amal}")
        hours = {"csrf_token": token, "cell": "1-20"}
        await anna.post(f"/sleutelpersonen/{amal}/hours", data=hours)
    # The next day (and so a new session: an idle one ends after two hours).
    board.clock.set(TUESDAY_10 + timedelta(days=1))
    async with board.signed_in(ANNA) as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{amal}")
        leave = {"csrf_token": token, "first_day": "2026-12-24", "last_day": "2026-12-24"}
        await anna.post(f"/sleutelpersonen/{amal}/leave", data=leave)
        reason = {"csrf_token": token, "reason": "Klacht van de nieuwkomer nagaan"}
        await anna.post(f"/conversations/{talk}/transcript", data=reason)

        async def what(query: str) -> list[str]:
            rows = await csv_rows(anna, f"/audit?{query}", "audit")
            assert rows[0][:3] == ["When", "Who", "What"]
            return sorted(row[2] for row in rows[1:])

        assert await what("action=leave_added") == ["added leave"]
        assert await what(f"conversation={talk}") == ["opened a transcript"]
        assert await what("from=2026-12-09") == ["added leave", "opened a transcript"]
        assert "changed office hours" in await what("to=2026-12-08")
        assert "added leave" not in await what("to=2026-12-08")
        assert await what("action=no_such_action&from=2026-12-09") == [
            "added leave",
            "opened a transcript",
        ]
        transcript = await csv_rows(anna, "/audit?action=transcript_opened", "audit")
        assert transcript[1][1] == "Anna" and transcript[1][4] == f"#{talk}"
        assert transcript[1][7] == "Klacht van de nieuwkomer nagaan"


async def test_every_table_downloads_as_csv(board: Dashboard) -> None:
    amal = await add_person(board, TILBURG, "=Amal", telegram_user_id=1421)
    talk = await add_conversation(board, amal, [("newcomer", "geheim")])
    async with board.sessions.begin() as session:
        create_sleutelpersoon(
            session,
            board.clock.now(),
            NewProfile(
                display_name="Hawa",
                languages=("ti",),
                domains=("post",),
                windows=parse_weekly_hours("mon 09:00-12:00"),
            ),
        )
    async with board.signed_in(ANNA) as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{amal}")
        leave = {"csrf_token": token, "first_day": "2026-12-24", "last_day": "2026-12-26"}
        await anna.post(f"/sleutelpersonen/{amal}/leave", data=leave)
        await anna.post(
            f"/conversations/{talk}/transcript",
            data={"csrf_token": token, "reason": "Controle na een melding"},
        )
        people = await csv_rows(anna, "/sleutelpersonen", "sleutelpersonen")
        assert people[0][:2] == ["Name", "Languages"]
        # A name that a spreadsheet would run as a formula is written as text.
        assert people[1][0] == "'=Amal" and people[1][4] == "1 / 3"
        open_now = await csv_rows(anna, "/now", "open_conversations")
        assert open_now[0][:2] == ["Conversation", "Sleutelpersoon"]
        assert [row[:2] for row in open_now[1:]] == [[f"#{talk}", "'=Amal"]]
        leaves = await csv_rows(anna, f"/sleutelpersonen/{amal}", "leave")
        assert leaves == [["First day", "Last day"], ["2026-12-24", "2026-12-26"]]
        accesses = await csv_rows(anna, f"/conversations/{talk}", "accesses")
        assert accesses[0] == ["When", "Who", "Reason"]
        assert accesses[1][1:] == ["Anna", "Controle na een melding"]
        assert "geheim" not in str(accesses)
        # An organisation's admin: their own organisation, and no profiles of none.
        organisations = await csv_rows(anna, "/admin", "organisations")
        assert [row[0] for row in organisations[1:]] == [TILBURG]
        coordinators = await csv_rows(anna, "/admin", "coordinators")
        assert [(row[1], row[3]) for row in coordinators[1:]] == [(ANNA, "admin")]
        assert await csv_rows(anna, "/admin", "unplaced") == [["Name", "Languages", "Created"]]
    await board.coordinator(PLATFORM, PIA, platform_admin=True)
    async with board.signed_in(PIA) as anna:
        organisations = await csv_rows(anna, "/admin", "organisations")
        assert sorted(row[0] for row in organisations[1:]) == sorted([PLATFORM, TILBURG, BREDA])
        coordinators = await csv_rows(anna, "/admin", "coordinators")
        assert sorted((row[1], row[3]) for row in coordinators[1:]) == [
            (ANNA, "admin"),
            (BRAM, "coordinator"),
            (PIA, "platform admin"),
        ]
        unplaced = await csv_rows(anna, "/admin", "unplaced")
        assert unplaced[0] == ["Name", "Languages", "Created"] and unplaced[1][:2] == ["Hawa", "ti"]
        assert (await anna.get("/admin?format=csv&table=nonexistent")).status_code == 404


async def coordinator_named(board: Dashboard, email: str) -> Coordinator:
    async with board.sessions() as session:
        found = await session.scalar(select(Coordinator).where(Coordinator.email == email))
        assert found is not None
        return found


async def test_platform_admins_manage_organisations_and_accounts(board: Dashboard) -> None:
    bram = await coordinator_named(board, BRAM)
    await board.coordinator(PLATFORM, PIA, platform_admin=True)
    async with board.signed_in(PIA) as anna:
        token = await csrf_of(anna, "/admin")

        async def admin_post(path: str, **data: str) -> httpx.Response:
            return await anna.post(path, data={"csrf_token": token, **data})

        created = await admin_post("/admin/organisations", name="  Gemeente   Oss ")
        assert created.status_code == 303
        assert "The organisation was created." in (await anna.get(created.headers["location"])).text
        again = await admin_post("/admin/organisations", name="Gemeente Oss")
        assert again.status_code == 400 and "already an organisation with this name" in again.text
        nameless = await admin_post("/admin/organisations", name="   ")
        assert nameless.status_code == 400 and "Give the organisation a name." in nameless.text
        own = await coordinator_named(board, PIA)
        # A platform admin's account is managed on the command line only, their own included.
        itself = await admin_post(f"/admin/coordinators/{own.id}/deactivate")
        assert itself.status_code == 404

        async with board.signed_in(BRAM) as bram_client:
            assert (await bram_client.get("/now")).status_code == 200
            assert (
                await admin_post(f"/admin/coordinators/{bram.id}/deactivate")
            ).status_code == 303
            # Signed out everywhere at once, and no new sign-in.
            assert (await bram_client.get("/now")).status_code == 303
        async with board.client() as client:
            assert (await sign_in(client, BRAM, PASSWORD)).status_code == 401
        assert (await admin_post(f"/admin/coordinators/{bram.id}/reactivate")).status_code == 303

        await lock_out(board, BRAM)
        async with board.client() as client:
            assert (await sign_in(client, BRAM, PASSWORD)).status_code == 429
        page = await anna.get("/admin")
        assert f'action="/admin/coordinators/{bram.id}/unlock"' in page.text
        assert (await admin_post(f"/admin/coordinators/{bram.id}/unlock")).status_code == 303
        async with board.client() as client:
            assert (await sign_in(client, BRAM, PASSWORD)).status_code == 303

        # A forgotten password: the admin sets a new one, which unlocks and signs out.
        await lock_out(board, BRAM)
        short = await admin_post(f"/admin/coordinators/{bram.id}/password", password="short")
        assert short.status_code == 400 and "at least 12 characters" in short.text
        mine = await admin_post(f"/admin/coordinators/{own.id}/password", password=NEW_PASSWORD)
        assert mine.status_code == 404
        reset = await admin_post(f"/admin/coordinators/{bram.id}/password", password=NEW_PASSWORD)
        assert reset.status_code == 303
        assert (
            "Give the password to them in person."
            in (await anna.get(reset.headers["location"])).text
        )
    async with board.client() as client:
        assert (await sign_in(client, BRAM, PASSWORD)).status_code == 401
        assert (await sign_in(client, BRAM, NEW_PASSWORD)).status_code == 303
    async with board.sessions() as session:
        entries = (
            await session.execute(
                select(AuditEntry.action, Organisation.name)
                .join(Organisation, Organisation.id == AuditEntry.organisation_id)
                .where(AuditEntry.coordinator_id == own.id)
            )
        ).all()
        stored = await session.get_one(Coordinator, bram.id)
        assert stored.password_hash.startswith("$argon2id$")
        assert await closed_accounts(session, board.clock.now(), ThrottlePolicy(), [BRAM]) == {}
        reset_details = (
            await session.scalars(
                select(AuditEntry.details).where(
                    AuditEntry.action == AuditAction.COORDINATOR_PASSWORD_RESET
                )
            )
        ).all()
    assert reset_details == [{}, {}]  # that it happened, never the password
    # Changes to Breda's accounts are in Breda's log and in the platform admin's own.
    for action in (
        AuditAction.COORDINATOR_DEACTIVATED,
        AuditAction.COORDINATOR_REACTIVATED,
        AuditAction.COORDINATOR_UNLOCKED,
        AuditAction.COORDINATOR_PASSWORD_RESET,
    ):
        assert sorted(name for logged, name in entries if logged == action) == [PLATFORM, BREDA]
    assert sorted(name for logged, name in entries if logged == "organisation_created") == [
        "Gemeente Oss",
        PLATFORM,
    ]


async def test_an_organisations_admin_manages_only_their_own_organisation(
    board: Dashboard,
) -> None:
    """Issue 14: Tilburg's admin made an admin account in Breda and reset Breda's coordinator's
    password. Now every such route answers 404, as for any other organisation's object, while
    Tilburg's own accounts stay theirs to manage."""
    bram = await coordinator_named(board, BRAM)
    alex = await board.coordinator(TILBURG, "alex@tilburg.example")
    platform_admin = await board.coordinator(TILBURG, PIA, platform_admin=True)
    unplaced, breda, tilburg = await unplaced_profile_and_organisations(board)
    new_account = {"display_name": "Eve", "password": NEW_PASSWORD, "role": "admin"}
    async with board.signed_in(ANNA) as anna:
        token = await csrf_of(anna, "/admin")
        page = (await anna.get("/admin")).text
        assert BRAM not in page and BREDA not in page and "Hawa" not in page
        assert 'action="/admin/organisations"' not in page
        # Listed as a colleague, but not hers to manage.
        assert PIA in page and f"/admin/coordinators/{platform_admin.id}/" not in page
        before = await snapshot_counts(board)
        refused = {
            "/admin/organisations": {"name": "Mine now"},
            "/admin/coordinators": {
                **new_account, "organisation_id": str(breda), "email": "eve@breda.example"
            },
            f"/admin/coordinators/{bram.id}/deactivate": {},
            f"/admin/coordinators/{bram.id}/reactivate": {},
            f"/admin/coordinators/{bram.id}/unlock": {},
            f"/admin/coordinators/{bram.id}/password": {"password": NEW_PASSWORD},
            f"/admin/coordinators/{platform_admin.id}/password": {"password": NEW_PASSWORD},
            f"/admin/coordinators/{platform_admin.id}/deactivate": {},
            f"/admin/sleutelpersonen/{unplaced}/organisation": {"organisation_id": str(tilburg)},
        }  # fmt: skip
        for path, data in refused.items():
            response = await anna.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 404, path
            assert "not yours to see" in response.text
        assert await snapshot_counts(board) == before
        own = {
            "/admin/coordinators": {
                **new_account, "organisation_id": str(tilburg), "email": "eve@tilburg.example"
            },
            f"/admin/coordinators/{alex.id}/password": {"password": NEW_PASSWORD},
            f"/admin/coordinators/{alex.id}/deactivate": {},
        }  # fmt: skip
        for path, data in own.items():
            response = await anna.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 303, (path, response.text)
    async with board.client() as client:
        assert (await sign_in(client, BRAM, PASSWORD)).status_code == 303
        assert (await sign_in(client, PIA, PASSWORD)).status_code == 303
    async with board.sessions() as session:
        assert (await session.get_one(Sleutelpersoon, unplaced)).organisation_id is None


async def unplaced_profile_and_organisations(board: Dashboard) -> tuple[int, int, int]:
    """A new profile of no organisation (Hawa), and the ids of Breda and Tilburg."""
    async with board.sessions.begin() as session:
        person, _token = create_sleutelpersoon(
            session,
            board.clock.now(),
            NewProfile(display_name="Hawa", languages=("ti",), domains=("post",), windows=()),
        )
        await session.flush()
        ids = [
            await session.scalar(select(Organisation.id).where(Organisation.name == name))
            for name in (BREDA, TILBURG)
        ]
        return person.id, ids[0] or 0, ids[1] or 0


async def snapshot_counts(board: Dashboard) -> tuple[int, int, int]:
    async with board.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            await session.scalar(select(func.count()).select_from(Organisation)) or 0,
            await session.scalar(select(func.count()).select_from(Coordinator)) or 0,
        )


async def test_a_platform_admin_creating_an_account_elsewhere_is_logged_in_both_organisations(
    board: Dashboard,
) -> None:
    await board.coordinator(TILBURG, PIA, name="Pia", platform_admin=True)
    async with board.signed_in(PIA) as anna:
        token = await csrf_of(anna, "/admin")
        async with board.sessions() as session:
            breda = await session.scalar(select(Organisation.id).where(Organisation.name == BREDA))
        created = await anna.post(
            "/admin/coordinators",
            data={
                "csrf_token": token,
                "organisation_id": str(breda),
                "display_name": "Bea",
                "email": BEA,
                "password": NEW_PASSWORD,
                "role": "coordinator",
                "locale": "nl",
            },
        )
        assert created.status_code == 303
        tilburg_log = await csv_rows(anna, "/audit?action=coordinator_created", "audit")
        # Anna's and Pia's own accounts were created in Tilburg too (by the command line).
        assert sorted(row[6] for row in tilburg_log[1:]) == ["Anna", "Bea", "Pia"]
    async with board.signed_in(BRAM) as bram:
        breda_log = await csv_rows(bram, "/audit?action=coordinator_created", "audit")
        assert sorted(row[6] for row in breda_log[1:]) == ["Bea", "Bram"]


async def test_a_coordinator_who_is_no_admin_is_refused_every_admin_route(
    board: Dashboard,
) -> None:
    anna = await coordinator_named(board, ANNA)
    unplaced, breda, _tilburg = await unplaced_profile_and_organisations(board)

    before = await snapshot_counts(board)
    async with board.signed_in(BRAM) as bram:
        token = await csrf_of(bram, "/now")
        assert (await bram.get("/admin")).status_code == 404
        assert (await bram.get("/admin?format=csv&table=coordinators")).status_code == 404
        posts = {
            "/admin/organisations": {"name": "Mine now"},
            "/admin/coordinators": {
                "organisation_id": str(breda),
                "display_name": "Eve",
                "email": "eve@breda.example",
                "password": NEW_PASSWORD,
                "role": "admin",
            },
            f"/admin/coordinators/{anna.id}/deactivate": {},
            f"/admin/coordinators/{anna.id}/reactivate": {},
            f"/admin/coordinators/{anna.id}/unlock": {},
            f"/admin/coordinators/{anna.id}/password": {"password": NEW_PASSWORD},
            f"/admin/sleutelpersonen/{unplaced}/organisation": {"organisation_id": str(breda)},
        }
        for path, data in posts.items():
            response = await bram.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 404, path
            assert "not yours to see" in response.text
    assert await snapshot_counts(board) == before
    async with board.sessions() as session:
        assert (await session.get_one(Sleutelpersoon, unplaced)).organisation_id is None
    async with board.client() as client:
        assert (await sign_in(client, ANNA, PASSWORD)).status_code == 303
