"""The bounds of issue 13 with their messages: leave and away dates within a year of today,
capacities 1..100, filter dates from 2000 to five years ahead, ids that can name no row, and
the security headers on an unexpected error's 500 page."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from bot.models import Sleutelpersoon
from dashboard.web import SECURITY_HEADERS

from .kit import Dashboard, add_person, csrf_of, dashboard

MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
TODAY = MONDAY_10.date()
TILBURG = "Gemeente Tilburg"
LEAVE_MESSAGE = {
    "en": "Leave can start at most a year ago and end at most a year from today.",
    "nl": "Verlof kan hoogstens een jaar geleden beginnen en hoogstens een jaar na vandaag",
}
FILTERS_BY_ID = (("/conversations", "sleutelpersoon"), ("/audit", "conversation"))
PROFILE = {
    "display_name": "Amal",
    "languages": "ar",
    "locale": "ar",
    "domains": ["post"],
    "max_open_conversations": "3",
    "max_new_per_week": "5",
}


async def leaves_of(board: Dashboard, person_id: int) -> list[tuple[date, date]]:
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, person_id)
        await session.refresh(person, ["leaves"])
        return sorted((leave.first_day, leave.last_day) for leave in person.leaves)


async def test_leave_is_bounded_to_a_year_back_and_a_year_ahead(sqlite_url: str) -> None:
    async with dashboard(sqlite_url, MONDAY_10) as board:
        await board.coordinator(TILBURG, "anna@tilburg.example")
        await board.coordinator(TILBURG, "bram@tilburg.example", locale="nl")
        person_id = await add_person(board, TILBURG, "Amal")
        for email, locale in (("anna@tilburg.example", "en"), ("bram@tilburg.example", "nl")):
            async with board.signed_in(email) as coordinator:
                coordinator.headers["accept-language"] = locale
                token = await csrf_of(coordinator, f"/sleutelpersonen/{person_id}")
                for first, last in (
                    ("0001-01-01", "9999-12-31"),
                    (str(TODAY - timedelta(days=366)), str(TODAY)),
                    (str(TODAY), str(TODAY + timedelta(days=366))),
                ):
                    refused = await coordinator.post(
                        f"/sleutelpersonen/{person_id}/leave",
                        data={"csrf_token": token, "first_day": first, "last_day": last},
                    )
                    assert refused.status_code == 400, (first, last)
                    assert LEAVE_MESSAGE[locale] in html.unescape(refused.text), locale
        assert await leaves_of(board, person_id) == []

        async with board.signed_in("anna@tilburg.example") as anna:
            token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
            widest = (TODAY - timedelta(days=365), TODAY + timedelta(days=365))
            accepted = await anna.post(
                f"/sleutelpersonen/{person_id}/leave",
                data={"csrf_token": token, "first_day": str(widest[0]), "last_day": str(widest[1])},
            )
            assert accepted.status_code == 303
        assert await leaves_of(board, person_id) == [widest]


async def test_capacity_and_away_date_are_bounded_with_messages(sqlite_url: str) -> None:
    async with dashboard(sqlite_url, MONDAY_10) as board:
        await board.coordinator(TILBURG, "anna@tilburg.example")
        person_id = await add_person(board, TILBURG, "Amal")
        async with board.signed_in("anna@tilburg.example") as anna:
            token = await csrf_of(anna, f"/sleutelpersonen/{person_id}")
            for field, value, message in (
                ("max_open_conversations", "99999999999999999999", "from 1 to 100"),
                ("max_new_per_week", "101", "from 1 to 100"),
                ("away_until", "9999-12-31", "The away date can be at most a year"),
                ("away_until", str(TODAY + timedelta(days=366)), "The away date can be at most"),
            ):
                refused = await anna.post(
                    f"/sleutelpersonen/{person_id}/profile",
                    data={**PROFILE, field: value, "csrf_token": token},
                )
                assert refused.status_code == 400, (field, value)
                assert message in refused.text, (field, value)
            widest = TODAY + timedelta(days=365)
            saved = await anna.post(
                f"/sleutelpersonen/{person_id}/profile",
                data={**PROFILE, "away_until": str(widest), "csrf_token": token},
            )
            assert saved.status_code == 303
        async with board.sessions() as session:
            person = await session.get_one(Sleutelpersoon, person_id)
        assert person.away_until == TODAY + timedelta(days=365)
        assert (person.max_open_conversations, person.max_new_per_week) == (3, 5)


async def test_filter_dates_and_ids_out_of_range(database_url: str) -> None:
    async with dashboard(database_url, MONDAY_10) as board:
        await board.coordinator(TILBURG, "anna@tilburg.example")
        async with board.signed_in("anna@tilburg.example") as anna:
            for page in ("/audit", "/conversations"):
                for first, last in (("9999-12-31", "9999-12-31"), ("0001-01-01", "2026-12-07")):
                    refused = await anna.get(page, params={"from": first, "to": last})
                    assert refused.status_code == 400, (page, first)
                    assert "between the year 2000 and five years from today" in refused.text
                assert (await anna.get(page, params={"from": "2000-01-01"})).status_code == 200
            for huge in ("2147483648", "9223372036854775808", "99999999999999999999999"):
                assert (await anna.get(f"/sleutelpersonen/{huge}")).status_code == 404
                # A filter by an id that can name nothing is no filter, like one that is no id.
                for listing, name in FILTERS_BY_ID:
                    assert (await anna.get(listing, params={name: huge})).status_code == 200


async def test_an_unexpected_error_answers_500_with_the_security_headers(sqlite_url: str) -> None:
    async with dashboard(sqlite_url, MONDAY_10) as board:
        await board.coordinator(TILBURG, "anna@tilburg.example")
        transport = httpx.ASGITransport(app=board.app, raise_app_exceptions=False)
        async with board.signed_in("anna@tilburg.example") as anna:
            cookies = anna.cookies
        async with board.sessions.begin() as session:
            await session.execute(text("DROP TABLE audit_log"))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://dashboard.test", cookies=cookies
        ) as client:
            broken = await client.get("/audit", headers={"accept-language": "en"})
    assert broken.status_code == 500
    assert "Something went wrong on our side" in broken.text
    for name, value in SECURITY_HEADERS:
        assert broken.headers[name.decode()] == value.decode()
