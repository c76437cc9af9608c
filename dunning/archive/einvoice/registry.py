"""The archive's e-invoices: tables `einvoices` and `einvoice_issues`, and `customers.tax_id`.

An e-invoice is recorded once per key (a file and the export may both name it: the file's
fields and the export's 发票状态 are kept together). `relink` ties every e-invoice to the
ledger invoice of the same number (older invoices: code + number, or the number alone when
the ledger holds no code), to its customer, and a 红字 invoice to the invoice it cancels. What
disagrees with the ledger (amount, buyer, a 作废 invoice still listed, a tax id) is stored as
an issue with a sentence, never merged. It runs after each e-invoice file and each ledger.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from dunning.archive.einvoice.model import EInvoice, EInvoiceFile
from dunning.archive.payer_names import name_key
from dunning.archive.search.index import index_document
from dunning.money import format_amount, from_fen, to_fen


@dataclass(frozen=True)
class Issue:
    key: str  # the e-invoice's
    kind: str  # amount | buyer | void_in_ledger | red_unlinked | tax_id
    customer: str | None
    invoice_no: str | None
    detail: str  # one sentence for the clerk
    document: int | None


@dataclass
class Recorded:
    """What one e-invoice file did, for the ingest line."""

    keys: list[str] = field(default_factory=list)
    linked: int = 0
    void: int = 0
    red: int = 0
    customer: str | None = None  # a single invoice's customer
    contract_no: str | None = None
    issues: list[Issue] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def record_file(conn: sqlite3.Connection, document_id: int, parsed: EInvoiceFile) -> Recorded:
    """Store a parsed file's invoices and relink; inside the caller's write transaction."""
    now = _now()
    is_list = parsed.source == "list"
    for invoice in parsed.invoices:
        _upsert(conn, invoice, document_id, now, is_list=is_list)
    keys = [i.key for i in parsed.invoices]
    if not keys:
        return Recorded()
    issues = relink(conn, now=now, keys=keys)
    wanted = set(keys)
    result = Recorded(keys=keys, issues=[i for i in issues if i.key in wanted])
    rows = conn.execute(
        "SELECT e.key, e.customer_code, e.invoice_no, e.target_invoice_no, e.status, e.red,"
        " i.contract_no FROM einvoices e LEFT JOIN invoices i ON i.invoice_no ="
        " COALESCE(e.invoice_no, e.target_invoice_no)"
        f" WHERE e.key IN ({', '.join('?' * len(keys))})",
        keys,
    ).fetchall()
    for _key, customer, invoice_no, target, status, red, contract_no in rows:
        result.linked += int(bool(invoice_no or target))
        result.void += int(status == "void")
        result.red += int(bool(red))
        if len(keys) == 1:
            result.customer, result.contract_no = customer, contract_no
    return result


def _upsert(
    conn: sqlite3.Connection, inv: EInvoice, document_id: int, now: str, *, is_list: bool
) -> None:
    conn.execute(
        "INSERT INTO einvoices (key, number, code, issued_on, total_fen, net_fen, tax_fen,"
        " seller_name, seller_tax_id, buyer_name, buyer_tax_id, kind_title, red, original_key,"
        " status, status_text, document_id, list_document_id, list_row, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(key) DO UPDATE SET issued_on = excluded.issued_on,"
        " total_fen = excluded.total_fen, net_fen = COALESCE(excluded.net_fen, net_fen),"
        " tax_fen = COALESCE(excluded.tax_fen, tax_fen),"
        " seller_name = COALESCE(excluded.seller_name, seller_name),"
        " seller_tax_id = COALESCE(excluded.seller_tax_id, seller_tax_id),"
        " buyer_name = COALESCE(excluded.buyer_name, buyer_name),"
        " buyer_tax_id = COALESCE(excluded.buyer_tax_id, buyer_tax_id),"
        " kind_title = COALESCE(excluded.kind_title, kind_title),"
        " red = MAX(red, excluded.red),"
        " original_key = COALESCE(excluded.original_key, original_key),"
        # A file does not know what became of its invoice later: the export's 发票状态 stays.
        " status = CASE WHEN excluded.list_document_id IS NULL THEN status"
        " ELSE excluded.status END,"
        " status_text = CASE WHEN excluded.list_document_id IS NULL THEN status_text"
        " ELSE excluded.status_text END,"
        " document_id = COALESCE(excluded.document_id, document_id),"
        " list_document_id = COALESCE(excluded.list_document_id, list_document_id),"
        " list_row = COALESCE(excluded.list_row, list_row), updated_at = excluded.updated_at",
        [
            inv.key, inv.number, inv.code, inv.issued_on.isoformat(), to_fen(inv.total),
            _fen(inv.net), _fen(inv.tax), inv.seller_name, inv.seller_tax_id, inv.buyer_name,
            inv.buyer_tax_id, inv.kind_title, int(inv.red), inv.original, inv.status,
            inv.status_text, None if is_list else document_id,
            document_id if is_list else None, inv.row if is_list else None, now,
        ],
    )  # fmt: skip


def _fen(amount: Decimal | None) -> int | None:
    return to_fen(amount) if isinstance(amount, Decimal) else None


_NOT_ID = re.compile(r"[^0-9A-Za-z]")


def ledger_key(invoice_no: str) -> str:
    """An invoice number as matched: width-folded, without spaces, dashes or a No. prefix."""
    text = unicodedata.normalize("NFKC", invoice_no).upper()
    text = re.sub(r"^NO\.?", "", text.strip())
    return _NOT_ID.sub("", text)


@dataclass(frozen=True)
class _Row:
    key: str
    number: str
    code: str | None
    total_fen: int
    buyer_name: str | None
    buyer_tax_id: str | None
    red: bool
    original_key: str | None
    status: str
    document: int | None
    customer: str | None
    invoice_no: str | None
    target: str | None
    file: int | None  # the invoice's own file (XML, OFD, PDF), not the export


_ROW_SQL = (
    "SELECT key, number, code, total_fen, buyer_name, buyer_tax_id, red, original_key, status,"
    " COALESCE(document_id, list_document_id), customer_code, invoice_no, target_invoice_no,"
    " document_id FROM einvoices ORDER BY issued_on, key"
)


def _row(r: tuple[object, ...]) -> _Row:
    key, number, code, total, buyer, tax_id, red, original, status, doc, cust, inv, target, f = r
    return _Row(
        str(key), str(number), _opt(code), int(str(total)), _opt(buyer), _opt(tax_id),
        bool(red), _opt(original), str(status), _int(doc), _opt(cust), _opt(inv), _opt(target),
        _int(f),
    )  # fmt: skip


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


class _Ledger:
    """The ledger's invoices and customers, as e-invoices are matched against them."""

    def __init__(self, conn: sqlite3.Connection, wanted: set[str] | None = None) -> None:
        """`wanted`: the numbers (digits) to look for, when only a few e-invoices are linked;
        None reads every ledger invoice."""
        self.invoices: dict[str, tuple[str, str, int]] = {}
        for invoice_no, code, amount in _ledger_rows(conn, wanted):
            self.invoices.setdefault(ledger_key(invoice_no), (invoice_no, code, amount))
        self.customers: dict[str, tuple[str, str | None, str]] = {}
        self.by_tax: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for code, name, tax_id, source in conn.execute(
            "SELECT code, name, tax_id, name_source FROM customers ORDER BY code"
        ):
            self.customers[code] = (name, tax_id, source)
            if tax_id:
                self.by_tax.setdefault(tax_id, code)
            if source != "placeholder":
                self.by_name.setdefault(company_key(name), code)

    def find(self, key: str, number: str, code: str | None) -> tuple[str, str, int] | None:
        """The ledger invoice of an e-invoice: code + number first, then the number alone."""
        if code:
            hit = self.invoices.get(ledger_key(code + number))
            if hit is not None:
                return hit
        return self.invoices.get(ledger_key(number if code else key))


_COLUMNS = "SELECT invoice_no, customer_code, amount_fen FROM invoices"


def _ledger_rows(conn: sqlite3.Connection, wanted: set[str] | None) -> list[tuple[str, str, int]]:
    """Every ledger invoice, or those written exactly as a wanted number plus those written
    any other way (with letters, spaces or dashes: `No.2533…`), which are matched folded."""
    if wanted is None:
        return list(conn.execute(_COLUMNS + " ORDER BY invoice_no"))
    found = list(
        conn.execute(_COLUMNS + " WHERE invoice_no GLOB '*[^0-9]*' AND length(invoice_no) >= 8")
    )
    numbers = sorted(wanted)
    for at in range(0, len(numbers), 500):
        chunk = numbers[at : at + 500]
        found += conn.execute(
            _COLUMNS + f" WHERE invoice_no IN ({', '.join('?' * len(chunk))})", chunk
        ).fetchall()
    return sorted(found)


def company_key(name: str) -> str:
    """A company name as compared: folded (width, spaces, case), 有限责任公司 = 有限公司."""
    return name_key(name).replace("有限责任公司", "有限公司")


def relink(
    conn: sqlite3.Connection, *, now: str | None = None, keys: list[str] | None = None
) -> list[Issue]:
    """Tie e-invoices to their ledger invoices and customers; store and return the issues.

    `keys`: only these e-invoices (and the 红字 and blue invoices they name), as after one
    e-invoice file; None: all of them, as after a ledger import.
    """
    rows = [_row(r) for r in conn.execute(_ROW_SQL)]
    if keys is not None:
        rows = _related(rows, set(keys))
    if not rows:
        return []
    now = now or _now()
    ledger = _Ledger(conn, None if keys is None else _numbers(rows))
    own: dict[str, tuple[str, str, int] | None] = {
        r.key: ledger.find(r.key, r.number, r.code) for r in rows
    }
    issues: list[Issue] = []
    for row in rows:
        hit = own[row.key]
        target = None
        if row.red and row.original_key:
            blue = own.get(row.original_key)
            if blue is None:
                number, _, code = row.original_key.partition("-")[::-1]
                blue = ledger.find(row.original_key, number or row.original_key, code or None)
            target = blue
        customer = _customer_of(ledger, row, hit or target)
        invoice_no = hit[0] if hit else None
        target_no = target[0] if target else None
        if (customer, invoice_no, target_no) != (row.customer, row.invoice_no, row.target):
            conn.execute(
                "UPDATE einvoices SET customer_code = ?, invoice_no = ?, target_invoice_no = ?"
                " WHERE key = ?",
                [customer, invoice_no, target_no, row.key],
            )
            if row.file is not None and customer != row.customer:
                _file_customer(conn, row.file, customer)
        issues.extend(_issues_of(ledger, row, hit, target, customer))
        issues.extend(_fill_tax_id(conn, ledger, row, customer, now))
    _store_issues(conn, issues, now, {r.key for r in rows} if keys is not None else None)
    return issues


def _file_customer(conn: sqlite3.Connection, document_id: int, customer: str | None) -> None:
    """An invoice file found its customer later (its ledger came after it): file it there."""
    conn.execute(
        "UPDATE documents SET customer_code = ? WHERE id = ? AND kind = 'einvoice'",
        [customer, document_id],
    )
    index_document(conn, document_id)


def _related(rows: list[_Row], keys: set[str]) -> list[_Row]:
    """The rows of `keys`, the 红字 invoices naming them and the invoices they name."""
    named = {r.original_key for r in rows if r.key in keys and r.original_key}
    return [r for r in rows if r.key in keys or r.key in named or r.original_key in keys]


def _numbers(rows: list[_Row]) -> set[str]:
    """Every form a ledger may write these invoices' numbers in: number, code + number."""
    wanted: set[str] = set()
    for r in rows:
        for key in filter(None, [r.key, r.original_key]):
            code, _, number = key.rpartition("-")
            wanted.add(number)
            if code:
                wanted.add(code + number)
    return wanted


def _customer_of(ledger: _Ledger, row: _Row, hit: tuple[str, str, int] | None) -> str | None:
    if hit is not None:
        return hit[1]
    if row.buyer_tax_id and row.buyer_tax_id in ledger.by_tax:
        return ledger.by_tax[row.buyer_tax_id]
    if row.buyer_name:
        return ledger.by_name.get(company_key(row.buyer_name))
    return None


def _issues_of(
    ledger: _Ledger,
    row: _Row,
    hit: tuple[str, str, int] | None,
    target: tuple[str, str, int] | None,
    customer: str | None,
) -> list[Issue]:
    found: list[Issue] = []

    def add(kind: str, detail: str, invoice_no: str | None) -> None:
        found.append(Issue(row.key, kind, customer, invoice_no, detail, row.document))

    total = format_amount(from_fen(row.total_fen))
    if hit is not None and row.status == "void":
        add(
            "void_in_ledger",
            f"电子发票 {row.key} 已作废，台账仍列发票 {hit[0]}（{format_amount(from_fen(hit[2]))}）："
            "已不计入欠款，请在台账中冲销。",
            hit[0],
        )
    elif hit is not None and hit[2] != row.total_fen:
        add(
            "amount",
            f"电子发票 {row.key} 价税合计 {total} 与台账发票 {hit[0]} 的金额"
            f" {format_amount(from_fen(hit[2]))} 不符：未合并，请核对。",
            hit[0],
        )
    if row.red and hit is None and target is None:
        named = row.original_key or "（未注明）"
        add(
            "red_unlinked",
            f"红字发票 {row.key}（{total}）冲销的原发票 {named} 不在台账中：未计入余额，请核对。",
            None,
        )
    if (hit or target) and customer and row.buyer_name:
        name, tax_id, source = ledger.customers.get(customer, ("", None, "placeholder"))
        same_name = source == "placeholder" or company_key(name) == company_key(row.buyer_name)
        same_id = not (tax_id and row.buyer_tax_id) or tax_id == row.buyer_tax_id
        if not same_name or not same_id:
            add(
                "buyer",
                f"电子发票 {row.key} 的购买方是 {row.buyer_name}"
                f"{'（' + row.buyer_tax_id + '）' if row.buyer_tax_id else ''}，"
                f"台账中发票 {(hit or target or ('',))[0]} 属于客户 {customer} {name}：请核对。",
                (hit or target or (None,))[0],
            )
    return found


def _fill_tax_id(
    conn: sqlite3.Connection, ledger: _Ledger, row: _Row, customer: str | None, now: str
) -> list[Issue]:
    """The buyer's 统一社会信用代码 into the customer record, when the buyer is that customer."""
    if customer is None or not row.buyer_tax_id or row.red:
        return []
    name, tax_id, source = ledger.customers[customer]
    if source == "placeholder" or not row.buyer_name:
        return []
    if company_key(name) != company_key(row.buyer_name):
        return []
    if tax_id == row.buyer_tax_id:
        return []
    if tax_id:
        detail = (
            f"电子发票 {row.key} 的购买方税号 {row.buyer_tax_id} 与客户 {customer} 已登记的"
            f"税号 {tax_id} 不同：未覆盖，请核对。"
        )
        return [Issue(row.key, "tax_id", customer, None, detail, row.document)]
    conn.execute(
        "UPDATE customers SET tax_id = ?, updated_at = ? WHERE code = ?",
        [row.buyer_tax_id, now, customer],
    )
    conn.execute(
        "INSERT INTO customer_changes (customer_code, field, old, new, changed_at, document_id)"
        " VALUES (?, 'tax_id', NULL, ?, ?, ?)",
        [customer, row.buyer_tax_id, now, row.document],
    )
    ledger.customers[customer] = (name, row.buyer_tax_id, source)
    ledger.by_tax.setdefault(row.buyer_tax_id, customer)
    return []


def _store_issues(
    conn: sqlite3.Connection, issues: list[Issue], now: str, keys: set[str] | None
) -> None:
    """The issues as they stand now (of `keys`, or all): new ones added, settled ones removed."""
    current = {(i.key, i.kind) for i in issues}
    for key, kind in conn.execute("SELECT einvoice_key, kind FROM einvoice_issues").fetchall():
        if (keys is None or key in keys) and (key, kind) not in current:
            conn.execute(
                "DELETE FROM einvoice_issues WHERE einvoice_key = ? AND kind = ?", [key, kind]
            )
    conn.executemany(
        "INSERT INTO einvoice_issues (einvoice_key, kind, customer_code, invoice_no, detail,"
        " document_id, found_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(einvoice_key, kind) DO UPDATE SET customer_code = excluded.customer_code,"
        " invoice_no = excluded.invoice_no, detail = excluded.detail,"
        " document_id = excluded.document_id",
        [(i.key, i.kind, i.customer, i.invoice_no, i.detail, i.document, now) for i in issues],
    )
