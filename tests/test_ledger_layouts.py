"""Metamorphic property: one data set in any export layout gives the same numbers.

Hypothesis draws the layout: column order, unrecognised columns before, between and after the
recognised ones, title/blank/制表 lines above the header, CSV, XLSX or XLS, five encodings, CRLF
or LF, three delimiters, numbers stored as text, every date form of SPEC §3, header aliases. The
balances, buckets and row counts must equal those of the plain layout.

A second property adds what a foreign-currency book or a 核销 export adds (a 币种 column, a
USD row, a `$` amount, a 币别：美元 title, 核销/未核销 columns): the CNY balances are the same,
or the file is refused naming the row; never a different balance.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import examples

from dunning.archive.ledger import Ledger, read_ledger
from dunning.errors import IngestError
from dunning.receivables import Invoice, Payment, age

AS_OF = dt.date(2025, 11, 30)
EDGES = (30, 60, 90)

# (code, name, invoice, issued, due, amount, received)
INVOICES = [
    ("KH001", "厦门鹭岛贸易有限公司", "FP1001", dt.date(2025, 3, 5), dt.date(2025, 4, 4), "11300.00", "0"),
    ("KH001", "厦门鹭岛贸易有限公司", "FP1002", dt.date(2025, 8, 1), dt.date(2025, 8, 31), "2000.50", "500"),
    ("KH002", "南京同创化工有限公司", "FP2001", dt.date(2025, 9, 10), dt.date(2025, 10, 10), "8000.00", "0"),
    ("KH003", "A&B <HK> 有限公司", "FP3001", dt.date(2025, 11, 1), dt.date(2025, 12, 1), "600.00", "0"),
]  # fmt: skip
# (code, name, paid_on, amount, invoice_ref)
PAYMENTS = [
    ("KH001", "厦门鹭岛贸易有限公司", dt.date(2025, 5, 1), "3000.00", "FP1001"),
    ("KH001", "厦门鹭岛贸易有限公司", dt.date(2025, 5, 1), "3000.00", ""),
    ("KH002", "南京同创化工有限公司", dt.date(2025, 10, 20), "1234.56", ""),
]  # fmt: skip
INVOICE_HEADERS = {
    "code": ("客户编号", "客户代码", "Customer Code"),
    "name": ("客户名称", "单位名称", "Customer"),
    "invoice": ("发票号码", "发票号", "Invoice No"),
    "issued": ("开票日期", "业务日期", "Invoice Date"),
    "due": ("到期日", "约定付款日", "Due Date"),
    "amount": ("应收金额", "价税合计", "Amount"),
    "received": ("已收金额", "已回款", "Received"),
}
PAYMENT_HEADERS = {
    "code": ("客户编号", "客户编码", "Customer Code"),
    "name": ("客户名称", "付款单位", "Customer"),
    "paid_on": ("回款日期", "收款日期", "Payment Date"),
    "amount": ("回款金额", "收款金额", "Payment Amount"),
    "ref": ("对应发票号", "核销发票号", "Invoice Ref"),
}
UNKNOWN = ("备注", "业务员", "经办人", "部门", "序号", "开户行", "Notes", "区域")
TITLES = (
    "本公司应收账款台账（截至2025年11月30日）",
    "制表单位：杭州示例有限公司",
    "制表日期：2025-11-30",
    "",
    "单位：元",
)
ENCODINGS = ("gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16")


def date_forms(day: dt.date) -> list[object]:
    serial = (day - dt.date(1899, 12, 30)).days
    return [
        day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日", f"{day:%Y%m%d}", serial,
        dt.datetime(day.year, day.month, day.day),
    ]  # fmt: skip


def amount_forms(amount: str) -> list[object]:
    value = Decimal(amount)
    return [amount, f"{value:,.2f}", f"￥{value:,.2f}", float(value), f"{value.normalize():f}"]


@st.composite
def layouts(draw: st.DrawFn, kind: str) -> dict[str, object]:
    headers = INVOICE_HEADERS if kind == "invoices" else PAYMENT_HEADERS
    fields = list(headers)
    order = draw(st.permutations(fields))
    unknown = draw(st.lists(st.sampled_from(UNKNOWN), max_size=4, unique=True))
    columns: list[str] = list(order)
    for extra in unknown:
        columns.insert(draw(st.integers(0, len(columns))), extra)
    return {
        "columns": columns,
        "aliases": {f: draw(st.sampled_from(headers[f])) for f in fields},
        "titles": draw(st.lists(st.sampled_from(TITLES), max_size=3)),
        "xlsx": draw(st.sampled_from(("", "xlsx", "xls"))),
        "encoding": draw(st.sampled_from(ENCODINGS)),
        "newline": draw(st.sampled_from(("\n", "\r\n"))),
        "delimiter": draw(st.sampled_from((",", "\t", ";"))),
        "form": draw(st.integers(0, 6)),
        "amount_form": draw(st.integers(0, 4)),
        "filler": draw(st.sampled_from(("银行转账", "加急", "", "张三", "0005"))),
    }


def records(kind: str) -> list[dict[str, object]]:
    if kind == "invoices":
        keys = ("code", "name", "invoice", "issued", "due", "amount", "received")
        return [dict(zip(keys, r, strict=True)) for r in INVOICES]
    keys = ("code", "name", "paid_on", "amount", "ref")
    return [dict(zip(keys, r, strict=True)) for r in PAYMENTS]


def cell(value: object, layout: dict[str, object], *, text_only: bool) -> object:
    form = int(layout["form"])  # type: ignore[call-overload]
    if isinstance(value, dt.date):
        forms = date_forms(value)
        chosen = forms[form]
        if text_only and not isinstance(chosen, str):
            chosen = forms[form % 5]  # a CSV holds text: serials and date cells become text forms
        return chosen
    if (isinstance(value, str) and value and value[0].isdigit() and "." in value) or value == "0":
        chosen = amount_forms(str(value))[int(layout["amount_form"])]  # type: ignore[call-overload]
        return f"{chosen}" if text_only else chosen
    return value


def write(
    tmp: Path,
    kind: str,
    layout: dict[str, object],
    rows: list[dict[str, object]] | None = None,
    titles: list[str] | None = None,
) -> Path:
    columns: list[str] = layout["columns"]  # type: ignore[assignment]
    aliases: dict[str, str] = layout["aliases"]  # type: ignore[assignment]
    text_only = not layout["xlsx"]
    header = [aliases.get(c, c) for c in columns]
    body = [
        [cell(r[c], layout, text_only=text_only) if c in r else layout["filler"] for c in columns]
        for r in (records(kind) if rows is None else rows)
    ]
    total = ["合计"] + [None] * (len(columns) - 1)
    lines = [[t] for t in [*(titles or []), *layout["titles"]]]  # type: ignore[misc]
    table = [*lines, header, *body, total]
    if layout["xlsx"] == "xls":
        return write_xls(tmp / f"{kind}.xls", table)
    if layout["xlsx"]:
        path = tmp / f"{kind}.xlsx"
        wb = openpyxl.Workbook()
        for row in table:
            wb.active.append(row)
        wb.save(path)
        return path
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=str(layout["delimiter"]), lineterminator=str(layout["newline"])
    )
    for row in table:
        writer.writerow(["" if v is None else v for v in row])
    path = tmp / f"{kind}.csv"
    path.write_bytes(buffer.getvalue().encode(str(layout["encoding"])))
    return path


_XLS_DATE = xlwt.easyxf(num_format_str="yyyy-mm-dd")


def write_xls(path: Path, table: list[list[object]]) -> Path:
    """A legacy .xls (BIFF8), as Kingdee K/3 and Yonyou U8 export: date cells formatted as
    dates, numbers as numbers."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("应收账款")
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write(r, c, value, _XLS_DATE)
            else:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def numbers(invoices: Ledger, payments: Ledger) -> object:
    inv = [
        Invoice(
            i.invoice_no,
            i.customer_code or "",
            i.invoice_date,
            i.due_date or i.invoice_date,
            i.amount,
            i.received,
            i.contract_no,
        )
        for i in invoices.invoices
    ]
    pay = [
        Payment(p.customer_code or "", p.paid_on, p.amount, p.invoice_ref)
        for p in payments.payments
    ]
    result = {}
    for code in sorted({i.customer_code for i in inv}):
        aging = age(
            code,
            code,
            [i for i in inv if i.customer_code == code],
            [p for p in pay if p.customer_code == code],
            as_of=AS_OF,
            edges=EDGES,
        )
        result[code] = (aging.balance, dict(aging.buckets), aging.max_days_overdue)
    counts = [(x.counts.read, x.counts.imported, x.counts.skipped) for x in (invoices, payments)]
    return result, counts


PLAIN = {
    "titles": [], "xlsx": "", "encoding": "utf-8", "newline": "\n", "delimiter": ",",
    "form": 0, "amount_form": 0, "filler": "",
}  # fmt: skip


def plain(tmp: Path, kind: str) -> Ledger:
    headers = INVOICE_HEADERS if kind == "invoices" else PAYMENT_HEADERS
    layout = {**PLAIN, "columns": list(headers), "aliases": {f: a[0] for f, a in headers.items()}}
    return read_ledger(write(tmp, kind, layout))


def test_the_plain_layout_reads_what_was_written(tmp_path: Path) -> None:
    result, counts = numbers(plain(tmp_path, "invoices"), plain(tmp_path, "payments"))  # type: ignore[misc]
    assert result["KH001"][0] == Decimal("6800.50")  # 11300 + 2000.50 - 500 - 3000 - 3000
    assert result["KH002"][0] == Decimal("6765.44")
    assert counts == [(5, 4, {"total": 1}), (4, 3, {"total": 1})]


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(inv_layout=layouts("invoices"), pay_layout=layouts("payments"))
def test_any_layout_gives_the_same_numbers(
    tmp_path_factory: object, inv_layout: dict[str, object], pay_layout: dict[str, object]
) -> None:
    tmp = tmp_path_factory.mktemp("layout")  # type: ignore[attr-defined]
    expected = numbers(plain(tmp, "invoices"), plain(tmp, "payments"))
    (tmp / "drawn").mkdir()
    got = numbers(
        read_ledger(write(tmp / "drawn", "invoices", inv_layout)),
        read_ledger(write(tmp / "drawn", "payments", pay_layout)),
    )
    assert got == expected


# What a foreign-currency book or a 核销 export adds to an invoice ledger.
CHANGES = (
    "currency column, all yuan",
    "currency column with a USD row",
    "a $ amount",
    "币别 title in USD",
    "币别 title in 人民币",
    "核销 header for received",
    "未核销 column",
    "未核销 column, one wrong",
)
YUAN_WORDS = ("CNY", "人民币", "RMB", "￥", "")
USD_ROW = {
    "code": "KH002", "name": "南京同创化工有限公司", "invoice": "FP2009",
    "issued": dt.date(2025, 9, 12), "due": dt.date(2025, 10, 12), "amount": "5000.00",
    "received": "0",
}  # fmt: skip


def changed(
    layout: dict[str, object], change: str, place: int
) -> tuple[dict[str, object], list[dict[str, object]], list[str], int | None]:
    """The layout, rows and title lines with `change` made, and the data row (0-based) that
    must be refused, if any (-1: every row)."""
    columns: list[str] = list(layout["columns"])  # type: ignore[call-overload]
    aliases: dict[str, str] = dict(layout["aliases"])  # type: ignore[call-overload]
    rows = [dict(r) for r in records("invoices")]
    titles: list[str] = []
    refused: int | None = None
    if change.startswith("currency column"):
        columns.insert(place % (len(columns) + 1), "currency")
        aliases["currency"] = ("币种", "币别", "Currency")[place % 3]
        for n, row in enumerate(rows):
            row["currency"] = YUAN_WORDS[(n + place) % len(YUAN_WORDS)]
        if "USD" in change:
            rows.insert(place % (len(rows) + 1), {**USD_ROW, "currency": "USD"})
            refused = place % len(rows)
    elif change == "a $ amount":
        rows.insert(place % (len(rows) + 1), {**USD_ROW, "amount": "$5,000.00"})
        refused = place % len(rows)
    elif change.startswith("币别 title"):
        titles = ["币别：美元" if "USD" in change else "币别：人民币"]
        refused = -1 if "USD" in change else None
    elif change == "核销 header for received":
        aliases["received"] = ("核销金额", "已核销金额", "本次核销")[place % 3]
    else:
        columns.insert(place % (len(columns) + 1), "open")
        aliases["open"] = ("未核销金额", "未核销余额")[place % 2]
        for row in rows:
            row["open"] = f"{Decimal(str(row['amount'])) - Decimal(str(row['received'])):.2f}"
        if "wrong" in change:
            refused = place % len(rows)
            rows[refused]["open"] = f"{Decimal(str(rows[refused]['open'])) + 1:.2f}"
    return {**layout, "columns": columns, "aliases": aliases}, rows, titles, refused


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=layouts("invoices"), change=st.sampled_from(CHANGES), place=st.integers(0, 50))
def test_a_currency_or_hexiao_never_changes_the_cny_balances_silently(
    tmp_path_factory: object, layout: dict[str, object], change: str, place: int
) -> None:
    tmp = tmp_path_factory.mktemp("currency")  # type: ignore[attr-defined]
    payments = plain(tmp, "payments")
    expected = numbers(plain(tmp, "invoices"), payments)
    drawn, rows, titles, refused = changed(layout, change, place)
    (tmp / "drawn").mkdir()
    path = write(tmp / "drawn", "invoices", drawn, rows, titles)
    if refused is None:
        assert numbers(read_ledger(path), payments) == expected
        return
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    first_data_row = len(titles) + len(layout["titles"]) + 2  # type: ignore[arg-type]
    bad = {p.row for p in caught.value.problems}
    if refused == -1:
        assert bad == set(range(first_data_row, first_data_row + len(rows)))
    else:
        assert bad == {first_data_row + refused}
    assert "整个文件未导入" in caught.value.reason
