"""Row conversion for the three list ledgers: invoice ledgers, payment lists, customer lists.

A field is read only from the column its header names; a field the file lacks reads as empty,
never from a neighbouring column (a 备注 beside 对应发票号 is nobody's payment number).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import cast

from dunning.archive.ledger.header import ALIASES, Column
from dunning.archive.ledger.rows import (
    ZERO,
    Currencies,
    CustomerRow,
    InvoiceRow,
    Ledger,
    PaymentRow,
    amount_value,
    checked_text,
    date_value,
    is_sign_off,
    skip_kind,
    text,
)
from dunning.errors import RowProblem

Row = Sequence[object]
Rows = Iterable[tuple[int, Row]]

INVOICE_FIELDS = (
    "customer_code", "customer_name", "contract_no", "invoice_no", "invoice_date", "due_date",
    "amount", "received", "paid_on", "paid_amount", "payment_no", "balance", "currency",
)  # fmt: skip
PAYMENT_FIELDS = (
    "customer_code", "customer_name", "paid_on", "paid_amount", "invoice_ref", "payment_no",
    "currency",
)  # fmt: skip
# The amount columns whose header may say 本位币 (or name a currency: 应收金额(USD)).
MONEY_FIELDS = ("amount", "received", "balance", "paid_amount", "debit", "credit")
CUSTOMER_FIELDS = (
    "customer_code", "customer_name", "address", "contact", "phone", "credit_grade",
    "salesperson",
)  # fmt: skip


class Layout:
    """Where each field sits in a row, so a row's values come out in one itemgetter call."""

    def __init__(
        self,
        columns: dict[str, Column],
        fields: Sequence[str],
        header_cells: Sequence[object] = (),
        currencies: Currencies | None = None,
    ) -> None:
        present = [columns[f].index for f in fields if f in columns]
        self.width = max(present, default=-1) + 1
        # Where a total row's label may stand: a recognised column or the first; a remark
        # such as 含运费合计 in an unrecognised column never makes a row a total.
        self.labels = tuple(sorted({0, *(c.index for c in columns.values())}))
        self.header_texts = [c.strip() for c in header_cells if type(c) is str and c.strip()]
        # Fields whose header says 万元/千元; empty for almost every file.
        self.scales = {
            f: columns[f].scale for f in fields if f in columns and columns[f].scale != 1
        }
        self.present = frozenset(f for f in fields if f in columns)
        # A field the file lacks reads the None appended after the row, never a real cell.
        self.get = itemgetter(*(columns[f].index if f in columns else -1 for f in fields))
        # A field the file lacks is named by its usual header (客户名称), never its code.
        self.headers = {
            f: columns[f].header if f in columns else ALIASES.get(f, (f,))[0] for f in fields
        }
        code, name = columns.get("customer_code"), columns.get("customer_name")
        self.who = "/".join(c.header for c in (code, name) if c is not None)
        self.customers: dict[tuple[object, ...], tuple[str | None, str | None]] = {}
        self.currencies = currencies or Currencies()
        self.desk = self.currencies.desk
        # Rows are checked for their currency only where a column or the sheet names one.
        self.check_currency = "currency" in columns or self.currencies.book is not None
        self.currency_header = columns["currency"].header if "currency" in columns else "币别"
        self.currency_at = fields.index("currency") if "currency" in fields else -1

    def foreign(self, values: tuple[object, ...], row: int, problems: list[RowProblem]) -> bool:
        """True (and the row named) when the row is in a currency the desk does not keep."""
        if not self.check_currency:
            return False
        return self.currencies.foreign(
            values[self.currency_at], row, self.currency_header, problems
        )

    def values(self, row: Row) -> tuple[object, ...]:
        short = self.width - len(row)
        padded = (*row, None) if short <= 0 else (*row, *(None,) * short, None)
        return cast(tuple[object, ...], self.get(padded))


def skipped(ledger: Ledger, raw: Row, layout: Layout) -> bool:
    """Count the row as read; True (and counted by kind) when it carries no ledger entry."""
    ledger.counts.read += 1
    kind = skip_kind(raw, layout.labels)
    if kind is None:
        return False
    ledger.counts.skip(kind)
    return True


def not_data(
    ledger: Ledger, raw: Row, layout: Layout, problems: list[RowProblem], before: int
) -> bool:
    """A row that failed as data but is a page's repeated header or a sign-off line: its
    problems are withdrawn and it is counted skipped. Checked only for failing rows, so good
    rows pay nothing for it."""
    if len(problems) == before:
        return False
    kind = repeat_or_footer(raw, layout)
    if kind is None:
        return False
    del problems[before:]
    ledger.counts.skip(kind)
    return True


def repeat_or_footer(raw: Row, layout: Layout) -> str | None:
    """`header` for the header printed again on a new page, `footer` for a sign-off line."""
    first = raw[0] if raw else None
    if type(first) is str and layout.header_texts and first.strip() == layout.header_texts[0]:
        cells = [c.strip() for c in raw if type(c) is str and c.strip()]
        if cells == layout.header_texts:
            return "header"
    return "footer" if is_sign_off(raw) else None


def scaled(amount: Decimal | None, layout: Layout, field: str) -> Decimal | None:
    scale = layout.scales.get(field, 1)
    return amount if amount is None or scale == 1 else amount * scale


def who(
    values: tuple[object, ...], row: int, layout: Layout, problems: list[RowProblem]
) -> tuple[str | None, str | None]:
    # A customer's code and name repeat on each of its rows: read each pair once.
    first, second = values[0], values[1]
    key = (type(first), first, type(second), second)  # True == 1, but reads as another code
    known = layout.customers.get(key)
    if known is not None:
        return known
    before = len(problems)
    found = _who(values, row, layout, problems)
    if len(problems) == before and len(layout.customers) < _MEMO:
        layout.customers[key] = found
    return found


_MEMO = 100_000


def _who(
    values: tuple[object, ...], row: int, layout: Layout, problems: list[RowProblem]
) -> tuple[str | None, str | None]:
    headers = layout.headers
    code = checked_text(values[0], row, headers["customer_code"], problems, ident=True)
    name = checked_text(values[1], row, headers["customer_name"], problems)
    if text(values[0]) is None and text(values[1]) is None:
        why = "客户编号和客户名称都为空：请至少填写一项"
        problems.append(RowProblem(row, layout.who, "", why))
    return code, name


def read_invoices(
    rows: Rows,
    columns: dict[str, Column],
    ledger: Ledger,
    problems: list[RowProblem],
    header: Sequence[object] = (),
    currencies: Currencies | None = None,
) -> tuple[str, ...]:
    # Payment columns on an invoice row become payments against that invoice, unless the
    # ledger also has 已收金额: then they are already counted in it and are not read twice.
    embedded = "paid_on" in columns and "paid_amount" in columns and "received" not in columns
    fields = INVOICE_FIELDS if embedded else (*INVOICE_FIELDS[:8], "balance", "currency")
    layout = Layout(columns, INVOICE_FIELDS, header, currencies)
    seen: dict[str, tuple[int, InvoiceRow]] = {}
    for row, raw in rows:
        if skipped(ledger, raw, layout):
            continue
        values = layout.values(raw)
        before = len(problems)
        invoice = _invoice(values, row, layout, problems)
        if invoice is not None:
            _check_twice(invoice, seen, layout.headers["invoice_no"], problems)
        payment = _embedded_payment(values, row, layout, problems) if embedded else None
        if not_data(ledger, raw, layout, problems, before):
            continue
        if len(problems) == before and invoice is not None:
            ledger.invoices.append(invoice)
            ledger.counts.imported += 1
            if payment is not None:
                ledger.payments.append(payment)
    return fields


def _check_twice(
    invoice: InvoiceRow,
    seen: dict[str, tuple[int, InvoiceRow]],
    header: str,
    problems: list[RowProblem],
) -> None:
    """The same invoice number on two rows: both rows are bad, neither overwrites the other."""
    number = invoice.invoice_no
    if number not in seen:
        seen[number] = (invoice.row, invoice)
        return
    first_row, first = seen[number]
    same = _content(first) == _content(invoice)
    how = "内容相同" if same else "内容不同"
    why = f"发票 {number} 出现在第 {first_row} 行和第 {invoice.row} 行（{how}）：只保留一行"
    if not any(p.row == first_row and p.value == number for p in problems):
        problems.append(RowProblem(first_row, header, number, why))
    problems.append(RowProblem(invoice.row, header, number, why))


def _content(invoice: InvoiceRow) -> tuple[object, ...]:
    return (
        invoice.customer_code, invoice.customer_name, invoice.contract_no, invoice.invoice_date,
        invoice.due_date, invoice.amount, invoice.received,
    )  # fmt: skip


def _invoice(
    values: tuple[object, ...], row: int, layout: Layout, problems: list[RowProblem]
) -> InvoiceRow | None:
    headers = layout.headers
    code, name = who(values, row, layout, problems)
    number = checked_text(values[3], row, headers["invoice_no"], problems, ident=True)
    if number is None and text(values[3]) is None:
        problems.append(RowProblem(row, headers["invoice_no"], "", "发票号码为空：请填写"))
    contract = checked_text(values[2], row, headers["contract_no"], problems, ident=True)
    issued = date_value(values[4], row, headers["invoice_date"], problems, required=True)
    due = date_value(values[5], row, headers["due_date"], problems, required=False)
    desk = layout.desk
    amount = amount_value(values[6], row, headers["amount"], problems, required=True, currency=desk)
    received = amount_value(
        values[7], row, headers["received"], problems, required=False, currency=desk
    )
    outstanding = None
    if "balance" in layout.present:
        outstanding = amount_value(
            values[11], row, headers["balance"], problems, required=False, currency=desk
        )
    if layout.foreign(values, row, problems):
        return None
    if layout.scales:
        amount = scaled(amount, layout, "amount")
        received = scaled(received, layout, "received")
        outstanding = scaled(outstanding, layout, "balance")
    if number is None or issued is None or amount is None:
        return None
    if outstanding is not None:
        # 应收余额/未收金额: what is still owed, so what was received is the rest.
        implied = amount - outstanding
        if received is not None and received != implied:
            why = (
                f"{headers['amount']} {amount} − {headers['received']} {received} 不等于"
                f"{headers['balance']} {outstanding}：请更正该行"
            )
            problems.append(RowProblem(row, headers["balance"], str(outstanding), why))
            return None
        received = implied
    return InvoiceRow(
        row, code, name, contract, number, issued, due, amount,
        ZERO if received is None else received,
    )  # fmt: skip


def _embedded_payment(
    values: tuple[object, ...], row: int, layout: Layout, problems: list[RowProblem]
) -> PaymentRow | None:
    headers = layout.headers
    amount = scaled(
        amount_value(
            values[9], row, headers["paid_amount"], problems, required=False,
            currency=layout.desk,
        ),
        layout,
        "paid_amount",
    )  # fmt: skip
    if amount is None or amount == 0:
        return None  # no payment on this invoice yet
    paid_on = date_value(values[8], row, headers["paid_on"], problems, required=True)
    number = checked_text(values[3], row, headers["invoice_no"], [], ident=True)
    if paid_on is None or number is None:
        return None
    code, name = who(values, row, layout, [])
    payment_no = checked_text(values[10], row, headers["payment_no"], problems, ident=True)
    return PaymentRow(row, code, name, paid_on, amount, number, payment_no)


def read_payments(
    rows: Rows,
    columns: dict[str, Column],
    ledger: Ledger,
    problems: list[RowProblem],
    header: Sequence[object] = (),
    currencies: Currencies | None = None,
) -> tuple[str, ...]:
    layout = Layout(columns, PAYMENT_FIELDS, header, currencies)
    headers = layout.headers
    lines: dict[tuple[object, ...], int] = {}
    for row, raw in rows:
        if skipped(ledger, raw, layout):
            continue
        values = layout.values(raw)
        before = len(problems)
        code, name = who(values, row, layout, problems)
        paid_on = date_value(values[2], row, headers["paid_on"], problems, required=True)
        amount = scaled(
            amount_value(
                values[3], row, headers["paid_amount"], problems, required=True,
                currency=layout.desk,
            ),
            layout,
            "paid_amount",
        )  # fmt: skip
        ref = checked_text(values[4], row, headers["invoice_ref"], problems, ident=True)
        number = checked_text(values[5], row, headers["payment_no"], problems, ident=True)
        layout.foreign(values, row, problems)
        if not_data(ledger, raw, layout, problems, before):
            continue
        if len(problems) != before or paid_on is None or amount is None:
            continue
        payment = PaymentRow(row, code, name, paid_on, amount, ref, number)
        if number is not None and _line_twice(payment, lines, headers["payment_no"], problems):
            continue
        ledger.payments.append(payment)
        ledger.counts.imported += 1
    return PAYMENT_FIELDS


def _line_twice(
    payment: PaymentRow,
    lines: dict[tuple[object, ...], int],
    header: str,
    problems: list[RowProblem],
) -> bool:
    """The same numbered payment line twice (same number, invoice, day, amount) is an export
    that repeated a line, not a transfer split over invoices: both rows are bad."""
    key = (payment.customer_code, payment.customer_name, payment.payment_no,
           payment.invoice_ref, payment.paid_on, payment.amount)  # fmt: skip
    first = lines.setdefault(key, payment.row)
    if first == payment.row:
        return False
    why = (
        f"回款 {payment.payment_no} 出现在第 {first} 行和第 {payment.row} 行，发票、日期和金额"
        "都相同；一笔转账分摊到几张发票时每行应是不同的发票：请删去重复的行"
    )
    if not any(p.row == first and p.value == payment.payment_no for p in problems):
        problems.append(RowProblem(first, header, str(payment.payment_no), why))
    problems.append(RowProblem(payment.row, header, str(payment.payment_no), why))
    return True


def read_customers(
    rows: Rows,
    columns: dict[str, Column],
    ledger: Ledger,
    problems: list[RowProblem],
    header: Sequence[object] = (),
    currencies: Currencies | None = None,
) -> tuple[str, ...]:
    del currencies  # a customer list holds no amounts
    layout = Layout(columns, CUSTOMER_FIELDS, header)
    seen: dict[str, int] = {}
    for row, raw in rows:
        if skipped(ledger, raw, layout):
            continue
        values = layout.values(raw)
        before = len(problems)
        code, name = who(values, row, layout, problems)
        if code is not None and code in seen:
            why = f"客户 {code} 出现在第 {seen[code]} 行和第 {row} 行：每个客户只列一次"
            problems.append(RowProblem(row, layout.headers["customer_code"], code, why))
        elif code is not None:
            seen[code] = row
        fields = CUSTOMER_FIELDS[2:]
        rest = [
            checked_text(v, row, layout.headers[f], problems)
            for v, f in zip(values[2:], fields, strict=True)
        ]
        if not_data(ledger, raw, layout, problems, before):
            continue
        if len(problems) == before:
            ledger.customers.append(CustomerRow(row, code, name, *rest))
            ledger.counts.imported += 1
    return CUSTOMER_FIELDS
