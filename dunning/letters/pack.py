"""Letter packs: who gets which letter (the plan), and writing it out (SPEC §7).

A pack is a folder per run: per customer the documents of its level, a manifest (CSV + JSON)
and, with `pdf`, one print-ready PDF. Letters are registered in the archive with a unique
reference in the same transaction that writes them; a failure removes the half-written pack.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import logging
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import Customer, get_customer, list_customers
from dunning.archive.accounts import aging_report as load_aging
from dunning.archive.db import write_transaction
from dunning.archive.snapshots import HeldInvoice, held_by_customer
from dunning.archive.unmatched import UnmatchedReceipt, unmatched_receipts
from dunning.config import Config, Level
from dunning.desk import PACKAGE_TEMPLATES, Desk
from dunning.errors import DunningError
from dunning.letters import qr, registry
from dunning.letters.context import ContractInfo, LetterInput
from dunning.letters.context import build_context as letter_context
from dunning.letters.letter_input import DOCUMENT_TITLES as DOCUMENT_TITLES
from dunning.letters.letter_input import contracts_of as _contracts
from dunning.letters.letter_input import letter_input as _letter_input
from dunning.letters.pack_output import copy_contracts, write_manifest
from dunning.letters.pdf import convert_to_pdf, merge_pdfs, require_soffice
from dunning.letters.policy import Decision, LastLetter, decide
from dunning.letters.render import TemplateError, compiled_template, render_letter
from dunning.letters.unreviewed import unreviewed_hold
from dunning.money import format_amount, to_fen
from dunning.receivables import CustomerAging
from dunning.safenames import make_unique_dir, safe_name
from dunning.vocabulary import title
from dunning.workers import WorkerPool
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
    "evidence": "证据清单-evidence",
}


log = logging.getLogger(__name__)


class PackError(DunningError):
    """A pack cannot be made as asked."""


@dataclass(frozen=True)
class Candidate:
    customer: Customer
    aging: CustomerAging
    decision: Decision
    warnings: tuple[str, ...] = ()
    held: tuple[HeldInvoice, ...] = ()  # invoices left out: vanished, voided, settled


@dataclass
class Plan:
    as_of: dt.date
    candidates: list[Candidate] = field(default_factory=list)
    # How the plan was asked for: `write_pack` makes it again inside its write transaction.
    customers: tuple[str, ...] = ()
    min_days: int | None = None
    level: int | None = None
    ignore_unreviewed: bool = False
    allow_no_address: bool = False
    # customer → its earliest limitation expiry within 60 days (filled in for --dry-run)
    expiring: dict[str, dt.date] = field(default_factory=dict)
    # Ledger payments no customer could be found for (archive/unmatched.py): the clerk assigns
    # them before sending, for any of them may be a letter's customer paying.
    unmatched: list[UnmatchedReceipt] = field(default_factory=list)
    # The archive as the plan began to read it (`_archive_state`): `write_pack` plans again
    # only when it has changed since.
    read_from: ArchiveState | None = field(default=None, repr=False, compare=False)

    @property
    def selected(self) -> list[Candidate]:
        return [c for c in self.candidates if c.decision.next_level is not None]

    def to_json(self) -> dict[str, Any]:
        """The shape of `pack --dry-run --json`: who would get what, and why."""
        rows = []
        for cand in self.candidates:
            d = cand.decision
            rows.append(
                {
                    "customer": cand.customer.code,
                    "name": cand.customer.name,
                    "status": cand.customer.status,
                    "overdue": f"{cand.aging.overdue:.2f}",
                    "max_days_overdue": cand.aging.max_days_overdue,
                    "current_level": d.current_level,
                    "due_level": d.due_level,
                    "next_level": d.next_level,
                    "manual": d.manual,
                    "reason": d.reason,
                    "warnings": list(cand.warnings),
                    "limitation_expires": self.expiring.get(cand.customer.code),
                    "held_invoices": [h.to_json() for h in cand.held],
                }
            )
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": True,
            "customers": rows,
            "unmatched_receipts": [r.to_json() for r in self.unmatched],
        }


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
    # What this run noticed and did: letters another run sent meanwhile, killed runs repaired.
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": str(self.pack_dir) if self.pack_dir else None,
            "letters": [letter.to_json() for letter in self.letters],
            "pdf": str(self.pdf) if self.pdf else None,
            "notes": list(self.notes),
        }


def last_letters(db: sqlite_utils.Database) -> dict[str, LastLetter]:
    """Each customer's most recent letter."""
    latest: dict[str, LastLetter] = {}
    for letter in registry.letters(db):
        latest[letter.customer] = LastLetter(letter.level, letter.issued_on)
    return latest


def plan_pack(
    db: sqlite_utils.Database,
    config: Config,
    *,
    as_of: dt.date,
    customers: Sequence[str] = (),
    min_days: int | None = None,
    level: int | None = None,
    ignore_unreviewed: bool = False,
    allow_no_address: bool = False,
) -> Plan:
    """Decide, for every customer with receivables (or those named), what goes out today.

    A customer with a bank receipt awaiting review that would cover the claim gets nothing
    until it is reviewed, unless `ignore_unreviewed` (then a warning, logged by the caller).

    A customer without an address on file gets no letter (it is listed with the reason)
    unless `allow_no_address`: a letter with a blank address cannot be mailed.
    """
    if level is not None and not 1 <= level <= len(config.levels):
        raise PackError(
            f"--level 只能是 1 到 {len(config.levels)}（见 dunning.toml 的 `[[policy.levels]]`）。"
        )
    # Before the first read: a write during it counts. Read inside an open transaction, the
    # plan may see writes yet to be rolled back, which no counter shows: planned again then.
    read_from = None if db.conn.in_transaction else _archive_state(db, config)
    codes = [get_customer(db, c).code for c in customers] or None
    statuses = {c.code: c for c in list_customers(db)}
    latest = last_letters(db)
    plan = Plan(
        as_of,
        customers=tuple(customers),
        min_days=min_days,
        level=level,
        allow_no_address=allow_no_address,
    )
    plan.ignore_unreviewed = ignore_unreviewed
    plan.read_from = read_from
    held = held_by_customer(db)
    plan.unmatched = [r for r in unmatched_receipts(db) if r.paid_on <= as_of]
    agings = load_aging(db, as_of=as_of, edges=config.bucket_edges, codes=codes)
    # A customer whose every invoice is held (settled, voided) is listed too, saying why.
    only_held = set(held) - {a.customer for a in agings}
    if codes is not None:
        only_held &= set(codes)
    if only_held:
        agings += load_aging(
            db, as_of=as_of, edges=config.bucket_edges, codes=sorted(only_held), idle=True
        )
    for aging in agings:
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
                f"逾期 {aging.max_days_overdue} 天，少于 --min-days {min_days}",
            )
        if decision.next_level and not allow_no_address and not (cust.address or "").strip():
            decision = Decision(
                cust.code,
                decision.current_level,
                decision.due_level,
                None,
                decision.manual,
                NO_ADDRESS,
            )
        decision, hold_warnings = unreviewed_hold(
            db, config, aging, decision, ignore=ignore_unreviewed
        )
        found = _warnings(db, config, cust, decision) + hold_warnings
        mine = tuple(held.get(cust.code, []))
        found += _snapshot_warnings(cust, mine, plan.unmatched)
        plan.candidates.append(Candidate(cust, aging, decision, found, mine))
    plan.candidates.sort(key=lambda c: c.customer.code)
    return plan


@dataclass(frozen=True)
class ArchiveState:
    """What says whether an archive changed between two moments, seen from one connection:
    commits by any other connection move `data_version`, this connection's own writes move
    `total_changes`. The connection and config are held, so the state only ever equals one
    taken through the same live connection with the same settings."""

    conn: sqlite3.Connection
    config: Config
    data_version: int
    own_changes: int


def _archive_state(db: sqlite_utils.Database, config: Config) -> ArchiveState:
    (version,) = db.conn.execute("PRAGMA data_version").fetchone()
    return ArchiveState(db.conn, config, int(version), db.conn.total_changes)


NO_ADDRESS = "没有地址，函件未生成：先在客户档案中补上地址（或用 --allow-no-address）"


def _warnings(
    db: sqlite_utils.Database, config: Config, cust: Customer, decision: Decision
) -> tuple[str, ...]:
    """What the clerk should know before printing: blanks and missing enclosures."""
    found = []
    if not cust.address:
        found.append(f"{cust.code} {cust.name} 没有地址：函件上的地址是空白")
    from dunning.letters.delivery import address_flags

    for flag in address_flags(db, cust.code):
        found.append(
            f"{cust.code} {cust.name}：函件 {flag.letter_ref} 被退回（{flag.reason}），"
            "发函前请先核实地址"
        )
    level = decision.next_level
    if level is not None and "contract" in config.levels[level - 1].documents:
        archived = db.execute(
            "SELECT count(*) FROM contracts WHERE customer_code = ? AND document_id IS NOT NULL",
            [cust.code],
        ).fetchone()[0]
        if not archived:
            found.append(
                f"{cust.code} {cust.name} 没有归档的合同：函件包里没有合同复印件"
                "（先把签好的合同放进 inbox/contracts/）"
            )
    return tuple(found)


def _snapshot_warnings(
    cust: Customer, held: Sequence[HeldInvoice], unmatched: list[UnmatchedReceipt]
) -> tuple[str, ...]:
    """Invoices left out of the letter (vanished, voided, settled) and receipts that may be
    this customer's (archive/snapshots.py, archive/unmatched.py)."""
    found = [h.sentence() for h in held if h.state == "vanished"]
    for r in unmatched:
        if cust.code in r.candidates:
            found.append(
                f"{cust.code} 可能已于 {r.paid_on.isoformat()} 付款 {format_amount(r.amount)}："
                f"未匹配到款 #{r.id}（付款方 {r.payer_name}），请先核实"
                f"（`dunning receipts assign {r.id} {cust.code}`）"
            )
    return tuple(found)


def template_list(desk: Desk) -> list[dict[str, str]]:
    """Every template the desk uses (its own copy, else the default), as `templates list
    --json` prints them."""
    names = sorted(
        {p.stem for p in PACKAGE_TEMPLATES.glob("*.docx")}
        | {p.stem for p in desk.templates.glob("*.docx")}
    )
    return [
        {
            "template": n,
            "path": str(template_path(desk, n)),
            "source": "desk" if (desk.templates / f"{n}.docx").is_file() else "default",
        }
        for n in names
    ]


def template_path(desk: Desk, document: str) -> Path:
    """The desk's copy wins; the package default is the fallback."""
    own = desk.templates / f"{document}.docx"
    return own if own.is_file() else PACKAGE_TEMPLATES / f"{document}.docx"


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

    References are reserved first (committed: never reused, even by a killed run). Letters
    are rendered and written, and with `pdf` converted, outside the write lock; then one
    transaction plans again and registers only the letters still due exactly as rendered
    (another pack may have run meanwhile), writes the manifest and merges pack.pdf.
    `progress` is called once per letter rendered.
    """
    config = desk.config
    notes = registry.repair(desk, db)
    selected = plan.selected
    if pdf:
        require_soffice()
    _check_templates(desk, _documents(config, selected))
    if not selected:
        return PackResult(None, [], notes=notes)
    pack_dir, made = _pack_folder(desk, plan.as_of, out_dir)
    reservation: registry.Reservation | None = None
    try:
        before = _archive_state(db, config)
        untouched = plan.read_from == before
        reservation = registry.reserve(
            db, config.reference_prefix, plan.as_of.year, len(selected), pack_dir
        )
        # The reservation's own writes touch nothing a plan reads; but another connection
        # may have committed before it took the write lock (it may have waited for it), and
        # then `data_version` has moved since `before`.
        after = _archive_state(db, config)
        reserved = after if untouched and after.data_version == before.data_version else None
        drafts = _write_drafts(desk, db, plan, selected, reservation.refs, pack_dir, progress)
        if pdf:
            _make_pdfs(pack_dir, drafts)
        with write_transaction(db) as conn:
            kept, dropped = _still_due(db, config, plan, drafts, unless_since=reserved)
            stored = registry.stored_dir(conn, pack_dir)  # once: resolving paths costs
            letters = sorted(
                (_register(conn, plan, draft, stored) for draft in kept), key=lambda r: r.ref
            )
            _discard(dropped)
            notes += [f"{d.job.cand.customer.code}: {DROPPED}" for d in dropped]
            result = PackResult(pack_dir, letters, notes=notes)
            if letters:
                write_manifest(pack_dir, letters)
                if pdf:
                    result.pdf = merge_pdfs([d.pdf for d in kept if d.pdf], pack_dir / "pack.pdf")
            registry.finish(conn, reservation.run_id)
    except BaseException:
        _undo_folder(pack_dir, made)
        if reservation is not None:
            _abandon_quietly(db, reservation.run_id)
        raise
    if not letters:
        _undo_folder(pack_dir, made)
        result.pack_dir = None
    return result


DROPPED = "未生成：期间另一次生成已发出函件，或客户账目已变化；请重新运行 `dunning pack`"


def _abandon_quietly(db: sqlite_utils.Database, run_id: int) -> None:
    try:
        registry.abandon(db, run_id)
    except sqlite3.Error:
        log.warning("could not mark pack run %d abandoned", run_id, exc_info=True)


def _pack_folder(desk: Desk, as_of: dt.date, out_dir: Path | None) -> tuple[Path, bool]:
    """A folder of this run's own: (path, whether this run created it).

    The default name carries the date and time; a second pack in the same second (or one
    running at the same time) gets `-2`, `-3` …, never the first one's folder.
    """
    if out_dir is not None:
        if out_dir.exists() and any(out_dir.iterdir()):
            raise PackError(f"{out_dir} 里已经有文件：请用 --out 另选一个空文件夹。")
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
    raise PackError(f"{desk.out} 中名为 {base.name}* 的函件包太多：请先整理该文件夹。")


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
    from dunning.letters.checks import check_template, unused_templates
    from dunning.letters.context import CONTEXT_DOC

    for stray in unused_templates(desk.templates):
        if Path(stray.file).stem in documents:
            raise TemplateError(desk.templates / stray.file, stray.problem, stray.tag)
    for document in sorted(documents - {"contract"}):
        path = template_path(desk, document)
        if not path.is_file():
            raise PackError(
                f"没有“{title(DOCUMENT_TITLES, document)}”的模板：应在 {path}；"
                "请运行 `dunning templates export`。"
            )
        problems = check_template(path, set(CONTEXT_DOC))
        if problems:
            first = problems[0]
            raise TemplateError(path, first.problem, first.tag)


@dataclass(frozen=True)
class _Letter:
    """What a worker process needs to render and write one letter (and no more: it is
    pickled for the worker)."""

    letter: LetterInput
    documents: tuple[str, ...]  # in level order
    templates: tuple[tuple[str, Path], ...]  # (document, template) of the Word ones
    contracts: tuple[tuple[ContractInfo, Any], ...]


@dataclass(frozen=True)
class _Job:
    """One letter ready to render, with what registering it needs."""

    cand: Candidate
    ref: str
    level: Level
    folder: Path
    render: _Letter


def _prepare(
    desk: Desk,
    conn: Any,
    plan: Plan,
    cand: Candidate,
    ref: str,
    pack_dir: Path,
    templates: dict[str, Path],
) -> _Job:
    """`templates`: each document's template (`_templates`), looked up once per pack."""
    level = _level(desk.config, cand)
    folder = pack_dir / safe_name(f"{cand.customer.code} {cand.customer.name}")
    contracts = _contracts(conn, cand.customer.code, cand.aging)
    letter = _letter_input(desk.config, plan.as_of, cand, level, ref, contracts)
    if "evidence" in level.documents:
        from dunning.letters.evidence import evidence_items

        titles = {lv.name: lv.title for lv in desk.config.levels}
        found = evidence_items(
            conn,
            cand.customer.code,
            letter.contracts,
            letter.items,
            as_of=plan.as_of,
            titles=titles,
        )
        letter = replace(letter, evidence=found)
    if desk.config.interest_in_letters:
        from dunning.letters.interest_line import with_interest

        letter = with_interest(letter, conn, desk, plan.as_of)
    words = tuple((d, templates[d]) for d in level.documents if d != "contract")
    render = _Letter(letter, tuple(level.documents), words, tuple(contracts))
    return _Job(cand, ref, level, folder, render)


def render_documents(job: _Letter) -> list[bytes]:
    """The letter's Word documents, in level order."""
    context = letter_context(job.letter)
    return [render_letter(template, context) for _, template in job.templates]


# Below this many letters, worker start-up and template compiling cost more than they save.
_PARALLEL_FROM = 40
_WORKERS = 2
# Letters go to the workers in batches: the contexts cross the pipe once, the files are
# written by the worker, and only their names come back. Batches are small enough that the
# workers start on the first while this process prepares the next (and both finish together),
# large enough that a batch's round trip costs nothing beside its rendering.
_BATCH_MIN, _BATCH_MAX, _BATCHES_PER_WORKER = 8, 24, 8


@dataclass
class _Draft:
    """One letter written to disk, not yet registered."""

    job: _Job
    folder: Path
    files: tuple[str, ...]  # relative to the pack folder, in level order
    pdf: Path | None = None  # the customer's print-ready PDF, with --pdf


@dataclass(frozen=True)
class _Batch:
    """Letters for one worker to render and write: each job with its (already made) folder."""

    desk_root: Path
    jobs: tuple[tuple[_Letter, Path], ...]
    number: int = 0  # in the order batches were made


def _write_drafts(
    desk: Desk,
    db: sqlite_utils.Database,
    plan: Plan,
    selected: list[Candidate],
    refs: tuple[str, ...],
    pack_dir: Path,
    progress: Callable[[], None] | None,
) -> list[_Draft]:
    """Render and write every letter, outside any write transaction."""
    templates = dict(_templates(desk, selected))
    for template in templates.values():
        compiled_template(template)  # once, here: forked workers inherit it compiled
    if len(refs) >= _PARALLEL_FROM:
        qr.expect(refs)  # likewise the QR form of references this long, learnt from segno
    jobs: list[_Job] = []

    def placed() -> Iterator[tuple[_Job, Path]]:
        # Prepared one by one as the workers ask for more; folders are made here, in plan
        # order: two customers whose names clean to the same folder name get the same
        # numbered folders however the workers interleave.
        for cand, ref in zip(selected, refs, strict=True):
            job = _prepare(desk, db.conn, plan, cand, ref, pack_dir, templates)
            jobs.append(job)
            yield job, make_unique_dir(job.folder.parent, job.folder.name)

    drafts = []
    with _collector_paused():
        for draft in _render_all(desk.root, placed(), len(selected)):
            drafts.append(draft)
            if progress is not None:
                progress()
    order = {id(job): n for n, job in enumerate(jobs)}
    return sorted(drafts, key=lambda d: order[id(d.job)])


def _render_all(
    desk_root: Path, placed: Iterator[tuple[_Job, Path]], count: int
) -> Iterator[_Draft]:
    """Render and write every letter, on both cores for a big pack; a failure stops the pack."""
    if count < _PARALLEL_FROM:
        for job, folder in placed:
            yield _Draft(job, folder, _write_files(desk_root, job.render, folder))
        return
    size = max(_BATCH_MIN, min(_BATCH_MAX, count // (_WORKERS * _BATCHES_PER_WORKER)))
    sent: dict[int, tuple[tuple[_Job, Path], ...]] = {}  # batch number → its jobs
    # The workers import the letter modules once, in the fork server, not each on its own.
    preload = ("dunning.letters.pack",)
    timeout_s = 120.0 + 2.0 * size
    with WorkerPool(workers=_WORKERS, timeout_s=timeout_s, preload=preload, depth=2) as pool:
        for batch, result in pool.run(write_batch, _batches(desk_root, placed, size, sent)):
            if isinstance(result, Exception):
                raise result
            for (job, folder), files in zip(sent.pop(batch.number), result, strict=True):
                yield _Draft(job, folder, files)


def _batches(
    desk_root: Path,
    placed: Iterator[tuple[_Job, Path]],
    size: int,
    sent: dict[int, tuple[tuple[_Job, Path], ...]],
) -> Iterator[_Batch]:
    """Batches of `size` letters for the workers, each noted in `sent` with its jobs."""
    for number in itertools.count():
        chunk = tuple(itertools.islice(placed, size))
        if not chunk:
            return
        sent[number] = chunk
        yield _Batch(desk_root, tuple((job.render, folder) for job, folder in chunk), number)


def _documents(config: Config, selected: list[Candidate]) -> set[str]:
    """Every document the selected customers' letters hold (their levels' `documents`)."""
    return {d for c in selected for d in _level(config, c).documents}


def _templates(desk: Desk, selected: list[Candidate]) -> list[tuple[str, Path]]:
    """(document, template) of every Word document the selected customers get."""
    documents = _documents(desk.config, selected) - {"contract"}
    return [(d, template_path(desk, d)) for d in sorted(documents)]


def write_batch(batch: _Batch) -> list[tuple[str, ...]]:
    """Render and write each letter of a batch (in a worker); the files each letter got."""
    return [_write_files(batch.desk_root, job, folder) for job, folder in batch.jobs]


def _write_files(desk_root: Path, job: _Letter, folder: Path) -> tuple[str, ...]:
    """Render one letter and write its files into its folder; their pack-relative names."""
    by_document = dict(zip((d for d, _ in job.templates), render_documents(job), strict=True))
    files = []
    for document in job.documents:
        if document == "contract":
            files.extend(copy_contracts(desk_root, list(job.contracts), folder))
            continue
        target = folder / f"{DOCUMENT_NAMES.get(document, document)}.docx"
        target.write_bytes(by_document[document])
        files.append(target)
    return tuple(str(f.relative_to(folder.parent)) for f in files)


def _still_due(
    db: sqlite_utils.Database,
    config: Config,
    plan: Plan,
    drafts: list[_Draft],
    *,
    unless_since: ArchiveState | None = None,
) -> tuple[list[_Draft], list[_Draft]]:
    """Plan again inside the write transaction: (letters still due as written, the others).

    Another pack may have sent a letter meanwhile (the gap now holds it back), or a payment
    changed the amounts the letter states: such a letter is not registered. When nothing
    was written to the archive since `unless_since`, taken when the plan had just been read
    (and nothing before), the plan stands as it is.
    """
    if unless_since is not None and unless_since == _archive_state(db, config):
        return drafts, []
    fresh = plan_pack(
        db,
        config,
        as_of=plan.as_of,
        customers=plan.customers,
        min_days=plan.min_days,
        level=plan.level,
        ignore_unreviewed=plan.ignore_unreviewed,
        allow_no_address=plan.allow_no_address,
    )
    now = {c.customer.code: c for c in fresh.selected}
    kept: list[_Draft] = []
    dropped: list[_Draft] = []
    for draft in drafts:
        before, after = draft.job.cand, now.get(draft.job.cand.customer.code)
        same = (
            after is not None
            and after.decision.next_level == before.decision.next_level
            and after.aging.balance == before.aging.balance
            and after.aging.overdue == before.aging.overdue
        )
        (kept if same else dropped).append(draft)
    return kept, dropped


def _discard(drafts: list[_Draft]) -> None:
    for draft in drafts:
        shutil.rmtree(draft.folder, ignore_errors=True)


def _register(conn: Any, plan: Plan, draft: _Draft, pack_dir: str) -> LetterRecord:
    """Record one written letter (inside the pack's transaction); `pack_dir` as stored."""
    job = draft.job
    cust, aging, level = job.cand.customer, job.cand.aging, job.level
    registry.register(
        conn,
        registry.Letter(
            id=0,
            ref=job.ref,
            customer=cust.code,
            level=level.level,
            level_name=level.name,
            manual=job.cand.decision.manual,
            as_of=plan.as_of,
            issued_on=plan.as_of,
            amount_fen=to_fen(aging.balance),
            overdue_fen=to_fen(aging.overdue),
            pack_dir=pack_dir,
            files=tuple(draft.files),
            status="issued",
            signed_document=None,
            signed_at=None,
        ),
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
        draft.files,
    )


def _make_pdfs(pack_dir: Path, drafts: list[_Draft]) -> None:
    """Each letter's print-ready PDF (its documents in level order), before registering."""
    docs = [pack_dir / f for d in drafts for f in d.files if f.endswith(".docx")]
    converted = dict(zip(docs, convert_to_pdf(docs), strict=True))
    for draft in drafts:
        parts = [converted.get(pack_dir / f, pack_dir / f) for f in draft.files]
        draft.pdf = merge_pdfs(parts, draft.folder / f"{draft.job.ref}.pdf")
        for part in parts:
            if part.suffix == ".pdf" and part in converted.values():
                part.unlink()


def _log_letter(
    conn: Any, code: str, ref: str, level: Level, aging: CustomerAging, *, manual: bool, on: dt.date
) -> None:
    how = "手工指定" if manual else "按催收规则"
    note = f"{level.title} {ref} 已生成（{how}），逾期金额 {aging.overdue:,.2f} 元"
    add_entry(conn, code, kind="letter", note=note, letter_ref=ref, on=on)
