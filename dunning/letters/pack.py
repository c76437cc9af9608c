"""Letter packs: who gets which letter (the plan), and writing it out (SPEC §7).

A pack is a folder per run: per customer the documents of its level, a manifest (CSV + JSON)
and, with `pdf`, one print-ready PDF. Letters are registered in the archive with a unique
reference in the same transaction that writes them; a failure removes the half-written pack.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import Customer, get_customer, list_customers
from dunning.archive.accounts import aging_report as load_aging
from dunning.archive.db import write_transaction
from dunning.archive.workers import WorkerPool
from dunning.config import Config, Level
from dunning.desk import PACKAGE_TEMPLATES, Desk
from dunning.errors import DunningError
from dunning.letters.context import ContractInfo, CustomerInfo, LetterInput, OpenItem
from dunning.letters.context import build_context as letter_context
from dunning.letters.pdf import convert_to_pdf, merge_pdfs, require_soffice
from dunning.letters.policy import Decision, LastLetter, decide
from dunning.letters.render import TemplateError, render_letter
from dunning.money import from_fen, to_fen
from dunning.receivables import CustomerAging, bucket_title
from dunning.safenames import make_unique_dir, numbered, safe_name
from dunning.textsafe import csv_field
from dunning.workflow.log import add_entry

DOCUMENT_NAMES = {
    "statement": "对账单-statement",
    "reminder": "提醒函-reminder",
    "demand": "催款函-demand",
    "final": "最后催告函-final",
    "lawyer": "律师函-lawyer",
    "receipt": "签收回执-receipt",
    "visit": "到访回执单-visit",
    "contract": "合同副本-contract",
}
# How a letter names the documents that go with it (附件).
DOCUMENT_TITLES = {
    "statement": "对账单",
    "receipt": "签收回执",
    "contract": "合同复印件",
    "visit": "到访回执单",
    "reminder": "付款提醒函",
    "demand": "催款函",
    "final": "最后催告函",
    "lawyer": "律师函",
}


class PackError(DunningError):
    """A pack cannot be made as asked."""


@dataclass(frozen=True)
class Candidate:
    customer: Customer
    aging: CustomerAging
    decision: Decision
    warnings: tuple[str, ...] = ()


@dataclass
class Plan:
    as_of: dt.date
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def selected(self) -> list[Candidate]:
        return [c for c in self.candidates if c.decision.next_level is not None]


@dataclass(frozen=True)
class LetterRecord:
    ref: str
    customer: str
    name: str
    level: int
    level_name: str
    amount: str
    overdue: str
    files: tuple[str, ...]  # relative to the pack folder

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "files": list(self.files)}


@dataclass
class PackResult:
    pack_dir: Path | None  # None when nobody was due a letter: nothing is written
    letters: list[LetterRecord]
    pdf: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": str(self.pack_dir) if self.pack_dir else None,
            "letters": [letter.to_json() for letter in self.letters],
            "pdf": str(self.pdf) if self.pdf else None,
        }


def last_letters(db: sqlite_utils.Database) -> dict[str, LastLetter]:
    """Each customer's most recent letter."""
    latest: dict[str, LastLetter] = {}
    for code, level, issued in db.execute(
        "SELECT customer_code, level, issued_on FROM letters ORDER BY issued_on, id"
    ):
        latest[code] = LastLetter(int(level), dt.date.fromisoformat(issued))
    return latest


def plan_pack(
    db: sqlite_utils.Database,
    config: Config,
    *,
    as_of: dt.date,
    customers: Sequence[str] = (),
    min_days: int | None = None,
    level: int | None = None,
) -> Plan:
    """Decide, for every customer with receivables (or those named), what goes out today."""
    if level is not None and not 1 <= level <= len(config.levels):
        raise PackError(f"--level must be 1 to {len(config.levels)} (see [[policy.levels]]).")
    codes = [get_customer(db, c).code for c in customers] or None
    statuses = {c.code: c for c in list_customers(db)}
    latest = last_letters(db)
    plan = Plan(as_of)
    for aging in load_aging(db, as_of=as_of, edges=config.bucket_edges, codes=codes):
        cust = statuses[aging.customer]
        decision = decide(
            cust.code,
            status=cust.status,
            overdue=aging.overdue,
            max_days_overdue=aging.max_days_overdue,
            last=latest.get(cust.code),
            as_of=as_of,
            levels=config.levels,
            tolerance=config.tolerance,
            forced_level=level,
        )
        if min_days is not None and aging.max_days_overdue < min_days and decision.next_level:
            decision = Decision(
                cust.code,
                decision.current_level,
                decision.due_level,
                None,
                decision.manual,
                f"{aging.max_days_overdue} days overdue, fewer than --min-days {min_days}",
            )
        plan.candidates.append(
            Candidate(cust, aging, decision, _warnings(db, config, cust, decision))
        )
    plan.candidates.sort(key=lambda c: c.customer.code)
    return plan


def _warnings(
    db: sqlite_utils.Database, config: Config, cust: Customer, decision: Decision
) -> tuple[str, ...]:
    """What the clerk should know before printing: blanks and missing enclosures."""
    found = []
    if not cust.address:
        found.append(f"{cust.code} {cust.name} has no address on file: the letters show a blank")
    level = decision.next_level
    if level is not None and "contract" in config.levels[level - 1].documents:
        archived = db.execute(
            "SELECT count(*) FROM contracts WHERE customer_code = ? AND document_id IS NOT NULL",
            [cust.code],
        ).fetchone()[0]
        if not archived:
            found.append(
                f"{cust.code} {cust.name} has no archived contract copy: the pack goes without it"
                " (drop the signed contract into inbox/contracts/ first)"
            )
    return tuple(found)


def template_path(desk: Desk, document: str) -> Path:
    """The desk's copy wins; the package default is the fallback."""
    own = desk.templates / f"{document}.docx"
    return own if own.is_file() else PACKAGE_TEMPLATES / f"{document}.docx"


def next_refs(conn: Any, prefix: str, year: int, count: int) -> list[str]:
    """`count` fresh references, CS-2025-000123 style, inside the caller's write transaction."""
    row = conn.execute(
        "SELECT ref FROM letters WHERE ref LIKE ? ORDER BY ref DESC LIMIT 1", [f"{prefix}-{year}-%"]
    ).fetchone()
    start = int(row[0].rsplit("-", 1)[1]) + 1 if row else 1
    return [f"{prefix}-{year}-{n:06d}" for n in range(start, start + count)]


def write_pack(
    desk: Desk,
    db: sqlite_utils.Database,
    plan: Plan,
    *,
    out_dir: Path | None = None,
    pdf: bool = False,
    progress: Callable[[], None] | None = None,
) -> PackResult:
    """Render, file and register every selected letter; nothing is left behind on failure.

    `progress` is called once per letter filed.
    """
    config = desk.config
    selected = plan.selected
    if pdf:
        require_soffice()
    _check_templates(desk, {d for c in selected for d in _level(config, c).documents})
    if not selected:
        return PackResult(None, [])
    pack_dir, made = _pack_folder(desk, plan.as_of, out_dir)
    letters: list[LetterRecord] = []
    try:
        with _collector_paused(), write_transaction(db) as conn:
            refs = next_refs(conn, config.reference_prefix, plan.as_of.year, len(selected))
            jobs = [
                _prepare(desk, conn, plan, cand, ref, pack_dir)
                for cand, ref in zip(selected, refs, strict=True)
            ]
            for job, rendered in _render_all(jobs):
                letters.append(_file_letter(desk, conn, plan, job, rendered))
                if progress is not None:
                    progress()
    except BaseException:
        _undo_folder(pack_dir, made)
        raise
    letters.sort(key=lambda letter: letter.ref)
    _write_manifest(pack_dir, letters)
    result = PackResult(pack_dir, letters)
    if pdf and letters:
        result.pdf = _make_pdfs(pack_dir, letters)
    return result


def _pack_folder(desk: Desk, as_of: dt.date, out_dir: Path | None) -> tuple[Path, bool]:
    """A folder of this run's own: (path, whether this run created it).

    The default name carries the date and time; a second pack in the same second (or one
    running at the same time) gets `-2`, `-3` …, never the first one's folder.
    """
    if out_dir is not None:
        if out_dir.exists() and any(out_dir.iterdir()):
            raise PackError(f"{out_dir} already holds files; choose another --out.")
        made = not out_dir.exists()
        out_dir.mkdir(parents=True, exist_ok=True)
        return out_dir, made
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = desk.out / f"{as_of.isoformat()}_{stamp}"
    for n in range(1, 1000):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder, True
    raise PackError(f"too many packs named {base.name}* in {desk.out}; tidy it up.")


def _undo_folder(pack_dir: Path, made: bool) -> None:
    """Remove what a failed run wrote: its folder, or the contents of the empty one it was given."""
    if made:
        shutil.rmtree(pack_dir, ignore_errors=True)
        return
    for entry in pack_dir.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a batch renders.

    Each letter allocates thousands of short-lived objects; the collector's full passes then
    rescan everything alive (compiled templates, the plan) again and again — measured here at
    about half the batch time. Reference counting still frees the letters' garbage.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _level(config: Config, cand: Candidate) -> Level:
    assert cand.decision.next_level is not None
    return config.levels[cand.decision.next_level - 1]


def _check_templates(desk: Desk, documents: set[str]) -> None:
    from dunning.letters.checks import check_template
    from dunning.letters.context import CONTEXT_DOC

    for document in sorted(documents - {"contract"}):
        path = template_path(desk, document)
        if not path.is_file():
            raise PackError(
                f"no template for {document!r}: expected {path}; run `dunning templates export`."
            )
        problems = check_template(path, set(CONTEXT_DOC))
        if problems:
            first = problems[0]
            raise TemplateError(path, first.problem, first.tag)


@dataclass(frozen=True)
class _Job:
    """One letter ready to render: picklable, so it can go to a worker process."""

    cand: Candidate
    ref: str
    level: Level
    folder: Path
    letter: LetterInput
    templates: tuple[tuple[str, Path], ...]  # (document, template) in level order
    contracts: tuple[tuple[ContractInfo, Any], ...]


def _prepare(desk: Desk, conn: Any, plan: Plan, cand: Candidate, ref: str, pack_dir: Path) -> _Job:
    level = _level(desk.config, cand)
    folder = pack_dir / safe_name(f"{cand.customer.code} {cand.customer.name}")
    contracts = _contracts(conn, cand.customer.code, cand.aging)
    letter = _letter_input(desk.config, plan.as_of, cand, level, ref, contracts)
    templates = tuple((d, template_path(desk, d)) for d in level.documents if d != "contract")
    return _Job(cand, ref, level, folder, letter, templates, tuple(contracts))


def render_documents(job: _Job) -> list[bytes]:
    """The letter's Word documents, in level order (runs in a worker for big packs)."""
    context = letter_context(job.letter)
    return [render_letter(template, context) for _, template in job.templates]


# Below this many letters, worker start-up and template compiling cost more than they save.
_PARALLEL_FROM = 40


def _render_all(jobs: list[_Job]) -> Iterator[tuple[_Job, list[bytes]]]:
    """Render every job, on both cores for a big pack; a failure stops the pack."""
    if len(jobs) < _PARALLEL_FROM:
        for job in jobs:
            yield job, render_documents(job)
        return
    with WorkerPool(workers=2, timeout_s=120.0, preload=()) as pool:
        for job, result in pool.run(render_documents, jobs):
            if isinstance(result, Exception):
                raise result
            yield job, result


def _file_letter(
    desk: Desk, conn: Any, plan: Plan, job: _Job, rendered: list[bytes]
) -> LetterRecord:
    """Write one letter's files and register it (inside the pack's transaction)."""
    cust, aging, level = job.cand.customer, job.cand.aging, job.level
    # Two customers whose names clean to the same folder name each get their own folder.
    folder = make_unique_dir(job.folder.parent, job.folder.name)
    by_document = dict(zip((d for d, _ in job.templates), rendered, strict=True))
    files = []
    for document in level.documents:
        if document == "contract":
            files.extend(_copy_contracts(desk, list(job.contracts), folder))
            continue
        target = folder / f"{DOCUMENT_NAMES.get(document, document)}.docx"
        target.write_bytes(by_document[document])
        files.append(target)
    rel = tuple(str(f.relative_to(folder.parent)) for f in files)
    conn.execute(
        "INSERT INTO letters (ref, customer_code, level, level_name, manual, as_of, issued_on,"
        " amount_fen, overdue_fen, pack_dir, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            job.ref,
            cust.code,
            level.level,
            level.name,
            int(job.cand.decision.manual),
            plan.as_of.isoformat(),
            plan.as_of.isoformat(),
            to_fen(aging.balance),
            to_fen(aging.overdue),
            str(folder.parent),
            json.dumps(rel, ensure_ascii=False),
        ],
    )
    _log_letter(
        conn, cust.code, job.ref, level, aging, manual=job.cand.decision.manual, on=plan.as_of
    )
    return LetterRecord(
        job.ref,
        cust.code,
        cust.name,
        level.level,
        level.name,
        f"{aging.balance:.2f}",
        f"{aging.overdue:.2f}",
        rel,
    )


def _log_letter(
    conn: Any, code: str, ref: str, level: Level, aging: CustomerAging, *, manual: bool, on: dt.date
) -> None:
    how = "by hand" if manual else "by policy"
    note = f"{level.title} {ref} ({how}), overdue {aging.overdue:,.2f}"
    add_entry(conn, code, kind="letter", note=note, letter_ref=ref, on=on)


def _contracts(conn: Any, code: str, aging: CustomerAging) -> list[tuple[ContractInfo, Any]]:
    """The customer's contracts behind its open items (all of them when none is named)."""
    rows = conn.execute(
        "SELECT c.contract_no, c.signed_on, c.amount_fen, d.stored_path FROM contracts c"
        " LEFT JOIN documents d ON d.id = c.document_id WHERE c.customer_code = ?"
        " ORDER BY c.contract_no",
        [code],
    ).fetchall()
    named = {a.item.invoice.contract_no for a in aging.items}
    chosen = [r for r in rows if r[0] in named] or rows
    return [
        (
            ContractInfo(
                r[0],
                dt.date.fromisoformat(r[1]) if r[1] else None,
                from_fen(r[2]) if r[2] is not None else None,
            ),
            r[3],
        )
        for r in chosen
    ]


def _letter_input(
    config: Config,
    as_of: dt.date,
    cand: Candidate,
    level: Level,
    ref: str,
    contracts: list[tuple[ContractInfo, Any]],
) -> LetterInput:
    cust, aging = cand.customer, cand.aging
    return LetterInput(
        ref=ref,
        level=level.level,
        level_name=level.name,
        level_title=level.title,
        as_of=as_of,
        deadline=as_of + dt.timedelta(days=config.payment_deadline_days),
        customer=CustomerInfo(
            cust.code, cust.name, cust.address or "", cust.contact or "", cust.phone or ""
        ),
        company=config.company,
        bank=config.bank,
        signatory=config.signatory,
        lawyer=config.lawyer,
        contracts=[info for info, _ in contracts],
        items=[
            OpenItem(
                invoice_no=a.item.invoice.invoice_no,
                contract_no=a.item.invoice.contract_no or "",
                invoice_date=a.item.invoice.invoice_date,
                due_date=a.item.invoice.due_date,
                amount=a.item.invoice.amount,
                received=a.item.paid,
                open_amount=a.item.open_amount,
                days_overdue=max(a.days_overdue, 0),
            )
            for a in aging.items
        ],
        total_open=aging.balance + aging.credit,
        total_overdue=aging.overdue,
        credit=aging.credit,
        aging={bucket_title(k): v for k, v in aging.buckets.items()},
        enclosures=[
            DOCUMENT_TITLES.get(d, d)
            for d in level.documents
            if d != level.name and (d != "contract" or any(stored for _, stored in contracts))
        ],
    )


def _copy_contracts(
    desk: Desk, contracts: list[tuple[ContractInfo, Any]], folder: Path
) -> list[Path]:
    copies = []
    for info, stored in contracts:
        if stored and (desk.root / stored).suffix.lower() == ".pdf":
            name = safe_name(f"{DOCUMENT_NAMES['contract']}-{info.contract_no}.pdf")
            target = _free(folder / name)
            shutil.copyfile(desk.root / stored, target)
            target.chmod(0o644)
            copies.append(target)
    return copies


def _free(target: Path) -> Path:
    """`target`, or `name (2).pdf` … when two contract numbers clean to one file name."""
    base, n = target, 1
    while target.exists():
        n += 1
        target = base.with_name(numbered(base.name, n))
    return target


def _write_manifest(pack_dir: Path, letters: list[LetterRecord]) -> None:
    with (pack_dir / "manifest.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["ref", "customer", "name", "level", "level_name", "amount", "overdue", "files"]
        )
        for letter in letters:
            # Data fields only: amounts are ours, and "-12.00" must stay a number.
            writer.writerow(
                [
                    csv_field(letter.ref),
                    csv_field(letter.customer),
                    csv_field(letter.name),
                    letter.level,
                    csv_field(letter.level_name),
                    letter.amount,
                    letter.overdue,
                    csv_field("; ".join(letter.files)),
                ]
            )
    (pack_dir / "manifest.json").write_text(
        json.dumps([letter.to_json() for letter in letters], ensure_ascii=False, indent=2),
        encoding="utf-8",
    )


def _make_pdfs(pack_dir: Path, letters: list[LetterRecord]) -> Path:
    """One PDF per customer (documents in level order, contract copies included) and the pack."""
    docs = [pack_dir / f for letter in letters for f in letter.files if f.endswith(".docx")]
    converted = dict(zip(docs, convert_to_pdf(docs), strict=True))
    per_customer = []
    for letter in letters:
        parts = [converted.get(pack_dir / f, pack_dir / f) for f in letter.files]
        target = (pack_dir / letter.files[0]).parent / f"{letter.ref}.pdf"
        per_customer.append(merge_pdfs(parts, target))
        for part in parts:
            if part.suffix == ".pdf" and part in converted.values():
                part.unlink()
    return merge_pdfs(per_customer, pack_dir / "pack.pdf")
