"""The letter registry: the `letters` table (every read and write of it), letter references
(numbering and finding them in a text) and pack runs. A reference is never issued twice, a
killed pack is found.

References come from a sequence per prefix and year (table `reference_sequence`), taken in a
short write transaction of their own before anything is rendered, and committed at once: a
run killed with -9 after that burns its numbers, and the next run continues after them, so two
files never carry one reference. Each run is recorded in `pack_runs` (folder, process, state):
a run still `writing` whose process is gone was killed; its folder holds letters nobody
registered, which `repair` removes (reporting which) and `unregistered_pack_files` reports.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.db import write_transaction
from dunning.desk import Desk
from dunning.procs import alive
from dunning.vocabulary import LETTER_LEVELS

# What a pack folder holds besides the letters' own files.
PACK_FILES = frozenset({"manifest.csv", "manifest.json", "pack.pdf"})


@dataclass(frozen=True)
class Reservation:
    run_id: int
    refs: tuple[str, ...]


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _highest_issued(conn: Any, prefix: str, year: int) -> int:
    """The highest number among letters already registered (desks older than the sequence)."""
    numbers = [
        int(ref.rsplit("-", 1)[1])
        for (ref,) in conn.execute(
            "SELECT ref FROM letters WHERE ref LIKE ?", [f"{prefix}-{year}-%"]
        )
        if ref.rsplit("-", 1)[1].isdigit()
    ]
    return max(numbers, default=0)


def reserve(
    db: sqlite_utils.Database, prefix: str, year: int, count: int, pack_dir: Path
) -> Reservation:
    """Take `count` fresh references for a run writing into `pack_dir`, committed at once."""
    with write_transaction(db) as conn:
        row = conn.execute(
            "SELECT last FROM reference_sequence WHERE prefix = ? AND year = ?", [prefix, year]
        ).fetchone()
        last = max(row[0] if row else 0, _highest_issued(conn, prefix, year))
        conn.execute(
            "INSERT INTO reference_sequence (prefix, year, last) VALUES (?, ?, ?)"
            " ON CONFLICT (prefix, year) DO UPDATE SET last = excluded.last",
            [prefix, year, last + count],
        )
        refs = tuple(f"{prefix}-{year}-{n:06d}" for n in range(last + 1, last + count + 1))
        cur = conn.execute(
            "INSERT INTO pack_runs (pack_dir, first_ref, last_ref, pid, host, started_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?, 'writing')",
            [
                stored_dir(conn, pack_dir),
                refs[0],
                refs[-1],
                os.getpid(),
                socket.gethostname(),
                _now(),
            ],
        )
        return Reservation(int(cur.lastrowid or 0), refs)


def finish(conn: Any, run_id: int, *, state: str = "done") -> None:
    """Close a run (inside the caller's transaction when it registers letters)."""
    conn.execute(
        "UPDATE pack_runs SET state = ?, finished_at = ? WHERE id = ?", [state, _now(), run_id]
    )


def abandon(db: sqlite_utils.Database, run_id: int) -> None:
    """A run that failed and removed its own folder; its references stay burnt."""
    with write_transaction(db) as conn:
        finish(conn, run_id, state="abandoned")


def _alive(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return True  # another machine's run on a shared desk: assume it is still going
    return alive(pid)


def stored_dir(conn: Any, folder: Path | str) -> str:
    """How a pack folder is stored: relative to the desk (the archive's folder) when inside
    it, so a desk moved or restored elsewhere still finds its letters; else absolute."""
    row = conn.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
    path = Path(folder)
    if not row or not row[0] or not path.is_absolute():
        return str(folder)
    try:
        return path.resolve().relative_to(Path(row[0]).resolve().parent).as_posix()
    except ValueError:
        return str(path)


def located(desk: Desk, stored: str) -> Path:
    """A stored folder as a path on this machine (an absolute one stays as it is)."""
    return desk.root / stored


def killed_runs(db: sqlite_utils.Database) -> list[tuple[int, str]]:
    """Runs left `writing` by a process that is gone: (run id, its pack folder as stored)."""
    rows = db.execute("SELECT id, pack_dir, pid, host FROM pack_runs WHERE state = 'writing'")
    return [(r[0], str(r[1])) for r in rows if not _alive(int(r[2] or 0), str(r[3] or ""))]


def repair(desk: Desk, db: sqlite_utils.Database) -> list[str]:
    """Remove what killed runs left in out/ (letters never registered); say what was done."""
    said = []
    for run_id, stored in killed_runs(db):
        folder = located(desk, stored)
        registered = db.execute(
            "SELECT count(*) FROM letters WHERE pack_dir = ?", [stored]
        ).fetchone()[0]
        inside_out = folder.resolve().is_relative_to(desk.out.resolve())
        if folder.exists() and not registered and inside_out:
            shutil.rmtree(folder, ignore_errors=True)
            said.append(f"已删除 {folder.name}：这次生成在函件登记前中断（其函件编号不会再用）")
        elif folder.exists() and not registered:
            said.append(f"{folder} 里是一次中断的生成留下的函件，从未登记：不是有效函件，请删除")
        with write_transaction(db) as conn:
            finish(conn, run_id, state="abandoned")
    return said


def registered_files(desk: Desk, db: sqlite_utils.Database) -> dict[Path, set[Path]]:
    """Per pack folder, every file its registered letters account for."""
    known: dict[Path, set[Path]] = {}
    for ref, pack_dir, files in db.execute("SELECT ref, pack_dir, files FROM letters"):
        if not pack_dir:
            continue
        folder = located(desk, pack_dir).resolve()
        names = known.setdefault(folder, {folder / name for name in PACK_FILES})
        for name in json.loads(files or "[]"):
            path = folder / name
            names.add(path)
            names.add(path.parent / f"{ref}.pdf")
    return known


def unregistered_pack_files(desk: Desk, db: sqlite_utils.Database) -> list[Path]:
    """Files in out/'s pack folders that no registered letter accounts for."""
    if not desk.out.is_dir():
        return []
    try:
        runs = db.execute(
            "SELECT pack_dir, pid, host FROM pack_runs WHERE state = 'writing'"
        ).fetchall()
    except sqlite3.OperationalError:  # a read-only desk from before the registry
        runs = []
    busy = {located(desk, r[0]).resolve() for r in runs if _alive(int(r[1] or 0), str(r[2] or ""))}
    known = registered_files(desk, db)
    found = []
    for folder in sorted(p for p in desk.out.iterdir() if p.is_dir() and not p.is_symlink()):
        resolved = folder.resolve()
        if resolved in busy:
            continue
        accounted = known.get(resolved, set())
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.resolve() not in accounted:
                found.append(path)
    return found


def letters_missing_files(desk: Desk, db: sqlite_utils.Database) -> list[tuple[str, Path]]:
    """Registered letters of packs in out/ whose files are gone: (reference, missing file)."""
    out = desk.out.resolve()
    missing = []
    for ref, pack_dir, files in db.execute(
        "SELECT ref, pack_dir, files FROM letters WHERE pack_dir IS NOT NULL ORDER BY ref"
    ):
        folder = located(desk, pack_dir)
        if not folder.resolve().is_relative_to(out):
            continue  # a pack written elsewhere with --out is the clerk's to keep
        missing += [
            (ref, folder / n) for n in json.loads(files or "[]") if not (folder / n).is_file()
        ]
    return missing


# --- the letters table: every read and write of it goes through here -----------------------

# CS-2025-000123; OCR may read the dashes as en-dashes or put spaces around them.
_REF = re.compile(r"([A-Z]{1,6})\s*[-‐‑–—_]\s*(\d{4})\s*[-‐‑–—_]\s*(\d{6})")
_LETTER_COLUMNS = (
    "id, ref, customer_code, level, level_name, manual, as_of, issued_on, amount_fen,"
    " overdue_fen, pack_dir, files, status, signed_document_id, signed_at"
)


@dataclass(frozen=True)
class Letter:
    """One registered letter, as the `letters` table holds it."""

    id: int
    ref: str
    customer: str
    level: int
    level_name: str
    manual: bool
    as_of: dt.date
    issued_on: dt.date
    amount_fen: int
    overdue_fen: int
    pack_dir: str | None
    files: tuple[str, ...]
    status: str  # issued | signed (delivery states live in letters.delivery)
    signed_document: int | None
    signed_at: str | None


def _letter(row: Sequence[Any]) -> Letter:
    return Letter(
        int(row[0]), row[1], row[2], int(row[3]), row[4], bool(row[5]),
        dt.date.fromisoformat(row[6][:10]), dt.date.fromisoformat(row[7][:10]), int(row[8]),
        int(row[9]), row[10], tuple(json.loads(row[11] or "[]")), row[12], row[13], row[14],
    )  # fmt: skip


def letters(
    db: sqlite_utils.Database | sqlite3.Connection,
    *,
    customer: str | None = None,
    issued_by: dt.date | None = None,
    issued_since: dt.date | None = None,
) -> list[Letter]:
    """Registered letters, oldest first (by issue day, then registration)."""
    where, params = [], []
    if customer is not None:
        where.append("customer_code = ?")
        params.append(customer)
    if issued_by is not None:
        where.append("issued_on <= ?")
        params.append(issued_by.isoformat())
    if issued_since is not None:
        where.append("issued_on >= ?")
        params.append(issued_since.isoformat())
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(
        f"SELECT {_LETTER_COLUMNS} FROM letters{clause} ORDER BY issued_on, id", params
    ).fetchall()
    return [_letter(r) for r in rows]


def register(conn: sqlite3.Connection, letter: Letter) -> None:
    """Record one written letter, inside the pack's write transaction; its `pack_dir` is as
    stored (`stored_dir`, worked out once per pack: resolving a folder costs more than the
    insert)."""
    pack_dir = letter.pack_dir or None
    conn.execute(
        "INSERT INTO letters (ref, customer_code, level, level_name, manual, as_of, issued_on,"
        " amount_fen, overdue_fen, pack_dir, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            letter.ref, letter.customer, letter.level, letter.level_name, int(letter.manual),
            letter.as_of.isoformat(), letter.issued_on.isoformat(), letter.amount_fen,
            letter.overdue_fen, pack_dir, json.dumps(list(letter.files), ensure_ascii=False),
        ],
    )  # fmt: skip


def find_refs(text: str) -> list[str]:
    """Letter references in a text, normalised, in order of appearance, without repeats."""
    found: list[str] = []
    # A printed reference holds word joiners (U+2060) so that it never breaks across lines.
    for match in _REF.finditer(text.upper().replace("\u2060", "").replace("\u200b", "")):
        ref = "-".join(match.groups())
        if ref not in found:
            found.append(ref)
    return found


def known_refs(conn: sqlite3.Connection | sqlite_utils.Database, text: str) -> list[str]:
    """The references in `text` that are letters in the archive."""
    return [
        ref
        for ref in find_refs(text)
        if conn.execute("SELECT 1 FROM letters WHERE ref = ?", [ref]).fetchone()
    ]


def mark_signed(conn: sqlite3.Connection, ref: str, document_id: int) -> str:
    """Mark a letter signed by the scan `document_id`; returns its customer's code."""
    code = conn.execute("SELECT customer_code FROM letters WHERE ref = ?", [ref]).fetchone()[0]
    conn.execute(
        "UPDATE letters SET status = 'signed', signed_document_id = ?, signed_at = ? WHERE ref = ?",
        [document_id, _now(), ref],
    )
    return str(code)


def signed_by(db: sqlite_utils.Database, document_id: int) -> list[str]:
    """The references of the letters the scan `document_id` signed."""
    rows = db.execute(
        "SELECT ref FROM letters WHERE signed_document_id = ? ORDER BY ref", [document_id]
    )
    return [r[0] for r in rows]


def letter_customers(conn: sqlite3.Connection | sqlite_utils.Database) -> dict[str, str]:
    """Every letter reference with its customer's code (a bank memo quoting one names it)."""
    return {ref: code for ref, code in conn.execute("SELECT ref, customer_code FROM letters")}


def find_letters(
    db: sqlite_utils.Database | sqlite3.Connection,
    query: str,
    *,
    customer: str | None = None,
    limit: int | None = None,
) -> list[tuple[Letter, str]]:
    """Letters, newest first, where every word of `query` occurs in the reference (any case,
    any hyphen), the kind (reminder or 催款函…), the customer's code or any part of its name.
    Each with its customer's name."""
    names = dict(db.execute("SELECT code, name FROM customers").fetchall())
    refs = find_refs(query)
    words = [w.lower() for w in _REF.sub(" ", query.upper()).split()]
    found = []
    for letter in reversed(letters(db, customer=customer)):
        name = str(names.get(letter.customer, ""))
        kind = LETTER_LEVELS.get(letter.level_name, letter.level_name)
        text = f"{letter.ref} {letter.level_name} {kind} {letter.customer} {name}".lower()
        if (not refs or letter.ref in refs) and all(w in text for w in words):
            found.append((letter, name))
            if limit is not None and len(found) >= limit:
                break
    return found


def letter_hit_json(letter: Letter, name: str) -> dict[str, object]:
    """A letter `find_letters` found, in the shape of a `search --json` document result
    (`document` null, `kind` "letter") plus its reference, level and date."""
    kind = LETTER_LEVELS.get(letter.level_name, letter.level_name)
    text = f"{letter.ref} · {kind} · {letter.customer} {name} · {letter.issued_on.isoformat()}"
    return {
        "document": None,
        "kind": "letter",
        "title": f"{kind} {letter.ref}",
        "contract_no": None,
        "customer": letter.customer,
        "customer_name": name,
        "snippet": text,
        "highlighted": text,
        "score": None,
        "ref": letter.ref,
        "level": letter.level_name,
        "issued_on": letter.issued_on.isoformat(),
    }
