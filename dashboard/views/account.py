"""The signed-in coordinator's own account: changing the password."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.models import AuditAction, Coordinator
from dashboard import auth, passwords
from dashboard.audit import record
from dashboard.i18n import N_
from dashboard.passwords import password_problem
from dashboard.throttle import client_address
from dashboard.views.signin import locked_message
from dashboard.web import SESSION_COOKIE, Ctx, Pages

MISMATCH = N_("The two new passwords differ. Nothing was changed.")
WRONG_CURRENT = N_("The current password is wrong. Nothing was changed.")


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def show(ctx: Ctx, status: int = 200, error: str = "") -> Response:
        return pages.render(
            ctx,
            "account.html",
            status,
            nav="account",
            error=error,
            changed=ctx.request.query_params.get("changed") == "1",
        )

    async def change(ctx: Ctx) -> Response:
        assert ctx.form is not None
        new = str(ctx.form.get("new", ""))
        if new != str(ctx.form.get("again", "")):
            return await show(ctx, 400, MISMATCH)
        async with config.sessions() as session:
            account = await session.get_one(Coordinator, ctx.signed_in.coordinator_id)
        problem = password_problem(new, email=account.email, name=account.display_name)
        if problem is not None:
            return await show(ctx, 400, problem)
        current = str(ctx.form.get("current", ""))
        if new == current:
            # Refused before the current password is checked: that costs a guess for nothing.
            return await show(ctx, 400, passwords.REUSED)
        # Only a form that would change the password costs a guess at the current one.
        check = await auth.check_current_password(
            config.sessions,
            config.clock.now(),
            config.throttle,
            ctx.signed_in.coordinator_id,
            current,
            client_address(ctx.request, config.throttle.trusted_proxies),
        )
        if check.locked_until is not None:
            return await show(ctx, 429, locked_message(ctx.translator, check.locked_until))
        if check.coordinator is None:
            return await show(ctx, 400, WRONG_CURRENT)
        async with config.sessions.begin() as session:
            await auth.change_password(
                session,
                ctx.signed_in.coordinator_id,
                new,
                ctx.request.cookies.get(SESSION_COOKIE, ""),
            )
            record(
                session,
                config.clock.now(),
                ctx.signed_in,
                AuditAction.PASSWORD_CHANGED,
                subject_coordinator_id=ctx.signed_in.coordinator_id,
            )
        return RedirectResponse("/account?changed=1", 303)

    return [
        Route("/account", pages.page(show), methods=["GET"]),
        Route("/account/password", pages.page(change), methods=["POST"]),
    ]
