"""Signing in and out, and choosing the dashboard's language."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import auth
from dashboard.i18n import LOCALES, N_, Translator
from dashboard.throttle import client_address
from dashboard.web import (
    FORGED_FORM,
    LANGUAGE_COOKIE,
    LOGIN_PURPOSE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    Ctx,
    Pages,
    local_path,
)

WRONG = N_("The e-mail address or the password is wrong.")
LOCKED = N_(
    "Too many wrong passwords: this account is locked until {time}. Ask an administrator if "
    "you cannot wait."
)


def locked_message(translator: Translator, until: datetime) -> str:
    return translator.gettext(LOCKED).format(time=translator.datetime(until))


def routes(pages: Pages) -> list[Route]:
    config = pages.config

    async def login_form(
        request: Request, status: int = 200, error: str = "", **extra: str
    ) -> Response:
        nonce, new = pages.prelogin_nonce(request)
        ctx = Ctx(
            request,
            config,
            pages.translator_for(request),
            csrf=auth.csrf_token(config.secret_key, LOGIN_PURPOSE, nonce),
        )
        response = pages.render(
            ctx,
            "login.html",
            status,
            error=error,
            email=extra.get("email", ""),
            next=local_path(request.query_params.get("next")),
        )
        if new:
            pages.set_prelogin_cookie(response, nonce)
        return response

    async def show(request: Request) -> Response:
        return await login_form(request)

    async def sign_in(request: Request) -> Response:
        form = await request.form()
        nonce = request.cookies.get(PRELOGIN_COOKIE)
        translator = pages.translator_for(request)
        if not auth.csrf_valid(config.secret_key, LOGIN_PURPOSE, nonce, form.get("csrf_token")):
            return await login_form(request, 403, translator.gettext(FORGED_FORM))
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        result = await auth.sign_in(
            config.sessions,
            config.clock.now(),
            config.throttle,
            email,
            password,
            client_address(request, config.throttle.trusted_proxies),
        )
        if result.check.locked_until is not None:
            message = locked_message(translator, result.check.locked_until)
            return await login_form(request, 429, message, email=email)
        if result.token is None:
            return await login_form(request, 401, translator.gettext(WRONG), email=email)
        response = RedirectResponse(local_path(str(form.get("next", ""))), 303)
        pages.set_session_cookie(response, result.token)
        return response

    async def sign_out(ctx: Ctx) -> Response:
        async with config.sessions.begin() as session:
            await auth.close_session(session, ctx.request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
        return response

    async def language(request: Request) -> Response:
        # Only a display preference in a cookie: nothing in the database changes on a GET.
        code = request.path_params["code"]
        response = RedirectResponse(local_path(request.query_params.get("next")), 303)
        if code in LOCALES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                code,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="lax",
                secure=config.secure_cookies,
            )
        return response

    return [
        Route("/login", show, methods=["GET"]),
        Route("/login", sign_in, methods=["POST"]),
        Route("/logout", pages.page(sign_out), methods=["POST"]),
        Route("/language/{code}", language, methods=["GET"]),
    ]
