"""用户: the accounts page, for managers (the same work as `dunning user`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.errors import DunningError, NotFoundError
from dunning.vocabulary import AUDIT_ACTIONS, title
from dunning.web.guard import guard, state_of
from dunning.web.users import (
    ROLE_TITLES,
    ROLES,
    add_user,
    audit,
    audit_entries,
    list_users,
    remove_user,
    session_stamp,
    set_password,
)


def _page(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    db = state.db()
    return state.render(
        request,
        "users.html",
        code=400 if error else 200,
        users=list_users(db),
        roles=ROLES,
        role_titles=ROLE_TITLES,
        audit=[
            (at, who, title(AUDIT_ACTIONS, action), detail)
            for at, who, action, detail in audit_entries(db, 30)
        ],
        error=error,
    )


@guard("manager")
async def users(request: Request) -> Response:
    return await run_in_threadpool(_page, request)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _change(request: Request, form: FormData) -> Response:
    state, me = state_of(request), request.state.user
    db, action, name = state.db(), _text(form, "action"), _text(form, "name").strip()
    try:
        if action == "add":
            add_user(db, name, _text(form, "role"), _text(form, "password"))
        elif action == "passwd":
            set_password(db, name, _text(form, "password"))
            if name == me.name:  # the other sessions end; this one goes on
                request.session["stamp"] = session_stamp(db, name)
        elif action == "remove":
            if name == me.name:
                return _page(request, error="不能删除自己正在使用的账户。")
            remove_user(db, name)
        else:
            return PlainTextResponse("未知的操作。", status_code=400)
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except DunningError as exc:
        return _page(request, error=str(exc))
    audit(db, me.name, f"user {action}", name)
    return RedirectResponse("/users", status_code=303)


@guard("manager")
async def change(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_change, request, form)


ROUTES = [Route("/users", users), Route("/users", change, methods=["POST"])]
