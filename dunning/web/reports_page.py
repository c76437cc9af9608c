"""报表: the weekly overdue report and the legal hand-over as XLSX downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dunning.dates import office_today
from dunning.web.api import BadRequest, query_date
from dunning.web.guard import guard, state_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@guard()
async def reports(request: Request) -> Response:
    state = state_of(request)
    return state.render(
        request, "reports.html", today=office_today(state.desk.config.timezone).isoformat()
    )


def _workbook(request: Request, which: str) -> Response:
    state = state_of(request)
    try:
        day = query_date(request.query_params.get("as_of"), "as_of") or office_today(
            state.desk.config.timezone
        )
    except BadRequest as exc:
        return PlainTextResponse(str(exc), status_code=400)
    from dunning.workflow import reports as built
    from dunning.workflow.legal_xlsx import legal_path, write_legal
    from dunning.workflow.weekly_xlsx import weekly_path, write_weekly

    # Written to a scratch folder and sent: a download leaves nothing in the desk.
    with tempfile.TemporaryDirectory() as scratch:
        if which == "weekly":
            weekly = built.weekly_report(state.db(), as_of=day, config=state.desk.config)
            path = write_weekly(weekly, weekly_path(Path(scratch), day))
        else:
            legal = built.legal_report(state.db(), as_of=day, config=state.desk.config)
            path = write_legal(legal, legal_path(Path(scratch), day))
        body, name = path.read_bytes(), path.name
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@guard()
async def weekly(request: Request) -> Response:
    return await run_in_threadpool(_workbook, request, "weekly")


@guard()
async def legal(request: Request) -> Response:
    return await run_in_threadpool(_workbook, request, "legal")


ROUTES = [
    Route("/reports", reports),
    Route("/reports/weekly.xlsx", weekly),
    Route("/reports/legal.xlsx", legal),
]
