"""The one ingest pipeline, shared by `dunning ingest` and the watcher (SPEC §5).

classify → hash → duplicate check → parse → atomic store copy → one transaction → remove from
the inbox. A crash between any two steps leaves the file in the inbox; the next run finishes the
job: the store copy is idempotent, and a file whose hash is already archived from the same inbox
path is recognised as "already archived" and only removed. Failures go to failed/ with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from dunning.archive import store
from dunning.archive.bank.statement import Statement
from dunning.archive.contracts import ocr_engines
from dunning.archive.contracts.extract import ExtractedText, ExtractLimits, extract_text
from dunning.archive.contracts.meta import (
    ContractMeta,
    extract_meta,
    link_contract,
    record_contract,
)
from dunning.archive.contracts.pages import record_pages
from dunning.archive.db import open_archive, write_transaction
from dunning.archive.einvoice import EInvoiceFile
from dunning.archive.einvoice import files as einvoice
from dunning.archive.ledger import Ledger, read_ledger
from dunning.archive.ledger.importer import import_ledger
from dunning.archive.search import query as search
from dunning.archive.snapshots import open_items_marker
from dunning.archive.sniff import sniff
from dunning.config import Config
from dunning.desk import Desk
from dunning.errors import SHOWN_PROBLEMS, DunningError, IngestError, RowProblem, problem_lines
from dunning.ingest import bank, classify
from dunning.ingest.classify import check_regular_file, check_type, kind_from_content, route
from dunning.ingest.quarantine import ERROR_SUFFIX, note_failure, quarantine
from dunning.ingest.receipts import is_returned_receipt, sign_letter
from dunning.ingest.zipguard import check_member_count, check_xml, check_zip
from dunning.vocabulary import DOCUMENT_KINDS, title
from dunning.workers import WorkerPool

log = logging.getLogger(__name__)
# Files committed per transaction by `ingest_many`: each commit is an fsync.
GROUP_COMMIT = 16
Status = Literal["archived", "duplicate", "failed"]


@dataclass(frozen=True)
class Outcome:
    file: Path  # the path as it was given / found
    status: Status
    document: int | None = None  # the new document, or the existing one for a duplicate
    kind: str | None = None  # ledger | contract | receipt
    reason: str | None = None  # why it failed / which document it duplicates
    # What was archived, for a clerk: "合同 HT-2025-0001", "发票台账（读取 120 行…）".
    label: str = ""
    # A rejected ledger's bad rows (row, column, value, why), as failed/NAME.error.txt lists them.
    problems: tuple[RowProblem, ...] = ()
    error_file: str | None = None  # the failure's note, desk-relative: failed/NAME.error.txt
    # What a ledger changed about what is owed: vanished and settled invoices, payer names
    # attached by a near match (archive/snapshots.py, archive/unmatched.py).
    notes: tuple[str, ...] = ()


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """The SPEC §4 shape of `ingest --json`."""
        return {
            "archived": [
                {
                    "file": str(o.file),
                    "document": o.document,
                    "kind": o.kind,
                    "label": o.label,
                    "notes": list(o.notes),
                }
                for o in self.of("archived")
            ],
            "duplicates": [
                {"file": str(o.file), "document": o.document, "reason": o.reason}
                for o in self.of("duplicate")
            ],
            "failed": [failed_json(o) for o in self.of("failed")],
        }


def failed_json(outcome: Outcome) -> dict[str, Any]:
    """A failed file as `ingest --json` lists it: `file`, `reason`, every bad `rows` entry."""
    return {
        "file": str(outcome.file),
        "reason": outcome.reason,
        "rows": [problem_json(p) for p in outcome.problems],
        "error_file": outcome.error_file,
    }


def failed_rows(outcome: Outcome) -> list[str]:
    """A rejected file's bad rows for a terminal: the first 20, then where the rest are."""
    return problem_lines(outcome.problems, limit=SHOWN_PROBLEMS, error_file=outcome.error_file)


def problem_json(problem: RowProblem) -> dict[str, Any]:
    return {"row": problem.row, "column": problem.column, "value": problem.value,
            "why": problem.why}  # fmt: skip


@dataclass(frozen=True)
class _Candidate:
    path: Path
    kind: str
    sha256: str
    size: int
    source: str  # desk-relative when inside the desk, else absolute
    in_inbox: bool
    routed: bool = False  # the kind came from the inbox subfolder or the caller
    given: Path = Path()  # the path as the caller named it, for reports


@dataclass(frozen=True)
class Parsed:
    """What parsing a file produced; built in worker processes, so plain and picklable."""

    ledger: Ledger | None = None
    text: ExtractedText | None = None
    meta: ContractMeta | None = None
    stored: Path | None = None  # the store copy, when the worker has already made it
    open_items: str | None = None  # a ledger's title words marking it open-items-only
    statement: Statement | None = None  # a bank statement (SPEC §11)
    einvoice: EInvoiceFile | None = None  # an e-invoice file's invoices (SPEC §12)


def limits_for(config: Config) -> ExtractLimits:
    return ExtractLimits(
        max_bytes=config.max_file_mb * 1024 * 1024,
        max_pages=config.max_pages,
        ocr_languages=config.ocr_languages,
        ocr=config.ocr,
        ocr_engine=config.ocr_engine,
        ocr_timeout_s=config.ocr_page_timeout_s,
    )


def parse_file(kind: str, path: Path, limits: ExtractLimits, *, currency: str = "CNY") -> Parsed:
    """Parse one file of a known kind; runs in a worker process for documents."""
    if kind == "ledger":
        ledger = read_ledger(path, currency=currency)
        return Parsed(ledger=ledger, open_items=open_items_marker(path, ledger))
    if kind == einvoice.KIND:
        found, extracted = einvoice.read_einvoice_file(path, limits)
        return Parsed(text=extracted, einvoice=found)
    text = extract_text(path, limits)
    return Parsed(text=text, meta=extract_meta(text.text, path.name))


@dataclass(frozen=True)
class _Job:
    kind: str
    path: str
    limits: ExtractLimits
    store: str
    sha256: str


def _parse_job(job: _Job) -> Parsed:
    """In a worker: parse, then copy the original into the store.

    The copy (with its fsyncs) is idempotent and content-addressed, so it runs here, beside
    the other worker's extraction, not in the process that writes the database. A copy that
    fails is left to the parent, which retries it and reports the error.
    """
    parsed = parse_file(job.kind, Path(job.path), job.limits)
    try:
        return replace(parsed, stored=store.put(Path(job.store), Path(job.path), job.sha256))
    except OSError:
        return parsed


def parse_pool(desk: Desk) -> WorkerPool:
    """The two worker processes that parse PDFs and images, not yet started. Each has its
    next file waiting (depth 2: a job is a path and a few settings), so both go on parsing
    while this process commits a group."""
    return WorkerPool(workers=2, timeout_s=desk.config.extract_timeout_s, depth=2)


class Pipeline:
    """One desk's ingest: holds the database connection across files."""

    def __init__(
        self,
        desk: Desk,
        db: sqlite_utils.Database | None = None,
        *,
        pool: WorkerPool | None = None,
    ) -> None:
        """`pool`: workers started beforehand (`parse_pool`); the pipeline closes them."""
        self.desk = desk
        self.config = desk.config
        self.db = db or open_archive(desk.db_path)
        self.limits = limits_for(self.config)
        self._pool: WorkerPool | None = pool
        self._notes: dict[int, tuple[str, ...]] = {}  # document → its ledger's notes
        store.remove_stale_temps(desk.store)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self.db.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pool(self) -> WorkerPool:
        """Worker processes for PDF and image parsing, started once and kept for every file.

        One pathological PDF then costs its time limit, not the run: its worker is replaced.
        """
        if self._pool is None:
            self._pool = parse_pool(self.desk)
        return self._pool

    def ingest_file(self, path: Path, *, kind: str | None = None) -> Outcome:
        try:
            candidate = self._classify(path, kind)
        except IngestError as exc:
            return self._fail(path, None, exc)
        early = self._check_duplicate(candidate)
        if early is not None:
            return early
        ((_, result),) = self._parse_all([candidate])
        if isinstance(result, Parsed):
            return self._commit([(candidate, result)])[0]
        return self._fail(candidate.given, candidate.kind, _as_ingest_error(result))

    def ingest_many(
        self,
        paths: Iterable[Path],
        *,
        progress: Callable[[Outcome], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> IngestReport:
        """Ingest many files, parsing documents on both cores; `stop` ends the run between
        two files (those not yet committed stay where they are, to be taken next time)."""
        report = IngestReport()

        def done(outcome: Outcome) -> None:
            report.outcomes.append(outcome)
            if progress:
                progress(outcome)

        ready: list[_Candidate] = []
        for path in paths:
            try:
                candidate = self._classify(path, None)
            except IngestError as exc:
                done(self._fail(path, None, exc))
                continue
            early = self._check_duplicate(candidate)
            if early is not None:
                done(early)
            else:
                ready.append(candidate)
        group: list[tuple[_Candidate, Parsed]] = []
        for candidate, result in self._parse_all(ready):
            if stop is not None and stop():
                break
            if isinstance(result, Parsed):
                group.append((candidate, result))
            else:
                done(self._fail(candidate.given, candidate.kind, _as_ingest_error(result)))
            if len(group) >= GROUP_COMMIT:
                for outcome in self._commit(group):
                    done(outcome)
                group = []
        for outcome in self._commit(group):
            done(outcome)
        return report

    def _parse_all(
        self, ready: list[_Candidate]
    ) -> Iterator[tuple[_Candidate, Parsed | BaseException]]:
        ledgers = [c for c in ready if c.kind in ("ledger", "bank")]
        documents = [c for c in ready if c.kind not in ("ledger", "bank")]
        for candidate in ledgers:
            try:
                if candidate.kind == "bank":
                    statement = bank.parse_statement(candidate.path, self.config)
                    yield candidate, Parsed(statement=statement)
                    continue
                yield (
                    candidate,
                    parse_file(
                        "ledger", candidate.path, self.limits, currency=self.config.currency
                    ),
                )
            except Exception as exc:  # one file's failure, reported as its outcome
                if not isinstance(exc, IngestError):
                    log.exception("reading ledger %s failed", candidate.path)
                yield candidate, exc
        if not documents:
            return
        by_job = {
            _Job(c.kind, str(c.path), self._limits(c.kind), str(self.desk.store), c.sha256): c
            for c in documents
        }
        for job, result in self.pool.run(_parse_job, list(by_job)):
            yield by_job[job], result

    def _limits(self, kind: str) -> ExtractLimits:
        """Receipts are read at once (their reference decides where they go); every other
        scan is archived now and its pages are left to the OCR queue (`ocr_queue`)."""
        return self.limits if kind == "receipt" else replace(self.limits, ocr=False)

    # -- steps -------------------------------------------------------------------------------

    def _classify(self, path: Path, kind: str | None) -> _Candidate:
        try:
            return self._classify_file(path, kind)
        except OSError as exc:
            raise IngestError(
                f"无法读取 {path.name}（{exc.strerror or exc}）：请确认文件没有被占用或加保护，"
                "然后重新放入。"
            ) from exc

    def _classify_file(self, path: Path, kind: str | None) -> _Candidate:
        check_regular_file(path)
        resolved = _lexical(path)
        in_inbox = self.desk.inbox.resolve() in resolved.parents
        source = _relative(resolved, self.desk.root)
        routed = route(resolved, self.desk.inbox.resolve()) if in_inbox else None
        check_member_count(resolved)  # sniffing lists a zip's members: not a million of them
        sniffed = sniff(resolved)
        forced = kind
        kind = (
            kind or routed or einvoice.kind_by_name(sniffed, resolved)
            or kind_from_content(sniffed, resolved)
        )  # fmt: skip
        check_type(kind, sniffed, resolved)
        if sniffed in ("xlsx", "ods", "docx", "zip", "ofd"):
            check_zip(resolved, what="OFD 电子发票" if kind == einvoice.KIND else "Excel 文件")
        elif sniffed == "xml":
            check_xml(resolved)
        if not forced:  # read only once the zip guard has passed it
            kind = einvoice.refine_kind(kind, sniffed, resolved)
        size = resolved.stat().st_size
        if size > self.limits.max_bytes:
            raise IngestError(
                f"{path.name} 有 {size // (1024 * 1024)} MB，超过 {self.config.max_file_mb} MB 的上限："
                "请拆分文件，或在 dunning.toml 中调高 `[ingest] max_file_mb`。"
            )
        return _Candidate(
            resolved,
            kind,
            store.sha256_file(resolved),
            size,
            source,
            in_inbox,
            routed=bool(routed or forced),
            given=path,
        )

    def _check_duplicate(self, c: _Candidate) -> Outcome | None:
        row = self.db.execute(
            "SELECT id, kind, source_path, original_name, ingested_at FROM documents"
            " WHERE sha256 = ?",
            [c.sha256],
        ).fetchone()
        if row is None:
            return None
        doc_id, kind, source, name, when = row
        if c.in_inbox and source == c.source and _untouched_since(c.path, when):
            # A crash after the commit, before the inbox file was removed: finish the job.
            c.path.unlink(missing_ok=True)
            done = f"{title(DOCUMENT_KINDS, kind)}（已归档）"
            return Outcome(c.given, "archived", doc_id, kind, None, done)
        reason = f"与文档 {doc_id}（{name}，{when[:10]} 归档）内容相同"
        if c.in_inbox:
            try:
                quarantine(self.desk, c.path, f"重复文件：{reason}，未再归档。")
            except OSError as err:  # a full disk: the duplicate stays in the inbox
                reason += f"；文件留在收件箱中（无法写入 failed/：{err.strerror}）"
        return Outcome(c.given, "duplicate", doc_id, kind, reason, f"与文档 {doc_id} 重复")

    def _commit(self, group: list[tuple[_Candidate, Parsed]]) -> list[Outcome]:
        """Archive parsed files: store copies, then one transaction, a savepoint per file.

        One transaction for a few files spares an fsync per file; the savepoints keep each
        file all-or-nothing, so one bad file never takes its neighbours down. Files leave the
        inbox only after the commit: a crash before it leaves them all there to be redone.
        """
        outcomes: list[Outcome] = []
        stored: list[tuple[_Candidate, Parsed, Path]] = []
        for c, parsed in group:
            if (
                not c.routed
                and c.kind == "contract"
                and is_returned_receipt(self.db.conn, parsed.text)
            ):
                c = replace(c, kind="receipt")
            elif not c.routed and c.kind == "contract" and parsed.text is not None:
                found = einvoice.from_pdf_text(parsed.text, c.path.name)
                if found is not None:  # a PDF e-invoice dropped into the inbox
                    c, parsed = replace(c, kind=einvoice.KIND), replace(parsed, einvoice=found)
            try:
                stored.append(
                    (c, parsed, parsed.stored or store.put(self.desk.store, c.path, c.sha256))
                )
            except OSError as exc:
                outcomes.append(self._fail(c.given, c.kind, _copy_failed(c.path, exc)))
        if not stored:
            return outcomes
        recorded: list[tuple[_Candidate, Path, tuple[int, str] | Exception]] = []
        try:
            with write_transaction(self.db) as conn:
                for c, parsed, path in stored:
                    recorded.append((c, path, self._record_one(conn, c, parsed, path)))
        except Exception as exc:
            # The commit itself failed (disk full, I/O error): nothing of the group is archived.
            if not isinstance(_commit_failed(stored[0][0].path, exc), StoreFull):
                log.exception("committing %d files failed", len(stored))
            recorded = [(c, path, _commit_failed(c.path, exc)) for c, _, path in stored]
        for c, path, result in recorded:
            outcomes.append(self._settle(c, path, result))
        return outcomes

    def _record_one(
        self, conn: sqlite3.Connection, c: _Candidate, parsed: Parsed, stored: Path
    ) -> tuple[int, str] | Exception:
        conn.execute("SAVEPOINT one_file")
        try:
            result = self._record(conn, c, parsed, stored)
        except Exception as exc:
            conn.execute("ROLLBACK TO one_file")
            conn.execute("RELEASE one_file")
            found = _commit_failed(c.path, exc)
            if not isinstance(found, IngestError | sqlite3.IntegrityError):
                log.exception("archiving %s failed", c.path)
            return found
        conn.execute("RELEASE one_file")
        return result

    def _settle(self, c: _Candidate, stored: Path, result: tuple[int, str] | Exception) -> Outcome:
        """After the commit: remove the archived file from the inbox, or report its failure."""
        if not isinstance(result, Exception):
            doc_id, label = result
            if c.in_inbox:
                c.path.unlink(missing_ok=True)
            notes = self._notes.pop(doc_id, ())
            return Outcome(c.given, "archived", doc_id, c.kind, None, label, notes=notes)
        if isinstance(result, sqlite3.IntegrityError):
            # The same content archived meanwhile (by another run, or earlier in this group).
            dup = self._check_duplicate(c)
            if dup is not None:
                return dup
        self._drop_orphan(c.sha256, stored)
        return self._fail(c.given, c.kind, _as_ingest_error(result))

    def _drop_orphan(self, sha256: str, stored: Path) -> None:
        # The transaction rolled back: a store file nobody records would fail `verify`.
        if not self.db.execute("SELECT 1 FROM documents WHERE sha256 = ?", [sha256]).fetchone():
            stored.unlink(missing_ok=True)

    def _record(
        self, conn: sqlite3.Connection, c: _Candidate, parsed: Parsed, stored: Path
    ) -> tuple[int, str]:
        text, meta = parsed.text, parsed.meta
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        link = None
        if meta is not None and parsed.einvoice is None:
            link = link_contract(conn, meta, own_company=self.config.company.get("name", ""))
        ledger = parsed.ledger
        meta_json: dict[str, Any] = {}
        if parsed.statement is not None:
            meta_json = {"bank_statement": parsed.statement.to_json()}
        elif ledger is not None:
            meta_json = {
                "ledger_kind": ledger.kind,
                "rows": ledger.row_count,
                "row_counts": ledger.counts.to_json(),
            }
        elif meta is not None:
            meta_json = {
                "parties": [list(p) for p in meta.parties],
                "amount": str(meta.amount) if meta.amount is not None else None,
                "signed_on": meta.signed_on.isoformat() if meta.signed_on else None,
                "ocr_pages": text.ocr_pages if text else 0,
                "routed": c.routed,
            }
        cur = conn.execute(
            "INSERT INTO documents (sha256, kind, original_name, source_path, stored_path, size,"
            " mime, title, customer_code, contract_no, needs_ocr, pages, meta, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                c.sha256,
                c.kind,
                c.path.name,
                c.source,
                _relative(stored, self.desk.root),
                c.size,
                sniff(stored),
                (text.title if text else None) or c.path.stem,
                link.customer_code if link else None,
                link.contract_no if link else None,
                int(bool(text and text.needs_ocr)),
                text.page_count if text else None,
                json.dumps(meta_json, ensure_ascii=False),
                now,
            ],
        )
        doc_id = int(cur.lastrowid or 0)
        label = self._record_content(conn, doc_id, c, parsed, link)
        search.index_document(conn, doc_id)
        return doc_id, label

    def _record_content(
        self,
        conn: sqlite3.Connection,
        doc_id: int,
        c: _Candidate,
        parsed: Parsed,
        link: Any,
    ) -> str:
        if parsed.statement is not None:
            conn.execute(
                "INSERT INTO document_text (document_id, text) VALUES (?, ?)",
                [doc_id, bank.searchable_text(parsed.statement)],
            )
            return bank.record_statement(conn, parsed.statement, doc_id, self.config)
        if parsed.ledger is not None:
            result = import_ledger(
                conn,
                parsed.ledger,
                doc_id,
                default_terms_days=self.config.default_terms_days,
                open_items=self.config.ledger_open_items_only or parsed.open_items is not None,
            )
            self._notes[doc_id] = result.notes()
            conn.execute(
                "INSERT INTO document_text (document_id, text) VALUES (?, ?)",
                [doc_id, parsed.ledger.searchable_text()],
            )
            einvoice.relink_einvoices(conn)  # e-invoices archived before their ledger rows
            return result.label()
        if parsed.einvoice is not None:
            own = self.config.company.get("name", "")
            return einvoice.record_einvoice_document(
                conn, doc_id, parsed.einvoice, parsed.text, own_company=own, name=c.path.name
            )
        text = parsed.text
        assert text is not None and parsed.meta is not None
        conn.execute(
            "INSERT INTO document_text (document_id, text) VALUES (?, ?)", [doc_id, text.text]
        )
        record_pages(conn, doc_id, text)
        if c.kind == "receipt":
            if text.needs_ocr and not text.text.strip() and self._engine() is None:
                raise IngestError(
                    f"{c.path.name} 是扫描件，无法读取："
                    + ocr_engines.missing_engine_message(self.config.ocr_engine)
                )
            ref = sign_letter(conn, text.text, doc_id, c.path.name)
            return f"签收回执，签回函件 {ref}"
        if c.kind == "contract":
            record_contract(
                conn,
                parsed.meta,
                link,
                doc_id,
                own_company=self.config.company.get("name", ""),
            )
        number = link.contract_no if link and link.contract_no else c.path.name
        waiting = len(text.ocr_wanted)
        queued = f"，{waiting} 页待识别" if waiting else ""
        return f"{title(DOCUMENT_KINDS, c.kind)} {number}{queued}"

    def _engine(self) -> str | None:
        return ocr_engines.choose_engine(self.config.ocr_engine, self.config.ocr_languages)

    def _fail(self, path: Path, kind: str | None, exc: IngestError) -> Outcome:
        """Quarantine an inbox file (a link itself, never its target); note an outside one.

        A file given from outside the desk stays where it is (it is the clerk's): failed/
        gets its note only, never a copy. A note or move that fails (a full disk) leaves the
        file where it was and says so: nothing is lost.
        """
        reason = str(exc)
        note: Path | None = None
        if os.path.lexists(path) and not isinstance(exc, StoreFull):
            where = _lexical(path)
            try:
                if self.desk.inbox.resolve() in where.parents:
                    moved = quarantine(self.desk, where, exc.report())
                    note = moved.with_name(moved.name + ERROR_SUFFIX)
                else:
                    note = note_failure(self.desk, where, exc.report())
            except OSError as err:
                log.warning("could not record the failure of %s: %s", where, err)
                reason += f"文件留在原处：无法写入 failed/（{err.strerror or err}）：请清理出一些磁盘空间。"
        error_file = _relative(note, self.desk.root) if note is not None else None
        return Outcome(
            path, "failed", None, kind, reason, f"{path.name} 未能归档",
            tuple(exc.problems), error_file,
        )  # fmt: skip


def _lexical(path: Path) -> Path:
    """`path` made absolute with its folders resolved but its last part not followed."""
    return path.absolute().parent.resolve() / path.name


def _untouched_since(path: Path, ingested_at: str) -> bool:
    """True when the inbox file is the very one archived (left behind by a crash after the
    commit); a copy dropped again later has a newer inode change time."""
    try:
        archived = dt.datetime.fromisoformat(ingested_at).timestamp()
        return path.stat().st_ctime <= archived + 1
    except (OSError, ValueError):
        return False


def _relative(path: Path, root: Path) -> str:
    for base in (root, root.resolve()):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


class StoreFull(IngestError):
    """The store copy failed (a full disk, permissions): the file stays where it is."""


def _copy_failed(path: Path, exc: OSError) -> IngestError:
    if isinstance(exc, store.ChangedWhileCopying):
        return IngestError(str(exc))
    return StoreFull(
        f"{path.name} 无法复制到存档目录（{exc.strerror or exc}）：文件留在原处；"
        "请清理出一些磁盘空间（或修正权限），下次会再处理。"
    )


def _commit_failed(path: Path, exc: Exception) -> Exception:
    """A commit that failed for the disk's sake (full, I/O error) is no fault of the file: it
    stays where it is (never quarantined), and the sentence says what to do."""
    disk = isinstance(exc, OSError) or (
        isinstance(exc, sqlite3.OperationalError)
        and any(w in str(exc).lower() for w in ("full", "disk", "i/o"))
    )
    if disk:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return StoreFull(
            f"{path.name} 未能归档：无法写入存档（{why}），什么都没有记录，文件留在原处；"
            "请清理出一些磁盘空间，下次会再处理。"
        )
    return exc


def _as_ingest_error(exc: BaseException) -> IngestError:
    if isinstance(exc, IngestError):
        return exc
    if isinstance(exc, DunningError):
        return IngestError(str(exc))
    # The reader's own words (English, technical) go to the log; the clerk reads what to do.
    log.warning("unexpected error reading a file: %s: %s", type(exc).__name__, exc)
    return IngestError(
        f"无法读取：读取时出现意外错误（{type(exc).__name__}）；请把文件交给管理员查看。"
    )


def ingest_file(desk: Desk, path: Path, *, kind: str | None = None) -> Outcome:
    """Ingest one file; `kind` forces the kind, else the inbox subfolder or content decides."""
    with Pipeline(desk) as pipeline:
        return pipeline.ingest_file(path, kind=kind)


def ingest_paths(
    desk: Desk, paths: list[Path], *, progress: Callable[[Outcome], None] | None = None
) -> IngestReport:
    """Ingest files and folders (recursively), parsing documents in worker processes."""
    with Pipeline(desk) as pipeline:
        files = classify.collect_files(paths, skip=desk.own_files)
        return pipeline.ingest_many(files, progress=progress)
