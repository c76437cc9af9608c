"""客户: the list (filter, sort, status badges) and one customer's page with its forms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.archive.accounts import customers_json
from dunning.dates import parse_date
from dunning.errors import DunningError, NotFoundError
from dunning.money import parse_amount
from dunning.vocabulary import EINVOICE_STATUS, RESERVED_LOG_KINDS
from dunning.web.guard import actor_of, guard, state_of
from dunning.workflow import actions
from dunning.workflow.log import KIND_TITLES, KINDS, PROMISE_TITLES
from dunning.workflow.records import customer_record
from dunning.workflow.status import STATUSES

SORTS = {
    "balance": lambda r: -Decimal(r["balance"]),
    "overdue": lambda r: -Decimal(r["overdue"]),
    "days": lambda r: -int(r["max_days_overdue"]),
    "code": lambda r: r["customer"],
}


def _list(request: Request) -> Response:
    state = state_of(request)
    q = request.query_params
    today, edges = dt.date.today(), state.desk.config.bucket_edges
    rows = customers_json(state.db(), as_of=today, edges=edges, report=state.aging(today))
    text, status = q.get("q", "").strip().lower(), q.get("status", "")
    if text:
        rows = [r for r in rows if text in r["customer"].lower() or text in r["name"].lower()]
    if status in STATUSES:
        rows = [r for r in rows if r["status"] == status]
    sort = q.get("sort", "days")
    rows.sort(key=SORTS.get(sort, SORTS["days"]))
    return state.render(
        request, "customers.html", rows=rows, q=q.get("q", ""), status=status, sort=sort
    )


def _one(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    code = str(request.path_params["code"])
    try:
        record = customer_record(
            state.db(), code, as_of=dt.date.today(), edges=state.desk.config.bucket_edges
        )
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    return state.render(
        request,
        "customer.html",
        code=400 if error else 200,
        c=record,
        error=error,
        kinds=[k for k in KINDS if k not in RESERVED_LOG_KINDS],
        kind_titles=KIND_TITLES,
        promise_titles=PROMISE_TITLES,
        statuses=STATUSES,
        level_titles={lv.name: lv.title for lv in state.desk.config.levels},
        einvoice_status=EINVOICE_STATUS,
    )


@guard()
async def customers(request: Request) -> Response:
    return await run_in_threadpool(_list, request)


@guard()
async def customer(request: Request) -> Response:
    return await run_in_threadpool(_one, request)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _add_log(request: Request, form: FormData) -> Response:
    state = state_of(request)
    code = str(request.path_params["code"])
    amount, day, on = (_field(form, n) for n in ("promise_amount", "promise_date", "on"))
    try:
        actions.add_log(
            state.db(),
            actor_of(request),
            code,
            kind=_field(form, "kind"),
            note=_field(form, "note"),
            promise_amount=parse_amount(amount) if amount else None,
            promise_date=parse_date(day) if day else None,
            on=parse_date(on) if on else None,
        )
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except actions.NotPermitted as exc:
        return PlainTextResponse(str(exc), status_code=403)
    except (DunningError, ValueError) as exc:
        return _one(request, error=str(exc))
    return RedirectResponse(f"/customers/{quote(code, safe='')}#log", status_code=303)


def _set_status(request: Request, form: FormData) -> Response:
    state = state_of(request)
    code, status = str(request.path_params["code"]), _field(form, "status")
    try:
        actions.set_status(
            state.db(), actor_of(request), code, status, note=_field(form, "note") or None
        )
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except actions.NotPermitted as exc:
        return PlainTextResponse(str(exc), status_code=403)
    except DunningError as exc:
        return _one(request, error=str(exc))
    return RedirectResponse(f"/customers/{quote(code, safe='')}", status_code=303)


@guard("clerk")
async def add_log(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_add_log, request, form)


@guard("clerk")
async def change_status(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_set_status, request, form)


ROUTES = [
    Route("/customers", customers),
    # `:path`: a customer code may hold a `/` (sent as %2F, which the server decodes).
    Route("/customers/{code:path}/log", add_log, methods=["POST"]),
    Route("/customers/{code:path}/status", change_status, methods=["POST"]),
    Route("/customers/{code:path}", customer),
]
