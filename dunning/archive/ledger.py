"""Ledger files (CSV/XLSX exports) read into plain rows: invoices, payments, customers.

`read_ledger` finds the header row, decides the kind from the recognised columns (see
`ledger_columns.decide_kind`) and converts every row; one bad row rejects the whole file with
every bad row listed. Files are opened in `ledger_files`; this module owns row conversion.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from pathlib import Path
from typing import Literal, cast

from dunning.archive.ledger_columns import (
    Column,
    decide_kind,
    find_header,
    missing_columns,
    no_header_error,
)
from dunning.archive.ledger_files import Row, Sheet, open_sheets
from dunning.dates import parse_date
from dunning.errors import IngestError, RowProblem
from dunning.money import CENT, parse_amount

LedgerKind = Literal["invoices", "payments", "customers"]


@dataclass(frozen=True)
class InvoiceRow:
    row: int  # the row number the clerk sees in Excel (1-based, header rows counted)
    customer_code: str | None
    customer_name: str | None
    contract_no: str | None
    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date | None  # None: the import applies the desk's default terms
    amount: Decimal
    received: Decimal  # 已收金额 already applied to this invoice; 0 when the column is absent


@dataclass(frozen=True)
class PaymentRow:
    row: int
    customer_code: str | None
    customer_name: str | None
    paid_on: dt.date
    amount: Decimal
    invoice_ref: str | None
    payment_no: str | None


@dataclass(frozen=True)
class CustomerRow:
    row: int
    code: str | None
    name: str | None
    address: str | None = None
    contact: str | None = None
    phone: str | None = None
    credit_grade: str | None = None
    salesperson: str | None = None


@dataclass
class Ledger:
    kind: LedgerKind
    sheet: str | None  # XLSX sheet name, None for CSV
    header_row: int  # 1-based
    columns: dict[str, str]  # our field name -> the header as written in the file
    invoices: list[InvoiceRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    customers: list[CustomerRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # headers no field was read from
    encoding: str | None = None  # CSV only: utf-8-sig, gb18030 or utf-16

    @property
    def row_count(self) -> int:
        return len(self.invoices) + len(self.payments) + len(self.customers)


INVOICE_FIELDS = (
    "customer_code", "customer_name", "contract_no", "invoice_no", "invoice_date", "due_date",
    "amount", "received", "paid_on", "paid_amount", "payment_no",
)  # fmt: skip
PAYMENT_FIELDS = (
    "customer_code", "customer_name", "paid_on", "paid_amount", "invoice_ref", "payment_no",
)  # fmt: skip
CUSTOMER_FIELDS = (
    "customer_code", "customer_name", "address", "contact", "phone", "credit_grade",
    "salesperson",
)  # fmt: skip
# 合计/总计/小计 (also 本月合计, 合 计); 小计算机 is a name, not a subtotal.
_TOTAL = re.compile(r"[合总小]\s*计(?!算)")
_ZERO = Decimal("0.00")
# Below this a float is an ordinary amount (money.LIMIT): its repr is exact enough to quantize.
_FLOAT_FAST = 1e11
_KIND_LABEL = {
    "invoices": "invoice ledger",
    "payments": "payment list",
    "customers": "customer list",
}


def read_ledger(path: Path) -> Ledger:
    """Read a CSV or XLSX ledger export; raises IngestError listing every bad row.

    The first sheet whose header fits a kind is read. Row numbers are those Excel shows
    (for CSV: the record number, which is the line number unless a cell holds a line break).
    """
    first: list[Row] | None = None
    with open_sheets(path) as sheets:
        for sheet in sheets:
            if first is None and not all(_is_blank(row) for row in sheet.head):
                first = sheet.head
            found = find_header(sheet.head)
            decided = decide_kind(found[1]) if found else None
            if found is not None and decided is not None:
                kind = cast(LedgerKind, decided[0])
                return _read_sheet(path, sheet, found[0], kind, decided[1])
    if first is None:
        raise IngestError(f"{path.name} has no data; export the ledger again and import it.")
    raise no_header_error(first)


def _read_sheet(
    path: Path, sheet: Sheet, offset: int, kind: LedgerKind, columns: dict[str, Column]
) -> Ledger:
    where = f"{path.name}" + (f", sheet {sheet.name!r}" if sheet.name else "")
    missing = missing_columns(kind, columns)
    if missing:
        raise IngestError(
            f"The {_KIND_LABEL[kind]} in {where} has no {' or '.join(missing)} column in its "
            f"header (row {offset + 1}); add the column and import the file again."
        )
    ledger = Ledger(kind, sheet.name, offset + 1, {}, encoding=sheet.encoding)
    rows = enumerate(itertools.chain(sheet.head[offset + 1 :], sheet.rest), start=offset + 2)
    problems: list[RowProblem] = []
    if kind == "invoices":
        used = _read_invoices(rows, columns, ledger, problems)
    elif kind == "payments":
        used = _read_payments(rows, _Layout(columns, PAYMENT_FIELDS), ledger, problems)
    else:
        used = _read_customers(rows, _Layout(columns, CUSTOMER_FIELDS), ledger, problems)
    if problems:
        bad_rows = len({p.row for p in problems})
        raise IngestError(
            f"{where}: {bad_rows} row(s) have bad values, so nothing was imported; correct "
            "the rows listed below and import the file again.",
            problems,
        )
    if ledger.row_count == 0:
        raise IngestError(f"{where} has a header but no ledger rows; export it again with rows.")
    ledger.columns = {name: columns[name].header for name in used if name in columns}
    header = sheet.head[offset]
    used_at = {columns[name].index for name in ledger.columns}
    ledger.ignored_columns = [
        cell.strip()
        for i, cell in enumerate(header)
        if isinstance(cell, str) and cell.strip() and i not in used_at
    ]
    return ledger


class _Layout:
    """Where each field sits in a row, so a row's values come out in one itemgetter call."""

    def __init__(self, columns: dict[str, Column], fields: Sequence[str]) -> None:
        present = [columns[f].index for f in fields if f in columns]
        pad_at = max(present, default=-1) + 1
        # A missing optional field reads from one padding cell past the last real column.
        self.width = pad_at + (1 if len(present) < len(fields) else 0)
        self.get = itemgetter(*(columns[f].index if f in columns else pad_at for f in fields))
        self.headers = {f: columns[f].header if f in columns else f for f in fields}
        code, name = columns.get("customer_code"), columns.get("customer_name")
        self.who = "/".join(c.header for c in (code, name) if c is not None)

    def values(self, row: Row) -> tuple[object, ...] | None:
        """The row's field values, or None for a blank or total row."""
        if len(row) < self.width:
            row = (*row, *(None,) * (self.width - len(row)))
        return None if _skip(row) else cast(tuple[object, ...], self.get(row))


def _is_blank(row: Row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _skip(row: Row) -> bool:
    """Blank rows and total rows (合计/总计/小计 in any text cell) carry no ledger entry."""
    blank = True
    for value in row:
        if value is None:
            continue
        if type(value) is str:
            if "计" in value and _TOTAL.search(value):
                return True
            if not value or value.isspace():
                continue
        blank = False
    return blank


def _text(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    if type(value) is float and value.is_integer():
        return str(int(value))  # a code or number typed into a numeric cell: 1001.0 → "1001"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip() or None


def _date(
    value: object, row: int, header: str, problems: list[RowProblem], *, required: bool
) -> dt.date | None:
    if type(value) is dt.datetime:
        return value.date()  # the common Excel date cell, without the general parser
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "the date is empty; fill it in"))
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None


def _amount(
    value: object, row: int, header: str, problems: list[RowProblem], *, required: bool
) -> Decimal | None:
    if type(value) is float and -_FLOAT_FAST < value < _FLOAT_FAST:
        # parse_amount's float rule inlined for the common Excel cell (and NaN fails the test).
        return Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(RowProblem(row, header, "", "the amount is empty; fill it in"))
        return None
    try:
        return parse_amount(value)
    except ValueError as exc:
        problems.append(RowProblem(row, header, str(value), str(exc)))
        return None


def _who(
    values: tuple[object, ...], row: int, layout: _Layout, problems: list[RowProblem]
) -> tuple[str | None, str | None]:
    code, name = _text(values[0]), _text(values[1])
    if code is None and name is None:
        why = "the customer code and name are both empty; fill in at least one"
        problems.append(RowProblem(row, layout.who, "", why))
    return code, name


def _read_invoices(
    rows: Iterable[tuple[int, Row]],
    columns: dict[str, Column],
    ledger: Ledger,
    problems: list[RowProblem],
) -> tuple[str, ...]:
    # Payment columns on an invoice row become payments against that invoice, unless the
    # ledger also has 已收金额: then they are already counted in it and are not read twice.
    embedded = "paid_on" in columns and "paid_amount" in columns and "received" not in columns
    fields = INVOICE_FIELDS if embedded else INVOICE_FIELDS[:-3]
    layout = _Layout(columns, INVOICE_FIELDS)
    seen: dict[str, int] = {}
    for row, raw in rows:
        values = layout.values(raw)
        if values is None:
            continue
        before = len(problems)
        invoice = _invoice(values, row, layout, problems)
        if invoice is not None:
            number = invoice.invoice_no
            if number in seen:
                why = f"invoice {number} is also on row {seen[number]}; list each invoice once"
                problems.append(RowProblem(row, layout.headers["invoice_no"], number, why))
            seen.setdefault(number, row)
        payment = _embedded_payment(values, row, layout, problems) if embedded else None
        if len(problems) == before and invoice is not None:
            ledger.invoices.append(invoice)
            if payment is not None:
                ledger.payments.append(payment)
    return fields


def _invoice(
    values: tuple[object, ...], row: int, layout: _Layout, problems: list[RowProblem]
) -> InvoiceRow | None:
    headers = layout.headers
    code, name = _who(values, row, layout, problems)
    number = _text(values[3])
    if number is None:
        problems.append(
            RowProblem(row, headers["invoice_no"], "", "the invoice number is empty; fill it in")
        )
    issued = _date(values[4], row, headers["invoice_date"], problems, required=True)
    due = _date(values[5], row, headers["due_date"], problems, required=False)
    amount = _amount(values[6], row, headers["amount"], problems, required=True)
    received = _amount(values[7], row, headers["received"], problems, required=False)
    if number is None or issued is None or amount is None:
        return None
    return InvoiceRow(
        row, code, name, _text(values[2]), number, issued, due, amount,
        _ZERO if received is None else received,
    )  # fmt: skip


def _embedded_payment(
    values: tuple[object, ...], row: int, layout: _Layout, problems: list[RowProblem]
) -> PaymentRow | None:
    headers = layout.headers
    amount = _amount(values[9], row, headers["paid_amount"], problems, required=False)
    if amount is None or amount == 0:
        return None  # no payment on this invoice yet
    paid_on = _date(values[8], row, headers["paid_on"], problems, required=True)
    number = _text(values[3])
    if paid_on is None or number is None:
        return None
    code, name = _text(values[0]), _text(values[1])
    return PaymentRow(row, code, name, paid_on, amount, number, _text(values[10]))


def _read_payments(
    rows: Iterable[tuple[int, Row]], layout: _Layout, ledger: Ledger, problems: list[RowProblem]
) -> tuple[str, ...]:
    headers = layout.headers
    for row, raw in rows:
        values = layout.values(raw)
        if values is None:
            continue
        code, name = _who(values, row, layout, problems)
        paid_on = _date(values[2], row, headers["paid_on"], problems, required=True)
        amount = _amount(values[3], row, headers["paid_amount"], problems, required=True)
        if paid_on is not None and amount is not None and (code or name):
            ledger.payments.append(
                PaymentRow(row, code, name, paid_on, amount, _text(values[4]), _text(values[5]))
            )
    return PAYMENT_FIELDS


def _read_customers(
    rows: Iterable[tuple[int, Row]], layout: _Layout, ledger: Ledger, problems: list[RowProblem]
) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    for row, raw in rows:
        values = layout.values(raw)
        if values is None:
            continue
        code, name = _who(values, row, layout, problems)
        if code is not None and code in seen:
            why = f"customer {code} is also on row {seen[code]}; list each customer once"
            problems.append(RowProblem(row, layout.headers["customer_code"], code, why))
        elif code is not None:
            seen[code] = row
        if code or name:
            rest = (_text(v) for v in values[2:])
            ledger.customers.append(CustomerRow(row, code, name, *rest))
    return CUSTOMER_FIELDS
