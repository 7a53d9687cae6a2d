"""The "Now" page and manual assignment from the queue."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import access
from dashboard.assign import AssignmentRefused, assign
from dashboard.bounds import row_id
from dashboard.i18n import N_
from dashboard.overview import build_overview
from dashboard.web import Ctx, Pages


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def overview(ctx: Ctx, status: int = 200, error: str = "") -> Response:
        async with config.sessions() as session:
            data = await build_overview(session, ctx.signed_in, config.clock.now(), ctx.translator)
        return pages.csv_or(
            ctx,
            [data.urgent, data.danger_unanswered, *data.tables],
            lambda: pages.render(
                ctx,
                "now.html",
                status,
                nav="now",
                overview=data,
                error=error,
                assigned=ctx.request.query_params.get("assigned"),
            ),
        )

    async def assign_request(ctx: Ctx) -> Response:
        person_id = row_id(ctx.field("sleutelpersoon_id"))
        try:
            # Leaving the transaction with the refusal rolls it back: nothing half-assigned.
            async with config.sessions.begin() as session:
                request = await access.request(
                    session, ctx.signed_in, int(ctx.request.path_params["request_id"])
                )
                if person_id is None:
                    raise AssignmentRefused(N_("Choose a sleutelpersoon."))
                person = await access.sleutelpersoon(session, ctx.signed_in, person_id)
                await assign(
                    session, config.clock.now(), config.handover, ctx.signed_in, request, person
                )
        except AssignmentRefused as refused:
            return await overview(ctx, 400, str(refused))
        return RedirectResponse(f"/now?assigned={request.id}", 303)

    return [
        Route("/now", pages.page(overview), methods=["GET"]),
        Route("/requests/{request_id:int}/assign", pages.page(assign_request), methods=["POST"]),
    ]
