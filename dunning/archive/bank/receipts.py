"""Bank receipts in the archive: the `bank_statements`, `bank_receipts` and `bank_payers` tables.

Importing a statement stores each incoming row once (its dedupe key), matches it, and applies
a `certain` one at once as payments (rows of `payments` keyed `bank|<receipt>|<n>`, one per
invoice it names and one for the rest). The same money booked by the ERP becomes one
payment: when the ERP's row is there (same bank serial, else same customer, day ± 3 and
amount) the receipt links to it and adds nothing; when it arrives later, `absorb_booked`
replaces the receipt's own rows with it. Either way the receipt shows both sources.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlite_utils

from dunning.archive.accounts import load_invoices, load_payments
from dunning.archive.bank.matching import (
    CERTAIN,
    Knowledge,
    Match,
    OpenInvoice,
    Receipt,
    core_name,
    fold,
    match,
    name_key,
)
from dunning.archive.bank.statement import Statement, dedupe_keys, same_account, same_key
from dunning.config import account_key
from dunning.errors import IngestError
from dunning.money import from_fen, to_fen
from dunning.receivables import allocate
from dunning.vocabulary import BANK_STATUS, SKIPPED_BANK_ROWS, title

BOOKING_WINDOW_DAYS = 3


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class StatementResult:
    statement_id: int
    account: str
    rows_read: int
    new: int
    known: int
    by_status: dict[str, int]
    skipped: dict[str, int]

    def label(self) -> str:
        """`银行流水 6222…0258：读取 12 行，到账 7 笔（新增 5，已导入 2），跳过支出行 4 行；
        匹配：自动核销 3，待核对 2`."""
        parts = [f"到账 {self.new + self.known} 笔（新增 {self.new}，已导入 {self.known}）"]
        parts += [
            f"跳过{title(SKIPPED_BANK_ROWS, k)} {n} 行" for k, n in sorted(self.skipped.items())
        ]
        matched = "，".join(
            f"{title(BANK_STATUS, s)} {n}" for s, n in sorted(self.by_status.items())
        )
        return (
            f"银行流水 {self.account}：读取 {self.rows_read} 行，{'，'.join(parts)}；"
            f"匹配：{matched or '无新到账'}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "statement": self.statement_id,
            "account": self.account,
            "rows_read": self.rows_read,
            "receipts_new": self.new,
            "receipts_known": self.known,
            "matched": self.by_status,
            "skipped": self.skipped,
        }


def check_account(statement: Statement, accounts: Sequence[str], name: str) -> None:
    """Refuse a statement of an account that is not ours (`[bank] accounts`)."""
    if not any(same_account(statement.account, own) for own in accounts):
        listed = "、".join(accounts) or "未填写"
        named = f"（{statement.account_name}）" if statement.account_name else ""
        raise IngestError(
            f"{name} 是账户 {statement.account}{named}的流水，不是本公司的账户"
            f"（dunning.toml 中的 `[bank] accounts`：{listed}）：如果是公司账户，请加到那里后重新导入。"
        )


def knowledge(
    conn: sqlite3.Connection, letters: Mapping[str, str], fee_tolerance: Decimal
) -> Knowledge:
    """Everything matching needs, read once: open invoices (after SPEC §3 allocation),
    contracts, confirmed accounts and names."""
    db = sqlite_utils.Database(conn)
    by_customer: dict[str, list[Any]] = defaultdict(list)
    pays: dict[str, list[Any]] = defaultdict(list)
    for inv in load_invoices(db):
        by_customer[inv.customer_code].append(inv)
    for pay in load_payments(db):
        pays[pay.customer_code].append(pay)
    invoices: dict[str, OpenInvoice] = {}
    for code, items in by_customer.items():
        for item in allocate(items, pays.get(code, [])).items:
            inv = item.invoice
            invoices[fold(inv.invoice_no)] = OpenInvoice(
                inv.invoice_no, code, inv.due_date, to_fen(item.open_amount)
            )
    contracts = {
        fold(no): code
        for no, code in conn.execute(
            "SELECT contract_no, customer_code FROM contracts WHERE customer_code IS NOT NULL"
        )
    }
    customers = conn.execute("SELECT code, name FROM customers").fetchall()
    names = {name_key(n): c for c, n in customers if n}
    cores: dict[str, set[str]] = defaultdict(set)
    for code, name in customers:
        if name and len(core_name(name)) >= 2:
            cores[core_name(name)].add(code)
    accounts: dict[str, str] = {}
    aliases: set[str] = set()
    for kind, value, code in conn.execute("SELECT kind, value, customer_code FROM bank_payers"):
        if kind == "account":
            accounts[value] = code
        else:
            names[value] = code
            aliases.add(value)
    return Knowledge(
        letters=dict(letters),
        invoices=invoices,
        contracts=contracts,
        accounts=accounts,
        names=names,
        aliases=frozenset(aliases),
        cores={k: frozenset(v) for k, v in cores.items()},
        fee_tolerance=fee_tolerance,
    )


def import_statement(
    conn: sqlite3.Connection,
    statement: Statement,
    document_id: int,
    *,
    letters: Mapping[str, str],
    fee_tolerance: Decimal,
) -> StatementResult:
    """Store, match and apply a statement's receipts inside the caller's write transaction."""
    now = _now()
    import_id = int(
        conn.execute(
            "INSERT INTO ledger_imports (document_id, kind, sheet, header_row, rows, inserted,"
            " updated, imported_at, rows_read, rows_imported, rows_skipped, rows_bad)"
            " VALUES (?, 'bank', NULL, ?, ?, 0, 0, ?, ?, ?, ?, 0)",
            [
                document_id, statement.header_row, statement.rows_read, now,
                statement.rows_read, len(statement.receipts), json.dumps(dict(statement.skipped)),
            ],
        ).lastrowid or 0
    )  # fmt: skip
    statement_id = int(
        conn.execute(
            "INSERT INTO bank_statements (document_id, import_id, layout, account, account_name,"
            " rows_read, rows_skipped, receipts_new, receipts_known, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
            [
                document_id, import_id, statement.layout, account_key(statement.account),
                statement.account_name, statement.rows_read,
                json.dumps(dict(statement.skipped)), now,
            ],
        ).lastrowid or 0
    )  # fmt: skip
    keys = dedupe_keys(statement.account, statement.receipts)
    known = _already_held(conn, statement, keys)
    know = knowledge(conn, letters, fee_tolerance)
    by_status: dict[str, int] = defaultdict(int)
    new = 0
    for row, key in zip(statement.receipts, keys, strict=True):
        if key in known:
            continue
        known.add(key)
        receipt = Receipt(row.on, row.amount, row.payer_name, row.payer_account, row.memo)
        found = match(receipt, know)
        receipt_id = int(
            conn.execute(
                "INSERT INTO bank_receipts (dedupe_key, same_key, statement_id, source_row, account,"
                " received_on, received_at, amount_fen, payer_name, payer_account, memo, serial,"
                " status, customer_code, grounds, allocation)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    key, same_key(statement.account, row), statement_id, row.row, account_key(statement.account),
                    row.on.isoformat(), row.at, to_fen(row.amount), row.payer_name,
                    row.payer_account, row.memo, row.serial, found.status, found.customer,
                    found.grounds_text(), _allocation_json(found),
                ],
            ).lastrowid or 0
        )  # fmt: skip
        if found.status == CERTAIN and found.customer is not None:
            settle(conn, receipt_id)
            know.consume(found.allocation)
        by_status[found.status] += 1
        new += 1
    conn.execute(
        "UPDATE bank_statements SET receipts_new = ?, receipts_known = ? WHERE id = ?",
        [new, len(statement.receipts) - new, statement_id],
    )
    conn.execute("UPDATE ledger_imports SET inserted = ? WHERE id = ?", [new, import_id])
    return StatementResult(
        statement_id,
        statement.account,
        statement.rows_read,
        new,
        len(statement.receipts) - new,
        dict(by_status),
        dict(statement.skipped),
    )


def _already_held(conn: sqlite3.Connection, statement: Statement, keys: list[str]) -> set[str]:
    """The keys of rows the archive holds already: by dedupe key, else (when this file or the
    earlier one gives no serial) by account, time, amount and payer's account — each held
    row claimed once."""
    held = {k for (k,) in conn.execute("SELECT dedupe_key FROM bank_receipts")}
    known = held & set(keys)
    unclaimed: Counter[str] = Counter()
    for skey, serial in conn.execute(
        "SELECT same_key, serial FROM bank_receipts WHERE same_key IN"
        " (SELECT value FROM json_each(?))",
        [json.dumps([same_key(statement.account, r) for r in statement.receipts])],
    ):
        unclaimed[f"{skey}|{'s' if serial else '-'}"] += 1
    rows = list(zip(statement.receipts, keys, strict=True))
    for row, key in rows:  # rows held by their own key claim their twin first
        if key in known:
            skey = same_key(statement.account, row)
            for tag in ("s" if row.serial else "-", "-" if row.serial else "s"):
                if unclaimed[f"{skey}|{tag}"] > 0:
                    unclaimed[f"{skey}|{tag}"] -= 1
                    break
    for row, key in rows:
        if key in known:
            continue
        skey = same_key(statement.account, row)
        # Two rows that both carry a serial are the same only when the serials are equal.
        for tag in ("-",) if row.serial else ("s", "-"):
            if unclaimed[f"{skey}|{tag}"] > 0:
                unclaimed[f"{skey}|{tag}"] -= 1
                known.add(key)
                break
    return known


def _allocation_json(found: Match) -> str:
    return json.dumps([{"invoice": no, "amount": f"{amt:.2f}"} for no, amt in found.allocation])


def settle(conn: sqlite3.Connection, receipt_id: int) -> None:
    """Make a matched receipt count once: link it to the ERP's payment row for the same money
    when there is one, else write its own payment rows."""
    row = conn.execute(
        "SELECT r.customer_code, r.received_on, r.amount_fen, r.serial, r.allocation,"
        " s.import_id FROM bank_receipts r JOIN bank_statements s ON s.id = r.statement_id"
        " WHERE r.id = ?",
        [receipt_id],
    ).fetchone()
    code, on, amount_fen, serial, allocation, import_id = row
    drop_payments(conn, receipt_id)
    booked = _erp_payment_for(conn, code, on, amount_fen, serial)
    if booked is not None:
        conn.execute(
            "UPDATE bank_receipts SET booked_payment_id = ?, applied = 0 WHERE id = ?",
            [booked, receipt_id],
        )
        return
    parts = [(a["invoice"], to_fen(Decimal(a["amount"]))) for a in json.loads(allocation)]
    rest = amount_fen - sum(fen for _, fen in parts)
    if rest > 0 or not parts:
        parts.append((None, rest))
    conn.executemany(
        "INSERT INTO payments (natural_key, customer_code, paid_on, amount_fen, invoice_ref,"
        " payment_no, import_id, source_row, kind) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'payment')",
        [
            (f"bank|{receipt_id}|{n}", code, on, fen, invoice, serial, import_id)
            for n, (invoice, fen) in enumerate(parts, start=1)
            if fen > 0
        ],
    )
    conn.execute("UPDATE bank_receipts SET applied = 1 WHERE id = ?", [receipt_id])


def drop_payments(conn: sqlite3.Connection, receipt_id: int) -> None:
    """Remove the payment rows a receipt wrote (a range of the unique key: uses its index)."""
    prefix = f"bank|{receipt_id}|"
    conn.execute(
        "DELETE FROM payments WHERE natural_key >= ? AND natural_key < ?",
        [prefix, prefix[:-1] + "}"],  # "}" sorts right after "|"
    )


def _erp_payment_for(
    conn: sqlite3.Connection, code: str, on: str, amount_fen: int, serial: str | None
) -> int | None:
    """The ERP's payment row for this money not yet claimed by another receipt, if any."""
    taken = "NOT EXISTS (SELECT 1 FROM bank_receipts b WHERE b.booked_payment_id = payments.id)"
    if serial:
        hit = conn.execute(
            f"SELECT id FROM payments WHERE payment_no = ? AND natural_key NOT LIKE 'bank|%'"
            f" AND customer_code = ? AND {taken} ORDER BY id LIMIT 1",
            [serial, code],
        ).fetchone()
        if hit:
            return int(hit[0])
    hit = conn.execute(
        "SELECT id FROM payments WHERE customer_code = ? AND amount_fen = ? AND kind = 'payment'"
        " AND natural_key NOT LIKE 'bank|%' AND abs(julianday(paid_on) - julianday(?)) <= ?"
        f" AND {taken} ORDER BY abs(julianday(paid_on) - julianday(?)), id LIMIT 1",
        [code, amount_fen, on, BOOKING_WINDOW_DAYS, on],
    ).fetchone()
    return int(hit[0]) if hit else None


def absorb_booked(conn: sqlite3.Connection, import_id: int) -> int:
    """After an ERP import: each of its payment rows that is a bank receipt's money replaces
    the receipt's own payment rows (one payment, both sources). Returns how many."""
    rows = conn.execute(
        "SELECT id, customer_code, paid_on, amount_fen, payment_no FROM payments"
        " WHERE import_id = ? AND kind = 'payment' AND natural_key NOT LIKE 'bank|%'"
        " AND NOT EXISTS (SELECT 1 FROM bank_receipts b WHERE b.booked_payment_id = payments.id)"
        " ORDER BY id",
        [import_id],
    ).fetchall()
    absorbed = 0
    for pay_id, code, paid_on, amount_fen, payment_no in rows:
        receipt = _receipt_for(conn, code, paid_on, amount_fen, payment_no)
        if receipt is None:
            continue
        receipt_id, status = receipt
        drop_payments(conn, receipt_id)
        conn.execute(
            "UPDATE bank_receipts SET booked_payment_id = ?, applied = 0, customer_code = ?,"
            " status = CASE WHEN status IN ('probable', 'unmatched') THEN 'confirmed'"
            " ELSE status END, grounds = CASE WHEN status IN ('probable', 'unmatched') THEN"
            " grounds || '；财务已入账（ERP 收款）' ELSE grounds END WHERE id = ?",
            [pay_id, code, receipt_id],
        )
        absorbed += 1
        del status
    return absorbed


def _receipt_for(
    conn: sqlite3.Connection, code: str, paid_on: str, amount_fen: int, payment_no: str | None
) -> tuple[int, str] | None:
    base = "booked_payment_id IS NULL AND status != 'not_customer'"
    if payment_no:
        hit = conn.execute(
            f"SELECT id, status FROM bank_receipts WHERE serial = ? AND {base}"
            " AND (customer_code = ? OR status = 'unmatched') ORDER BY id LIMIT 1",
            [payment_no, code],
        ).fetchone()
        if hit:
            return int(hit[0]), str(hit[1])
    hit = conn.execute(
        f"SELECT id, status FROM bank_receipts WHERE customer_code = ? AND amount_fen = ?"
        f" AND {base} AND abs(julianday(received_on) - julianday(?)) <= ?"
        " ORDER BY abs(julianday(received_on) - julianday(?)), id LIMIT 1",
        [code, amount_fen, paid_on, BOOKING_WINDOW_DAYS, paid_on],
    ).fetchone()
    return (int(hit[0]), str(hit[1])) if hit else None


def amount_of(fen: int) -> str:
    return f"{from_fen(fen):.2f}"
