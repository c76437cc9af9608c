"""The web desk's Starlette application: routes by page, sessions, security headers."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dunning.desk import Desk
from dunning.web import (
    api,
    bank_page,
    cases_page,
    customers_page,
    home_page,
    inbox_page,
    letter_steps_page,
    letters_page,
    login_page,
    reports_page,
    search_page,
    snapshots_page,
    users_page,
    visits_page,
)
from dunning.web.desk_state import DeskState, secret_key
from dunning.web.guard import is_loopback

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 12
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"same-origin"),
]
_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    b" object-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)


class SecurityHeaders:
    """No inline scripts, no framing by other sites, no MIME sniffing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [h for h in _HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", _CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class LoopbackHost:
    """On a desk served on 127.0.0.1 every request must name this machine in its Host header.

    Accounts or not: a web page elsewhere that rebinds its own name to 127.0.0.1 is the same
    origin as the desk to the browser, and could otherwise guess passwords at its leisure.
    """

    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app, self.enabled = app, enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http":
            host = Request(scope).url.hostname
            if not is_loopback(host):
                refused = PlainTextResponse("这个桌面只在本机提供服务。", status_code=403)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


MAX_FORM_BYTES = 1024 * 1024  # a form or JSON body; uploads have [serve] max_upload_mb
_CAPPED_ELSEWHERE = ("/inbox/upload",)


def _proof_upload(path: str) -> bool:
    """A letter's proof upload: capped by [serve] max_upload_mb in its own handler."""
    return path.startswith("/letters/ref/") and path.endswith(letter_steps_page.PROOF_PATHS)


class BodyCap:
    """Bodies of forms and JSON calls: at most MAX_FORM_BYTES, announced by Content-Length.

    Starlette reads a urlencoded form or a JSON body whole into memory and spools multipart
    files to disk without a limit; before this, anyone who could reach /login could send it a
    body of gigabytes without an account.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in ("GET", "HEAD", "OPTIONS")
            and scope["path"] not in _CAPPED_ELSEWHERE
            and not _proof_upload(scope["path"])
        ):
            length = Headers(scope=scope).get("content-length")
            refused = None
            if length is None or not length.isdigit():
                if Headers(scope=scope).get("transfer-encoding"):
                    refused = PlainTextResponse("请求需要 Content-Length。", status_code=411)
            elif int(length) > MAX_FORM_BYTES:
                refused = PlainTextResponse("请求太大。", status_code=413)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(desk: Desk, *, watching: bool = False, loopback_only: bool = True) -> Starlette:
    """The application for one desk; the archive must already be migrated."""
    routes = [
        *login_page.ROUTES,
        *home_page.ROUTES,
        *customers_page.ROUTES,
        *search_page.ROUTES,
        *letter_steps_page.ROUTES,
        *letters_page.ROUTES,
        *inbox_page.ROUTES,
        *reports_page.ROUTES,
        *cases_page.ROUTES,
        *users_page.ROUTES,
        *snapshots_page.ROUTES,
        *bank_page.ROUTES,
        *visits_page.ROUTES,
        *api.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(LoopbackHost, enabled=loopback_only),
        Middleware(BodyCap),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key(desk),
            session_cookie="dunning_session",
            max_age=SESSION_HOURS * 3600,
            same_site="strict",
            https_only=False,  # the desk is plain HTTP on a LAN; a TLS proxy may front it
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.desk = DeskState(desk, watching=watching, loopback_only=loopback_only)
    return app
