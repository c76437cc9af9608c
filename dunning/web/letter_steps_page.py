"""One letter's way in the web desk: sent, delivered (with the proof), returned, reply slip.

Every step calls the same library functions as `dunning letter …` (letters/delivery.py and
ingest/evidence.py): the rules live there, not here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.dates import office_today, parse_date, refuse_future
from dunning.errors import DunningError, NotFoundError
from dunning.letters.delivery import (
    CHANNEL_TITLES,
    CHANNELS,
    REPLY_TITLES,
    already_sent,
    check_tracking,
    get_delivery,
    mark_returned,
    mark_sent,
)
from dunning.vocabulary import LETTER_LEVELS
from dunning.web.guard import Endpoint, guard, state_of, upload_refusal
from dunning.web.inbox_page import safe_name
from dunning.web.users import audit

NO_LETTER = "没有这个编号的函件。"
PROOF_PATHS = ("/delivered", "/reply")  # multipart steps: capped by max_upload_mb, not 1 MB


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _page(request: Request, *, error: str | None = None, notice: str | None = None) -> Response:
    state = state_of(request)
    ref = str(request.path_params["ref"])
    try:
        letter = get_delivery(state.db(), ref)
    except NotFoundError:
        return PlainTextResponse(NO_LETTER, status_code=404)
    name = state.db().execute("SELECT name FROM customers WHERE code = ?", [letter.customer])
    row = name.fetchone()
    return state.render(
        request,
        "letter.html",
        code=400 if error else 200,
        letter=letter,
        name=row[0] if row else "",
        level_title=LETTER_LEVELS.get(letter.level_name, letter.level_name),
        channels=[(c, CHANNEL_TITLES[c]) for c in CHANNELS],
        channel_titles=CHANNEL_TITLES,
        reply_titles=REPLY_TITLES,
        today=office_today(state.desk.config.timezone).isoformat(),
        error=error,
        notice=notice or request.query_params.get("notice"),
    )


@guard()
async def letter_page(request: Request) -> Response:
    return await run_in_threadpool(_page, request)


def _day(request: Request, form: FormData, what: str) -> tuple[dt.date, dt.date]:
    """(the step's day, today): the form's date, never after today in the office."""
    today = office_today(state_of(request).desk.config.timezone)
    raw = _field(form, "on")
    try:
        day = parse_date(raw) if raw else today
    except ValueError as exc:
        raise DunningError(f"{what} {raw}：{exc}") from None
    refuse_future(day, today, what)
    return day, today


def _done(request: Request, notice: str) -> Response:
    ref = quote(str(request.path_params["ref"]), safe="")
    return RedirectResponse(f"/letters/ref/{ref}?notice={quote(notice)}", status_code=303)


def _sent(request: Request, form: FormData) -> Response:
    state, user = state_of(request), request.state.user
    ref, via = str(request.path_params["ref"]), _field(form, "via")
    try:
        day, today = _day(request, form, "寄出日期")
        tracking = check_tracking(_field(form, "tracking") or None)
        repeat = already_sent(get_delivery(state.db(), ref), via=via, tracking=tracking, on=day)
        letter = mark_sent(state.db(), ref, via=via, tracking=tracking, on=day, today=today)
    except NotFoundError:
        return PlainTextResponse(NO_LETTER, status_code=404)
    except DunningError as exc:
        return _page(request, error=str(exc))
    if repeat:
        return _done(request, "这次寄出已经登记过，没有重复记录。")
    audit(state.db(), user.name, "letter sent", f"{letter.ref} {via} {tracking or ''}".strip())
    return _done(request, "已登记寄出。")


def _returned(request: Request, form: FormData) -> Response:
    state, user = state_of(request), request.state.user
    ref = str(request.path_params["ref"])
    try:
        day, today = _day(request, form, "退回日期")
        reason = _field(form, "reason")
        letter = mark_returned(state.db(), ref, reason=reason, on=day, today=today)
    except NotFoundError:
        return PlainTextResponse(NO_LETTER, status_code=404)
    except DunningError as exc:
        return _page(request, error=str(exc))
    audit(state.db(), user.name, "letter returned", f"{letter.ref} {reason}")
    return _done(request, "已登记退回，客户地址已标记待核实。")


def _saved_upload(request: Request, form: FormData, folder: Path) -> Path | None:
    """The uploaded proof in a private folder under the desk, named safely; None if none."""
    upload = form.get("proof")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(upload.filename)
    with target.open("wb") as fh:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, fh)
    return target


def _with_proof(request: Request, form: FormData, step: str) -> Response:
    from dunning.ingest.evidence import deliver, reply

    state, user = state_of(request), request.state.user
    ref = str(request.path_params["ref"])
    folder = state.desk.root / f".proof-{secrets.token_hex(8)}"
    try:
        proof = _saved_upload(request, form, folder)
        if step == "delivered":
            day, today = _day(request, form, "妥投日期")
            letter = deliver(state.desk, state.db(), ref, on=day, today=today, evidence=proof)
            notice = "已登记妥投" + ("，妥投证明已归档。" if proof else "。")
        else:
            answer = _field(form, "reply")
            day, today = _day(request, form, "回执日期")
            letter = reply(
                state.desk, state.db(), ref, answer=answer, on=day, today=today, evidence=proof
            )
            notice = f"已登记对账回执：{REPLY_TITLES.get(answer, answer)}。"
    except NotFoundError:
        return PlainTextResponse(NO_LETTER, status_code=404)
    except DunningError as exc:
        return _page(request, error=str(exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    audit(state.db(), user.name, f"letter {step}", f"{letter.ref} {proof.name if proof else ''}")
    return _done(request, notice)


@guard("clerk")
async def sent(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_sent, request, form)


@guard("clerk")
async def returned(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_returned, request, form)


def _proof_step(step: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        """The size check comes before anything reads the body, as for inbox uploads."""
        refused = upload_refusal(request)
        if refused is not None:
            return refused
        try:
            return await _guarded(request)
        finally:
            await request.close()

    @guard("clerk")
    async def _guarded(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(_with_proof, request, form, step)

    return endpoint


ROUTES = [
    Route("/letters/ref/{ref}", letter_page),
    Route("/letters/ref/{ref}/sent", sent, methods=["POST"]),
    Route("/letters/ref/{ref}/returned", returned, methods=["POST"]),
    Route("/letters/ref/{ref}/delivered", _proof_step("delivered"), methods=["POST"]),
    Route("/letters/ref/{ref}/reply", _proof_step("reply"), methods=["POST"]),
]
