"""No request a signed-in coordinator or admin can make gives 500 (issue 13, item 4): every
route of the app (taken from the app itself) is asked with huge, negative and non-numeric ids,
numbers and dates (year 1 and 9999 included) in its path, query and form; every answer carries
the security headers, error pages included."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.web import SECURITY_HEADERS

from .kit import PASSWORD, Dashboard, csrf_of, dashboard, sign_in
from .test_route_matrix import (
    ADMIN,
    EMAILS,
    MATRIX,
    OWNER,
    PARAMETER,
    TUESDAY_10,
    World,
    build_world,
)
from .test_route_matrix import OBJECTS as MATRIX_OBJECTS
from .test_route_matrix import routes_of as served_routes

HUGE_NUMBERS = ["9223372036854775807", "9223372036854775808", "99999999999999999999", "1" * 23]
NUMBERS = [*HUGE_NUMBERS, "0", "-1", "-9223372036854775809", "1e9", "abc", "", "٣", "1.5"]
DATES = [
    "0001-01-01",
    "9999-12-31",
    "1999-12-31",
    "2100-01-01",
    "2026-12-24",
    "2025-12-07",
    "2027-12-08",
    "2026-02-30",
    "today",
    "",
]
VALUES = st.sampled_from(NUMBERS + DATES) | st.text(max_size=12)
QUERY_NAMES = [
    "from",
    "to",
    "sleutelpersoon",
    "conversation",
    "period",
    "format",
    "table",
    "saved",
    "assigned",
    "done",
    "next",
    "status",
    "language",
    "action",
]
FORM_NAMES = [
    "first_day",
    "last_day",
    "away_until",
    "away_until_loaded",
    "max_open_conversations",
    "max_new_per_week",
    "sleutelpersoon_id",
    "organisation_id",
    "cell",
]
# Signing out would end the fuzzing browser's session.
SKIPPED = {("POST", "/logout")}


def fuzz_path(world: World, template: str, fuzzed: Mapping[str, str]) -> str:
    """The route's path with the `fuzzed` parameters replaced, the others the world's objects."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in fuzzed:
            return quote(fuzzed[name], safe="")
        return str(world.objects[MATRIX_OBJECTS[name]])

    return PARAMETER.sub(fill, template)


async def fuzz(board: Dashboard, world: World, role: str, examples: int) -> list[int]:
    """Fuzzed requests as `role`; the statuses they got."""
    routes = [key for key in served_routes(board) if key not in SKIPPED]
    loop = asyncio.get_running_loop()
    statuses: list[int] = []
    transport = httpx.ASGITransport(app=board.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://dashboard.test", headers={"accept-language": "en"}
    ) as client:
        assert (await sign_in(client, EMAILS[role], PASSWORD)).status_code == 303
        token = await csrf_of(client, "/now")

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data())
        def one_request(data: st.DataObject) -> None:
            method, template = data.draw(st.sampled_from(routes), label="route")
            names = PARAMETER.findall(template)
            fuzzed = data.draw(
                st.dictionaries(st.sampled_from(names), VALUES) if names else st.just({}),
                label="path",
            )
            query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), VALUES), label="query")
            form: dict[str, str | list[str]] = {
                **world.form(MATRIX[method, template].form, role),
                **data.draw(st.dictionaries(st.sampled_from(FORM_NAMES), VALUES), label="form"),
                "csrf_token": token,
            }
            path = fuzz_path(world, template, fuzzed)
            sent = client.request(
                method, path, params=query, data=form if method == "POST" else None
            )
            response = asyncio.run_coroutine_threadsafe(sent, loop).result()
            statuses.append(response.status_code)
            assert response.status_code != 500, (method, path, query, form)
            for name, value in SECURITY_HEADERS:
                if name != b"cache-control" or not path.startswith("/static/"):
                    assert response.headers.get(name.decode()) == value.decode(), (path, name)

        await asyncio.to_thread(one_request)
    return statuses


async def test_no_route_answers_500_to_any_id_number_or_date(database_url: str) -> None:
    started = time.monotonic()
    async with dashboard(database_url, TUESDAY_10) as board:
        world = await build_world(board)
        statuses = [
            status for role in (OWNER, ADMIN) for status in await fuzz(board, world, role, 150)
        ]
    print(
        f"dashboard fuzz: {len(statuses)} requests in {time.monotonic() - started:.1f} s, "
        f"statuses {sorted(set(statuses))}"
    )
