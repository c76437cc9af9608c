"""函件: the pack's dry run, generating a pack, its PDF and a zip of its folder, earlier packs."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.dates import office_today, refuse_future
from dunning.errors import DunningError
from dunning.vocabulary import LETTER_LEVELS
from dunning.web.api import BadRequest, query_date
from dunning.web.desk_state import DeskState
from dunning.web.guard import guard, state_of
from dunning.web.users import audit

if TYPE_CHECKING:
    from dunning.letters.pack import Plan


def pack_data(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /api/packs`: the dry run (`{"dry_run": true}`) or a written pack, as the CLI's JSON."""
    from dunning.letters.pack import plan_pack, write_pack

    state, user = state_of(request), request.state.user
    today = office_today(state.desk.config.timezone)
    day = query_date(body.get("as_of"), "as_of") or today
    allow_future = body.get("allow_future", False)
    if not isinstance(allow_future, bool):
        raise BadRequest("allow_future 只能是 true 或 false。")
    refuse_future(day, today, "函件日期", allow=allow_future)
    customers = body.get("customers") or []
    if not isinstance(customers, list) or not all(isinstance(c, str) for c in customers):
        raise BadRequest("customers 必须是客户编号的列表。")
    min_days, level = body.get("min_days"), body.get("level")
    for name, value in (("min_days", min_days), ("level", level)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise BadRequest(f"{name} 必须是整数。")
    allow_no_address = body.get("allow_no_address", False)
    if not isinstance(allow_no_address, bool):
        raise BadRequest("allow_no_address 只能是 true 或 false。")
    db = state.db()
    plan = plan_pack(
        db,
        state.desk.config,
        as_of=day,
        customers=customers,
        min_days=min_days,
        level=level,
        allow_no_address=allow_no_address,
    )
    if body.get("dry_run", False):
        return dry_run(state, plan, day)
    result = write_pack(state.desk, db, plan, pdf=bool(body.get("pdf", False)))
    name = result.pack_dir.name if result.pack_dir else "-"
    audit(db, user.name, "pack", f"{name}：{len(result.letters)} 封函件")
    return result.to_json()


def dry_run(state: DeskState, plan: Plan, day: dt.date) -> dict[str, Any]:
    """The dry run as `pack --dry-run --json` shows it, with the limitation warnings."""
    from dunning.workflow.limitation_archive import expiring_customers

    codes = [c.customer.code for c in plan.candidates]
    plan.expiring = expiring_customers(state.db(), state.desk.config, as_of=day, codes=codes)
    return plan.to_json()


def packs(out: Path) -> list[dict[str, Any]]:
    """Earlier packs, newest first: folders in out/ holding a manifest."""
    found = []
    if out.is_dir():
        for folder in sorted(out.iterdir(), reverse=True):
            manifest = folder / "manifest.json"
            if folder.is_dir() and manifest.is_file():
                try:
                    letters = json.loads(manifest.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    letters = []
                count = len(letters) if isinstance(letters, list) else 0
                found.append(
                    {"name": folder.name, "letters": count, "pdf": (folder / "pack.pdf").is_file()}
                )
    return found


def pack_folder(request: Request) -> Path | None:
    """The pack the URL names, matched against out/'s own listing: never a path from the URL."""
    wanted = str(request.path_params["name"])
    out = state_of(request).desk.out
    for entry in packs(out):
        if entry["name"] == wanted:
            found: Path = out / str(entry["name"])
            return found
    return None


LETTERS_SHOWN = 100


def letter_register(request: Request, day: dt.date) -> tuple[list[dict[str, Any]], int]:
    """Letters (newest first, none after `day`) matching ?q= (reference, kind or customer code
    or name, any case, any part) and ?status=; the first LETTERS_SHOWN and how many matched."""
    from dunning.letters.delivery import load_deliveries

    db = state_of(request).db()
    names = dict(db.execute("SELECT code, name FROM customers").fetchall())
    q = request.query_params.get("q", "").strip().lower()
    status = request.query_params.get("status", "")
    rows = []
    for d in reversed(load_deliveries(db)):
        if d.issued_on > day or (status and d.status != status):
            continue
        kind = LETTER_LEVELS.get(d.level_name, d.level_name)
        name = str(names.get(d.customer, ""))
        haystack = f"{d.ref} {d.level_name} {kind} {d.customer} {name}".lower()
        if q and q not in haystack:
            continue
        rows.append({"letter": d, "kind": kind, "name": name})
    return rows[:LETTERS_SHOWN], len(rows)


def _page(request: Request, error: str | None = None) -> Response:
    from dunning.letters.pack import plan_pack

    state = state_of(request)
    day = office_today(state.desk.config.timezone)
    plan = plan_pack(state.db(), state.desk.config, as_of=day)
    register, matched = letter_register(request, day)
    return state.render(
        request,
        "letters.html",
        code=400 if error else 200,
        plan=dry_run(state, plan, day),
        selected=len(plan.selected),
        packs=packs(state.desk.out),
        error=error,
        today=day.isoformat(),
        register=register,
        matched=matched,
        q=request.query_params.get("q", ""),
        status=request.query_params.get("status", ""),
        levels=state.desk.config.levels,
    )


@guard()
async def letters(request: Request) -> Response:
    return await run_in_threadpool(_page, request)


def _generate(request: Request, form: FormData) -> Response:
    body: dict[str, Any] = {"pdf": form.get("pdf") == "1", "as_of": form.get("as_of") or None}
    customer, level = form.get("customer"), form.get("level")
    if isinstance(customer, str) and customer.strip():
        body["customers"] = [customer.strip()]
        if isinstance(level, str) and level.isdigit():
            body["level"] = int(level)
    try:
        result = pack_data(request, body)
    except (BadRequest, DunningError) as exc:
        return _page(request, error=str(exc))
    if not result["pack"]:
        return _page(
            request,
            error="今天没有客户需要发函，什么也没有生成（可以指定一个客户和函件类型试生成）。",
        )
    return RedirectResponse(f"/letters/packs/{quote(Path(result['pack']).name)}", 303)


@guard("clerk")
async def generate(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_generate, request, form)


def _pack_page(request: Request) -> Response:
    folder = pack_folder(request)
    if folder is None:
        return PlainTextResponse("没有这个函件包。", status_code=404)
    state = state_of(request)
    letters = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return state.render(
        request,
        "pack.html",
        name=folder.name,
        letters=letters if isinstance(letters, list) else [],
        level_titles={lv.name: lv.title for lv in state.desk.config.levels},
        pdf=(folder / "pack.pdf").is_file(),
    )


@guard()
async def pack_page(request: Request) -> Response:
    return await run_in_threadpool(_pack_page, request)


@guard()
async def pack_pdf(request: Request) -> Response:
    folder = pack_folder(request)
    if folder is None or not (folder / "pack.pdf").is_file():
        return PlainTextResponse("这个函件包没有 PDF。", status_code=404)
    return FileResponse(
        folder / "pack.pdf",
        media_type="application/pdf",
        filename=f"{folder.name}.pdf",
        content_disposition_type="inline",
    )


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                zf.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


@guard()
async def pack_zip(request: Request) -> Response:
    folder = pack_folder(request)
    if folder is None:
        return PlainTextResponse("没有这个函件包。", status_code=404)
    body = await run_in_threadpool(_zip, folder)
    disposition = f"attachment; filename*=UTF-8''{quote(folder.name)}.zip"
    return Response(
        body, media_type="application/zip", headers={"Content-Disposition": disposition}
    )


ROUTES = [
    Route("/letters", letters),
    Route("/letters/generate", generate, methods=["POST"]),
    Route("/letters/packs/{name}", pack_page),
    Route("/letters/packs/{name}/pack.pdf", pack_pdf),
    Route("/letters/packs/{name}/pack.zip", pack_zip),
]
