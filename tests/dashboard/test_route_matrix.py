"""Who sees what, route by route: every dashboard route (taken from the app itself, so a new
route without a row here fails) for anonymous visitors, a coordinator of the organisation that
owns the data, a coordinator of another organisation, an admin of that other organisation, and
a platform admin (of a third organisation), who manages accounts everywhere but reads nothing
of Tilburg's.

Refused requests change nothing in the database (all tables compared before and after), and
nobody but the owning organisation finds its data in any page or CSV export: its marker texts
appear nowhere else. The newcomer's words appear in exactly one answer: the owner's transcript
opened with a reason."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from starlette.routing import Mount, Route

from bot.models import (
    AuditAction,
    AuditEntry,
    Base,
    Leave,
    RequestStatus,
    Signal,
)
from bot.profiles import NewProfile, create_sleutelpersoon
from dashboard import auth

from .kit import (
    PASSWORD,
    Dashboard,
    add_conversation,
    add_person,
    add_request,
    csrf_of,
    dashboard,
    sign_in,
)

TUESDAY_10 = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
TILBURG = "Gemeente Tilburg"
BREDA = "VluchtelingenWerk Breda"
NEW_PASSWORD = "a brand new long password"

# What belongs to Tilburg and may show only to Tilburg's coordinators.
PERSON = "Amal Qxmarker"
SPARE = "Samira Qxmarker"
SIGNAL = "Qxsignal many CJIB fines"
REASON = "Qxreason complaint about the tone"
SECRET = "Qxsecret I received a fine from the CJIB"
MARKERS = {"person": PERSON, "spare": SPARE, "signal": SIGNAL, "reason": REASON}

ANONYMOUS, OWNER, OTHER, ADMIN, PLATFORM = "anonymous", "owner", "other", "admin", "platform"
# The owner last and the platform admin just before: their permitted changes (erasing,
# assigning, placing) would otherwise make later refusals trivially true.
ROLES = (ANONYMOUS, OTHER, ADMIN, PLATFORM, OWNER)
EMAILS = {
    OWNER: "anna@tilburg.example",
    OTHER: "bram@breda.example",
    ADMIN: "bea@breda.example",
    PLATFORM: "pia@platform.example",
}


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str | None = None
    # Refused: the database must be exactly as before ...
    refused: bool = False
    # ... but for the guess a refused sign-in counts (dashboard/throttle.py).
    counts_guess: bool = False


PAGE = Outcome(200)
SIGN_IN = Outcome(303, "/login?next=", refused=True)
NOT_FOUND = Outcome(404, refused=True)
WRONG_SIGN_IN = Outcome(401, refused=True, counts_guess=True)


def done(location: str) -> Outcome:
    return Outcome(303, location)


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: Outcome) -> dict[str, Outcome]:
    """Pages of one's own organisation or account: every coordinator, nobody else."""
    return dict.fromkeys(ROLES, outcome) | {ANONYMOUS: SIGN_IN}


def owners(outcome: Outcome) -> dict[str, Outcome]:
    """Routes naming an object of Tilburg: another organisation (admins and platform admins
    included) gets 404."""
    return dict.fromkeys(ROLES, NOT_FOUND) | {ANONYMOUS: SIGN_IN, OWNER: outcome}


def admins(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, NOT_FOUND) | {ANONYMOUS: SIGN_IN, ADMIN: outcome, PLATFORM: outcome}


def platform_admins(outcome: Outcome) -> dict[str, Outcome]:
    """Organisations, the profiles of none, and Tilburg's accounts: Breda's admin gets 404."""
    return dict.fromkeys(ROLES, NOT_FOUND) | {ANONYMOUS: SIGN_IN, PLATFORM: outcome}


@dataclass(frozen=True)
class Row:
    outcomes: Mapping[str, Outcome]
    form: Mapping[str, str | list[str]] = field(default_factory=dict)
    # Path parameter -> object of the world filling it, where it differs from `OBJECTS`.
    objects: Mapping[str, str] = field(default_factory=dict)
    # Where a signed-in browser finds the form's CSRF token.
    csrf_page: str = "/now"
    # Markers the owner must find in the answer (so their absence elsewhere means something).
    owner_sees: tuple[str, ...] = ()
    # A form that even the owner gets refused (400) without any change.
    refused_form: Mapping[str, str] | None = None
    # Query strings (filters naming Tilburg's objects) each asked as well, with the same outcome.
    queries: tuple[str, ...] = ()
    # Path objects that put the visitor's own object next to Tilburg's: Breda asks this as well,
    # and is refused the same way.
    mixed: Mapping[str, str] | None = None


OBJECTS = {
    "person_id": "person",
    "conversation_id": "conversation",
    "request_id": "request",
    "coordinator_id": "colleague",
    "leave_id": "leave",
    "code": "locale",
    "path": "stylesheet",
}
PROFILE = {
    "display_name": PERSON,
    "languages": "ar, nl",
    "locale": "ar",
    "domains": ["post", "finance"],
    "roles": ["verbinder"],
    "max_open_conversations": "3",
    "max_new_per_week": "5",
}

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/"): Row(everyone(done("/now"))),
    ("GET", "/login"): Row(everyone(PAGE)),
    ("POST", "/login"): Row(
        everyone(WRONG_SIGN_IN),
        # An address per role: five wrong guesses at one account from one client close it.
        {"email": "nobody-{role}@example.org", "password": PASSWORD, "next": "/now"},
        csrf_page="/login",
    ),
    ("POST", "/logout"): Row({**signed_in(done("/login")), ANONYMOUS: SIGN_IN}),
    ("GET", "/language/{code}"): Row(everyone(done("/now"))),
    ("GET", "/now"): Row(signed_in(PAGE), owner_sees=("person",)),
    ("POST", "/requests/{request_id:int}/assign"): Row(
        # To one's own sleutelpersoon: only the request itself can be what is refused.
        owners(done("/now?assigned=")),
        {"sleutelpersoon_id": "{own_person}"},
    ),
    ("GET", "/sleutelpersonen"): Row(signed_in(PAGE), owner_sees=("person", "spare")),
    ("GET", "/sleutelpersonen/new"): Row(signed_in(PAGE)),
    ("POST", "/sleutelpersonen/new"): Row(
        signed_in(PAGE),
        # Tigrinya: an Arabic speaker would rightly bring Tilburg's queued request to Breda.
        {**PROFILE, "display_name": "Yonas", "languages": "ti"},
        csrf_page="/sleutelpersonen/new",
    ),
    ("GET", "/sleutelpersonen/{person_id:int}"): Row(owners(PAGE), owner_sees=("person",)),
    ("POST", "/sleutelpersonen/{person_id:int}/profile"): Row(
        owners(done("/sleutelpersonen/")), {**PROFILE, "circle": "Syria"}
    ),
    ("POST", "/sleutelpersonen/{person_id:int}/hours"): Row(
        owners(done("/sleutelpersonen/")), {"cell": ["1-20", "1-21"]}
    ),
    ("POST", "/sleutelpersonen/{person_id:int}/leave"): Row(
        owners(done("/sleutelpersonen/")), {"first_day": "2026-12-28", "last_day": "2026-12-30"}
    ),
    ("POST", "/sleutelpersonen/{person_id:int}/leave/{leave_id:int}/delete"): Row(
        owners(done("/sleutelpersonen/")), mixed={"person_id": "breda_person"}
    ),
    ("POST", "/sleutelpersonen/{person_id:int}/invite"): Row(owners(PAGE)),
    ("POST", "/sleutelpersonen/{person_id:int}/deactivate"): Row(owners(done("/sleutelpersonen/"))),
    ("POST", "/sleutelpersonen/{person_id:int}/reactivate"): Row(owners(done("/sleutelpersonen/"))),
    ("POST", "/sleutelpersonen/{person_id:int}/erase"): Row(
        owners(done("/sleutelpersonen?erased=1")),
        {"confirm_name": SPARE},
        objects={"person_id": "spare"},
        refused_form={"confirm_name": "Someone Else"},
    ),
    ("GET", "/conversations"): Row(
        signed_in(PAGE),
        owner_sees=("person",),
        queries=("sleutelpersoon={person}&language=ar", "status=open&domain=post"),
    ),
    ("GET", "/conversations/{conversation_id:int}"): Row(
        owners(PAGE), owner_sees=("person", "reason", "signal")
    ),
    ("POST", "/conversations/{conversation_id:int}/transcript"): Row(
        owners(PAGE),
        {"reason": "Following up the newcomer's complaint"},
        owner_sees=("person",),
        refused_form={"reason": ""},
    ),
    ("GET", "/audit"): Row(
        signed_in(PAGE),
        owner_sees=("person", "reason"),
        queries=("conversation={conversation}&action=transcript_opened",),
    ),
    ("GET", "/insight"): Row(signed_in(PAGE), owner_sees=("person",), queries=("period=month",)),
    ("GET", "/signals"): Row(signed_in(PAGE), owner_sees=("signal",)),
    ("GET", "/admin"): Row(admins(PAGE)),
    ("POST", "/admin/organisations"): Row(
        platform_admins(done("/admin?done=organisation")), {"name": "Gemeente Goirle"}
    ),
    ("POST", "/admin/coordinators"): Row(
        platform_admins(done("/admin?done=coordinator")),
        {
            "organisation_id": "{tilburg}",
            "display_name": "Nina",
            "email": "nina@tilburg.example",
            "password": NEW_PASSWORD,
            "role": "coordinator",
            "locale": "en",
        },
    ),
    ("POST", "/admin/coordinators/{coordinator_id:int}/deactivate"): Row(
        platform_admins(done("/admin?done=deactivated"))
    ),
    ("POST", "/admin/coordinators/{coordinator_id:int}/reactivate"): Row(
        platform_admins(done("/admin?done=reactivated"))
    ),
    ("POST", "/admin/coordinators/{coordinator_id:int}/unlock"): Row(
        platform_admins(done("/admin?done=unlocked"))
    ),
    ("POST", "/admin/coordinators/{coordinator_id:int}/password"): Row(
        platform_admins(done("/admin?done=password")), {"password": NEW_PASSWORD}
    ),
    ("POST", "/admin/sleutelpersonen/{person_id:int}/organisation"): Row(
        platform_admins(done("/admin?done=moved")),
        {"organisation_id": "{tilburg}"},
        objects={"person_id": "unplaced"},
    ),
    ("GET", "/account"): Row(signed_in(PAGE)),
    ("POST", "/account/password"): Row(
        signed_in(done("/account?changed=1")),
        {"current": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD},
    ),
    ("GET", "/static/{path}"): Row(everyone(PAGE)),
}
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
CSV_LINK = re.compile(r'href="([^"]*format=csv[^"]*)"')


def routes_of(board: Dashboard) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, in the app's order; sign-out last."""
    found: list[tuple[str, str]] = []
    for route in board.app.routes:
        if isinstance(route, Mount):
            found.append(("GET", f"{route.path}/{{path}}"))
        else:
            assert isinstance(route, Route), route
            found += [
                (method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"
            ]
    return sorted(found, key=lambda key: key == ("POST", "/logout"))


@dataclass
class World:
    """Tilburg's data (and the odd object of nobody's) that the routes' parameters name."""

    objects: dict[str, int | str]

    def path(self, template: str, objects: Mapping[str, str]) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(self.objects[objects.get(name, OBJECTS[name])])

        return PARAMETER.sub(fill, template)

    def form(self, form: Mapping[str, str | list[str]], role: str) -> dict[str, str | list[str]]:
        own_person = self.objects["person" if role == OWNER else "breda_person"]
        return {
            key: value.format(**self.objects, own_person=own_person, role=role)
            if isinstance(value, str)
            else value
            for key, value in form.items()
        }


async def build_world(board: Dashboard) -> World:
    owner = await board.coordinator(TILBURG, EMAILS[OWNER])
    colleague = await board.coordinator(TILBURG, "alex@tilburg.example")
    await board.coordinator(BREDA, EMAILS[OTHER])
    await board.coordinator(BREDA, EMAILS[ADMIN], admin=True)
    await board.coordinator("Sleutelbrug platform", EMAILS[PLATFORM], platform_admin=True)
    # Breda speaks only Tigrinya, so Tilburg's Arabic request is not in its pool.
    breda_person = await add_person(board, BREDA, "Tesfay", languages=("ti",), telegram_user_id=702)
    person = await add_person(board, TILBURG, PERSON, telegram_user_id=701)
    spare = await add_person(board, TILBURG, SPARE, telegram_user_id=703)
    conversation = await add_conversation(
        board, person, [("newcomer", SECRET), ("sleutelpersoon", "Ik help je met de brief")]
    )
    request = await add_request(board, RequestStatus.QUEUED, language="ar")
    now = board.clock.now()
    async with board.sessions.begin() as session:
        tilburg = await auth.organisation_named(session, now, TILBURG)
        leave = Leave(
            sleutelpersoon_id=person, first_day=date(2026, 12, 21), last_day=date(2026, 12, 23)
        )
        session.add(leave)
        session.add(Signal.tag(conversation, person, SIGNAL, now, board.cipher))
        session.add(
            AuditEntry(
                at=now,
                organisation_id=tilburg.id,
                coordinator_id=owner.id,
                action=AuditAction.TRANSCRIPT_OPENED,
                conversation_id=conversation,
                sleutelpersoon_id=person,
                reason=REASON,
                details={},
            )
        )
        unplaced, _token = create_sleutelpersoon(
            session,
            now,
            NewProfile(display_name="Hawa", languages=("so",), domains=("post",), windows=()),
        )
        await session.flush()
        return World(
            {
                "person": person,
                "spare": spare,
                "breda_person": breda_person,
                "conversation": conversation,
                "request": request,
                "colleague": colleague.id,
                "leave": leave.id,
                "unplaced": unplaced.id,
                "tilburg": tilburg.id,
                "locale": "en",
                "stylesheet": "style.css",
            }
        )


async def snapshot(board: Dashboard) -> dict[str, list[str]]:
    """Every row of every table, for "nothing changed"."""
    async with board.sessions() as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in await session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


class Visitor:
    """One role's browser, with what it must never see."""

    def __init__(self, role: str, client: httpx.AsyncClient, world: World) -> None:
        self.role = role
        self.client = client
        self.world = world
        self.forbidden = [] if role == OWNER else list(MARKERS.values())
        if role != OWNER:
            # Tilburg's conversation and request as the pages label them.
            ids = (world.objects["conversation"], world.objects["request"])
            self.forbidden_labels = [re.compile(rf"#{number}\b") for number in ids]
        else:
            self.forbidden_labels = []

    def check_private(self, where: str, text: str, transcript: bool = False) -> None:
        for marker in self.forbidden:
            assert marker not in text, (self.role, where, marker)
        for pattern in self.forbidden_labels:
            assert pattern.search(text) is None, (self.role, where, pattern.pattern)
        assert (SECRET in text) == transcript, (self.role, where, "newcomer's words")

    async def check_exports(self, where: str, page: str) -> int:
        """Every CSV the page links to downloads, and shows nothing that is not this role's."""
        exports = 0
        for link in CSV_LINK.findall(page):
            export = await self.client.get(html.unescape(link))
            assert export.status_code == 200, (self.role, link)
            assert export.headers["content-type"].startswith("text/csv"), (self.role, link)
            self.check_private(link, export.text)
            exports += 1
        return exports


async def visit(board: Dashboard, visitor: Visitor, key: tuple[str, str], row: Row) -> int:
    """One cell of the matrix; returns the number of CSV exports it checked."""
    method, template = key
    path = visitor.world.path(template, row.objects)
    if method == "GET":
        exports = 0
        for query in ("", *row.queries):
            target = f"{path}?{query.format(**visitor.world.objects)}" if query else path
            exports += await ask(board, visitor, row, "GET", target)
        return exports
    token = ""
    if visitor.role != ANONYMOUS or row.csrf_page == "/login":
        token = await csrf_of(visitor.client, row.csrf_page)
    if row.refused_form is not None and visitor.role == OWNER:
        before = await snapshot(board)
        refused = await visitor.client.post(
            path, data={**visitor.world.form(row.refused_form, visitor.role), "csrf_token": token}
        )
        assert refused.status_code == 400, (path, refused.text)
        visitor.check_private(path, refused.text)
        assert changed_tables(before, await snapshot(board)) == [], path
    form = {**visitor.world.form(row.form, visitor.role), "csrf_token": token}
    if row.mixed is not None and visitor.role in (OTHER, ADMIN, PLATFORM):
        mixed = visitor.world.path(template, {**row.objects, **row.mixed})
        await ask(board, visitor, row, "POST", mixed, form)
    transcript = visitor.role == OWNER and template.endswith("/transcript")
    return await ask(board, visitor, row, "POST", path, form, transcript)


async def ask(
    board: Dashboard,
    visitor: Visitor,
    row: Row,
    method: str,
    path: str,
    form: dict[str, str | list[str]] | None = None,
    transcript: bool = False,
) -> int:
    """One request and everything checked about its answer; returns the CSV exports checked."""
    where = f"{method} {path}"
    expected = row.outcomes[visitor.role]
    before = await snapshot(board)
    response = await visitor.client.request(method, path, data=form)
    after = await snapshot(board)
    assert response.status_code == expected.status, (visitor.role, where, response.text[:300])
    if expected.location is not None:
        assert response.headers["location"].startswith(expected.location), (visitor.role, where)
    if expected.status == 404:
        assert "not yours to see" in response.text, (visitor.role, where)
    if expected.refused or method == "GET":
        counted = {"sign_in_throttles"} if expected.counts_guess else set()
        assert set(changed_tables(before, after)) - counted == set(), (visitor.role, where)
    visitor.check_private(where, response.text, transcript)
    if visitor.role == OWNER:
        for marker in row.owner_sees:
            assert MARKERS[marker] in response.text, (where, marker)
    if response.status_code == 200 and method == "GET":
        return await visitor.check_exports(where, response.text)
    return 0


async def test_every_route_has_a_row_for_every_role(sqlite_url: str) -> None:
    async with dashboard(sqlite_url, TUESDAY_10) as board:
        served = routes_of(board)
    assert len(served) == len(set(served))
    missing = sorted(set(served) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(served))
    assert (missing, stale) == ([], []), "routes without a row / rows without a route"
    for key, row in MATRIX.items():
        assert set(row.outcomes) == set(ROLES), key
        for name in PARAMETER.findall(key[1]):
            assert name in row.objects or name in OBJECTS, (key, name)


async def test_who_sees_what_on_every_route(database_url: str) -> None:
    async with dashboard(database_url, TUESDAY_10) as board:
        world = await build_world(board)
        routes = routes_of(board)
        cells = exports = 0
        for role in ROLES:
            async with board.client() as client:
                if role != ANONYMOUS:
                    assert (await sign_in(client, EMAILS[role], PASSWORD)).status_code == 303
                visitor = Visitor(role, client, world)
                for key in routes:
                    exports += await visit(board, visitor, key, MATRIX[key])
                    cells += 1
                if role != ANONYMOUS:
                    # Signed out by the last row: the session is gone.
                    assert (await client.get("/now")).headers["location"].startswith("/login")
        assert cells == len(routes) * len(ROLES)
        assert exports > 0
