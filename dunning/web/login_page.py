"""登录 / 退出, and the managers' page of accounts."""

from __future__ import annotations

import threading
import time
from collections import deque

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dunning.errors import DunningError
from dunning.web.guard import client_address, csrf_ok, state_of
from dunning.web.users import (
    authenticate,
    end_session,
    normalise_name,
    open_session,
    session_stamp,
)

LOGIN_TEMPLATE = "login.html"
THROTTLE_FAILURES, THROTTLE_MINUTES = 10, 15  # per account name
ADDRESS_FAILURES = 50  # per client address: one address trying many names


class LoginThrottle:
    """Failed logins within THROTTLE_MINUTES, per account name and per client address.

    A name (real or made up) is refused after THROTTLE_FAILURES, an address after
    ADDRESS_FAILURES, with a 429 and no password check until the oldest failure ages out.
    Ten guesses at a made-up name lock only that name: the office's manager, behind the same
    proxy address, still logs in.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        window = time.monotonic() - THROTTLE_MINUTES * 60
        found = self._failures.setdefault(key, deque())
        while found and found[0] < window:
            found.popleft()
        return found

    def allows(self, address: str, name: str = "") -> bool:
        with self._lock:
            return (
                len(self._recent(("address", address))) < ADDRESS_FAILURES
                and len(self._recent(("name", normalise_name(name)))) < THROTTLE_FAILURES
            )

    def _forget(self) -> None:
        """A flood of names or addresses: forget what has aged out, then the oldest entries
        (never all at once, which would lift a lock an attacker is under)."""
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]
        if len(self._failures) > 10_000:
            # Keys under lock last; among the rest, the oldest go first.
            def keep_first(key: tuple[str, str]) -> tuple[bool, float]:
                limit = ADDRESS_FAILURES if key[0] == "address" else THROTTLE_FAILURES
                return (len(self._failures[key]) >= limit, self._failures[key][-1])

            for key in sorted(self._failures, key=keep_first)[: len(self._failures) - 5_000]:
                del self._failures[key]

    def failed(self, address: str, name: str = "") -> None:
        with self._lock:
            if len(self._failures) > 10_000:
                self._forget()
            self._recent(("address", address)).append(time.monotonic())
            self._recent(("name", normalise_name(name))).append(time.monotonic())


def _throttle(request: Request) -> LoginThrottle:
    found = getattr(request.app.state, "login_throttle", None)
    if not isinstance(found, LoginThrottle):
        found = request.app.state.login_throttle = LoginThrottle()
    return found


def _next(request: Request, raw: object) -> str:
    target = raw if isinstance(raw, str) else "/"
    # Only a path on this desk: `//host` or `https://…` would send the clerk elsewhere.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login(request: Request) -> Response:
    state = state_of(request)
    request.state.user = None
    if request.method == "GET":
        return state.render(
            request,
            LOGIN_TEMPLATE,
            error=None,
            next=_next(request, request.query_params.get("next")),
        )
    form = await request.form()
    target = _next(request, form.get("next"))
    if not await csrf_ok(request):
        return state.render(
            request, LOGIN_TEMPLATE, code=403, error="页面已过期，请重新登录。", next=target
        )
    name, password = form.get("name"), form.get("password")
    user, throttle = None, _throttle(request)
    address = client_address(request)
    typed = name.strip() if isinstance(name, str) else ""
    if not throttle.allows(address, typed):
        return state.render(
            request,
            LOGIN_TEMPLATE,
            code=429,
            error=f"失败次数太多，请 {THROTTLE_MINUTES} 分钟后再试。",
            next=target,
        )
    if isinstance(name, str) and isinstance(password, str):
        try:
            user = await run_in_threadpool(lambda: authenticate(state.db(), name.strip(), password))
        except DunningError:
            user = None
    if user is None:
        throttle.failed(address, typed)
        return state.render(
            request, LOGIN_TEMPLATE, code=401, error="用户名或密码不对。", next=target
        )
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    who = user.name
    request.session["user"] = who
    request.session["stamp"] = await run_in_threadpool(lambda: session_stamp(state.db(), who))
    request.session["sid"] = await run_in_threadpool(lambda: open_session(state.db(), who))
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    if await csrf_ok(request):
        sid = request.session.get("sid")
        await run_in_threadpool(lambda: end_session(state_of(request).db(), sid))
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
