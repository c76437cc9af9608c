"""The JSON API: the CLI's `--json` shapes, built by the same library functions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from dunning.archive.accounts import aging_json, customers_json
from dunning.archive.documents import stored_original
from dunning.archive.search.query import search
from dunning.dates import office_today, parse_date, refuse_future
from dunning.errors import DunningError, NotFoundError
from dunning.money import parse_amount
from dunning.vocabulary import DOCUMENT_KINDS, choices
from dunning.web.desk_state import csrf_token, json_body, json_response
from dunning.web.guard import actor_of, guard, state_of
from dunning.workflow import actions
from dunning.workflow.log import entry_json, promise_statuses
from dunning.workflow.records import customer_record, document_record

_DOCUMENT_ID = re.compile(r"[0-9]{1,15}")
# The sniffed type (documents.mime) of what is shown inline, in the browser's own viewer;
# anything else is a download, never rendered by the browser.
_INLINE = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


class BadRequest(DunningError):
    """A parameter that cannot be used as given."""


def query_date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r} 不是日期：请写成 2025-06-30 这样。") from None


def query_as_of(request: Request) -> dt.date:
    """`?as_of=` (default today in the office); a day after today only with `allow_future=1`,
    as `--as-of` with `--allow-future` on the command line."""
    today = office_today(state_of(request).desk.config.timezone)
    day = query_date(request.query_params.get("as_of"), "as_of")
    if day is None:
        return today
    allow = request.query_params.get("allow_future", "")
    if allow not in ("", "0", "1", "true", "false"):
        raise BadRequest(f"allow_future={allow!r}：请写 1 或 0。")
    refuse_future(day, today, "日期 as_of", allow=allow in ("1", "true"))
    return day


def query_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise BadRequest(f"{name}={value!r}：请给 {low} 到 {high} 之间的整数。")
    return int(value)


def document_id(request: Request) -> int:
    raw = str(request.path_params["doc"])
    if not _DOCUMENT_ID.fullmatch(raw):
        raise NotFoundError(f"没有文档“{raw}”：请核对文档编号。")
    return int(raw)


async def call(fn: Any, *args: Any, **kwargs: Any) -> Response:
    """Run library work in a thread; its errors become 404/400 with one sentence."""
    try:
        return json_response(await run_in_threadpool(fn, *args, **kwargs))
    except NotFoundError as exc:
        return json_response({"error": str(exc)}, 404)
    except actions.NotPermitted as exc:
        return json_response({"error": str(exc)}, 403)
    except DunningError as exc:
        return json_response({"error": str(exc)}, 400)


async def call_with_body(fn: Any, request: Request, *args: Any) -> Response:
    """`call(fn, request, body, *args)` with the request's JSON object as `body`; a body that
    is not one is a 400 before any work is done."""
    try:
        body = await _json_body(request)
    except BadRequest as exc:
        return json_response({"error": str(exc)}, 400)
    return await call(fn, request, body, *args)


def aging_data(request: Request) -> bytes:
    """The body of `aging --json` for `as_of`, serialised once per change of the archive."""
    state = state_of(request)
    day = query_as_of(request)

    def body() -> bytes:
        report = sorted(state.aging(day), key=lambda a: (-a.max_days_overdue, a.customer))
        return json_body([aging_json(a) for a in report])

    return state.memo(("api/aging", day), body)


def customers_data(request: Request) -> list[dict[str, Any]]:
    state = state_of(request)
    today = office_today(state.desk.config.timezone)
    edges = state.desk.config.bucket_edges
    return customers_json(state.db(), as_of=today, edges=edges, report=state.aging(today))


def customer_data(request: Request) -> dict[str, Any]:
    state = state_of(request)
    day = query_as_of(request)
    code = str(request.path_params["code"])
    return customer_record(state.db(), code, as_of=day, edges=state.desk.config.bucket_edges)


def search_data(request: Request) -> list[dict[str, object]]:
    q = request.query_params
    kind = q.get("kind") or None
    if kind not in (None, "contract", "ledger", "receipt", "letter", "einvoice"):
        raise BadRequest(f"kind={kind!r}：请用 {choices(DOCUMENT_KINDS)}。")
    hits = search(
        state_of(request).db(),
        q.get("q", ""),
        kind=kind,
        customer=q.get("customer") or None,
        since=query_date(q.get("since"), "since"),
        until=query_date(q.get("until"), "until"),
        limit=query_int(q.get("limit"), "limit", 20, 1, 10000),
    )
    return [h.to_json() for h in hits]


def document_data(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return document_record(state.db(), state.desk.root, document_id(request))


@guard()
async def api_aging(request: Request) -> Response:
    return await call(aging_data, request)


@guard()
async def api_customers(request: Request) -> Response:
    return await call(customers_data, request)


@guard()
async def api_customer(request: Request) -> Response:
    return await call(customer_data, request)


@guard()
async def api_search(request: Request) -> Response:
    return await call(search_data, request)


@guard()
async def api_document(request: Request) -> Response:
    return await call(document_data, request)


@guard()
async def api_session(request: Request) -> Response:
    user = request.state.user
    return json_response({"user": user.name, "role": user.role, "csrf": csrf_token(request)})


def _original(request: Request) -> tuple[str, str, str]:
    state = state_of(request)
    db = state.db()
    doc = document_id(request)
    path = stored_original(db, state.desk.root, doc)
    row = db.execute("SELECT original_name, mime FROM documents WHERE id = ?", [doc]).fetchone()
    return str(path), str(row[0]), str(row[1] or "")


@guard()
async def original(request: Request) -> Response:
    """A document's stored original, found by id only: nothing from the request is a path."""
    try:
        path, name, kind = await run_in_threadpool(_original, request)
    except NotFoundError as exc:
        return json_response({"error": str(exc)}, 404)
    inline = _INLINE.get(kind)
    return FileResponse(
        path,
        media_type=inline or "application/octet-stream",
        filename=name,
        content_disposition_type="inline" if inline else "attachment",
        headers={"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"},
    )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("请求内容必须是一个 JSON 对象：请检查发送的数据。") from None
    if not isinstance(body, dict):
        raise BadRequest("请求内容必须是一个 JSON 对象：请检查发送的数据。")
    return body


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"{name} 必须是文字，不能是 {json_body(value).decode()[:40]}。")
    return value


def log_data(request: Request, body: dict[str, Any]) -> dict[str, object]:
    state = state_of(request)
    customer, kind, note = (_text_field(body, n) for n in ("customer", "kind", "note"))
    amount, promise_day = body.get("promise_amount"), body.get("promise_date")
    try:
        entry = actions.add_log(
            state.db(),
            actor_of(request),
            customer,
            kind=kind,
            note=note,
            promise_amount=parse_amount(amount) if amount not in (None, "") else None,
            promise_date=query_date(promise_day, "promise_date"),
            on=query_date(body.get("on"), "on"),
            zone=state.desk.config.timezone,
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    status = promise_statuses(
        state.db(), [entry], as_of=office_today(state.desk.config.timezone)
    ).get(entry.id)
    return entry_json(entry, status)


@guard("clerk")
async def api_log(request: Request) -> Response:
    return await call_with_body(log_data, request)


@guard("clerk")
async def api_packs(request: Request) -> Response:
    from dunning.web.letters_page import pack_data

    return await call_with_body(pack_data, request)


ROUTES = [
    Route("/api/session", api_session),
    Route("/api/aging", api_aging),
    Route("/api/customers", api_customers),
    Route("/api/customers/{code:path}", api_customer),
    Route("/api/search", api_search),
    Route("/api/documents/{doc}", api_document),
    Route("/documents/{doc}/original", original),
    Route("/api/log", api_log, methods=["POST"]),
    Route("/api/packs", api_packs, methods=["POST"]),
]
