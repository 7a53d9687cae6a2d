"""Signing in: argon2 passwords, lock-out, sessions in the database, CSRF on every POST."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from bot.models import AuditAction, AuditEntry, Coordinator, DashboardSession, Sleutelpersoon

from .kit import PASSWORD, Dashboard, add_person, csrf_of, dashboard, sign_in

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
EMAIL = "anna@tilburg.example"


@pytest.fixture
async def board(database_url: str):
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator("Gemeente Tilburg", EMAIL)
        yield running


async def session_count(board: Dashboard) -> int:
    async with board.sessions() as session:
        return await session.scalar(select(func.count()).select_from(DashboardSession)) or 0


async def test_sign_in_sets_an_http_only_same_site_session_cookie(board: Dashboard) -> None:
    async with board.client() as client:
        response = await sign_in(client, EMAIL.upper(), PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/now"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if "sleutelbrug_session" in c
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        page = await client.get("/now")
        assert page.status_code == 200 and "Anna" in page.text
        # Only the token's hash is stored: the cookie value is nowhere in the database.
        token = client.cookies["sleutelbrug_session"]
        async with board.sessions() as session:
            stored = (await session.scalars(select(DashboardSession.token_hash))).all()
        assert len(stored) == 1 and token not in stored[0]
        async with board.sessions() as session:
            hashed = await session.scalar(select(Coordinator.password_hash))
        assert hashed is not None and hashed.startswith("$argon2id$")


async def test_production_cookies_are_secure(database_url: str) -> None:
    async with dashboard(database_url, TUESDAY_10) as running:
        await running.coordinator("Gemeente Tilburg", EMAIL)
        object.__setattr__(running.config, "secure_cookies", True)
        # Secure cookies only travel over https, the pre-sign-in one included.
        async with running.client("https://dashboard.test") as client:
            response = await sign_in(client, EMAIL, PASSWORD)
        cookies = response.headers.get_list("set-cookie")
        assert any("sleutelbrug_session" in c and "Secure" in c for c in cookies)
        async with running.client("http://dashboard.test") as plain:
            refused = await sign_in(plain, EMAIL, PASSWORD)
        assert refused.status_code == 403


async def test_wrong_password_is_refused_with_a_message_and_no_session(board: Dashboard) -> None:
    async with board.client() as client:
        response = await sign_in(client, EMAIL, "not the password at all")
        assert response.status_code == 401
        assert "The e-mail address or the password is wrong." in response.text
        assert "sleutelbrug_session" not in client.cookies
        unknown = await sign_in(client, "nobody@example.org", PASSWORD)
        # An unknown address gets exactly the same answer: no account enumeration.
        assert unknown.status_code == 401
        assert "The e-mail address or the password is wrong." in unknown.text
        assert (await client.get("/now")).status_code == 303
    assert await session_count(board) == 0


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    board: Dashboard,
) -> None:
    async with board.client() as client:
        for _ in range(4):
            assert (await sign_in(client, EMAIL, "wrong password!")).status_code == 401
        fifth = await sign_in(client, EMAIL, "wrong password!")
        assert fifth.status_code == 429 and "locked until" in fifth.text
        # Locked: even the right password is refused, with the time it opens again.
        locked = await sign_in(client, EMAIL, PASSWORD)
        assert locked.status_code == 429 and "10:15" in locked.text
        board.clock.set(TUESDAY_10 + timedelta(minutes=15, seconds=1))
        assert (await sign_in(client, EMAIL, PASSWORD)).status_code == 303
    async with board.sessions() as session:
        entries = (await session.scalars(select(AuditEntry.action))).all()
    assert AuditAction.SIGN_IN_LOCKED in entries


async def test_forged_csrf_token_is_refused_and_nothing_changes(board: Dashboard) -> None:
    person_id = await add_person(board, "Gemeente Tilburg", "Amal", telegram_user_id=501)
    async with board.client() as client:
        # Sign-in itself needs the token of this browser.
        token = await csrf_of(client, "/login")
        forged = await client.post(
            "/login", data={"csrf_token": token + "x", "email": EMAIL, "password": PASSWORD}
        )
        assert forged.status_code == 403 and "Nothing was changed" in forged.text
        assert "sleutelbrug_session" not in client.cookies
    async with board.signed_in(EMAIL) as client:
        form = {
            "display_name": "Changed",
            "languages": "ar",
            "domains": "post",
            "locale": "nl",
            "max_open_conversations": "3",
            "max_new_per_week": "5",
        }
        for token in ("", "forged", "0" * 64):
            response = await client.post(
                f"/sleutelpersonen/{person_id}/profile", data={**form, "csrf_token": token}
            )
            assert response.status_code == 403
            assert "not sent from this dashboard" in response.text
        # A token from another session does not work either.
        async with board.signed_in(EMAIL) as other:
            foreign = await csrf_of(other, f"/sleutelpersonen/{person_id}")
        refused = await client.post(
            f"/sleutelpersonen/{person_id}/profile", data={**form, "csrf_token": foreign}
        )
        assert refused.status_code == 403
        good = await csrf_of(client, f"/sleutelpersonen/{person_id}")
        accepted = await client.post(
            f"/sleutelpersonen/{person_id}/profile", data={**form, "csrf_token": good}
        )
        assert accepted.status_code == 303
    async with board.sessions() as session:
        person = await session.get_one(Sleutelpersoon, person_id)
        assert person.display_name == "Changed"
        changes = (await session.scalars(select(AuditEntry.action))).all()
    assert changes.count(AuditAction.PROFILE_CHANGED) == 1


async def test_sign_out_ends_the_session_in_the_database(board: Dashboard) -> None:
    async with board.signed_in(EMAIL) as client:
        cookie = client.cookies["sleutelbrug_session"]
        token = await csrf_of(client, "/now")
        assert (await client.post("/logout", data={"csrf_token": token})).status_code == 303
        assert await session_count(board) == 0
        client.cookies.set("sleutelbrug_session", cookie)
        again = await client.get("/now")
        assert again.status_code == 303 and again.headers["location"].startswith("/login")


async def test_sessions_end_after_two_idle_hours(board: Dashboard) -> None:
    async with board.signed_in(EMAIL) as client:
        board.clock.set(TUESDAY_10 + timedelta(hours=1, minutes=59))
        assert (await client.get("/now")).status_code == 200
        board.clock.set(TUESDAY_10 + timedelta(hours=4))
        assert (await client.get("/now")).status_code == 303


async def test_pages_need_a_session_and_carry_security_headers(board: Dashboard) -> None:
    async with board.client() as client:
        for path in ("/now", "/sleutelpersonen", "/conversations/1", "/audit", "/admin"):
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        login = await client.get("/login")
        assert "default-src 'none'" in login.headers["content-security-policy"]
        assert login.headers["x-frame-options"] == "DENY"
        assert login.headers["cache-control"] == "no-store"
        # After sign-in only this site's paths are followed, never another host.
        token = await csrf_of(client, "/login")
        response = await client.post(
            "/login",
            data={
                "csrf_token": token,
                "email": EMAIL,
                "password": PASSWORD,
                "next": "//evil.example/",
            },
        )
        assert response.headers["location"] == "/now"


async def test_the_dashboard_speaks_dutch_and_english(board: Dashboard) -> None:
    async with board.client() as client:
        dutch = await client.get("/login", headers={"accept-language": "nl-NL,nl;q=0.9"})
        assert "Inloggen" in dutch.text and 'lang="nl"' in dutch.text
        english = await client.get("/login", headers={"accept-language": "en-GB"})
        assert "Sign in" in english.text and 'lang="en"' in english.text
        chosen = await client.get("/language/nl?next=/login")
        assert chosen.status_code == 303
        assert "Inloggen" in (await client.get("/login", headers={"accept-language": "en"})).text


async def test_changing_the_password_signs_out_other_sessions(board: Dashboard) -> None:
    new = "an even longer new passphrase"
    async with board.signed_in(EMAIL) as other, board.signed_in(EMAIL) as client:
        token = await csrf_of(client, "/account")
        wrong = await client.post(
            "/account/password",
            data={"csrf_token": token, "current": "nope", "new": new, "again": new},
        )
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text
        differ = await client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "new": new, "again": new + "!"},
        )
        assert differ.status_code == 400 and "differ" in differ.text
        assert (await other.get("/now")).status_code == 200
        done = await client.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "new": new, "again": new},
        )
        assert done.status_code == 303
        assert (await client.get("/now")).status_code == 200
        assert (await other.get("/now")).status_code == 303
    async with board.client() as fresh:
        assert (await sign_in(fresh, EMAIL, PASSWORD)).status_code == 401
        assert (await sign_in(fresh, EMAIL, new)).status_code == 303
    async with board.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert AuditAction.PASSWORD_CHANGED in actions


async def test_every_route_but_sign_in_needs_a_session(board: Dashboard) -> None:
    """Each page goes through the signed-in wrapper (and so through `dashboard.access`)."""
    public = {"/", "/login", "/language/{code}"}
    checked = 0
    async with board.client() as client:
        for route in board.app.routes:
            if not isinstance(route, Route) or route.path in public:
                continue
            path = re.sub(r"\{(\w+)(:int)?\}", "1", route.path)
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                response = await client.request(method, path)
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/login"), (method, path)
                checked += 1
    assert checked >= 25
