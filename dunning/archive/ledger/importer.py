"""Writing a parsed ledger into the archive: a snapshot that supersedes, never double counts.

Invoices are keyed by invoice number, payments by their natural key (payment number + the n-th
row carrying it, since one transfer may be split over several invoices; else customer + date +
amount + the n-th such row of the file), customers by code. Importing the same rows again
updates them in place. A customer created without a name (a payment list) has its code as a
placeholder name until an import names it; a customer master's name and address changes are
recorded in `customer_changes`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from dunning.archive.bank.receipts import absorb_booked
from dunning.archive.ledger.openings import already_held, openings_of, superseded_later
from dunning.archive.ledger.rows import CustomerRow, InvoiceRow, Ledger, PaymentRow, RowCounts
from dunning.archive.payer_names import NameIndex, name_key
from dunning.archive.snapshots import Coverage, SnapshotChange, judge_snapshot, settled_summary
from dunning.archive.unmatched import (
    AssignError,
    PayerRow,
    assign_receipt,
    learned_names,
    record_unmatched,
    unmatched_receipts,
)
from dunning.errors import IngestError, RowProblem
from dunning.money import format_amount, to_fen
from dunning.vocabulary import LEDGER_KINDS, row_summary, title


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    kind: str
    rows: int
    inserted: int
    updated: int
    customers_created: int
    counts: RowCounts
    # What the import changed about what is owed (vanished, settled, returned invoices).
    changes: tuple[SnapshotChange, ...] = ()
    unmatched: tuple[int, ...] = ()  # ids of the unmatched receipts this file holds
    # Payer names attached to a customer by a near match: "杭州甲有限责任公司 → C001 …".
    attached: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()  # the unmatched receipts, one sentence each

    def label(self) -> str:
        """`发票台账（读取 18 行：导入 17 行，…；新增 15 条，更新 2 条）`."""
        c = self.counts
        extra = f"；{len(self.unmatched)} 笔到款未匹配" if self.unmatched else ""
        return (
            f"{title(LEDGER_KINDS, self.kind)}（{row_summary(c.read, c.imported, c.skipped, c.bad)}；"
            f"新增 {self.inserted} 条，更新 {self.updated} 条{extra}）"
        )

    def notes(self) -> tuple[str, ...]:
        """What the clerk should read after the import, one Chinese sentence each."""
        summary = settled_summary(list(self.changes))
        head = (summary,) if summary else ()
        return (*head, *self.attached, *self.waiting, *(c.sentence() for c in self.changes))


@dataclass
class _Payers:
    """Name-only payment rows: those attached by a near name, and those with no customer."""

    attached: list[str] = field(default_factory=list)
    unmatched: list[PayerRow] = field(default_factory=list)


class _Customers:
    """Resolves a row's customer to a code, creating customers the master has not named yet."""

    def __init__(self, conn: sqlite3.Connection, now: str, document_id: int) -> None:
        self.conn, self.now, self.document_id, self.created = conn, now, document_id, 0
        rows = conn.execute("SELECT code, name, name_source FROM customers").fetchall()
        self.codes: set[str] = {code for code, _, _ in rows}
        # Names are matched folded: 南京同创(集团) is 南京同创（集团）, whatever the spaces.
        self.by_name: dict[str, str] = {name_key(name): code for code, name, _ in rows}
        for key, code in learned_names(conn).items():
            self.by_name.setdefault(key, code)
        self.names: dict[str, str] = {code: name for code, name, _ in rows}
        self.placeholders: set[str] = {code for code, _, source in rows if source == "placeholder"}
        self._index: NameIndex | None = None  # built when a payer name first needs it

    def learn(self, ledger: Ledger) -> None:
        """Names the file itself pairs with a code, so a name-only row finds its customer
        whichever row comes first."""
        pairs = [(i.customer_code, i.customer_name) for i in ledger.invoices]
        pairs += [(p.customer_code, p.customer_name) for p in ledger.payments]
        for code, name in pairs:
            if code and name:
                self.by_name.setdefault(name_key(name), code)
                self._name(code, name)

    def _name(self, code: str, name: str) -> None:
        if code not in self.names:
            self.names[code] = name
            if self._index is not None:
                self._index.add(code, name)

    def payer(self, name: str) -> tuple[str | None, tuple[str, ...], bool]:
        """A name-only payment's customer: the exact (or clerk-taught) name, else the one
        customer whose name nearly matches (the flag: a near match, worth telling). None
        with the candidates (several, or loosely similar) otherwise."""
        code = self.by_name.get(name_key(name))
        if code is not None:
            return code, (), False
        if self._index is None:
            self._index = NameIndex(self.names)
        near = self._index.near_candidates(name)
        if len(near) == 1:
            return near[0], (), True
        return None, tuple(near or self._index.loose_candidates(name)), False

    def resolve(self, code: str | None, name: str | None) -> str:
        if not code:
            assert name, "the parser guarantees a code or a name"
            code = self.by_name.get(name_key(name), name)
        if code not in self.codes:
            self.conn.execute(
                "INSERT INTO customers (code, name, name_source, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [code, name or code, "ledger" if name else "placeholder", self.now, self.now],
            )
            self.codes.add(code)
            self.by_name.setdefault(name_key(name or code), code)
            self._name(code, name or code)
            if not name:
                self.placeholders.add(code)
            self.created += 1
        elif name and code in self.placeholders:
            # The first real name any import gives replaces the code standing in for it.
            self._change(code, "name", code, name, source="ledger")
            self.placeholders.discard(code)
            self.by_name[name_key(name)] = code
        return code

    def _change(
        self, code: str, field: str, old: str | None, new: str, *, source: str | None = None
    ) -> None:
        sets = f"{field} = ?" + (", name_source = ?" if source else "")
        values = [new, source] if source else [new]
        self.conn.execute(
            f"UPDATE customers SET {sets}, updated_at = ? WHERE code = ?",
            [*values, self.now, code],
        )
        self.conn.execute(
            "INSERT INTO customer_changes (customer_code, field, old, new, changed_at,"
            " document_id) VALUES (?, ?, ?, ?, ?, ?)",
            [code, field, old, new, self.now, self.document_id],
        )

    def upsert(self, row: CustomerRow) -> bool:
        """A customer-master row: its non-empty fields win. True when the customer is new."""
        code = row.code or self.by_name.get(name_key(row.name or "")) or row.name
        assert code, "the parser guarantees a code or a name"
        fields = {
            "name": row.name,
            "address": row.address,
            "contact": row.contact,
            "phone": row.phone,
            "credit_grade": row.credit_grade,
            "salesperson": row.salesperson,
        }
        is_new = code not in self.codes
        self.resolve(code, row.name)
        given = {k: v for k, v in fields.items() if v}
        current = self.conn.execute(
            "SELECT name, address, contact, phone, credit_grade, salesperson, name_source"
            " FROM customers WHERE code = ?",
            [code],
        ).fetchone()
        old = dict(zip(fields, current, strict=False))
        for key, value in given.items():
            if old[key] == value:
                continue
            if key in ("name", "address") and old[key] is not None:
                # The master's name wins over a ledger's; both changes are kept with their file.
                self._change(code, key, old[key], value, source="master" if key == "name" else None)
            else:
                self.conn.execute(
                    f"UPDATE customers SET {key} = ?, updated_at = ? WHERE code = ?",
                    [value, self.now, code],
                )
        if row.name:
            self.conn.execute("UPDATE customers SET name_source = 'master' WHERE code = ?", [code])
            self.placeholders.discard(code)
            self.by_name[name_key(row.name)] = code
        return is_new


def import_ledger(
    conn: sqlite3.Connection,
    ledger: Ledger,
    document_id: int,
    *,
    default_terms_days: int,
    open_items: bool = False,
) -> ImportResult:
    """Write `ledger` inside the caller's write transaction (the parser has validated it).

    `open_items`: the file lists open items only (archive/snapshots.py)."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    counts = ledger.counts
    cur = conn.execute(
        "INSERT INTO ledger_imports (document_id, kind, sheet, header_row, rows, inserted,"
        " updated, imported_at, rows_read, rows_imported, rows_skipped, rows_bad)"
        " VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)",
        [
            document_id, ledger.kind, ledger.sheet, ledger.header_row, ledger.row_count, now,
            counts.read, counts.imported, json.dumps(dict(counts.skipped)), counts.bad,
        ],
    )  # fmt: skip
    import_id = int(cur.lastrowid or 0)
    customers = _Customers(conn, now, document_id)
    customers.learn(ledger)
    leave_out, problems = already_held(conn, openings_of(ledger, customers.resolve), "余额")
    if problems:
        raise IngestError(_DISAGREE, problems)
    if leave_out:
        ledger = _without_rows(ledger, leave_out)
    inserted = updated = 0
    for crow in ledger.customers:
        if customers.upsert(crow):
            inserted += 1
        else:
            updated += 1
    header = ledger.columns.get("invoice_no", "发票号码")
    i, u = _write_invoices(conn, ledger.invoices, customers, import_id, default_terms_days, header)
    inserted, updated = inserted + i, updated + u
    payers = _Payers()
    # Only a payment list names payers; a detail ledger's credits are its customer's.
    by_payer = ledger.kind == "payments"
    i, u = _write_payments(conn, ledger.payments, customers, import_id, payers, by_payer=by_payer)
    inserted, updated = inserted + i, updated + u
    unmatched = record_unmatched(conn, payers.unmatched, import_id)
    payers.attached += _attach_waiting(conn, customers, now)
    absorb_booked(conn, import_id)  # the ERP's row for money a bank receipt already applied
    if ledger.kind == "detail":
        problems = superseded_later(conn, ledger, customers.resolve, import_id, "余额")
        if problems:
            raise IngestError(_DISAGREE, problems)
    conn.execute(
        "UPDATE ledger_imports SET inserted = ?, updated = ? WHERE id = ?",
        [inserted, updated, import_id],
    )
    changes = judge_snapshot(conn, _coverage(ledger, customers, import_id, open_items), now=now)
    return ImportResult(
        import_id, ledger.kind, ledger.row_count, inserted, updated, customers.created, counts,
        tuple(changes), tuple(unmatched), tuple(payers.attached), _waiting(conn, unmatched),
    )  # fmt: skip


def _waiting(conn: sqlite3.Connection, ids: list[int]) -> tuple[str, ...]:
    wanted = set(ids)
    return tuple(r.sentence() for r in unmatched_receipts(conn) if r.id in wanted)


def _coverage(ledger: Ledger, customers: _Customers, import_id: int, open_items: bool) -> Coverage:
    """The customers a file's invoice and payment rows name (unmatched payers are not
    customers) and the dates they span."""
    codes = {customers.resolve(i.customer_code, i.customer_name) for i in ledger.invoices} | {
        code
        for p in ledger.payments
        if (code := p.customer_code or customers.by_name.get(name_key(p.customer_name or "")))
    }
    days = [i.invoice_date for i in ledger.invoices] + [p.paid_on for p in ledger.payments]
    period = (min(days), max(days)) if days else None
    return Coverage(import_id, ledger.kind, frozenset(codes), period, open_items)


def _attach_waiting(conn: sqlite3.Connection, customers: _Customers, now: str) -> list[str]:
    """Unmatched receipts from earlier files whose payer this import's names now identify."""
    attached = []
    for receipt in unmatched_receipts(conn):
        code, _, _ = customers.payer(receipt.payer_name)
        if code is None:
            continue
        try:
            assign_receipt(conn, receipt.id, code, actor="台账导入", now=now)
        except AssignError:
            continue  # the customer has a payment of that day and amount: a clerk decides
        attached.append(
            f"未匹配到款 #{receipt.id}（{receipt.payer_name} {format_amount(receipt.amount)}）"
            f"已按名称归入 {code} {customers.names.get(code, '')}"
        )
    return attached


_DISAGREE = "文件的期初余额与存档中已有的期间不符，整个文件未导入：见下列各行。"


def _without_rows(ledger: Ledger, rows: set[int]) -> Ledger:
    """The ledger less the opening items the archive already holds in detail."""
    return dataclasses.replace(
        ledger,
        invoices=[i for i in ledger.invoices if i.row not in rows],
        payments=[p for p in ledger.payments if p.kind != "opening" or p.row not in rows],
    )


def _write_invoices(
    conn: sqlite3.Connection,
    rows: list[InvoiceRow],
    customers: _Customers,
    import_id: int,
    default_terms_days: int,
    header: str,
) -> tuple[int, int]:
    if not rows:
        return 0, 0
    existing = dict(conn.execute("SELECT invoice_no, customer_code FROM invoices").fetchall())
    terms = dt.timedelta(days=default_terms_days)
    params = []
    contracts: dict[str, str] = {}
    moved: list[RowProblem] = []
    for row in rows:
        code = customers.resolve(row.customer_code, row.customer_name)
        owner = existing.get(row.invoice_no)
        if owner is not None and owner != code:
            why = (
                f"存档中发票 {row.invoice_no} 属于客户 {owner}，本行却记在 {code} 名下："
                "请更正发票号码或客户"
            )
            moved.append(RowProblem(row.row, header, row.invoice_no, why))
            continue
        due = row.due_date or (row.invoice_date + terms)
        params.append(
            (
                row.invoice_no,
                code,
                row.contract_no,
                row.invoice_date.isoformat(),
                due.isoformat(),
                to_fen(row.amount),
                to_fen(row.received),
                import_id,
                row.row,
            )
        )
        if row.contract_no:
            contracts.setdefault(row.contract_no, code)
    if moved:
        raise IngestError(
            f"本文件有 {len(moved)} 张发票在存档中属于其他客户，整个文件未导入："
            "请更正下列各行后重新导入。",
            moved,
        )
    conn.executemany(
        "INSERT INTO invoices (invoice_no, customer_code, contract_no, invoice_date, due_date,"
        " amount_fen, received_fen, import_id, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(invoice_no) DO UPDATE SET customer_code = excluded.customer_code,"
        " contract_no = excluded.contract_no, invoice_date = excluded.invoice_date,"
        " due_date = excluded.due_date, amount_fen = excluded.amount_fen,"
        " received_fen = excluded.received_fen, import_id = excluded.import_id,"
        " source_row = excluded.source_row",
        params,
    )
    conn.executemany(
        "INSERT INTO contracts (contract_no, customer_code) VALUES (?, ?)"
        " ON CONFLICT(contract_no) DO UPDATE SET customer_code ="
        " COALESCE(contracts.customer_code, excluded.customer_code)",
        list(contracts.items()),
    )
    updated = sum(1 for p in params if p[0] in existing)
    return len(params) - updated, updated


def payment_keys(rows: list[PaymentRow], codes: list[str]) -> list[str]:
    """Natural keys: payment number + the n-th row carrying it (a transfer split over several
    invoices is several rows), else customer + date + amount + the n-th such row."""
    seen: Counter[str] = Counter()
    keys = []
    for row, code in zip(rows, codes, strict=True):
        if row.payment_no:
            base = f"no|{code}|{row.payment_no}"
        else:
            # The invoice reference is not part of the key: an updated export that fills it
            # in must update the payment, not add a second one.
            kind = "" if row.kind == "payment" else f"{row.kind}|"
            base = f"{kind}{code}|{row.paid_on.isoformat()}|{to_fen(row.amount)}"
        seen[base] += 1
        keys.append(f"{base}|{seen[base]}")
    return keys


def _payment_customers(
    rows: list[PaymentRow], customers: _Customers, payers: _Payers, *, by_payer: bool
) -> tuple[list[PaymentRow], list[str]]:
    """Each row's customer; a name-only row whose payer is no one customer goes to
    `payers.unmatched` instead (never a new customer)."""
    kept, codes = [], []
    for row in rows:
        if row.customer_code or not row.customer_name or not by_payer:
            kept.append(row)
            codes.append(customers.resolve(row.customer_code, row.customer_name))
            continue
        code, candidates, near = customers.payer(row.customer_name)
        if code is None:
            payers.unmatched.append(
                PayerRow(
                    row.row, row.customer_name, row.paid_on, to_fen(row.amount),
                    row.invoice_ref, row.payment_no, row.kind, candidates,
                )
            )  # fmt: skip
            continue
        if near:
            note = f"付款方 {row.customer_name} 按名称归入 {code} {customers.names.get(code, '')}"
            if note not in payers.attached:
                payers.attached.append(note)
        kept.append(row)
        codes.append(customers.resolve(code, None))
    return kept, codes


def _write_payments(
    conn: sqlite3.Connection,
    rows: list[PaymentRow],
    customers: _Customers,
    import_id: int,
    payers: _Payers,
    *,
    by_payer: bool,
) -> tuple[int, int]:
    rows, codes = _payment_customers(rows, customers, payers, by_payer=by_payer)
    if not rows:
        return 0, 0
    keys = payment_keys(rows, codes)
    existing = {r[0] for r in conn.execute("SELECT natural_key FROM payments")}
    params = [
        (
            key,
            code,
            row.paid_on.isoformat(),
            to_fen(row.amount),
            row.invoice_ref,
            row.payment_no,
            import_id,
            row.row,
            row.kind,
        )
        for row, code, key in zip(rows, codes, keys, strict=True)
    ]
    conn.executemany(
        "INSERT INTO payments (natural_key, customer_code, paid_on, amount_fen, invoice_ref,"
        " payment_no, import_id, source_row, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(natural_key) DO UPDATE SET paid_on = excluded.paid_on,"
        " amount_fen = excluded.amount_fen, invoice_ref = excluded.invoice_ref,"
        " import_id = excluded.import_id, source_row = excluded.source_row,"
        " kind = excluded.kind",
        params,
    )
    updated = sum(1 for k in keys if k in existing)
    return len(keys) - updated, updated
