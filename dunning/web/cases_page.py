"""案件: court cases — the list, one case with its stages and costs, opening a case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.dates import office_today, parse_date
from dunning.errors import DunningError, NotFoundError
from dunning.money import parse_amount
from dunning.vocabulary import CASE_COSTS, CASE_KINDS, CASE_STAGES
from dunning.web.desk_state import json_response
from dunning.web.guard import guard, state_of
from dunning.web.users import audit


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _day(form: FormData, name: str, today: dt.date) -> dt.date:
    text = _form_text(form, name)
    if not text:
        return today
    try:
        return parse_date(text)
    except ValueError as exc:
        raise DunningError(f"日期 {text!r} 无法识别：{exc}") from exc


def _list_page(request: Request, error: str | None = None) -> Response:
    from dunning.workflow.cases import list_cases

    state = state_of(request)
    return state.render(
        request,
        "cases.html",
        code=400 if error else 200,
        cases=list_cases(state.db()),
        kinds=CASE_KINDS,
        error=error,
        today=office_today(state.desk.config.timezone).isoformat(),
        customer=request.query_params.get("customer", ""),
    )


@guard()
async def cases(request: Request) -> Response:
    return await run_in_threadpool(_list_page, request)


def _case_id(request: Request) -> int | None:
    raw = str(request.path_params["case"])
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _case_page(request: Request, error: str | None = None) -> Response:
    from dunning.workflow.cases import get_case

    state = state_of(request)
    number = _case_id(request)
    try:
        if number is None:
            raise NotFoundError("没有这个案件。")
        case = get_case(state.db(), number)
    except NotFoundError:
        return PlainTextResponse("没有这个案件。", status_code=404)
    return state.render(
        request,
        "case.html",
        code=400 if error else 200,
        case=case,
        stages=CASE_STAGES,
        costs=CASE_COSTS,
        kinds=CASE_KINDS,
        has_pdf=_evidence_pdf(state.desk.out, case.folder) is not None,
        error=error,
        today=office_today(state.desk.config.timezone).isoformat(),
    )


@guard()
async def case_page(request: Request) -> Response:
    return await run_in_threadpool(_case_page, request)


def _evidence_pdf(out: Path, folder: str | None) -> Path | None:
    """The case's evidence PDF, only when its folder really is inside out/."""
    if not folder:
        return None
    from dunning.letters.case_file import EVIDENCE_PDF

    path = Path(folder) / EVIDENCE_PDF
    try:
        path.resolve().relative_to(out.resolve())
    except ValueError:
        return None
    return path if path.is_file() else None


def _open(request: Request, form: FormData) -> Response:
    from dunning.letters.case_file import build_case_file

    state, user = state_of(request), request.state.user
    code, kind = _form_text(form, "customer"), _form_text(form, "kind") or "lawsuit"
    try:
        if kind not in CASE_KINDS:
            raise DunningError(f"没有“{kind}”这种案件类型：请从列表中选择。")
        built = build_case_file(
            state.desk, state.db(), code, kind=kind, as_of=_day(form, "as_of", office_today(state.desk.config.timezone)),
            note=_form_text(form, "note") or None,
        )  # fmt: skip
    except DunningError as exc:
        return _list_page(request, error=str(exc))
    audit(state.db(), user.name, "case open", f"#{built.case.id} {built.case.customer} {kind}")
    return RedirectResponse(f"/cases/{built.case.id}", 303)


@guard("manager")
async def open_case(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_open, request, form)


def _record(request: Request, form: FormData, what: str) -> Response:
    from dunning.workflow.cases import add_cost, add_stage

    state, user = state_of(request), request.state.user
    number = _case_id(request)
    if number is None:
        return PlainTextResponse("没有这个案件。", status_code=404)
    note = _form_text(form, "note") or None
    try:
        if what == "stage":
            stage = _form_text(form, "stage")
            add_stage(
                state.db(),
                number,
                stage,
                on=_day(form, "on", office_today(state.desk.config.timezone)),
                note=note,
            )
            detail = stage
        else:
            kind = _form_text(form, "kind")
            try:
                amount: Decimal = parse_amount(_form_text(form, "amount"))
            except ValueError as exc:
                raise DunningError(f"金额无法识别：{exc}") from exc
            add_cost(
                state.db(),
                number,
                kind,
                amount,
                on=_day(form, "on", office_today(state.desk.config.timezone)),
                note=note,
            )
            detail = f"{kind} {amount}"
    except NotFoundError:
        return PlainTextResponse("没有这个案件。", status_code=404)
    except DunningError as exc:
        return _case_page(request, error=str(exc))
    audit(state.db(), user.name, f"case {what}", f"#{number} {detail}")
    return RedirectResponse(f"/cases/{number}", 303)


@guard("clerk")
async def record_stage(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_record, request, form, "stage")


@guard("clerk")
async def record_cost(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_record, request, form, "cost")


@guard()
async def evidence_pdf(request: Request) -> Response:
    from dunning.workflow.cases import get_case

    state = state_of(request)
    number = _case_id(request)
    try:
        case = get_case(state.db(), number) if number is not None else None
    except NotFoundError:
        case = None
    path = _evidence_pdf(state.desk.out, case.folder) if case else None
    if path is None:
        return PlainTextResponse("这个案件没有证据材料 PDF。", status_code=404)
    return FileResponse(
        path, media_type="application/pdf", filename=f"证据材料-{number}.pdf",
        content_disposition_type="inline",
    )  # fmt: skip


def _api_cases(request: Request) -> list[dict[str, Any]]:
    from dunning.workflow.cases import list_cases

    return [c.to_json() for c in list_cases(state_of(request).db())]


@guard()
async def api_cases(request: Request) -> Response:
    return json_response(await run_in_threadpool(_api_cases, request))


ROUTES = [
    Route("/cases", cases),
    Route("/cases/open", open_case, methods=["POST"]),
    Route("/cases/{case}", case_page),
    Route("/cases/{case}/stage", record_stage, methods=["POST"]),
    Route("/cases/{case}/cost", record_cost, methods=["POST"]),
    Route("/cases/{case}/evidence.pdf", evidence_pdf),
    Route("/api/cases", api_cases),
]
