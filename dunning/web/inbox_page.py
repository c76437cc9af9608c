"""收件箱: upload into the inbox (same pipeline, same quarantine), a live list, retry."""

from __future__ import annotations

import os
import re
import secrets
import threading
import unicodedata
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from dunning.errors import SHOWN_PROBLEMS, NotFoundError
from dunning.ingest.quarantine import list_failed, retry
from dunning.web.desk_state import DeskState
from dunning.web.guard import guard, state_of, upload_refusal
from dunning.web.users import audit

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_MAX_NAME = 120  # characters
_MAX_BYTES = 200  # of UTF-8: ext4 takes 255, less `-NN` and the quarantine's `.error.txt`
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn"}
_CHUNK = 1 << 20


def _printable(name: str) -> str:
    """Control, format (right-to-left overrides, zero-width) and unassigned characters out:
    `\u202etxt.exe` must not show as `exe.txt` in the inbox list."""
    return "".join(ch for ch in name if unicodedata.category(ch) not in _HIDDEN)


def _cut(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def safe_name(raw: str | None) -> str:
    """A file name that stays inside the inbox: no folders, no control characters, no dotfile,
    and short enough in bytes for any disk (with room for `-2` and the quarantine's note)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # browsers on Windows may send C:\...\file.pdf
    name = _printable(_UNSAFE.sub("_", name)).strip().lstrip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = _cut(ext, 10)
    stem = _cut(stem[:_MAX_NAME], _MAX_BYTES - len(ext.encode("utf-8")) - 1).strip() or "upload"
    return f"{stem}.{ext}" if ext else stem


def _place(part: Path, folder: Path, name: str) -> Path:
    """Give the finished part-file its name without ever replacing a file: a hard link fails
    when the name exists, so two uploads of 合同.pdf at the same moment both arrive."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    n = 1
    while True:
        try:
            os.link(part, target)
        except FileExistsError:
            n += 1
            target = folder / f"{stem}-{n}{suffix}"
            continue
        except OSError:  # a share without hard links: check, then rename (a small race)
            if target.exists():
                n += 1
                target = folder / f"{stem}-{n}{suffix}"
                continue
            os.replace(part, target)
            return target
        part.unlink()
        return target


def _store_upload(state: DeskState, upload: UploadFile) -> Path:
    """Copy an upload into the inbox: a hidden part-file first, named when complete."""
    inbox = state.desk.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    part = inbox / f".upload-{secrets.token_hex(8)}.part"  # the watcher ignores dotfiles
    try:
        with part.open("wb") as fh:
            upload.file.seek(0)
            while chunk := upload.file.read(_CHUNK):
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        return _place(part, inbox, safe_name(upload.filename))
    finally:
        part.unlink(missing_ok=True)


def _ingest_now(state: DeskState, paths: list[Path]) -> None:
    """Without a watcher in this process, the upload is ingested here, in the background."""
    from dunning.ingest.pipeline import Pipeline

    def work() -> None:
        with Pipeline(state.desk) as pipeline:
            pipeline.ingest_many(paths)

    threading.Thread(target=work, name="upload-ingest", daemon=True).start()


def _accept(request: Request, form: FormData) -> Response:
    state, user = state_of(request), request.state.user
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        return PlainTextResponse("没有收到文件。", status_code=400)
    stored = [_store_upload(state, f) for f in uploads]
    audit(state.db(), user.name, "upload", ", ".join(p.name for p in stored))
    if not state.watching:
        _ingest_now(state, stored)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"stored": [p.name for p in stored]})
    return RedirectResponse("/inbox", status_code=303)


async def upload(request: Request) -> Response:
    """The size check comes before anything reads the body (the CSRF check parses forms)."""
    refused = upload_refusal(request)
    if refused is not None:
        return refused
    try:
        return await _upload(request)
    finally:
        await request.close()  # the spooled temporary files of the parsed form


@guard("clerk")
async def _upload(request: Request) -> Response:
    form = await request.form(max_files=50, max_fields=20)
    return await run_in_threadpool(_accept, request, form)


def _recent(state: DeskState, limit: int = 30) -> list[tuple[object, ...]]:
    rows = state.db().execute(
        "SELECT id, kind, original_name, title, customer_code, ingested_at, needs_ocr"
        " FROM documents ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [tuple(r) for r in rows.fetchall()]


def _waiting(state: DeskState) -> list[str]:
    from dunning.ingest.classify import candidate_files

    inbox = state.desk.inbox
    return [str(p.relative_to(inbox)) for p in candidate_files(inbox)] if inbox.is_dir() else []


def _status(request: Request, name: str) -> Response:
    state = state_of(request)
    return state.render(
        request,
        name,
        recent=_recent(state),
        failed=list_failed(state.desk),
        shown_rows=SHOWN_PROBLEMS,
        waiting=_waiting(state),
        max_upload_mb=state.desk.config.max_upload_mb,
    )


@guard()
async def inbox(request: Request) -> Response:
    return await run_in_threadpool(_status, request, "inbox.html")


@guard()
async def inbox_status(request: Request) -> Response:
    return await run_in_threadpool(_status, request, "inbox_status.html")


def _retry(request: Request, form: FormData) -> Response:
    state, user = state_of(request), request.state.user
    name = form.get("name")
    try:
        moved = retry(state.desk, name if isinstance(name, str) and name else None)
    except NotFoundError as exc:
        return PlainTextResponse(str(exc), status_code=404)
    audit(state.db(), user.name, "failed retry", ", ".join(p.name for p in moved))
    if not state.watching and moved:
        _ingest_now(state, moved)
    return RedirectResponse("/inbox", status_code=303)


def _note(request: Request) -> Response:
    """A failed file's NAME.error.txt (every bad row), found by the name failed/ lists."""
    name = request.query_params.get("name", "")
    found = [f for f in list_failed(state_of(request).desk) if f.name == name]
    if not found or not found[0].note.is_file():
        return PlainTextResponse("没有这个失败文件的说明。", status_code=404)
    note = found[0].note
    text = note.read_text(encoding="utf-8", errors="replace")
    quoted = quote(note.name)
    return PlainTextResponse(
        text,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


@guard()
async def failed_note(request: Request) -> Response:
    return await run_in_threadpool(_note, request)


@guard("clerk")
async def retry_failed(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_retry, request, form)


ROUTES = [
    Route("/inbox", inbox),
    Route("/inbox/status", inbox_status),
    Route("/inbox/upload", upload, methods=["POST"]),
    Route("/inbox/retry", retry_failed, methods=["POST"]),
    Route("/inbox/failed-note", failed_note),
]
