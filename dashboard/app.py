"""The dashboard application: routes of every part, static files, error pages, headers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dashboard.access import NotFound
from dashboard.i18n import N_
from dashboard.views import (
    account,
    admin,
    audit,
    conversations,
    insight,
    now,
    people,
    signin,
)
from dashboard.web import HERE, Ctx, DashboardConfig, Pages, SecurityHeaders, html_error

NOT_FOUND = N_("This page does not exist, or it is not yours to see.")
SERVER_ERROR = N_("Something went wrong on our side. Try again later.")


def create_app(config: DashboardConfig) -> Starlette:
    pages = Pages(config)

    async def home(request: Request) -> Response:
        return RedirectResponse("/now", 303)

    async def not_found(request: Request, exc: Exception) -> Response:
        ctx = getattr(request.state, "ctx", None)
        if isinstance(ctx, Ctx):
            return pages.message(ctx, NOT_FOUND, 404)
        return html_error(pages.translator_for(request), NOT_FOUND, 404)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return await not_found(request, exc)
        return html_error(pages.translator_for(request), str(exc.detail), exc.status_code)

    routes = [
        Route("/", home, methods=["GET"]),
        *signin.routes(pages),
        *now.routes(pages),
        *people.routes(pages),
        *conversations.routes(pages),
        *audit.routes(pages),
        *insight.routes(pages),
        *admin.routes(pages),
        *account.routes(pages),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SecurityHeaders,
                error_page=lambda request: html_error(
                    pages.translator_for(request), SERVER_ERROR, 500
                ),
            )
        ],
        exception_handlers={NotFound: not_found, HTTPException: http_error},
    )
