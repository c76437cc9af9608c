"""What every request handler shares: the desk, a database connection per thread, templates."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
import sqlite_utils
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.search.query import MARK_CLOSE, MARK_OPEN
from dunning.dates import office_time
from dunning.desk import SECRET_NAME, Desk
from dunning.money import format_amount
from dunning.receivables import CustomerAging
from dunning.vocabulary import DOCUMENT_KINDS
from dunning.vocabulary import LETTER_STATUS as _LETTER_STATUS
from dunning.workflow.status import STATUS_TITLES

TEMPLATES = Path(__file__).parent / "templates"
T = TypeVar("T")
LETTER_STATUS = dict(_LETTER_STATUS)
KIND_TITLES = dict(DOCUMENT_KINDS)


@dataclass
class DeskState:
    desk: Desk
    watching: bool
    loopback_only: bool
    env: jinja2.Environment = field(init=False)
    _local: threading.local = field(default_factory=threading.local)
    _sentinel: sqlite3.Connection | None = None
    _cache_lock: threading.RLock = field(default_factory=threading.RLock)
    _cache: dict[object, Any] = field(default_factory=dict)
    _cache_version: int = -1

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,  # every value is escaped unless a filter marks it safe
            auto_reload=False,  # templates are package files: no stat() per page
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["money"] = _money
        self.env.filters["segment"] = segment
        zone = self.desk.config.timezone
        self.env.filters["when"] = lambda stamp: office_time(str(stamp or ""), zone)
        self.env.globals["highlight"] = highlight
        self.env.globals["STATUS_TITLES"] = STATUS_TITLES
        self.env.globals["KIND_TITLES"] = KIND_TITLES
        self.env.globals["LETTER_STATUS"] = LETTER_STATUS

    def db(self) -> sqlite_utils.Database:
        """This thread's connection (SQLite connections stay in the thread that opened them)."""
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = open_archive(self.desk.db_path, migrate_schema=False)
            self._local.db = db
        return db

    def _data_version(self) -> int:
        """Changes whenever any connection (this process or another) commits to the archive."""
        if self._sentinel is None:
            self._sentinel = sqlite3.connect(
                str(self.desk.db_path), check_same_thread=False, isolation_level=None
            )
        return int(self._sentinel.execute("PRAGMA data_version").fetchone()[0])

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()`, kept until the archive changes (any commit, by any process)."""
        with self._cache_lock:
            version = self._data_version()
            if version != self._cache_version or len(self._cache) > 32:
                self._cache.clear()
                self._cache_version = version
            if key not in self._cache:
                self._cache[key] = compute()
            value: T = self._cache[key]
            return value

    def aging(self, as_of: dt.date) -> list[CustomerAging]:
        """`aging_report` for `as_of`, computed once per change of the archive.

        Every page and /api/aging need the whole desk's aging; under load, recomputing it
        for each request is what made the web desk slow (see benchmarks/serve.py).
        """
        edges = self.desk.config.bucket_edges
        report = self.memo(
            ("aging", as_of), lambda: aging_report(self.db(), as_of=as_of, edges=edges)
        )
        return list(report)

    def render(
        self, request: Request, template: str, /, *, code: int = 200, **context: Any
    ) -> Response:
        page = self.env.get_template(template).render(
            request=request,
            user=request.state.user,
            csrf=csrf_token(request),
            watching=self.watching,
            **context,
        )
        return HTMLResponse(page, status_code=code)


def secret_key(desk: Desk) -> str:
    """The key that signs session cookies; kept in the desk so sessions survive a restart."""
    path = desk.root / SECRET_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
        return key


def csrf_token(request: Request) -> str:
    token: str | None = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def segment(value: object) -> str:
    """One path segment of a URL: unlike Jinja's `urlencode`, a `/` in a customer code is
    encoded too, so `HZ/001` links to its own page and `../users` to no other page."""
    return quote(str(value), safe="")


def _money(value: object) -> str:
    if value is None or value == "":
        return ""
    return format_amount(Decimal(str(value)))


def highlight(marked: str, plain: str) -> Markup:
    """A search snippet with its matches in <mark>, every character of the text escaped.

    The marks are found by walking `marked` beside `plain` (the same text without marks), so
    a 【 or 】 printed in the document itself stays text.
    """
    if MARK_OPEN not in plain and MARK_CLOSE not in plain:
        # The usual case: every bracket in `marked` is a mark.
        parts = re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", marked)
        tags = {MARK_OPEN: "<mark>", MARK_CLOSE: "</mark>"}
        return Markup("".join(tags.get(p) or str(escape(p)) for p in parts))
    out: list[str] = []
    run: list[str] = []  # text since the last mark, escaped in one piece
    i, inside = 0, False
    for ch in marked:
        if i < len(plain) and ch == plain[i]:
            run.append(ch)
            i += 1
        elif ch == MARK_OPEN and not inside:
            out += (str(escape("".join(run))), "<mark>")
            run, inside = [], True
        elif ch == MARK_CLOSE and inside:
            out += (str(escape("".join(run))), "</mark>")
            run, inside = [], False
        else:
            run.append(ch)
    out.append(str(escape("".join(run))))
    if inside:
        out.append("</mark>")
    return Markup("".join(out))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_body(data: Any) -> bytes:
    """JSON as the CLI prints it (UTF-8, amounts as strings), without the indentation."""
    return json.dumps(data, ensure_ascii=False, default=_default).encode("utf-8")


def json_response(data: Any, status: int = 200) -> Response:
    body = data if isinstance(data, bytes) else json_body(data)
    return Response(body, status_code=status, media_type="application/json")
