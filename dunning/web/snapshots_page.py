"""Held invoices (void / keep from the customer page) and 未匹配到款 (ledger payments with no
customer: the list and its assign form), with their JSON API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.actors import Actor
from dunning.archive.snapshots import HELD, confirm_keep, confirm_void, held_invoices
from dunning.archive.unmatched import assign, dismiss, get_receipt, unmatched_receipts
from dunning.errors import DunningError, NotFoundError
from dunning.vocabulary import INVOICE_STATES, choices
from dunning.web.api import BadRequest, _text_field, call, call_with_body
from dunning.web.guard import guard, state_of
from dunning.web.users import audit


def _actor(request: Request) -> Actor:
    user = request.state.user
    return Actor(name=user.name, role=user.role, via="web")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _back(form: FormData, fallback: str) -> str:
    """Where a form returns to: the customer's page it was sent from, else `fallback`."""
    code = _field(form, "customer")
    return f"/customers/{quote(code, safe='')}#held" if code else fallback


def _receipt_id(request: Request) -> int:
    raw = str(request.path_params["rid"])
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError(f"没有未匹配到款“{raw}”：请核对编号。")
    return int(raw)


# ---- pages and forms ------------------------------------------------------------------------


def _receipts_page(request: Request, error: str | None = None) -> Response:
    state = state_of(request)
    return state.render(
        request,
        "receipts.html",
        code=400 if error else 200,
        waiting=unmatched_receipts(state.db()),
        assigned=unmatched_receipts(state.db(), assigned=True)[-50:],
        error=error,
    )


def _form_write(request: Request, form: FormData, action: str) -> Response:
    """void / keep / assign from a form; a clerk's mistake shows on the page it came from."""
    state, actor = state_of(request), _actor(request)
    try:
        if action in ("assign", "dismiss"):
            rid = _receipt_id(request)
            get_receipt(state.db(), rid)  # an unknown receipt is a 404, an unknown customer not
        else:
            number = str(request.path_params["no"])
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    try:
        if action == "assign":
            second = _field(form, "second") == "1"
            receipt = assign(state.db(), rid, _field(form, "to"), actor=actor, second=second)
            detail = f"#{rid} {receipt.payer_name} → {receipt.assigned_to}"
            back = _back(form, "/receipts/unmatched")
        elif action == "dismiss":
            receipt = dismiss(state.db(), rid, reason=_field(form, "reason"), actor=actor)
            detail = f"#{rid} {receipt.payer_name}: {receipt.dismissed_reason}"
            back = "/receipts/unmatched"
        elif action == "void":
            held = confirm_void(state.db(), number, reason=_field(form, "reason"), actor=actor)
            detail = f"{held.customer} {held.invoice_no}: {held.reason}"
            back = _back(form, "/customers")
        else:
            code = confirm_keep(state.db(), number, actor=actor, note=_field(form, "note"))
            detail = f"{code} {number}"
            back = _back(form, "/customers")
    except NotFoundError as exc:
        if action in ("assign", "dismiss"):
            return _receipts_page(request, error=str(exc))
        return PlainTextResponse(str(exc), status_code=404)
    except DunningError as exc:
        if action in ("assign", "dismiss"):
            return _receipts_page(request, error=str(exc))
        return PlainTextResponse(str(exc), status_code=400)
    name = f"receipt {action}" if action in ("assign", "dismiss") else f"invoice {action}"
    audit(state.db(), actor.name, name, detail)
    return RedirectResponse(back, status_code=303)


@guard()
async def receipts_page(request: Request) -> Response:
    return await run_in_threadpool(_receipts_page, request)


@guard("clerk")
async def assign_form(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_form_write, request, form, "assign")


@guard("clerk")
async def dismiss_form(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_form_write, request, form, "dismiss")


@guard("clerk")
async def void_form(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_form_write, request, form, "void")


@guard("clerk")
async def keep_form(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_form_write, request, form, "keep")


# ---- JSON API ---------------------------------------------------------------------------------


def _held_data(request: Request) -> list[dict[str, Any]]:
    q = request.query_params
    states = [s for s in q.getlist("state") if s] or list(HELD)
    unknown = [s for s in states if s not in HELD]
    if unknown:
        raise BadRequest(f"state={unknown[0]!r}：请用 {choices(INVOICE_STATES, tuple(HELD))}。")
    held = held_invoices(state_of(request).db(), customer=q.get("customer") or None, states=states)
    return [h.to_json() for h in held]


def _unmatched_data(request: Request) -> list[dict[str, Any]]:
    assigned = request.query_params.get("assigned") in ("1", "true")
    return [r.to_json() for r in unmatched_receipts(state_of(request).db(), assigned=assigned)]


def _api_write(request: Request, body: dict[str, Any], action: str) -> dict[str, Any]:
    state, actor = state_of(request), _actor(request)
    if action == "assign":
        rid = _receipt_id(request)
        second = body.get("second") is True
        receipt = assign(state.db(), rid, _text_field(body, "customer"), actor=actor, second=second)
        audit(state.db(), actor.name, "receipt assign", f"#{rid} → {receipt.assigned_to}")
        return receipt.to_json()
    if action == "dismiss":
        rid = _receipt_id(request)
        receipt = dismiss(state.db(), rid, reason=_text_field(body, "reason"), actor=actor)
        audit(state.db(), actor.name, "receipt dismiss", f"#{rid}: {receipt.dismissed_reason}")
        return receipt.to_json()
    number = str(request.path_params["no"])
    if action == "void":
        held = confirm_void(state.db(), number, reason=_text_field(body, "reason"), actor=actor)
        audit(state.db(), actor.name, "invoice void", f"{held.customer} {number}: {held.reason}")
        return held.to_json()
    note = _text_field(body, "note") or None
    code = confirm_keep(state.db(), number, actor=actor, note=note)
    audit(state.db(), actor.name, "invoice keep", f"{code} {number}")
    return {"invoice": number, "customer": code, "state": "kept"}


@guard()
async def api_held(request: Request) -> Response:
    return await call(_held_data, request)


@guard()
async def api_unmatched(request: Request) -> Response:
    return await call(_unmatched_data, request)


def _api(action: str) -> Any:
    @guard("clerk")
    async def endpoint(request: Request) -> Response:
        return await call_with_body(_api_write, request, action)

    return endpoint


ROUTES = [
    Route("/receipts/unmatched", receipts_page),
    Route("/receipts/{rid}/assign", assign_form, methods=["POST"]),
    Route("/receipts/{rid}/dismiss", dismiss_form, methods=["POST"]),
    # `:path`: an invoice number may hold a `/` (sent as %2F).
    Route("/invoices/{no:path}/void", void_form, methods=["POST"]),
    Route("/invoices/{no:path}/keep", keep_form, methods=["POST"]),
    Route("/api/invoices/held", api_held),
    Route("/api/invoices/{no:path}/void", _api("void"), methods=["POST"]),
    Route("/api/invoices/{no:path}/keep", _api("keep"), methods=["POST"]),
    Route("/api/receipts/unmatched", api_unmatched),
    Route("/api/receipts/{rid}/assign", _api("assign"), methods=["POST"]),
    Route("/api/receipts/{rid}/dismiss", _api("dismiss"), methods=["POST"]),
]
