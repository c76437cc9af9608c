"""到账核对: the bank receipts waiting for a clerk, with the CLI's decisions; and its API.

`GET /bank` (the page), `POST /bank` (a form decision), `GET /api/bank/receipts?status=&
customer=&unbooked=1` (`dunning bank list --json`), `POST /api/bank/review`
(`{"receipt", "action": "accept"|"customer"|"split"|"not_customer", "customer"?,
"split"?: [{"invoice", "amount"}]}`, answering as `dunning bank review ID --json`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.archive.bank import review as queue
from dunning.archive.db import write_transaction
from dunning.errors import DunningError
from dunning.money import parse_amount
from dunning.vocabulary import BANK_SOURCES, BANK_STATUS, UNBOOKED_TITLE
from dunning.web.api import BadRequest, call, call_with_body
from dunning.web.guard import guard, state_of
from dunning.web.users import audit

ACTIONS = ("accept", "customer", "split", "not_customer")


def decide(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """One review decision, as the logged-in user; returns the receipt as `bank list` does."""
    state, user = state_of(request), request.state.user
    raw_id, action = body.get("receipt"), body.get("action")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not str(raw_id).isdigit():
        raise BadRequest("receipt 必须是到账编号（用 `dunning bank list` 查看）。")
    if action not in ACTIONS:
        raise BadRequest(f"action 只能是 {'、'.join(f'`{a}`' for a in ACTIONS)} 之一。")
    receipt = int(raw_id)
    customer = body.get("customer")
    parts = _parts(body.get("split")) if action == "split" else []
    if action == "customer" and (not isinstance(customer, str) or not customer.strip()):
        raise BadRequest("请写明这笔钱是哪个客户的（客户编号）。")
    db = state.db()
    with write_transaction(db) as conn:
        if action == "accept":
            done = queue.accept(conn, receipt, actor=user.name)
        elif action == "customer":
            assert isinstance(customer, str)
            done = queue.reassign(
                conn,
                receipt,
                customer.strip(),
                actor=user.name,
                fee_tolerance=state.desk.config.bank_fee_tolerance,
            )
        elif action == "split":
            done = queue.split(conn, receipt, parts, actor=user.name)
        else:
            done = queue.not_customer(conn, receipt, actor=user.name)
    audit(db, user.name, f"bank {action}", f"#{done.id} {done.customer or ''}".strip())
    return done.to_json()


def _parts(raw: object) -> list[tuple[str, Decimal]]:
    """[{"invoice", "amount"}] from JSON, or "INV=AMOUNT" lines from the form."""
    items: list[tuple[object, object]] = []
    if isinstance(raw, str):
        for line in raw.splitlines():
            if line.strip():
                head, _, tail = line.partition("=")
                items.append((head.strip(), tail.strip()))
    elif isinstance(raw, list):
        items = [(p.get("invoice"), p.get("amount")) for p in raw if isinstance(p, dict)]
    if not items:
        raise BadRequest("拆分至少要有一张发票和金额（每行写 发票号=金额）。")
    out = []
    for number, amount in items:
        if not isinstance(number, str) or not number:
            raise BadRequest("拆分的每一部分都要写发票号。")
        try:
            out.append((number, parse_amount(amount)))
        except ValueError as exc:
            raise BadRequest(f"发票 {number}：{exc}。") from None
    return out


def receipts_data(request: Request) -> list[dict[str, Any]]:
    q = request.query_params
    status = tuple(s for s in q.getlist("status") if s)
    if any(s not in queue.STATUSES for s in status):
        raise BadRequest(f"status 只能是 {'、'.join(f'`{s}`' for s in queue.STATUSES)} 之一。")
    rows = queue.receipts(
        state_of(request).db(),
        status=status,
        customer=q.get("customer") or None,
        unbooked=q.get("unbooked") in ("1", "true"),
    )
    return [r.to_json() for r in rows]


def _page(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    db = state.db()
    waiting = queue.receipts(db, status=queue.WAITING)
    unbooked = queue.receipts(db, unbooked=True)
    recent = queue.receipts(db)[-30:][::-1]
    return state.render(
        request,
        "bank.html",
        code=400 if error else 200,
        waiting=waiting,
        unbooked=unbooked,
        unbooked_total=sum((r.amount for r in unbooked), Decimal("0.00")),
        recent=recent,
        titles=BANK_STATUS,
        sources=BANK_SOURCES,
        unbooked_title=UNBOOKED_TITLE,
        error=error,
    )


@guard()
async def page(request: Request) -> Response:
    return await run_in_threadpool(_page, request)


def _form_decision(request: Request, form: dict[str, Any]) -> Response:
    try:
        decide(request, form)
    except BadRequest as exc:
        return _page(request, error=str(exc))
    except DunningError as exc:
        return _page(request, error=str(exc))
    return RedirectResponse("/bank", status_code=303)


@guard("clerk")
async def post_page(request: Request) -> Response:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if "receipt" not in fields:
        return PlainTextResponse("缺少到账编号。", status_code=400)
    return await run_in_threadpool(_form_decision, request, fields)


@guard()
async def api_receipts(request: Request) -> Response:
    return await call(receipts_data, request)


@guard("clerk")
async def api_review(request: Request) -> Response:
    return await call_with_body(decide, request)


ROUTES = [
    Route("/bank", page),
    Route("/bank", post_page, methods=["POST"]),
    Route("/api/bank/receipts", api_receipts),
    Route("/api/bank/review", api_review, methods=["POST"]),
]
