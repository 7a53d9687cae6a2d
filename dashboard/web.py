"""The dashboard's web plumbing: signed-in pages, CSRF checks, rendering, CSV, headers.

Every page is wrapped by `Pages.page`: it finds the coordinator behind the session cookie (or
sends the browser to sign in), checks the CSRF token of every POST before anything else runs,
answers 404 for a path id that can name no row (`dashboard.bounds`), and turns
`access.NotFound` into a 404 and `bounds.BadRequest` into a 400 with its message. Routes then
get all data through `dashboard.access`. Every response, an unexpected error's 500 included,
carries `SECURITY_HEADERS`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.clock import Clock
from bot.crypto import MessageCipher
from bot.handover import Handover
from dashboard import auth
from dashboard.access import NotFound, Viewer, require_admin
from dashboard.bounds import BadRequest, path_ids_valid
from dashboard.i18n import N_, Translator, choose_locale, load_translators
from dashboard.tables import Table, cell_html, column_title, to_csv
from dashboard.throttle import ThrottlePolicy

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "sleutelbrug_session"
PRELOGIN_COOKIE = "sleutelbrug_prelogin"
LANGUAGE_COOKIE = "sleutelbrug_lang"
SESSION_PURPOSE = "session"
LOGIN_PURPOSE = "login"
FORGED_FORM = N_(
    "This form was not sent from this dashboard, or it has expired. Nothing was changed. "
    "Reload the page and try again."
)
# Everything is served from here: no scripts at all, no inline styles, no framing.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # Pages show personal data (and transcripts): never keep them in a shared cache or history.
    (b"cache-control", b"no-store"),
]


@dataclass(frozen=True)
class DashboardConfig:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    secret_key: str
    # Secure cookies (HTTPS only) in production; plain http on loopback in development.
    secure_cookies: bool
    bot_username: str
    cipher: MessageCipher
    handover: Handover
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)


@dataclass
class Ctx:
    """One request as a page sees it."""

    request: Request
    config: DashboardConfig
    translator: Translator
    viewer: Viewer | None = None
    csrf: str = ""
    form: FormData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def gettext(self, message: str) -> str:
        return self.translator.gettext(message)

    @property
    def signed_in(self) -> Viewer:
        assert self.viewer is not None
        return self.viewer

    def field(self, name: str) -> str:
        assert self.form is not None
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""


Handler = Callable[[Ctx], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@pass_context
def _gettext(context: Context, message: str) -> str:
    translator: Translator = context["t"]
    return translator.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    translator: Translator = context["t"]
    return translator.ngettext(singular, plural, count)


def _bdi(text: object) -> Markup:
    """User text (a name, a signal, a reason) as a bidi isolate: its direction, right-to-left
    or forced by a stray control character, never reorders the page's text around it. It also
    breaks anywhere rather than widen the page (style.css)."""
    return Markup("<bdi>{}</bdi>").format(text)


def template_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    # Translations are chosen per request: the callables read the translator from the context.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.filters["bdi"] = _bdi
    environment.globals["cell"] = cell_html
    environment.globals["zip"] = zip
    environment.globals["column_title"] = column_title
    return environment


class Pages:
    """Rendering and the signed-in wrapper, shared by every view module."""

    def __init__(self, config: DashboardConfig) -> None:
        self.config = config
        self.templates = Jinja2Templates(env=template_environment())
        self.translators = load_translators()

    # --- contexts ----------------------------------------------------------------------------

    def translator_for(self, request: Request, viewer: Viewer | None = None) -> Translator:
        locale = choose_locale(
            request.cookies.get(LANGUAGE_COOKIE),
            viewer.locale if viewer else None,
            accept_language=request.headers.get("accept-language"),
        )
        return self.translators[locale]

    def page(self, handler: Handler, *, admin: bool = False) -> Endpoint:
        """A page for signed-in coordinators (admins only when `admin`)."""

        async def endpoint(request: Request) -> Response:
            token = request.cookies.get(SESSION_COOKIE)
            async with self.config.sessions.begin() as session:
                viewer = await auth.viewer_of(session, self.config.clock.now(), token)
            if viewer is None or token is None:
                target = request.url.path if request.method == "GET" else "/now"
                return RedirectResponse("/login?" + urlencode({"next": target}), 303)
            ctx = Ctx(
                request,
                self.config,
                self.translator_for(request, viewer),
                viewer,
                csrf=auth.csrf_token(self.config.secret_key, SESSION_PURPOSE, token),
            )
            request.state.ctx = ctx
            if not path_ids_valid(request.path_params):
                raise NotFound
            if request.method == "POST":
                ctx.form = await request.form()
                if not auth.csrf_valid(
                    self.config.secret_key, SESSION_PURPOSE, token, ctx.form.get("csrf_token")
                ):
                    return self.message(ctx, FORGED_FORM, 403)
            if admin:
                require_admin(viewer)
            try:
                return await handler(ctx)
            except BadRequest as refused:
                return self.message(ctx, refused.message, 400)

        return endpoint

    # --- responses ---------------------------------------------------------------------------

    def render(self, ctx: Ctx, template: str, status: int = 200, **values: Any) -> Response:
        context = {
            "t": ctx.translator,
            "viewer": ctx.viewer,
            "csrf": ctx.csrf,
            "path": ctx.request.url.path,
            "query": dict(ctx.request.query_params),
            "csv_url": lambda name: csv_url(ctx.request, name),
            **ctx.extra,
            **values,
        }
        return self.templates.TemplateResponse(ctx.request, template, context, status_code=status)

    def message(self, ctx: Ctx, message: str, status: int) -> Response:
        """A page that only says what went wrong (a msgid), e.g. a refused form."""
        return self.render(ctx, "message.html", status, message=message)

    def csv_or(self, ctx: Ctx, tables: list[Table], render: Callable[[], Response]) -> Response:
        """The CSV of `?table=<name>&format=csv` when asked, else the page."""
        if ctx.request.query_params.get("format") != "csv":
            return render()
        wanted = ctx.request.query_params.get("table")
        table = next((t for t in tables if t.name == wanted), None)
        if table is None:
            raise NotFound
        filename = f"sleutelbrug-{table.name}.csv"
        return Response(
            to_csv(ctx.translator, table),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(auth.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.config.secure_cookies,
        )

    def prelogin_nonce(self, request: Request) -> tuple[str, bool]:
        """The browser's pre-sign-in nonce for the login form's CSRF token (and if it is new)."""
        nonce = request.cookies.get(PRELOGIN_COOKIE)
        if nonce and 16 <= len(nonce) <= 64:
            return nonce, False
        return secrets.token_urlsafe(24), True

    def set_prelogin_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(
            PRELOGIN_COOKIE,
            nonce,
            max_age=3600,
            httponly=True,
            samesite="lax",
            secure=self.config.secure_cookies,
        )


def csv_url(request: Request, name: str) -> str:
    query = dict(request.query_params)
    query.update({"format": "csv", "table": name})
    return f"{request.url.path}?{urlencode(query)}"


def local_path(target: str | None, default: str = "/now") -> str:
    """Only paths on this site may be redirected to (no `//evil.example`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response.

    An unexpected exception is answered here with `error_page` (500), so that page carries
    the headers too: Starlette's own 500 is sent outside every middleware. The exception is
    raised on, for the server's log."""

    def __init__(self, app: ASGIApp, error_page: Callable[[Request], Response]) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # The stylesheet may be cached; pages never.
                static = scope["path"].startswith("/static/")
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"cache-control"
                ]
                headers += [
                    (name, value)
                    for name, value in SECURITY_HEADERS
                    if not (static and name == b"cache-control")
                ]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                await self.error_page(Request(scope))(scope, receive, with_headers)
            raise


def html_error(translator: Translator, title: str, status: int) -> HTMLResponse:
    """A minimal page when the full layout cannot be rendered (no context yet)."""
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>{status}</title><h1>{status}</h1>"
        f"<p>{escape(translator.gettext(title))}</p>",
        status_code=status,
    )
