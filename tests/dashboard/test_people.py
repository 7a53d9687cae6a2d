"""Sleutelpersonen in the dashboard: invites the bot accepts, profiles through the bot's own
validation, and office hours written to the tables matching reads."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import notices
from bot.directory import candidate_pool, local_today, schedule_of
from bot.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    ConversationMessage,
    ErasureEvent,
    HelpRequest,
    Offer,
    OfferStatus,
    OfficeWindow,
    OutboxMessage,
    RequestStatus,
    Sleutelpersoon,
)
from bot.profiles import INVITE_PREFIX, hash_invite_token
from dashboard import grid
from matching.candidates import HelpRequest as MatchRequest
from matching.candidates import rank_candidates
from matching.office_hours import is_within, parse_weekly_hours
from nlu.service import free_port
from tests.bot.kit import TEXTS, bot_process, world

from .kit import Dashboard, add_conversation, add_person, add_request, csrf_of, dashboard

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SATURDAY_11 = datetime(2026, 12, 5, 11, 0, tzinfo=AMSTERDAM)
TILBURG = "Gemeente Tilburg"
PROFILE = {
    "display_name": "Yonas",
    "languages": "ti, am",
    "locale": "ti",
    "domains": ["post", "health"],
    "roles": ["tolk", "verbinder"],
    "gender": "m",
    "circle": "Eritrea",
    "max_open_conversations": "2",
    "max_new_per_week": "4",
}


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, SATURDAY_11) as running:
        await running.coordinator(TILBURG, "anna@tilburg.example")
        yield running


async def actions(board: Dashboard) -> list[str]:
    async with board.sessions() as session:
        return list((await session.scalars(select(AuditEntry.action))).all())


async def test_an_invite_makes_a_profile_whose_link_the_bot_accepts(board: Dashboard) -> None:
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, "/sleutelpersonen/new")
        page = await anna.post("/sleutelpersonen/new", data={**PROFILE, "csrf_token": token})
        assert page.status_code == 200
        link = re.search(r"https://t\.me/SleutelbrugSandboxBot\?start=([A-Za-z0-9_-]+)", page.text)
        assert link is not None
        invite_token = link.group(1)
        assert invite_token.startswith(INVITE_PREFIX)  # what the bot's /start takes for one
        assert f"/start {invite_token}" in page.text
    async with board.sessions() as session:
        person = await session.scalar(select(Sleutelpersoon))
        assert person is not None
        # Stored as the bot stores invites: only the hash, valid for 7 days.
        assert person.invite_token_hash == hash_invite_token(invite_token)
        assert invite_token not in (person.invite_token_hash or "")
        assert person.invite_expires_at == SATURDAY_11 + timedelta(days=7)
        assert (person.languages, person.domains, person.roles) == (
            ["ti", "am"],
            ["post", "health"],
            ["tolk", "verbinder"],
        )
        assert person.organisation == TILBURG and person.organisation_id is not None
        assert person.telegram_user_id is None and person.windows == []
    assert AuditAction.SLEUTELPERSOON_INVITED in await actions(board)


async def test_invalid_profiles_are_refused_with_messages_and_change_nothing(
    board: Dashboard,
) -> None:
    person_id = await add_person(board, TILBURG, "Amal", telegram_user_id=901)
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, "/sleutelpersonen/new")
        bad = {**PROFILE, "display_name": " ", "domains": [], "max_open_conversations": "0"}
        refused = await anna.post("/sleutelpersonen/new", data={**bad, "csrf_token": token})
        assert refused.status_code == 400
        for message in (
            "Give a name.",
            "Choose at least one topic.",
            "Capacities must be whole numbers from 1 to 100.",
        ):
            assert message in refused.text
        edit = await anna.post(
            f"/sleutelpersonen/{person_id}/profile",
            data={**PROFILE, "languages": "", "csrf_token": token},
        )
        assert edit.status_code == 400 and "Give at least one language code" in edit.text
        forged_domain = await anna.post(
            f"/sleutelpersonen/{person_id}/profile",
            data={**PROFILE, "domains": ["money"], "csrf_token": token},
        )
        assert forged_domain.status_code == 400
    async with board.sessions() as session:
        people = (await session.scalars(select(Sleutelpersoon))).all()
        assert [p.display_name for p in people] == ["Amal"]
        assert people[0].domains == ["post", "finance", "health"]


async def test_edited_office_hours_are_what_matching_follows(board: Dashboard) -> None:
    person_id = await add_person(
        board, TILBURG, "Amal", hours="mon-fri 09:00-17:00", telegram_user_id=902
    )
    wanted = MatchRequest(language="ar", domain="post")

    async def ranked() -> list[int]:
        async with board.sessions() as session:
            pool = await candidate_pool(session, board.clock.now())
        return [c.id for c in rank_candidates(pool, wanted, board.clock.now())]

    assert await ranked() == []  # Saturday: outside her weekday hours
    # Saturday (5) 10:00-12:00 and 13:00-14:30 ticked in the grid, the weekdays kept.
    cells = {(5, slot) for slot in (*range(20, 24), *range(26, 29))}
    cells |= {(day, slot) for day in range(5) for slot in range(18, 34)}
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get(f"/sleutelpersonen/{person_id}")
        assert page.text.count('type="checkbox" name="cell"') == 7 * 48
        assert page.text.count("checked aria-label") == 5 * 16
        token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
        saved = await anna.post(
            f"/sleutelpersonen/{person_id}/hours",
            data={"csrf_token": token, "cell": [f"{d}-{s}" for d, s in sorted(cells)]},
        )
        assert saved.status_code == 303
        assert "Matching uses them from now on" in (await anna.get(saved.headers["location"])).text
        assert (
            await anna.post(
                f"/sleutelpersonen/{person_id}/hours", data={"csrf_token": token, "cell": "9-99"}
            )
        ).status_code == 400
    assert await ranked() == [person_id]
    async with board.sessions() as session:
        windows = (
            await session.scalars(
                select(OfficeWindow)
                .where(OfficeWindow.sleutelpersoon_id == person_id, OfficeWindow.weekday == 5)
                .order_by(OfficeWindow.starts_at)
            )
        ).all()
        assert [(w.starts_at.isoformat(), w.ends_at.isoformat()) for w in windows] == [
            ("10:00:00", "12:00:00"),
            ("13:00:00", "14:30:00"),
        ]
        details = await session.scalar(
            select(AuditEntry.details).where(AuditEntry.action == AuditAction.HOURS_CHANGED)
        )
    assert details is not None and "sat 13:00-14:30" in details["hours"][1]
    board.clock.set(SATURDAY_11.replace(hour=12, minute=30))
    assert await ranked() == []  # the lunch break is not ticked


async def test_away_and_leave_from_the_dashboard_are_what_telegram_and_matching_see(
    board: Dashboard,
) -> None:
    person_id = await add_person(
        board, TILBURG, "Amal", hours="mon-sun 09:00-17:00", telegram_user_id=903
    )
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
        profile = {
            **PROFILE,
            "display_name": "Amal",
            "languages": "ar",
            "away_until": "2026-12-06",
            "csrf_token": token,
        }
        assert (
            await anna.post(f"/sleutelpersonen/{person_id}/profile", data=profile)
        ).status_code == 303
        leave = {"csrf_token": token, "first_day": "2026-12-24", "last_day": "2026-12-26"}
        assert (
            await anna.post(f"/sleutelpersonen/{person_id}/leave", data=leave)
        ).status_code == 303
        backwards = {"csrf_token": token, "first_day": "2026-12-26", "last_day": "2026-12-24"}
        refused = await anna.post(f"/sleutelpersonen/{person_id}/leave", data=backwards)
        assert refused.status_code == 400 and "Leave must end on or after" in refused.text
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, person_id)
        # The same column /away writes: Telegram and the dashboard show one value.
        assert person.away_until == date(2026, 12, 6)
        assert [(leave.first_day, leave.last_day) for leave in person.leaves] == [
            (date(2026, 12, 24), date(2026, 12, 26))
        ]
        schedule = schedule_of(person, local_today(person, SATURDAY_11))
    assert not is_within(schedule, SATURDAY_11)
    assert not is_within(schedule, SATURDAY_11 + timedelta(days=20))  # Christmas Day leave
    assert is_within(schedule, SATURDAY_11 + timedelta(days=2))  # Monday: back
    changes = await actions(board)
    assert AuditAction.PROFILE_CHANGED in changes and AuditAction.LEAVE_ADDED in changes


async def test_deactivated_sleutelpersonen_get_no_requests(board: Dashboard) -> None:
    person_id = await add_person(
        board, TILBURG, "Amal", hours="mon-sun 00:00-24:00", telegram_user_id=904
    )
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
        done = await anna.post(
            f"/sleutelpersonen/{person_id}/deactivate", data={"csrf_token": token}
        )
        page = await anna.get(done.headers["location"])
        assert "they get no new requests" in page.text
    async with board.sessions() as session:
        pool = await candidate_pool(session, SATURDAY_11)
    assert pool.speaking("ar") == ()


INVITE_COMMAND = re.compile(r'<code id="invite-command">(/start [A-Za-z0-9_-]+)</code>')


async def test_a_renewed_invite_is_completed_in_telegram_and_only_then_replaces_the_account(
    postgres_url: str, redis, redis_key_prefix: str
) -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    async with (
        world(postgres_url, redis_key_prefix, nobody_listens, SATURDAY_11) as (
            sandbox,
            clock,
            settings,
        ),
        bot_process(settings, sandbox, clock),
        dashboard(postgres_url, SATURDAY_11) as board,
    ):
        await board.coordinator(TILBURG, "anna@tilburg.example")
        old_phone = sandbox.add_user("Amal", "nl")
        person_id = await add_person(board, TILBURG, "Amal", telegram_user_id=old_phone.id)
        async with board.signed_in("anna@tilburg.example") as anna:
            page = await anna.get(f"/sleutelpersonen/{person_id}")
            assert "The current account stays connected until the new link is opened" in page.text
            token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
            invite = await anna.post(
                f"/sleutelpersonen/{person_id}/invite", data={"csrf_token": token}
            )
            assert invite.status_code == 200 and 'id="still-connected"' in invite.text
            found = INVITE_COMMAND.search(invite.text)
            assert found is not None
            start_command = found.group(1)
        async with board.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
            # An unused link disconnects nobody.
            assert person.telegram_user_id == old_phone.id
        new_phone = sandbox.add_user("Amal", "nl")
        await new_phone.send_text(start_command)
        welcome = notices.invite_welcome(TEXTS["nl"], "Amal")
        await new_phone.wait_for_message(lambda m: m.text == welcome)
        async with board.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
            assert person.telegram_user_id == new_phone.id
            assert person.invite_token_hash is None and person.invite_expires_at is None
        # It works once: the same link again is refused, and the profile stays where it is.
        stranger = sandbox.add_user("Someone", "nl")
        await stranger.send_text(start_command)
        refused = notices.invite_invalid(TEXTS["nl"])
        await stranger.wait_for_message(lambda m: m.text == refused)
        async with board.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
            assert person.telegram_user_id == new_phone.id
            renewed = await session.scalar(
                select(AuditEntry.details).where(AuditEntry.action == AuditAction.INVITE_RENEWED)
            )
        assert renewed is not None and renewed["replaces_telegram_account"] is True


async def test_saving_the_profile_keeps_an_away_date_set_in_telegram_meanwhile(
    board: Dashboard,
) -> None:
    person_id = await add_person(board, TILBURG, "Amal", telegram_user_id=905)
    form = {**PROFILE, "display_name": "Amal", "languages": "ar", "max_open_conversations": "4"}
    async with board.signed_in("anna@tilburg.example") as anna:
        page = await anna.get(f"/sleutelpersonen/{person_id}")
        assert 'name="away_until_loaded" value=""' in page.text
        token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
        # While the page is open, Amal sends /away 2026-12-10 (it writes this column).
        async with board.sessions.begin() as session:
            (await session.get_one(Sleutelpersoon, person_id)).away_until = date(2026, 12, 10)
        saved = await anna.post(
            f"/sleutelpersonen/{person_id}/profile",
            data={**form, "away_until": "", "away_until_loaded": "", "csrf_token": token},
        )
        assert saved.status_code == 303
        async with board.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
            assert person.away_until == date(2026, 12, 10)  # her /away stands
            assert person.max_open_conversations == 4  # the coordinator's change is saved
            first = await session.scalar(
                select(AuditEntry.details).where(AuditEntry.action == AuditAction.PROFILE_CHANGED)
            )
        assert first is not None and "away_until" not in first
        page = await anna.get(f"/sleutelpersonen/{person_id}")
        assert 'name="away_until_loaded" value="2026-12-10"' in page.text
        # The coordinator clears the date on purpose: that is a change, and it is recorded.
        cleared = await anna.post(
            f"/sleutelpersonen/{person_id}/profile",
            data={**form, "away_until": "", "away_until_loaded": "2026-12-10", "csrf_token": token},
        )
        assert cleared.status_code == 303
    async with board.sessions() as session:
        assert (await session.get_one(Sleutelpersoon, person_id)).away_until is None
        changes = (
            await session.scalars(
                select(AuditEntry.details)
                .where(AuditEntry.action == AuditAction.PROFILE_CHANGED)
                .order_by(AuditEntry.id)
            )
        ).all()
    assert changes[-1] == {"away_until": ["2026-12-10", None]}


async def test_erasing_a_sleutelpersoon_hands_back_their_conversations_and_keeps_no_name(
    board: Dashboard,
) -> None:
    await board.coordinator("Gemeente Breda", "bram@breda.example")
    amal = await add_person(board, TILBURG, "Amal", telegram_user_id=906)
    talk = await add_conversation(
        board, amal, [("newcomer", "salam, een brief"), ("sleutelpersoon", "ik help je")]
    )
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{amal}")
        # A profile change whose details name her community, to see it forgotten.
        circled = {**PROFILE, "display_name": "Amal", "languages": "ar", "circle": "Homs"}
        await anna.post(f"/sleutelpersonen/{amal}/profile", data={**circled, "csrf_token": token})
    async with board.signed_in("bram@breda.example") as bram:
        other = await csrf_of(bram, "/now")
        refused = await bram.post(
            f"/sleutelpersonen/{amal}/erase", data={"csrf_token": other, "confirm_name": "Amal"}
        )
        assert refused.status_code == 404
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{amal}")
        wrong = await anna.post(
            f"/sleutelpersonen/{amal}/erase", data={"csrf_token": token, "confirm_name": "amal"}
        )
        assert wrong.status_code == 400 and "Nothing was erased." in wrong.text
        async with board.sessions() as session:
            assert (await session.get_one(Sleutelpersoon, amal)).display_name == "Amal"
            assert (await session.scalars(select(ErasureEvent))).all() == []
        erased = await anna.post(
            f"/sleutelpersonen/{amal}/erase", data={"csrf_token": token, "confirm_name": " Amal "}
        )
        assert erased.status_code == 303
        listing = await anna.get(erased.headers["location"])
        assert "The sleutelpersoon was erased" in listing.text and "Amal" not in listing.text
        assert (await anna.get(f"/sleutelpersonen/{amal}")).status_code == 404
        # The conversation stays, as metadata, in the organisation's audit list.
        assert (await anna.get(f"/conversations/{talk}")).status_code == 200
        audit = await anna.get("/audit?format=csv&table=audit")
        assert "erased a sleutelpersoon" in audit.text
        assert "Amal" not in audit.text and "Homs" not in audit.text
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, amal)
        assert (person.display_name, person.telegram_user_id, person.active) == (
            "erased",
            None,
            False,
        )
        assert person.windows == [] and person.circle is None and person.erased_at is not None
        conversation = await session.get_one(Conversation, talk)
        assert conversation.status == "handed_back"
        authors = (
            await session.scalars(
                select(ConversationMessage.author).where(
                    ConversationMessage.conversation_id == talk
                )
            )
        ).all()
        assert authors == ["newcomer"]
        successor = await session.scalar(
            select(HelpRequest).where(HelpRequest.id != conversation.request_id)
        )
        assert successor is not None and successor.status != RequestStatus.ACCEPTED
        assert [e.reason for e in (await session.scalars(select(ErasureEvent))).all()] == [
            "sleutelpersoon_by_coordinator"
        ]
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == AuditAction.SLEUTELPERSOON_ERASED)
        )
        assert entry is not None and entry.sleutelpersoon_id == amal and entry.details == {}


async def test_deactivating_passes_their_pending_offers_to_the_next_candidate(
    board: Dashboard,
) -> None:
    everyday = "mon-sun 00:00-24:00"
    amal = await add_person(board, TILBURG, "Amal", hours=everyday, telegram_user_id=907)
    sara = await add_person(board, TILBURG, "Sara", hours=everyday, telegram_user_id=908)
    queued = await add_request(board, RequestStatus.QUEUED)
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, "/now")
        assigned = await anna.post(
            f"/requests/{queued}/assign", data={"csrf_token": token, "sleutelpersoon_id": amal}
        )
        assert assigned.status_code == 303
        done = await anna.post(f"/sleutelpersonen/{amal}/deactivate", data={"csrf_token": token})
        assert done.status_code == 303
    async with board.sessions() as session:
        offers = {
            offer.sleutelpersoon_id: offer
            for offer in (await session.scalars(select(Offer).where(Offer.request_id == queued)))
        }
        assert offers[amal].status == OfferStatus.WITHDRAWN and offers[amal].expires_at is None
        # Her offer had not gone out yet: it never will.
        unsent = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.purpose == f"offer:{offers[amal].id}")
        )
        assert unsent is None
        assert offers[sara].status == OfferStatus.PENDING
        assert (await session.get_one(HelpRequest, queued)).status == RequestStatus.OFFERED


async def test_leave_removal_and_reactivation(board: Dashboard) -> None:
    person_id = await add_person(board, TILBURG, "Amal", hours="mon-sun 09:00-17:00")
    async with board.signed_in("anna@tilburg.example") as anna:
        token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
        leave = {"csrf_token": token, "first_day": "2026-12-24", "last_day": "2026-12-26"}
        await anna.post(f"/sleutelpersonen/{person_id}/leave", data=leave)
        page = await anna.get(f"/sleutelpersonen/{person_id}")
        leave_ids = re.findall(rf"/sleutelpersonen/{person_id}/leave/(\d+)/delete", page.text)
        assert len(leave_ids) == 1
        removed = await anna.post(
            f"/sleutelpersonen/{person_id}/leave/{leave_ids[0]}/delete", data={"csrf_token": token}
        )
        assert removed.status_code == 303
        missing = await anna.post(
            f"/sleutelpersonen/{person_id}/leave/{leave_ids[0]}/delete", data={"csrf_token": token}
        )
        assert missing.status_code == 404
        await anna.post(f"/sleutelpersonen/{person_id}/deactivate", data={"csrf_token": token})
        back = await anna.post(
            f"/sleutelpersonen/{person_id}/reactivate", data={"csrf_token": token}
        )
        assert (
            "The sleutelpersoon was reactivated." in (await anna.get(back.headers["location"])).text
        )
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, person_id)
        assert person.leaves == [] and person.active
        removal = await session.scalar(
            select(AuditEntry.details).where(AuditEntry.action == AuditAction.LEAVE_REMOVED)
        )
    assert removal == {"first_day": "2026-12-24", "last_day": "2026-12-26"}
    logged = await actions(board)
    assert logged.count(AuditAction.SLEUTELPERSOON_REACTIVATED) == 1


def test_the_grid_turns_cells_into_windows_and_back() -> None:
    windows = parse_weekly_hours("mon-fri 09:00-12:00 13:00-17:00; sun 22:00-24:00")
    assert set(grid.windows_of(grid.cells_of(windows))) == set(windows)
    assert grid.is_exact(windows)
    odd = parse_weekly_hours("tue 09:10-09:50")
    assert not grid.is_exact(odd)
    assert grid.windows_of(grid.cells_of(odd)) == parse_weekly_hours("tue 09:00-10:00")
    with pytest.raises(ValueError, match="not a grid cell"):
        grid.parse_cells(["mon-9"])
    with pytest.raises(ValueError, match="no such cell"):
        grid.parse_cells(["7-0"])
