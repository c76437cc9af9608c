"""客户: the list (filter, sort, status badges) and one customer's page with its forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.archive.accounts import customers_json
from dunning.dates import office_today, parse_date
from dunning.errors import DunningError, NotFoundError
from dunning.money import parse_amount
from dunning.vocabulary import CUSTOMER_STATUS as STATUS_TITLES
from dunning.vocabulary import EINVOICE_STATUS, RESERVED_LOG_KINDS
from dunning.web.guard import actor_of, guard, state_of
from dunning.workflow import actions
from dunning.workflow.list_xlsx import list_workbook
from dunning.workflow.log import KIND_TITLES, KINDS, PROMISE_TITLES
from dunning.workflow.records import customer_record
from dunning.workflow.status import STATUSES

SORTS = {
    "balance": lambda r: -Decimal(r["balance"]),
    "overdue": lambda r: -Decimal(r["overdue"]),
    "days": lambda r: -int(r["max_days_overdue"]),
    "code": lambda r: r["customer"],
    "name": lambda r: r["name"],
    "salesperson": lambda r: (r["salesperson"] or "\uffff", -Decimal(r["overdue"])),
}


PAGE_SIZE = 50


def _rows(request: Request) -> list[dict[str, Any]]:
    """The customer list as asked: ?q= (code or any part of the name), ?status=,
    ?salesperson=, sorted by ?sort= (descending with ?desc=1 where it makes sense)."""
    state = state_of(request)
    q = request.query_params
    today, edges = office_today(state.desk.config.timezone), state.desk.config.bucket_edges
    rows = customers_json(state.db(), as_of=today, edges=edges, report=state.aging(today))
    text, status = q.get("q", "").strip().lower(), q.get("status", "")
    salesperson = q.get("salesperson", "")
    if text:
        rows = [r for r in rows if text in r["customer"].lower() or text in r["name"].lower()]
    if status in STATUSES:
        rows = [r for r in rows if r["status"] == status]
    if salesperson:
        rows = [r for r in rows if (r["salesperson"] or "") == salesperson]
    rows.sort(key=SORTS.get(q.get("sort", "days"), SORTS["days"]))
    return rows


def _page_number(request: Request, pages: int) -> int:
    raw = request.query_params.get("page", "1")
    return min(max(int(raw), 1), pages) if raw.isdigit() and len(raw) < 7 else 1


def _list(request: Request) -> Response:
    state = state_of(request)
    q = request.query_params
    rows = _rows(request)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = _page_number(request, pages)
    salespeople = sorted(
        {str(r[0]) for r in state.db().execute("SELECT DISTINCT salesperson FROM customers")
         if r[0]}
    )  # fmt: skip
    keep = {k: v for k, v in q.items() if k in ("q", "status", "sort", "salesperson") and v}
    return state.render(
        request,
        "customers.html",
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total_rows=len(rows),
        totals={
            "balance": sum((Decimal(r["balance"]) for r in rows), Decimal(0)),
            "overdue": sum((Decimal(r["overdue"]) for r in rows), Decimal(0)),
        },
        page=page,
        pages=pages,
        query=urlencode(keep),
        q=q.get("q", ""),
        status=q.get("status", ""),
        sort=q.get("sort", "days"),
        salesperson=q.get("salesperson", ""),
        salespeople=salespeople,
    )


def _export(request: Request) -> Response:
    rows = _rows(request)
    headers = ["客户编号", "客户名称", "状态", "业务员", "应收余额", "逾期金额", "最长逾期天数"]
    body = list_workbook(
        f"客户（{office_today(state_of(request).desk.config.timezone).isoformat()}）",
        headers,
        [
            [
                r["customer"],
                r["name"],
                STATUS_TITLES.get(r["status"], r["status"]),
                r["salesperson"] or "",
                Decimal(r["balance"]),
                Decimal(r["overdue"]),
                int(r["max_days_overdue"]),
            ]
            for r in rows
        ],
        totals=[
            "合计",
            f"{len(rows)} 个客户",
            None,
            None,
            sum((Decimal(r["balance"]) for r in rows), Decimal(0)),
            sum((Decimal(r["overdue"]) for r in rows), Decimal(0)),
            None,
        ],
    )
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''customers.xlsx"},
    )


@guard()
async def export(request: Request) -> Response:
    return await run_in_threadpool(_export, request)


def _one(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    code = str(request.path_params["code"])
    try:
        record = customer_record(
            state.db(),
            code,
            as_of=office_today(state.desk.config.timezone),
            edges=state.desk.config.bucket_edges,
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
            zone=state.desk.config.timezone,
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
    Route("/customers.xlsx", export),
    # `:path`: a customer code may hold a `/` (sent as %2F, which the server decodes).
    Route("/customers/{code:path}/log", add_log, methods=["POST"]),
    Route("/customers/{code:path}/status", change_status, methods=["POST"]),
    Route("/customers/{code:path}", customer),
]
