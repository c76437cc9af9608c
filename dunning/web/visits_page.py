"""上门催收: plan a visit, a manager approves it, print its 到访回执单, record how it went.

The rules live in dunning/workflow/visits.py, the same functions `dunning visit …` calls.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.dates import office_today, parse_date
from dunning.errors import DunningError, NotFoundError
from dunning.vocabulary import VISIT_STATUS
from dunning.web.guard import Endpoint, guard, state_of
from dunning.web.users import audit
from dunning.workflow.visits import (
    DEFAULT_MATERIALS,
    complete_visit,
    decide_visit,
    get_visit,
    list_visits,
    plan_visit,
    write_visit_receipt,
)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _page(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    db = state.db()
    names = dict(db.execute("SELECT code, name FROM customers").fetchall())
    return state.render(
        request,
        "visits.html",
        code=400 if error else 200,
        visits=list_visits(db),
        names=names,
        titles=VISIT_STATUS,
        materials=DEFAULT_MATERIALS,
        customer=request.query_params.get("customer", ""),
        today=office_today(state.desk.config.timezone).isoformat(),
        error=error,
    )


@guard()
async def visits(request: Request) -> Response:
    return await run_in_threadpool(_page, request)


def _visit_id(request: Request) -> int:
    raw = str(request.path_params["visit"])
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError("没有这个上门催收计划。")
    return int(raw)


def _act(request: Request, form: FormData, step: str) -> Response:
    state, user = state_of(request), request.state.user
    db, today = state.db(), office_today(state.desk.config.timezone)
    try:
        if step == "plan":
            raw = _field(form, "on")
            visit = plan_visit(
                db,
                _field(form, "customer"),
                on=parse_date(raw) if raw else today,
                people=_field(form, "people"),
                materials=_field(form, "materials") or DEFAULT_MATERIALS,
                purpose=_field(form, "purpose"),
                by=user.name,
                today=today,
            )
        elif step in ("approve", "reject"):
            visit = decide_visit(
                db, _visit_id(request), approve=step == "approve", by=user.name,
                note=_field(form, "note"),
            )  # fmt: skip
        else:
            raw = _field(form, "on")
            visit = complete_visit(
                db, _visit_id(request), on=parse_date(raw) if raw else today,
                outcome=_field(form, "outcome"), by=user.name, today=today,
            )  # fmt: skip
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except (DunningError, ValueError) as exc:
        return _page(request, error=str(exc))
    audit(db, user.name, f"visit {step}", f"{visit.id} {visit.customer}")
    return RedirectResponse(f"/visits#visit-{visit.id}", status_code=303)


def _step(step: str, role: str) -> Endpoint:
    @guard(role)
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(_act, request, form, step)

    return endpoint


def _receipt(request: Request) -> Response:
    """The visit's 到访回执单: the one printed before if it is still in out/visits/, else a new one."""
    state = state_of(request)
    folder = (state.desk.out / "visits").resolve()
    try:
        visit = get_visit(state.db(), _visit_id(request))
        path = (state.desk.root / visit.receipt_path).resolve() if visit.receipt_path else None
        if path is None or path.parent != folder or not path.is_file():
            path = write_visit_receipt(state.desk, state.db(), visit.id)
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    except DunningError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


@guard()
async def receipt(request: Request) -> Response:
    return await run_in_threadpool(_receipt, request)


ROUTES = [
    Route("/visits", visits),
    Route("/visits/plan", _step("plan", "clerk"), methods=["POST"]),
    Route("/visits/{visit}/approve", _step("approve", "manager"), methods=["POST"]),
    Route("/visits/{visit}/reject", _step("reject", "manager"), methods=["POST"]),
    Route("/visits/{visit}/done", _step("done", "clerk"), methods=["POST"]),
    Route("/visits/{visit}/receipt.docx", receipt),
]
