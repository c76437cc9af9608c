"""Writing a parsed ledger into the archive: a snapshot that supersedes, never double counts.

Invoices are keyed by invoice number, payments by their natural key (payment number when the
export has one, else customer + date + amount + invoice reference + the n-th such row of the
file), customers by code. Importing the same rows again updates them in place.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from dataclasses import dataclass

from dunning.archive.ledger import CustomerRow, InvoiceRow, Ledger, PaymentRow
from dunning.money import to_fen


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    kind: str
    rows: int
    inserted: int
    updated: int
    customers_created: int


class _Customers:
    """Resolves a row's customer to a code, creating customers the master has not named yet."""

    def __init__(self, conn: sqlite3.Connection, now: str) -> None:
        self.conn, self.now, self.created = conn, now, 0
        rows = conn.execute("SELECT code, name FROM customers").fetchall()
        self.codes: set[str] = {code for code, _ in rows}
        self.by_name: dict[str, str] = {name: code for code, name in rows}

    def resolve(self, code: str | None, name: str | None) -> str:
        if not code:
            assert name, "the parser guarantees a code or a name"
            code = self.by_name.get(name, name)
        if code not in self.codes:
            self.conn.execute(
                "INSERT INTO customers (code, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [code, name or code, self.now, self.now],
            )
            self.codes.add(code)
            self.by_name.setdefault(name or code, code)
            self.created += 1
        return code

    def upsert(self, row: CustomerRow) -> bool:
        """A customer-master row: its non-empty fields win. True when the customer is new."""
        code = row.code or self.by_name.get(row.name or "") or row.name
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
        if given:
            sets = ", ".join(f"{k} = ?" for k in given)
            self.conn.execute(
                f"UPDATE customers SET {sets}, updated_at = ? WHERE code = ?",
                [*given.values(), self.now, code],
            )
        if row.name:
            self.by_name[row.name] = code
        return is_new


def import_ledger(
    conn: sqlite3.Connection, ledger: Ledger, document_id: int, *, default_terms_days: int
) -> ImportResult:
    """Write `ledger` inside the caller's write transaction (the parser has validated it)."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    cur = conn.execute(
        "INSERT INTO ledger_imports (document_id, kind, sheet, header_row, rows, inserted,"
        " updated, imported_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
        [document_id, ledger.kind, ledger.sheet, ledger.header_row, ledger.row_count, now],
    )
    import_id = int(cur.lastrowid or 0)
    customers = _Customers(conn, now)
    inserted = updated = 0
    for crow in ledger.customers:
        if customers.upsert(crow):
            inserted += 1
        else:
            updated += 1
    i, u = _write_invoices(conn, ledger.invoices, customers, import_id, default_terms_days)
    inserted, updated = inserted + i, updated + u
    i, u = _write_payments(conn, ledger.payments, customers, import_id)
    inserted, updated = inserted + i, updated + u
    conn.execute(
        "UPDATE ledger_imports SET inserted = ?, updated = ? WHERE id = ?",
        [inserted, updated, import_id],
    )
    return ImportResult(
        import_id, ledger.kind, ledger.row_count, inserted, updated, customers.created
    )


def _write_invoices(
    conn: sqlite3.Connection,
    rows: list[InvoiceRow],
    customers: _Customers,
    import_id: int,
    default_terms_days: int,
) -> tuple[int, int]:
    if not rows:
        return 0, 0
    existing = {r[0] for r in conn.execute("SELECT invoice_no FROM invoices")}
    terms = dt.timedelta(days=default_terms_days)
    params = []
    contracts: dict[str, str] = {}
    for row in rows:
        code = customers.resolve(row.customer_code, row.customer_name)
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
    """Natural keys: the payment number, else customer + date + amount + the n-th such row."""
    seen: Counter[str] = Counter()
    keys = []
    for row, code in zip(rows, codes, strict=True):
        if row.payment_no:
            keys.append(f"no|{code}|{row.payment_no}")
            continue
        # The invoice reference is not part of the key: an updated export that fills it in
        # must update the payment, not add a second one.
        base = f"{code}|{row.paid_on.isoformat()}|{to_fen(row.amount)}"
        seen[base] += 1
        keys.append(f"{base}|{seen[base]}")
    return keys


def _write_payments(
    conn: sqlite3.Connection, rows: list[PaymentRow], customers: _Customers, import_id: int
) -> tuple[int, int]:
    if not rows:
        return 0, 0
    codes = [customers.resolve(r.customer_code, r.customer_name) for r in rows]
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
        )
        for row, code, key in zip(rows, codes, keys, strict=True)
    ]
    conn.executemany(
        "INSERT INTO payments (natural_key, customer_code, paid_on, amount_fen, invoice_ref,"
        " payment_no, import_id, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(natural_key) DO UPDATE SET paid_on = excluded.paid_on,"
        " amount_fen = excluded.amount_fen, invoice_ref = excluded.invoice_ref,"
        " import_id = excluded.import_id, source_row = excluded.source_row",
        params,
    )
    updated = sum(1 for k in keys if k in existing)
    return len(keys) - updated, updated
