"""登录 / 退出, and the managers' page of accounts."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dunning.errors import DunningError
from dunning.web.guard import csrf_ok, state_of
from dunning.web.users import authenticate

LOGIN_TEMPLATE = "login.html"


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
    user = None
    if isinstance(name, str) and isinstance(password, str):
        try:
            user = await run_in_threadpool(lambda: authenticate(state.db(), name.strip(), password))
        except DunningError:
            user = None
    if user is None:
        return state.render(
            request, LOGIN_TEMPLATE, code=401, error="用户名或密码不对。", next=target
        )
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session["user"] = user.name
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    if await csrf_ok(request):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
