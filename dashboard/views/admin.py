"""Administration: an admin manages their own organisation's coordinator accounts; a platform
admin also creates organisations, places unplaced profiles and manages every organisation's
accounts (dashboard/access.py decides which)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.models import AuditAction, Coordinator, CoordinatorRole, Organisation, Sleutelpersoon
from bot.text import one_line
from dashboard import access, auth, passwords, throttle
from dashboard.audit import record
from dashboard.bounds import row_id
from dashboard.i18n import LOCALES, N_
from dashboard.passwords import password_problem
from dashboard.tables import Column, Kind, Table
from dashboard.web import Ctx, Pages

DONE = {
    "organisation": N_("The organisation was created."),
    "coordinator": N_("The coordinator account was created."),
    "deactivated": N_("The account was deactivated and signed out everywhere."),
    "reactivated": N_("The account was reactivated."),
    "unlocked": N_("The account was unlocked."),
    "password": N_(
        "The new password was set, the account unlocked and signed out everywhere. Give the "
        "password to them in person."
    ),
    "moved": N_("The sleutelpersoon now belongs to the organisation."),
}


ROLE_NAMES = {
    CoordinatorRole.COORDINATOR: N_("coordinator"),
    CoordinatorRole.ADMIN: N_("admin"),
    CoordinatorRole.PLATFORM_ADMIN: N_("platform admin"),
}


class AdminRefused(Exception):
    """A refused administrative form; the message is a msgid."""


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def overview(ctx: Ctx, status: int = 200, error: str = "") -> Response:
        viewer = ctx.signed_in
        now = config.clock.now()
        async with config.sessions() as session:
            organisations = (await session.scalars(access.organisations(viewer))).all()
            coordinators = (await session.scalars(access.coordinators(viewer))).all()
            unplaced = (await session.scalars(access.unassigned_sleutelpersonen(viewer))).all()
            closed = await throttle.closed_accounts(
                session, now, config.throttle, [c.email for c in coordinators]
            )
            people = dict(
                (
                    await session.execute(
                        select(Sleutelpersoon.organisation_id, func.count()).group_by(
                            Sleutelpersoon.organisation_id
                        )
                    )
                ).all()
            )
        names = {o.id: o.name for o in organisations}
        organisation_table = Table(
            "organisations",
            N_("Organisations"),
            [
                Column(N_("Name")),
                Column(N_("Coordinators"), Kind.NUMBER),
                Column(N_("Sleutelpersonen"), Kind.NUMBER),
                Column(N_("Created"), Kind.DATETIME),
            ],
        )
        for organisation in organisations:
            organisation_table.rows.append(
                [
                    organisation.name,
                    sum(1 for c in coordinators if c.organisation_id == organisation.id),
                    people.get(organisation.id, 0),
                    organisation.created_at,
                ]
            )
        coordinator_table = Table(
            "coordinators",
            N_("Coordinator accounts"),
            [
                Column(N_("Name")),
                Column(N_("E-mail")),
                Column(N_("Organisation")),
                Column(N_("Role")),
                Column(N_("Active")),
                Column(N_("Locked until"), Kind.DATETIME),
                Column(N_("Last sign-in"), Kind.DATETIME),
            ],
        )
        for c in coordinators:
            coordinator_table.rows.append(
                [
                    c.display_name,
                    c.email,
                    names.get(c.organisation_id),
                    ctx.gettext(ROLE_NAMES[CoordinatorRole(c.role)]),
                    ctx.gettext("yes") if c.active else ctx.gettext("no"),
                    closed.get(c.email),
                    c.last_login_at,
                ]
            )
        unplaced_table = Table(
            "unplaced",
            N_("Sleutelpersonen without an organisation"),
            [Column(N_("Name")), Column(N_("Languages")), Column(N_("Created"), Kind.DATETIME)],
            [[p.display_name, ", ".join(p.languages), p.created_at] for p in unplaced],
        )
        return pages.csv_or(
            ctx,
            [organisation_table, coordinator_table, unplaced_table],
            lambda: pages.render(
                ctx,
                "admin.html",
                status,
                nav="admin",
                organisation_table=organisation_table,
                organisations=organisations,
                coordinators=coordinators,
                manageable={c.id for c in coordinators if access.may_manage(viewer, c)},
                role_names=ROLE_NAMES,
                closed=closed,
                unplaced=unplaced,
                locales=LOCALES,
                now=now,
                error=error,
                done=DONE.get(ctx.request.query_params.get("done", "")),
            ),
        )

    def done(what: str) -> Response:
        return RedirectResponse(f"/admin?done={what}", 303)

    async def create_organisation(ctx: Ctx) -> Response:
        access.new_organisation(ctx.signed_in)
        name = one_line(ctx.field("name"))[:120]
        now = config.clock.now()
        try:
            async with config.sessions.begin() as session:
                if not name:
                    raise AdminRefused(N_("Give the organisation a name."))
                taken = await session.scalar(
                    select(Organisation.id).where(Organisation.name == name)
                )
                if taken is not None:
                    raise AdminRefused(N_("There is already an organisation with this name."))
                organisation = await auth.organisation_named(session, now, name)
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.ORGANISATION_CREATED,
                    organisation_id=organisation.id,
                    details={"name": organisation.name},
                )
        except AdminRefused as refused:
            return await overview(ctx, 400, str(refused))
        return done("organisation")

    async def create_coordinator(ctx: Ctx) -> Response:
        now = config.clock.now()
        organisation_id = row_id(ctx.field("organisation_id"))
        try:
            async with config.sessions.begin() as session:
                if organisation_id is None:
                    raise AdminRefused(N_("Choose an organisation."))
                organisation = await access.organisation(session, ctx.signed_in, organisation_id)
                try:
                    created = await auth.create_coordinator(
                        session,
                        now,
                        organisation=organisation,
                        email=ctx.field("email"),
                        display_name=ctx.field("display_name"),
                        password=str(ctx.form.get("password", "")) if ctx.form else "",
                        role=CoordinatorRole.ADMIN
                        if ctx.field("role") == CoordinatorRole.ADMIN
                        else CoordinatorRole.COORDINATOR,
                        locale=ctx.field("locale") if ctx.field("locale") in LOCALES else "nl",
                        created_by=ctx.signed_in.coordinator_id,
                    )
                except ValueError as problem:
                    raise AdminRefused(str(problem)) from None
                if organisation.id != ctx.signed_in.organisation_id:
                    # `create_coordinator` logged it in the new account's organisation; the
                    # platform admin's own organisation sees it as well.
                    record(
                        session,
                        now,
                        ctx.signed_in,
                        AuditAction.COORDINATOR_CREATED,
                        subject_coordinator_id=created.id,
                        details={"role": str(created.role)},
                    )
        except AdminRefused as refused:
            return await overview(ctx, 400, str(refused))
        return done("coordinator")

    async def reset_password(ctx: Ctx) -> Response:
        assert ctx.form is not None
        password = str(ctx.form.get("password", ""))
        now = config.clock.now()
        try:
            async with config.sessions.begin() as session:
                coordinator = await access.coordinator(
                    session, ctx.signed_in, int(ctx.request.path_params["coordinator_id"])
                )
                if coordinator.id == ctx.signed_in.coordinator_id:
                    raise AdminRefused(N_("Change your own password on your account page."))
                problem = password_problem(
                    password, email=coordinator.email, name=coordinator.display_name
                )
                if problem is not None:
                    raise AdminRefused(problem)
                if await auth.is_current_password(coordinator, password):
                    raise AdminRefused(passwords.REUSED)
                await auth.reset_password(session, coordinator, password)
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.COORDINATOR_PASSWORD_RESET,
                    organisation_id=coordinator.organisation_id,
                    subject_coordinator_id=coordinator.id,
                )
        except AdminRefused as refused:
            return await overview(ctx, 400, str(refused))
        return done("password")

    async def change_coordinator(ctx: Ctx, what: str) -> Response:
        now = config.clock.now()
        try:
            async with config.sessions.begin() as session:
                coordinator = await access.coordinator(
                    session, ctx.signed_in, int(ctx.request.path_params["coordinator_id"])
                )
                if coordinator.id == ctx.signed_in.coordinator_id and what == "deactivated":
                    raise AdminRefused(N_("You cannot deactivate your own account."))
                action = await _apply(session, coordinator, what)
                if what == "deactivated":
                    await auth.end_sessions_of(session, coordinator.id)
                record(
                    session,
                    now,
                    ctx.signed_in,
                    action,
                    organisation_id=coordinator.organisation_id,
                    subject_coordinator_id=coordinator.id,
                )
        except AdminRefused as refused:
            return await overview(ctx, 400, str(refused))
        return done(what)

    async def deactivate(ctx: Ctx) -> Response:
        return await change_coordinator(ctx, "deactivated")

    async def reactivate(ctx: Ctx) -> Response:
        return await change_coordinator(ctx, "reactivated")

    async def unlock(ctx: Ctx) -> Response:
        return await change_coordinator(ctx, "unlocked")

    async def place(ctx: Ctx) -> Response:
        now = config.clock.now()
        organisation_id = row_id(ctx.field("organisation_id"))
        try:
            async with config.sessions.begin() as session:
                person = await access.unassigned_sleutelpersoon(
                    session, ctx.signed_in, int(ctx.request.path_params["person_id"])
                )
                if organisation_id is None:
                    raise AdminRefused(N_("Choose an organisation."))
                organisation = await access.organisation(session, ctx.signed_in, organisation_id)
                person.organisation_id = organisation.id
                person.organisation = organisation.name
                record(
                    session,
                    now,
                    ctx.signed_in,
                    AuditAction.SLEUTELPERSOON_MOVED,
                    organisation_id=organisation.id,
                    sleutelpersoon_id=person.id,
                    details={"organisation": organisation.name},
                )
        except AdminRefused as refused:
            return await overview(ctx, 400, str(refused))
        return done("moved")

    coordinator = "/admin/coordinators/{coordinator_id:int}"
    return [
        Route("/admin", pages.page(overview, admin=True), methods=["GET"]),
        Route(
            "/admin/organisations", pages.page(create_organisation, admin=True), methods=["POST"]
        ),
        Route("/admin/coordinators", pages.page(create_coordinator, admin=True), methods=["POST"]),
        Route(f"{coordinator}/deactivate", pages.page(deactivate, admin=True), methods=["POST"]),
        Route(f"{coordinator}/reactivate", pages.page(reactivate, admin=True), methods=["POST"]),
        Route(f"{coordinator}/unlock", pages.page(unlock, admin=True), methods=["POST"]),
        Route(f"{coordinator}/password", pages.page(reset_password, admin=True), methods=["POST"]),
        Route(
            "/admin/sleutelpersonen/{person_id:int}/organisation",
            pages.page(place, admin=True),
            methods=["POST"],
        ),
    ]


async def _apply(session: AsyncSession, coordinator: Coordinator, what: str) -> AuditAction:
    if what == "deactivated":
        coordinator.active = False
        return AuditAction.COORDINATOR_DEACTIVATED
    if what == "reactivated":
        coordinator.active = True
        return AuditAction.COORDINATOR_REACTIVATED
    await throttle.unlock(session, coordinator.email)
    return AuditAction.COORDINATOR_UNLOCKED
