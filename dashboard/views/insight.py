"""Insight and signals pages: tables with inline SVG charts, per week or month."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from dashboard.insight import build_insight, build_signals
from dashboard.periods import parse_granularity
from dashboard.web import Ctx, Pages


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def insight(ctx: Ctx) -> Response:
        granularity = parse_granularity(ctx.request.query_params.get("period"))
        async with config.sessions() as session:
            data = await build_insight(
                session, ctx.signed_in, config.clock.now(), granularity, ctx.translator
            )
        return pages.csv_or(
            ctx,
            data.tables,
            lambda: pages.render(
                ctx, "insight.html", nav="insight", data=data, granularity=granularity
            ),
        )

    async def signals(ctx: Ctx) -> Response:
        granularity = parse_granularity(ctx.request.query_params.get("period"))
        async with config.sessions() as session:
            data = await build_signals(
                session,
                ctx.signed_in,
                config.clock.now(),
                granularity,
                ctx.translator,
                config.cipher,
            )
        return pages.csv_or(
            ctx,
            data.tables,
            lambda: pages.render(
                ctx, "signals.html", nav="signals", data=data, granularity=granularity
            ),
        )

    return [
        Route("/insight", pages.page(insight), methods=["GET"]),
        Route("/signals", pages.page(signals), methods=["GET"]),
    ]
