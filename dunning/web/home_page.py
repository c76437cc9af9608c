"""首页: 今日 (the day's worklist) first, then totals, aging buckets, the most overdue customers, OCR backlog, failures, letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dunning.archive.search.query import unsearchable_count
from dunning.dates import office_today
from dunning.ingest.quarantine import list_failed
from dunning.letters.delivery import load_deliveries
from dunning.vocabulary import LETTER_LEVELS, TODAY_ACTIONS, TODAY_KINDS, title
from dunning.web.guard import guard, state_of
from dunning.workflow.today import TodayItem, today_list

TODAY_SHOWN = 20


def _week_letters(request: Request, today: dt.date) -> list[tuple[str, ...]]:
    """This week's letters (none dated after today), with where each is on its way."""
    monday = today - dt.timedelta(days=today.weekday())
    db = state_of(request).db()
    names = dict(db.execute("SELECT code, name FROM customers").fetchall())
    week = sorted(
        (d for d in load_deliveries(db) if monday <= d.issued_on <= today),
        key=lambda x: (x.issued_on, x.ref),
        reverse=True,
    )
    return [
        (
            x.ref,
            x.customer,
            str(names.get(x.customer, "")),
            title(LETTER_LEVELS, x.level_name),
            x.issued_on.isoformat(),
            x.status,
        )
        for x in week[:50]
    ]


def action_url(item: TodayItem) -> str:
    """Where a today item's one action is done."""
    customer = f"/customers/{quote(item.customer, safe='')}"
    if item.ref and item.action in ("mark_sent", "upload_proof", "check_address"):
        return f"/letters/ref/{quote(item.ref, safe='')}"
    if item.action in ("log_call", "record_promise"):
        return f"{customer}#log-form"
    if item.action in ("visit", "approve"):
        return "/visits"
    if item.action == "review_receipt":
        return "/receipts/unmatched" if item.receipt and item.receipt[0] == "ledger" else "/bank"
    return customer


def _today(request: Request, today: dt.date) -> list[tuple[TodayItem, str]]:
    state = state_of(request)
    items = state.memo(
        ("today", today), lambda: today_list(state.db(), state.desk.config, today=today)
    )
    return [(i, action_url(i)) for i in items[:TODAY_SHOWN]]


def _home(request: Request) -> Response:
    state = state_of(request)
    db, today = state.db(), office_today(state.desk.config.timezone)
    report = state.aging(today)
    labels = list(report[0].buckets) if report else []
    buckets = {k: sum((a.buckets[k] for a in report), Decimal(0)) for k in labels}
    top = max(buckets.values(), default=Decimal(0)) or Decimal(1)
    overdue = sorted(
        (a for a in report if a.overdue > 0), key=lambda a: (-a.max_days_overdue, a.customer)
    )
    return state.render(
        request,
        "home.html",
        today=today,
        balance=sum((a.balance for a in report), Decimal(0)),
        overdue_total=sum((a.overdue for a in report), Decimal(0)),
        customers=len(report),
        buckets=[(k, v, int(v * 100 / top)) for k, v in buckets.items()],
        most_overdue=overdue[:10],
        ocr_waiting=unsearchable_count(db),
        failed=list_failed(state.desk),
        letters=_week_letters(request, today),
        today_items=_today(request, today),
        TODAY_KINDS=TODAY_KINDS,
        TODAY_ACTIONS=TODAY_ACTIONS,
    )


@guard()
async def home(request: Request) -> Response:
    return await run_in_threadpool(_home, request)


ROUTES = [Route("/", home)]
