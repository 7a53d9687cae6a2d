"""The signed-in coordinator's own account: changing the password."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.models import AuditAction
from dashboard import auth
from dashboard.audit import record
from dashboard.i18n import N_
from dashboard.web import SESSION_COOKIE, Ctx, Pages

MISMATCH = N_("The two new passwords differ. Nothing was changed.")


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
        current = str(ctx.form.get("current", ""))
        new = str(ctx.form.get("new", ""))
        if new != str(ctx.form.get("again", "")):
            return await show(ctx, 400, MISMATCH)
        async with config.sessions.begin() as session:
            problem = await auth.change_password(
                session,
                ctx.signed_in.coordinator_id,
                current,
                new,
                ctx.request.cookies.get(SESSION_COOKIE, ""),
            )
            if problem is None:
                record(
                    session,
                    config.clock.now(),
                    ctx.signed_in,
                    AuditAction.PASSWORD_CHANGED,
                    subject_coordinator_id=ctx.signed_in.coordinator_id,
                )
        if problem is not None:
            return await show(ctx, 400, problem)
        return RedirectResponse("/account?changed=1", 303)

    return [
        Route("/account", pages.page(show), methods=["GET"]),
        Route("/account/password", pages.page(change), methods=["POST"]),
    ]
