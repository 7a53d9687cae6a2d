"""Sleutelpersonen: list, invite, profile, weekly hours grid, leave, deactivation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.directory import OPEN, local_today, schedule_of
from bot.erasure import erase_sleutelpersoon
from bot.i18n import SUPPORTED_LOCALES
from bot.models import AuditAction, Conversation, Organisation, Sleutelpersoon
from bot.profiles import DOMAINS as DOMAIN_CODES
from bot.profiles import ROLES as ROLE_CODES
from bot.profiles import issue_invite
from dashboard import access, grid
from dashboard.audit import forget_personal_details, record
from dashboard.i18n import N_
from dashboard.labels import DOMAINS, GENDERS, ROLES, connection, label, language_name
from dashboard.periods import wall_date
from dashboard.profiles import (
    ProfileError,
    ProfileForm,
    add_leave,
    away_changed,
    form_of_person,
    invite,
    read_form,
    set_windows,
    update_profile,
    windows_of_person,
)
from dashboard.tables import Column, Kind, Table
from dashboard.web import Ctx, Pages
from matching.office_hours import is_within, next_opening

EMPTY_FORM = ProfileForm(
    display_name="",
    locale="nl",
    languages=(),
    domains=(),
    roles=(),
    gender=None,
    circle=None,
    paid=False,
    works_on_public_holidays=False,
    max_open_conversations=3,
    max_new_per_week=5,
    away_until=None,
)
SAVED = {
    "profile": N_("The profile was saved."),
    "hours": N_("The office hours were saved. Matching uses them from now on."),
    "leave": N_("The leave was saved."),
    "deactivated": N_("The sleutelpersoon was deactivated: they get no new requests."),
    "reactivated": N_("The sleutelpersoon was reactivated."),
}
ERASE_NOT_CONFIRMED = N_(
    "To erase, type the name exactly as it is shown at the top of the page. Nothing was erased."
)
ERASED_NOTICE = N_(
    "The sleutelpersoon was erased: their profile, office hours and messages are gone, and "
    "their open conversations went back to the pool."
)


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    def form_choices() -> dict[str, Any]:
        return {
            "domain_choices": [(code, DOMAINS[code]) for code in DOMAIN_CODES],
            "role_choices": [(code, ROLES[code]) for code in ROLE_CODES],
            "locale_choices": list(SUPPORTED_LOCALES),
            "gender_choices": list(GENDERS.items()),
        }

    async def listing(ctx: Ctx) -> Response:
        translator = ctx.translator
        async with config.sessions() as session:
            people = (await session.scalars(access.managed_sleutelpersonen(ctx.signed_in))).all()
            open_counts = dict(
                (
                    await session.execute(
                        select(Conversation.sleutelpersoon_id, func.count())
                        .where(access.own_conversations(ctx.signed_in))
                        .where(Conversation.status == OPEN)
                        .group_by(Conversation.sleutelpersoon_id)
                    )
                ).all()
            )
        table = Table(
            "sleutelpersonen",
            N_("Sleutelpersonen"),
            [
                Column(N_("Name")),
                Column(N_("Languages")),
                Column(N_("Topics")),
                Column(N_("Roles")),
                Column(N_("Open conversations")),
                Column(N_("Telegram")),
                Column(N_("Active")),
            ],
            empty=N_("No sleutelpersonen yet. Invite the first one."),
        )
        now = config.clock.now()
        for index, person in enumerate(people):
            table.rows.append(
                [
                    person.display_name,
                    ", ".join(language_name(translator, code) for code in person.languages),
                    ", ".join(label(translator, DOMAINS, code) for code in person.domains),
                    ", ".join(label(translator, ROLES, code) for code in person.roles),
                    f"{open_counts.get(person.id, 0)} / {person.max_open_conversations}",
                    connection(ctx.translator, person, now),
                    translator.gettext("yes") if person.active else translator.gettext("no"),
                ]
            )
            table.links[index] = f"/sleutelpersonen/{person.id}"
        return pages.csv_or(
            ctx,
            [table],
            lambda: pages.render(
                ctx,
                "people.html",
                nav="people",
                table=table,
                erased=ERASED_NOTICE if ctx.request.query_params.get("erased") else None,
            ),
        )

    async def new_form(ctx: Ctx) -> Response:
        return pages.render(
            ctx, "person_new.html", nav="people", form=EMPTY_FORM, errors=[], **form_choices()
        )

    async def create(ctx: Ctx) -> Response:
        assert ctx.form is not None
        now = config.clock.now()
        try:
            form = read_form(ctx.form, wall_date(config.clock.now()))
            async with config.sessions.begin() as session:
                organisation = await session.get_one(Organisation, ctx.signed_in.organisation_id)
                person, token = invite(session, now, form, organisation)
                await session.flush()
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.SLEUTELPERSOON_INVITED,
                    sleutelpersoon_id=person.id,
                    details={"expires_at": _iso(person.invite_expires_at)},
                )
        except ProfileError as problem:
            return pages.render(
                ctx,
                "person_new.html",
                400,
                nav="people",
                form=_form_or_empty(ctx),
                errors=problem.messages(),
                **form_choices(),
            )
        return _invite_page(ctx, person, token)

    def _invite_page(ctx: Ctx, person: Sleutelpersoon, token: str) -> Response:
        return pages.render(
            ctx,
            "invite.html",
            nav="people",
            person=person,
            link=f"https://t.me/{config.bot_username}?start={token}",
            start_command=f"/start {token}",
        )

    async def detail(
        ctx: Ctx, status: int = 200, errors: list[str] | None = None, form: Any = None
    ) -> Response:
        now = config.clock.now()
        async with config.sessions() as session:
            person = await access.sleutelpersoon(
                session, ctx.signed_in, int(ctx.request.path_params["person_id"])
            )
            open_conversations = await session.scalar(
                select(func.count()).where(
                    Conversation.sleutelpersoon_id == person.id, Conversation.status == OPEN
                )
            )
        schedule = schedule_of(person, local_today(person, now))
        windows = windows_of_person(person)
        translator = ctx.translator
        leaves = sorted(person.leaves, key=lambda leave: leave.first_day)
        leave_table = Table(
            "leave",
            N_("Leave"),
            [Column(N_("First day"), Kind.DATE), Column(N_("Last day"), Kind.DATE)],
            [[leave.first_day, leave.last_day] for leave in leaves],
            empty=N_("No leave planned."),
        )
        return pages.csv_or(
            ctx,
            [leave_table],
            lambda: pages.render(
                ctx,
                "person.html",
                status,
                nav="people",
                person=person,
                form=form or form_of_person(person),
                # On a refused form, the date it was first loaded with, so a retry still merges.
                away_loaded=ctx.field("away_until_loaded") if form else _iso_day(person.away_until),
                errors=errors or [],
                cells=grid.cells_of(windows),
                grid_exact=grid.is_exact(windows),
                slots=[(slot, grid.slot_start(slot)) for slot in range(grid.SLOTS_PER_DAY)],
                weekdays=translator.weekday_names(),
                within_now=is_within(schedule, now),
                next_opening=next_opening(schedule, now),
                connection=connection(ctx.translator, person, now),
                open_conversations=open_conversations or 0,
                leaves=leaves,
                saved=SAVED.get(ctx.request.query_params.get("saved", "")),
                today=local_today(person, now),
                **form_choices(),
            ),
        )

    def back(person_id: int, saved: str) -> Response:
        return RedirectResponse(f"/sleutelpersonen/{person_id}?saved={saved}", 303)

    async def save_profile(ctx: Ctx) -> Response:
        assert ctx.form is not None
        person_id = int(ctx.request.path_params["person_id"])
        try:
            form = read_form(ctx.form, wall_date(config.clock.now()))
            async with config.sessions.begin() as session:
                person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
                changes = update_profile(person, form, away_changed=away_changed(ctx.form, form))
                if changes:
                    record(
                        session,
                        config.clock.now(),
                        ctx.signed_in,
                        AuditAction.PROFILE_CHANGED,
                        sleutelpersoon_id=person.id,
                        details=changes,
                    )
        except ProfileError as problem:
            return await detail(ctx, 400, problem.messages(), _form_or_empty(ctx))
        return back(person_id, "profile")

    async def save_hours(ctx: Ctx) -> Response:
        assert ctx.form is not None
        person_id = int(ctx.request.path_params["person_id"])
        try:
            cells = grid.parse_cells(str(value) for value in ctx.form.getlist("cell"))
        except ValueError:
            return await detail(ctx, 400, [N_("The office hours grid could not be read.")])
        async with config.sessions.begin() as session:
            person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
            changes = set_windows(person, grid.windows_of(cells))
            if changes:
                record(
                    session,
                    config.clock.now(),
                    ctx.signed_in,
                    AuditAction.HOURS_CHANGED,
                    sleutelpersoon_id=person.id,
                    details=changes,
                )
        return back(person_id, "hours")

    async def save_leave(ctx: Ctx) -> Response:
        person_id = int(ctx.request.path_params["person_id"])
        try:
            first = date.fromisoformat(ctx.field("first_day"))
            last = date.fromisoformat(ctx.field("last_day") or ctx.field("first_day"))
        except ValueError:
            return await detail(ctx, 400, [N_("Give the first and last day of the leave.")])
        try:
            async with config.sessions.begin() as session:
                person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
                add_leave(person, first, last, local_today(person, config.clock.now()))
                record(
                    session,
                    config.clock.now(),
                    ctx.signed_in,
                    AuditAction.LEAVE_ADDED,
                    sleutelpersoon_id=person.id,
                    details={"first_day": first.isoformat(), "last_day": last.isoformat()},
                )
        except ProfileError as problem:
            return await detail(ctx, 400, problem.messages())
        return back(person_id, "leave")

    async def remove_leave(ctx: Ctx) -> Response:
        person_id = int(ctx.request.path_params["person_id"])
        async with config.sessions.begin() as session:
            leave = await access.leave(
                session, ctx.signed_in, person_id, int(ctx.request.path_params["leave_id"])
            )
            record(
                session,
                config.clock.now(),
                ctx.signed_in,
                AuditAction.LEAVE_REMOVED,
                sleutelpersoon_id=person_id,
                details={
                    "first_day": leave.first_day.isoformat(),
                    "last_day": leave.last_day.isoformat(),
                },
            )
            await session.delete(leave)
        return back(person_id, "leave")

    async def new_invite(ctx: Ctx) -> Response:
        now = config.clock.now()
        async with config.sessions.begin() as session:
            person = await access.sleutelpersoon(
                session, ctx.signed_in, int(ctx.request.path_params["person_id"])
            )
            token = issue_invite(person, now)
            record(
                session,
                now,
                ctx.signed_in,
                AuditAction.INVITE_RENEWED,
                sleutelpersoon_id=person.id,
                details={
                    "expires_at": _iso(person.invite_expires_at),
                    # The connected account keeps working until the new link is opened, so a
                    # link that is never used disconnects nobody; deactivating stops requests.
                    "replaces_telegram_account": person.telegram_user_id is not None,
                },
            )
        return _invite_page(ctx, person, token)

    async def set_active(ctx: Ctx, active: bool) -> Response:
        person_id = int(ctx.request.path_params["person_id"])
        now = config.clock.now()
        async with config.sessions.begin() as session:
            person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
            if person.active != active:
                person.active = active
                if not active:
                    # Offers they have not answered go to the next candidate now, not after
                    # their timeout (which counts only office time).
                    await config.handover.withdraw_offers_of(session, now, person)
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.SLEUTELPERSOON_REACTIVATED
                    if active
                    else AuditAction.SLEUTELPERSOON_DEACTIVATED,
                    sleutelpersoon_id=person.id,
                )
        return back(person_id, "reactivated" if active else "deactivated")

    async def erase(ctx: Ctx) -> Response:
        person_id = int(ctx.request.path_params["person_id"])
        now = config.clock.now()
        async with config.sessions.begin() as session:
            person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
            confirmed = " ".join(ctx.field("confirm_name").split()) == person.display_name
            if confirmed:
                await config.handover.withdraw_offers_of(session, now, person)
                await erase_sleutelpersoon(session, now, person, config.handover)
                await forget_personal_details(session, person.id)
                # Only that it happened: the tombstone's id, no name or other personal data.
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.SLEUTELPERSOON_ERASED,
                    sleutelpersoon_id=person.id,
                )
        if not confirmed:
            return await detail(ctx, 400, [ERASE_NOT_CONFIRMED])
        return RedirectResponse("/sleutelpersonen?erased=1", 303)

    async def deactivate(ctx: Ctx) -> Response:
        return await set_active(ctx, False)

    async def reactivate(ctx: Ctx) -> Response:
        return await set_active(ctx, True)

    def _form_or_empty(ctx: Ctx) -> Any:
        """What the coordinator typed, shown again next to the problems."""
        assert ctx.form is not None
        return {
            "display_name": ctx.field("display_name"),
            "locale": ctx.field("locale") or "nl",
            "languages": tuple(ctx.field("languages").replace(",", " ").split()),
            "domains": tuple(ctx.form.getlist("domains")),
            "roles": tuple(ctx.form.getlist("roles")),
            "gender": ctx.field("gender") or None,
            "circle": ctx.field("circle"),
            "paid": ctx.form.get("paid") == "on",
            "works_on_public_holidays": ctx.form.get("works_on_public_holidays") == "on",
            "max_open_conversations": ctx.field("max_open_conversations"),
            "max_new_per_week": ctx.field("max_new_per_week"),
            "away_until": ctx.field("away_until"),
        }

    person = "/sleutelpersonen/{person_id:int}"
    return [
        Route("/sleutelpersonen", pages.page(listing), methods=["GET"]),
        Route("/sleutelpersonen/new", pages.page(new_form), methods=["GET"]),
        Route("/sleutelpersonen/new", pages.page(create), methods=["POST"]),
        Route(person, pages.page(detail), methods=["GET"]),
        Route(f"{person}/profile", pages.page(save_profile), methods=["POST"]),
        Route(f"{person}/hours", pages.page(save_hours), methods=["POST"]),
        Route(f"{person}/leave", pages.page(save_leave), methods=["POST"]),
        Route(
            f"{person}/leave/{{leave_id:int}}/delete", pages.page(remove_leave), methods=["POST"]
        ),
        Route(f"{person}/invite", pages.page(new_invite), methods=["POST"]),
        Route(f"{person}/deactivate", pages.page(deactivate), methods=["POST"]),
        Route(f"{person}/reactivate", pages.page(reactivate), methods=["POST"]),
        Route(f"{person}/erase", pages.page(erase), methods=["POST"]),
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _iso_day(day: date | None) -> str:
    return day.isoformat() if day else ""
