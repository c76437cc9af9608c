"""首页: totals, aging buckets, the most overdue customers, OCR backlog, failures, letters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dunning.archive.search.query import unsearchable_count
from dunning.ingest.quarantine import list_failed
from dunning.letters import registry
from dunning.web.guard import guard, state_of


def _week_letters(request: Request, today: dt.date) -> list[tuple[str, ...]]:
    monday = today - dt.timedelta(days=today.weekday())
    db = state_of(request).db()
    names = dict(db.execute("SELECT code, name FROM customers").fetchall())
    week = sorted(
        registry.letters(db, issued_since=monday), key=lambda x: (x.issued_on, x.ref), reverse=True
    )
    return [
        (
            x.ref,
            x.customer,
            str(names.get(x.customer, "")),
            x.level_name,
            x.issued_on.isoformat(),
            x.status,
        )
        for x in week[:50]
    ]


def _home(request: Request) -> Response:
    state = state_of(request)
    db, today = state.db(), dt.date.today()
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
    )


@guard()
async def home(request: Request) -> Response:
    return await run_in_threadpool(_home, request)


ROUTES = [Route("/", home)]
