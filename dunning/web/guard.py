"""Who is asking and may they: sessions, loopback-only desks, roles and CSRF tokens."""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from dunning.actors import Actor
from dunning.errors import NotFoundError
from dunning.web.desk_state import DeskState, json_response
from dunning.web.users import (
    RESERVED_NAME,
    ROLES,
    User,
    get_user,
    has_users,
    session_is_open,
    session_stamp,
)

Endpoint = Callable[[Request], Awaitable[Response]]
LOCAL_USER = RESERVED_NAME  # who acts on a desk without accounts (loopback only)
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
# One limit for every form the desk parses, whichever handler parses it first (the CSRF check
# reads the form before the handler does, and Starlette keeps the first parse).
FORM_LIMITS = {"max_files": 50, "max_fields": 20}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def client_address(request: Request) -> str:
    """The client's address: the peer's, or behind a proxy named in `[web] trusted_proxies`
    the right-most X-Forwarded-For entry that is not itself a trusted proxy (anything left
    of it could be written by the client)."""
    peer = request.client.host if request.client else ""
    trusted = [
        ipaddress.ip_network(n, strict=False) for n in state_of(request).desk.config.trusted_proxies
    ]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip().strip("[]"))
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not trusted or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not is_trusted(hop):
            return hop
    return peer


def state_of(request: Request) -> DeskState:
    return cast(DeskState, request.app.state.desk)


def actor_of(request: Request) -> Actor:
    """The logged-in account (or this PC's own use) as the actor of a library write."""
    user: User = request.state.user
    return Actor(name=user.name, role=user.role, via="web")


def _refuse(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return json_response({"error": message}, status)
    return PlainTextResponse(message, status_code=status)


def _resolve(request: Request) -> User | Response:
    """The acting user, or the response that refuses the request."""
    state = state_of(request)
    db = state.db()
    if not has_users(db):
        # No accounts: only this machine may use the desk. The Host header is checked too,
        # so a web page elsewhere cannot reach the desk by rebinding a name to 127.0.0.1.
        # A request a proxy forwarded is not this machine's own, whatever its peer address.
        client = client_address(request)
        proxied = any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))
        if proxied or not (is_loopback(client) and is_loopback(request.url.hostname)):
            return _refuse(request, 403, "这个桌面没有账户，只能在本机使用。")
        return User(LOCAL_USER, "manager", "", "")
    name, stamp = request.session.get("user"), request.session.get("stamp")
    if name:
        try:
            user = get_user(db, name)
        except NotFoundError:
            user = None
        # Removed, or the password changed since this session began: the session is over.
        if (
            user is not None
            and stamp
            and hmac.compare_digest(stamp, session_stamp(db, name) or "")
            and session_is_open(db, request.session.get("sid"), name)
        ):
            return user
        request.session.clear()
    # A script (the upload box, the live inbox list) gets a 401 it can tell, not a redirect that
    # `fetch` would follow to the login page and then report as success.
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    ):
        return json_response({"error": "请先登录。"}, 401)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)


async def csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form(**FORM_LIMITS)
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not (expected and given):
        return False
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters (a 500).
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def guard(role: str = "viewer") -> Callable[[Endpoint], Endpoint]:
    """Pages and API calls: a session (when the desk has accounts), `role`, and for anything
    but GET/HEAD a valid CSRF token."""
    assert role in ROLES

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            # On the event loop: two indexed reads (a WAL reader never waits for a writer),
            # cheaper than a hop to the thread pool.
            found = _resolve(request)
            if isinstance(found, Response):
                return found
            request.state.user = found
            if request.method not in ("GET", "HEAD") and not await csrf_ok(request):
                return _refuse(request, 403, "安全令牌缺失或已过期：请刷新页面后重试。")
            if not found.at_least(role):
                return _refuse(request, 403, f"{found.name} 没有这个权限（需要 {role}）。")
            return await endpoint(request)

        return guarded

    return wrap


def upload_refusal(request: Request) -> Response | None:
    """The refusal of an upload by its Content-Length, before anything reads the body (the CSRF
    check parses forms); None when it may be read. uvicorn refuses a body longer than its
    Content-Length, so the header bounds the upload."""
    cap = state_of(request).desk.config.max_upload_mb * 1024 * 1024
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return PlainTextResponse("上传需要 Content-Length。", status_code=411)
    if int(length) > cap:
        return PlainTextResponse(
            f"文件太大：上限 {cap // (1024 * 1024)} MB（dunning.toml 的 [serve] max_upload_mb）。",
            status_code=413,
        )
    return None
