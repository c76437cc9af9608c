"""Hostile and unusual (but real) ledger exports, fed to read_ledger and to a real desk.

Each test states what a careful finance user expects. Shapes are modelled on real exports:
Kingdee / Yonyou printed detail books (承前页/过次页 page lines, 制表日期 title lines, 年 over
月/日), hand-kept Excel books (merged cells, a sheet per year, hidden sheets, header repeated on
every printed page), bank and ERP CSVs (UTF-16 "Unicode text", \\r line ends, NUL padding, quoted
line breaks) and Excel's own quirks (20-digit 数电票 numbers shown as 2.43E+19, leading zeros
kept by a number format, #N/A from a VLOOKUP, formulas without a cached value).

Tests marked xfail(strict=True) expose a defect of the ledger reader as it stands; the reason
says what goes wrong. They are meant to flip to passing when the defect is fixed.
"""

from __future__ import annotations

import codecs
import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from dunning.archive.accounts import aging_report, list_customers
from dunning.archive.db import open_archive
from dunning.archive.ledger import Ledger, read_ledger
from dunning.archive.sniff import sniff
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths

D = Decimal
AS_OF = dt.date(2025, 12, 31)
INVOICE_HEAD = "客户编号,客户名称,发票号码,开票日期,应收金额\n"


# -- helpers ------------------------------------------------------------------------------------


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def xlsx(path: Path, *sheets: tuple[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def rejected(path: Path) -> IngestError:
    with pytest.raises(IngestError) as info:
        read_ledger(path)
    return info.value


def balances(desk: Desk, as_of: dt.date = AS_OF) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=as_of, edges=(30, 60, 90))}


def customer_names(desk: Desk) -> dict[str, str]:
    with open_archive(desk.db_path) as db:
        return {c.code: c.name for c in list_customers(db)}


def ingest_ok(desk: Desk, *paths: Path) -> None:
    report = ingest_paths(desk, list(paths))
    assert [o.status for o in report.outcomes] == ["archived"] * len(paths), [
        o.reason for o in report.outcomes
    ]


def invoice_total(ledger: Ledger) -> Decimal:
    return sum((i.amount for i in ledger.invoices), D(0))


def payment_total(ledger: Ledger) -> Decimal:
    return sum((p.amount for p in ledger.payments), D(0))


# -- silent wrong numbers: rows lost or counted twice --------------------------------------------


def test_company_name_containing_he_ji_is_not_a_total_row(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD
        + "KH001,江苏联合计量检测有限公司,FP0001,2025-03-01,12000.00\n"
        + "KH002,上海总计量设备有限公司,FP0002,2025-03-02,800.00\n"
        + "KH003,南京同创化工有限公司,FP0003,2025-03-03,500.00\n"
        + "合计,,,,13300.00\n",
    )
    ledger = read_ledger(path)
    assert [i.invoice_no for i in ledger.invoices] == ["FP0001", "FP0002", "FP0003"]
    assert invoice_total(ledger) == D("13300.00")
    assert ledger.counts.to_json()["skipped"] == {"total": 1}


def test_remark_mentioning_a_total_does_not_skip_the_invoice(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        "客户编号,客户名称,发票号码,开票日期,应收金额,备注\n"
        "KH001,甲公司,FP0001,2025-03-01,1130.00,含运费合计\n"
        "KH001,甲公司,FP0002,2025-03-02,500.00,\n",
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) == D("1630.00")
    assert ledger.counts.skipped == {}


def test_corrected_reexport_of_a_detail_book_supersedes(desk: Desk, tmp_path: Path) -> None:
    def book(name: str, amount: int) -> Path:
        return xlsx(
            tmp_path / name,
            (
                "KH003 南京同创化工有限公司",
                [
                    ["日期", "摘要", "借方", "贷方", "余额"],
                    [dt.datetime(2025, 3, 5), "销售货款", amount, None, amount],
                ],
            ),
        )

    ingest_ok(desk, book("v1.xlsx", 1000))
    ingest_ok(desk, book("v2.xlsx", 1100))  # the same sale, amount corrected
    assert balances(desk) == {"KH003": D("1100.00")}


def test_payment_whose_summary_mentions_qichu_is_a_payment(desk: Desk, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "明细账.xlsx",
        (
            "Sheet1",
            [
                ["客户往来明细账"],
                ["会计期间：2025年1期至2025年6期"],
                ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"],
                [None, None, "KH001", "厦门鹭岛贸易有限公司", "期初余额", None, None, "借", 8000],
                [dt.datetime(2025, 1, 10), "记-3", "KH001", "厦门鹭岛贸易有限公司", "销售货款",
                 2000, None, "借", 10000],
                [dt.datetime(2025, 2, 5), "记-9", "KH001", "厦门鹭岛贸易有限公司", "收回期初欠款",
                 None, 5000, "借", 5000],
            ],
        ),
    )  # fmt: skip
    ledger = read_ledger(path)
    assert invoice_total(ledger) - payment_total(ledger) == D("5000.00")
    ingest_ok(desk, path)
    assert balances(desk) == {"KH001": D("5000.00")}


def test_brought_forward_line_of_a_printed_book_is_not_a_new_opening(
    desk: Desk, tmp_path: Path
) -> None:
    header = ["日期", "凭证字号", "摘要", "借方", "贷方", "方向", "余额"]
    path = xlsx(
        tmp_path / "同创明细账.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["应收账款明细账"],
                ["期间：2025年1月至2025年3月"],
                header,
                [None, None, "期初余额", None, None, "借", 1000],
                [dt.datetime(2025, 1, 8), "记-1", "销售", 500, None, "借", 1500],
                [None, None, "过次页", 500, 0, "借", 1500],
                header,  # the header printed again on page 2
                [None, None, "承前页", 500, 0, "借", 1500],
                [dt.datetime(2025, 2, 3), "记-7", "收款", None, 200, "借", 1300],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) - payment_total(ledger) == D("1300.00")
    ingest_ok(desk, path)
    assert balances(desk) == {"KH003": D("1300.00")}


def test_monthly_detail_ledgers_imported_in_turn_give_the_closing_balance(
    desk: Desk, tmp_path: Path
) -> None:
    def month(name: str, period: str, opening: int, rows: list[list[object]]) -> Path:
        return xlsx(
            tmp_path / name,
            (
                "Sheet1",
                [
                    ["客户往来明细账"],
                    [f"会计期间：{period}"],
                    ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向",
                     "余额"],
                    [None, None, "KH001", "厦门鹭岛", "期初余额", None, None, "借", opening],
                    *rows,
                    [None, None, "KH001", "厦门鹭岛", "本月合计", None, None, None, None],
                ],
            ),
        )  # fmt: skip

    january = month(
        "2025-01.xlsx",
        "2025年1期",
        1000,
        [[dt.datetime(2025, 1, 9), "记-2", "KH001", "厦门鹭岛", "销售", 4000, None, "借", 5000]],
    )
    february = month(
        "2025-02.xlsx",
        "2025年2期",
        5000,
        [[dt.datetime(2025, 2, 9), "记-4", "KH001", "厦门鹭岛", "收款", None, 3000, "借", 2000]],
    )
    ingest_ok(desk, january)
    assert balances(desk) == {"KH001": D("5000.00")}
    ingest_ok(desk, february)
    assert balances(desk) == {"KH001": D("2000.00")}  # February's closing 余额


def test_second_invoice_sheet_is_not_silently_dropped(tmp_path: Path) -> None:
    head = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"]
    path = xlsx(
        tmp_path / "台账.xlsx",
        ("2024年", [head, ["KH001", "甲公司", "FP2401", dt.datetime(2024, 5, 1), 1000]]),
        ("2025年", [head, ["KH001", "甲公司", "FP2501", dt.datetime(2025, 5, 1), 2000]]),
    )
    try:
        ledger = read_ledger(path)
    except IngestError as exc:  # refusing the workbook, naming the sheet, is acceptable too
        assert "2025年" in str(exc)
        return
    assert sorted(i.invoice_no for i in ledger.invoices) == ["FP2401", "FP2501"]


def test_hidden_stale_sheet_is_not_read_instead_of_the_visible_one(tmp_path: Path) -> None:
    head = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"]
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "旧版"
    old.sheet_state = "hidden"
    for row in (head, ["KH001", "甲公司", "FP0001", dt.datetime(2025, 1, 1), 999]):
        old.append(row)
    new = wb.create_sheet("台账")
    for row in (head, ["KH001", "甲公司", "FP0001", dt.datetime(2025, 1, 1), 1500]):
        new.append(row)
    wb.active = 1
    wb.save(path)
    ledger = read_ledger(path)
    assert ledger.sheet == "台账"
    assert invoice_total(ledger) == D("1500.00")


# -- silent wrong numbers: the wrong column, the wrong unit --------------------------------------


def test_pre_tax_and_tax_inclusive_amount_columns(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "开票.csv",
        "客户编号,客户名称,发票号码,开票日期,金额(不含税),税额,金额(含税)\n"
        "KH001,甲公司,FP0001,2025-03-01,10000.00,1300.00,11300.00\n",
    )
    try:
        ledger = read_ledger(path)
    except IngestError as exc:  # an ambiguous header, rejected by name, is acceptable
        assert "金额(不含税)" in str(exc) and "金额(含税)" in str(exc)
        return
    assert invoice_total(ledger) == D("11300.00")


def test_amounts_in_wan_yuan_are_not_read_as_yuan(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        "客户编号,客户名称,发票号码,开票日期,应收金额(万元)\nKH001,甲公司,FP0001,2025-03-01,12.5\n",
    )
    try:
        ledger = read_ledger(path)
    except IngestError as exc:
        assert "万元" in str(exc)
        return
    assert invoice_total(ledger) == D("125000.00")


def test_received_formula_without_cached_value_is_not_zero(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额", "已收金额"],
                ["KH001", "甲公司", "FP0001", dt.datetime(2025, 1, 5), 1000, "=E2-200"],
            ],
        ),
    )
    error = rejected(path)  # a value nobody computed cannot be trusted as 0
    assert any(p.row == 2 and p.column == "已收金额" for p in error.problems)


def test_print_date_line_does_not_set_the_period_or_year(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "三栏账.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["应收账款明细账"],
                ["制表单位：本公司", None, None, "制表日期：2025年1月8日"],
                ["期间：2024年3月至2024年12月"],
                ["月", "日", "凭证号", "摘要", "借方", "贷方", "方向", "余额"],
                [None, None, None, "期初余额", None, None, "借", 1000],
                [4, 2, "记-5", "销售", 3000, None, "借", 4000],
            ],
        ),
    )
    ledger = read_ledger(path)
    dates = sorted(i.invoice_date for i in ledger.invoices)
    assert dates == [dt.date(2024, 3, 1), dt.date(2024, 4, 2)]


# -- silent wrong numbers: identifiers Excel mangles ---------------------------------------------


def test_leading_zero_invoice_number_in_a_formatted_number_cell(desk: Desk, tmp_path: Path) -> None:
    first = csv_file(tmp_path / "台账.csv", INVOICE_HEAD + "KH001,甲公司,00123456,2025-03-01,800\n")
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"])
    ws.append(["KH001", "甲公司", 123456, dt.datetime(2025, 3, 1), 800])
    ws["C2"].number_format = "00000000"  # Excel shows 00123456
    wb.save(path)
    ingest_ok(desk, first, path)
    assert balances(desk) == {"KH001": D("800.00")}


def test_twenty_digit_invoice_number_stored_as_a_number_is_rejected(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"],
                [
                    "KH001",
                    "甲公司",
                    2.43220000000123e19,
                    dt.datetime(2025, 3, 1),
                    800,
                ],  # as Excel keeps it
            ],
        ),
    )
    error = rejected(path)
    assert [(p.row, p.column) for p in error.problems] == [(2, "发票号码")]


def test_invoice_number_in_scientific_notation_is_rejected(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv", INVOICE_HEAD + "KH001,甲公司,2.43220000000123E+19,2025-03-01,800\n"
    )
    error = rejected(path)
    assert [(p.row, p.column, p.value) for p in error.problems] == [
        (2, "发票号码", "2.43220000000123E+19")
    ]


def test_excel_error_values_in_key_cells_are_bad_rows(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD
        + "KH001,甲公司,FP0001,2025-03-01,800\n"
        + "#N/A,#N/A,FP0002,2025-03-02,900\n"
        + "KH002,乙公司,#REF!,2025-03-03,100\n",
    )
    error = rejected(path)
    assert sorted({p.row for p in error.problems}) == [3, 4]


def test_excel_error_value_in_an_amount_is_a_listed_bad_row(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD
        + "KH001,甲公司,FP0001,2025-03-01,#N/A\nKH001,甲公司,FP0002,2025-03-01,#VALUE!\n",
    )
    error = rejected(path)
    assert [(p.row, p.column, p.value) for p in error.problems] == [
        (2, "应收金额", "#N/A"),
        (3, "应收金额", "#VALUE!"),
    ]
    assert "2 行有误" in error.reason and "读取 2 行：本可导入 0 行，有误 2 行" in (error.reason)


# -- silent wrong numbers: one customer split in two ---------------------------------------------


def test_payer_name_with_half_width_brackets_finds_the_customer(desk: Desk, tmp_path: Path) -> None:
    invoices = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD + "KH001,南京同创（集团）有限公司,FP0001,2025-03-01,800\n",
    )
    payments = csv_file(
        tmp_path / "回款.csv", "付款单位,回款日期,回款金额\n南京同创(集团)有限公司,2025-04-01,800\n"
    )
    ingest_ok(desk, invoices, payments)
    assert balances(desk) == {"KH001": D("0.00")}


def test_full_width_customer_code_is_the_same_customer(desk: Desk, tmp_path: Path) -> None:
    invoices = csv_file(
        tmp_path / "台账.csv", INVOICE_HEAD + "KH001,甲公司,FP0001,2025-03-01,800\n"
    )
    payments = csv_file(
        tmp_path / "回款.csv",
        "客户编号,回款日期,回款金额,对应发票号\nＫＨ００１,2025-04-01,800,FP0001\n",
    )
    ingest_ok(desk, invoices, payments)
    assert balances(desk) == {"KH001": D("0.00")}


def test_zero_width_space_in_a_name_is_not_a_second_customer(desk: Desk, tmp_path: Path) -> None:
    invoices = csv_file(
        tmp_path / "台账.csv",
        "客户名称,发票号码,开票日期,应收金额\n"
        "甲公司,FP0001,2025-03-01,800\n"
        "甲公司\u200b,FP0002,2025-03-02,200\n",
    )
    ingest_ok(desk, invoices)
    assert list(balances(desk).values()) == [D("1000.00")]


def test_full_width_space_around_a_name_is_trimmed(desk: Desk, tmp_path: Path) -> None:
    invoices = csv_file(
        tmp_path / "台账.csv",
        "客户名称,发票号码,开票日期,应收金额\n"
        "甲公司,FP0001,2025-03-01,800\n"
        "\u3000甲公司\u3000,FP0002,2025-03-02,200\n",
    )
    ingest_ok(desk, invoices)
    assert balances(desk) == {"甲公司": D("1000.00")}


def test_same_customer_with_and_without_code_in_either_order(desk: Desk, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD + ",甲公司,FP0001,2025-03-01,800\nKH001,甲公司,FP0002,2025-03-02,200\n",
    )
    ingest_ok(desk, path)
    assert balances(desk) == {"KH001": D("1000.00")}


def test_same_customer_code_first_then_name_only_is_one_customer(
    desk: Desk, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD + "KH001,甲公司,FP0001,2025-03-01,800\n,甲公司,FP0002,2025-03-02,200\n",
    )
    ingest_ok(desk, path)
    assert balances(desk) == {"KH001": D("1000.00")}


def test_exact_duplicate_payment_line_is_not_a_second_payment(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "回款.csv",
        "客户编号,回款日期,回款金额,对应发票号,流水号\n"
        "KH001,2025-04-01,800.00,FP0001,LS20250401001\n"
        "KH001,2025-04-01,800.00,FP0001,LS20250401001\n",
    )
    error = rejected(path)
    assert sorted(p.row for p in error.problems) == [2, 3]


def test_unquoted_thousands_separator_shifts_no_cells_silently(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "手工台账.csv",
        "客户编号,客户名称,发票号码,开票日期,应收金额,已收金额\n"
        "KH001,甲公司,FP0001,2025-01-01,1,234.50,0\n"
        "KH001,甲公司,FP0002,2025-01-02,800.00,0\n",
    )
    try:
        ledger = read_ledger(path)
    except IngestError as exc:  # rejecting the row as too wide is what a careful user expects
        assert [p.row for p in exc.problems] == [2]
        return
    assert next((i.amount, i.received) for i in ledger.invoices) == (D("1234.50"), D("0.00"))


def test_outstanding_balance_column_of_an_invoice_ledger_is_not_dropped(
    desk: Desk, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        "客户编号,客户名称,发票号码,开票日期,发票金额,应收余额\nKH001,甲公司,FP0001,2025-01-01,1000,200\n",
    )
    ingest_paths(desk, [path])
    assert balances(desk) in ({"KH001": D("200.00")}, {})  # read right, or refused


def test_opening_row_keeps_its_own_date(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "同创.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["日期", "摘要", "借方", "贷方", "方向", "余额"],
                [dt.datetime(2025, 1, 1), "期初余额", None, None, "借", 1000],
                [dt.datetime(2025, 3, 15), "销售", 100, None, "借", 1100],
            ],
        ),
    )
    ledger = read_ledger(path)
    opening = ledger.invoices[0]
    assert (opening.amount, opening.invoice_date) == (D("1000.00"), dt.date(2025, 1, 1))


def test_foreign_currency_book_reads_the_local_currency_columns(tmp_path: Path) -> None:
    path = tmp_path / "外币.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KH009 Acme Trading Inc"
    for row in (
        ["日期", "凭证字号", "摘要", "借方", None, "贷方", None, "方向", "余额", None],
        [None, None, None, "原币", "本位币", "原币", "本位币", None, "原币", "本位币"],
        [None, None, "期初余额", None, None, None, None, "借", 100, 710],
        [dt.datetime(2025, 1, 5), "记-1", "销售", 50, 355, None, None, "借", 150, 1065],
    ):
        ws.append(row)
    for cells in ("D1:E1", "F1:G1", "I1:J1", "A1:A2", "B1:B2", "C1:C2", "H1:H2"):
        ws.merge_cells(cells)
    wb.save(path)
    ledger = read_ledger(path)
    assert invoice_total(ledger) == D("1065.00")  # yuan, not dollars


# -- silent wrong customer in detail ledgers -----------------------------------------------------


def test_page_number_line_is_not_a_customer_heading(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "同创.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["日期", "凭证字号", "摘要", "借方", "贷方"],
                [dt.datetime(2025, 1, 5), "记-1", "销售", 100, None],
                ["第 1 页 共 2 页"],
                [dt.datetime(2025, 2, 5), "记-8", "销售", 200, None],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert {(i.customer_code, i.amount) for i in ledger.invoices} == {
        ("KH003", D("100.00")),
        ("KH003", D("200.00")),
    }


def test_year_sheet_name_is_not_a_customer(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "明细.xlsx",
        (
            "2025年",
            [
                ["日期", "摘要", "借方", "贷方", "余额"],
                [dt.datetime(2025, 1, 5), "销售", 100, None, 100],
            ],
        ),
    )
    error = rejected(path)
    assert "该行没有客户" in error.report()


@pytest.mark.parametrize(
    "title",
    ["客户：KH003南京同创化工有限公司", "客户名称：南京同创化工有限公司 客户编码：KH003"],
)
def test_customer_title_line_variants(tmp_path: Path, title: str) -> None:
    path = xlsx(
        tmp_path / "对账单.xlsx",
        (
            "Sheet1",
            [
                [title],
                ["日期", "摘要", "借方", "贷方", "余额"],
                [dt.datetime(2025, 1, 5), "销售", 100, None, 100],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert (ledger.invoices[0].customer_code, ledger.invoices[0].customer_name) == (
        "KH003",
        "南京同创化工有限公司",
    )


# -- realistic files wrongly rejected ------------------------------------------------------------


def test_header_repeated_on_every_printed_page_of_an_invoice_ledger(tmp_path: Path) -> None:
    head = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"]
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                head,
                ["KH001", "甲公司", "FP0001", dt.datetime(2025, 1, 1), 100],
                head,
                ["KH001", "甲公司", "FP0002", dt.datetime(2025, 1, 2), 200],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) == D("300.00")
    assert ledger.counts.to_json() == {
        "read": 3,
        "imported": 2,
        "skipped": {"header": 1},
        "bad": 0,
    }


def test_yyyymmdd_number_date_in_xlsx_reads_like_the_text(tmp_path: Path) -> None:
    head = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"]
    as_text = read_ledger(
        xlsx(tmp_path / "t.xlsx", ("台账", [head, ["KH1", "甲", "F1", "20250305", 100]]))
    )
    assert as_text.invoices[0].invoice_date == dt.date(2025, 3, 5)
    as_number = read_ledger(
        xlsx(tmp_path / "n.xlsx", ("台账", [head, ["KH1", "甲", "F1", 20250305, 100]]))
    )
    assert as_number.invoices[0].invoice_date == dt.date(2025, 3, 5)


def test_customer_name_merged_down_over_its_invoices(tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名称", "发票号码", "开票日期", "应收金额"])
    ws.append(["甲公司", "FP0001", dt.datetime(2025, 1, 1), 100])
    ws.append([None, "FP0002", dt.datetime(2025, 1, 2), 200])
    ws.append([None, "FP0003", dt.datetime(2025, 1, 3), 300])
    ws.merge_cells("A2:A4")
    wb.save(path)
    ledger = read_ledger(path)
    assert {i.customer_name for i in ledger.invoices} == {"甲公司"}
    assert invoice_total(ledger) == D("600.00")


def test_summary_sheet_beside_customer_sheets_does_not_reject_the_workbook(
    tmp_path: Path,
) -> None:
    path = xlsx(
        tmp_path / "往来.xlsx",
        (
            "汇总",
            [
                ["客户名称", "期初余额", "本期借方", "本期贷方", "期末余额"],
                ["南京同创化工有限公司", 1000, 500, 200, 1300],
            ],
        ),
        (
            "南京同创化工有限公司",
            [
                ["日期", "摘要", "借方", "贷方", "方向", "余额"],
                [None, "期初余额", None, None, "借", 1000],
                [dt.datetime(2025, 1, 8), "销售", 500, None, "借", 1500],
                [dt.datetime(2025, 2, 3), "收款", None, 200, "借", 1300],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) - payment_total(ledger) == D("1300.00")


def test_negative_balance_under_fixed_debit_direction(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "同创.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["日期", "摘要", "借方", "贷方", "方向", "余额"],
                [None, "期初余额", None, None, "借", 1000],
                [dt.datetime(2025, 1, 5), "收款", None, 1500, "借", -500],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) - payment_total(ledger) == D("-500.00")


def test_direction_written_as_jiefang_daifang(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "同创.xlsx",
        (
            "KH003 南京同创化工有限公司",
            [
                ["日期", "摘要", "借方", "贷方", "方向", "余额"],
                [dt.datetime(2025, 1, 5), "销售", 100, None, "借方", 100],
                [dt.datetime(2025, 1, 9), "收款", None, 300, "贷方", 200],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) - payment_total(ledger) == D("-200.00")


def test_sign_off_footer_under_an_invoice_ledger(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"],
                ["KH1", "甲公司", "F1", dt.datetime(2025, 1, 1), 100],
                ["制表人：张三", None, "审核：李四"],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert invoice_total(ledger) == D("100.00")
    assert ledger.counts.adds_up and ledger.counts.imported == 1


# -- hostile inputs handled right (these pass; they guard the behaviour) -------------------------


def test_cr_only_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(
        (INVOICE_HEAD + "KH1,甲,F1,2025-01-01,100\nKH1,甲,F2,2025-01-02,50.5\n")
        .replace("\n", "\r")
        .encode("gbk")
    )
    assert sniff(path) == "csv"
    ledger = read_ledger(path)
    assert [(i.invoice_no, i.amount) for i in ledger.invoices] == [
        ("F1", D("100.00")),
        ("F2", D("50.50")),
    ]


def test_utf16_big_endian_unicode_text_with_title_lines(tmp_path: Path) -> None:
    text = (
        "本公司应收账款台账（截至2025年11月30日）\r\n\r\n"
        "客户编号\t客户名称\t发票号码\t开票日期\t应收金额\r\n"
        "KH1\t甲公司\tF1\t2025/3/5\t1,234.56\r\n"
    )
    path = tmp_path / "unicode.txt"
    path.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    assert sniff(path) == "csv"
    ledger = read_ledger(path)
    assert ledger.encoding == "utf-16" and ledger.header_row == 3
    assert [(i.invoice_date, i.amount) for i in ledger.invoices] == [
        (dt.date(2025, 3, 5), D("1234.56"))
    ]


def test_gb18030_four_byte_name_cut_by_the_sniff_sample(tmp_path: Path) -> None:
    name = "𠮷野家餐饮管理有限公司"  # 𠮷 is a four-byte GB18030 character
    data = INVOICE_HEAD.encode("gb18030")
    n = 0
    while len(data) < 8000:
        data += f"KH{n},乙公司,F{n},2025-01-01,1\n".encode("gb18030")
        n += 1
    # A padding row so that the four-byte character straddles byte 8,192, where sniff cuts.
    pad = 8190 - len(data) - len(b"KH0,,FPAD,2025-01-01,1\n") - len(b"KH9,")
    data += b"KH0," + b"x" * pad + b",FPAD,2025-01-01,1\n" + b"KH9,"
    assert len(data) == 8190
    data += f"{name},FGB,2025-01-02,7\n".encode("gb18030")
    path = tmp_path / "gb.csv"
    path.write_bytes(data)
    assert sniff(path) == "csv"
    ledger = read_ledger(path)
    assert ledger.encoding == "gb18030"
    assert ledger.invoices[-1].customer_name == name
    assert ledger.invoices[-1].amount == D("7.00")


def test_nul_padded_csv_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "padded.csv"
    path.write_bytes((INVOICE_HEAD + "KH1,甲,F1,2025-01-01,100\n").encode() + b"\x00" * 64)
    error = rejected(path)
    assert "padded.csv" in error.reason and "Traceback" not in error.reason


def test_utf8_bom_over_a_gbk_body_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        codecs.BOM_UTF8 + (INVOICE_HEAD + "KH1,甲公司,F1,2025-01-01,100\n").encode("gbk")
    )
    error = rejected(path)  # not read as mojibake
    assert error.reason.startswith("mixed.csv 不是 UTF-8、UTF-16 或 GBK/GB18030 编码的文本")


def test_semicolon_csv_with_decimal_commas_is_rejected_not_misread(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "eu.csv",
        "客户编号;客户名称;发票号码;开票日期;应收金额\n"
        "KH1;甲;F1;2025-01-01;1234,50\n"
        "KH1;甲;F2;2025-01-01;1 000,00\n"
        "KH1;甲;F3;2025-01-01;1.234,56\n",
    )
    error = rejected(path)
    assert [(p.row, p.value) for p in error.problems] == [
        (2, "1234,50"),
        (3, "1 000,00"),
        (4, "1.234,56"),
    ]


def test_amount_and_date_spellings_exact_to_the_fen(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "台账.csv",
        INVOICE_HEAD
        + 'KH1,甲,F1,２０２５－０３－０５,"１２，３４５．６７"\n'
        + 'KH1,甲,F2,2025-03-05 14:30:00,"(1,234.00)"\n'
        + "KH1,甲,F3,2025年3月5日,￥0.125\n"
        + "KH1,甲,F4,20250305,-0.00\n"
        + "KH1,甲,F5,2025.3.5,1 000\n",
    )
    ledger = read_ledger(path)
    assert [i.amount for i in ledger.invoices] == [
        D("12345.67"),
        D("-1234.00"),
        D("0.13"),
        D("0.00"),
        D("1000.00"),
    ]
    assert {i.invoice_date for i in ledger.invoices} == {dt.date(2025, 3, 5)}
    assert all(type(i.amount) is Decimal for i in ledger.invoices)


def test_impossible_date_and_excel_errors_are_listed_with_excel_row_numbers(
    tmp_path: Path,
) -> None:
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                ["本公司应收账款台账"],
                [],
                ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"],
                ["KH1", "甲", "F1", "2025-02-30", 100],
                ["KH1", "甲", "F2", dt.datetime(2025, 2, 28, 23, 59), "#REF!"],
                ["KH1", "甲", "F3", dt.datetime(2025, 3, 1), 300],
            ],
        ),
    )
    error = rejected(path)
    assert [(p.row, p.column, p.value) for p in error.problems] == [
        (4, "开票日期", "2025-02-30"),
        (5, "应收金额", "#REF!"),
    ]
    assert "读取 3 行：本可导入 1 行，有误 2 行" in error.reason


def test_quoted_line_break_counts_as_one_excel_row(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "客户.csv",
        '客户编号,客户名称,地址,电话\nKH1,甲公司,"南京市\n鼓楼区1号",025-1\nKH2,乙公司,上海,\x07\n',
    )
    error = rejected(path)
    assert [(p.row, p.column) for p in error.problems] == [(3, "电话")]


def test_total_row_in_the_middle_and_empty_sheet_first(tmp_path: Path) -> None:
    head = ["客户编号 ", "客户名称\u3000", "发票号码", "开票日期", "应收金额（元）"]
    path = xlsx(
        tmp_path / "台账.xlsx",
        ("空白", []),
        (
            "台账",
            [
                head,
                ["KH1", "甲", "F1", dt.datetime(2025, 1, 1), 100],
                ["小计", None, None, None, 100],
                [],
                ["KH2", "乙", "F2", dt.datetime(2025, 1, 2), 200],
                ["合 计", None, None, None, 300],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert ledger.sheet == "台账"
    assert invoice_total(ledger) == D("300.00")
    assert ledger.counts.to_json() == {
        "read": 5,
        "imported": 2,
        "skipped": {"blank": 1, "subtotal": 1, "total": 1},
        "bad": 0,
    }
    assert ledger.counts.adds_up


def test_formula_amount_without_cached_value_is_a_bad_row(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "台账.xlsx",
        (
            "台账",
            [
                ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"],
                ["KH1", "甲", "F1", dt.datetime(2025, 1, 1), "=100*1.13"],
            ],
        ),
    )
    error = rejected(path)
    assert [(p.row, p.column) for p in error.problems] == [(2, "应收金额")]


# -- detail ledgers: openings, directions, interleaving ------------------------------------------


def test_credit_opening_missing_direction_and_empty_balances(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "明细.xlsx",
        (
            "Sheet1",
            [
                ["往来对账单"],
                ["期间：2025年1月至2025年3月"],
                ["日期", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"],
                # Interleaved blocks: KH1 opens in credit (预收), KH2 in debit.
                [None, "KH1", "甲公司", "期初余额", None, None, "贷", 300],
                [None, "KH2", "乙公司", "期初余额", None, None, "借", 1000],
                [dt.datetime(2025, 1, 5), "KH2", "乙公司", "销售", 500, None, None, None],
                [dt.datetime(2025, 1, 6), "KH1", "甲公司", "销售", 1000, None, "借", 700],
                [dt.datetime(2025, 1, 9), "KH2", "乙公司", "收款", None, "-0", "借", 1500],
                [dt.datetime(2025, 2, 1), "KH1", "甲公司", "收款", None, 700, "平", 0],
            ],
        ),
    )
    ledger = read_ledger(path)
    net: dict[str, Decimal] = {}
    for i in ledger.invoices:
        net[str(i.customer_code)] = net.get(str(i.customer_code), D(0)) + i.amount
    for p in ledger.payments:
        net[str(p.customer_code)] = net.get(str(p.customer_code), D(0)) - p.amount
    assert net == {"KH1": D("0.00"), "KH2": D("1500.00")}
    openings = [
        (p.customer_code, p.paid_on, p.amount) for p in ledger.payments if p.kind == "opening"
    ]
    assert openings == [("KH1", dt.date(2025, 1, 1), D("300.00"))]
    assert ledger.counts.adds_up and ledger.counts.read == 6


def test_wrong_balance_after_rows_with_empty_balance_is_still_caught(
    desk: Desk, tmp_path: Path
) -> None:
    path = xlsx(
        tmp_path / "明细.xlsx",
        (
            "KH3 丙公司",
            [
                ["日期", "摘要", "借方", "贷方", "余额"],
                [dt.datetime(2025, 1, 5), "销售", 100, None, None],
                [dt.datetime(2025, 1, 6), "销售", 200, None, None],
                [dt.datetime(2025, 1, 7), "收款", None, 50, 260],  # should be 250
                [dt.datetime(2025, 1, 8), "销售", 10, None, 270],
            ],
        ),
    )
    report = ingest_paths(desk, [path])
    assert [o.status for o in report.outcomes] == ["failed"]
    reason = report.outcomes[0].reason or ""
    assert "整个文件未导入" in reason
    error = (desk.failed / "明细.xlsx.error.txt").read_text(encoding="utf-8")
    assert "第 4 行" in error and "表上为 260.00，按上一行余额 + 借方 − 贷方 应为 250.00" in error
    assert "第 5 行" not in error  # one wrong row is reported once
    assert balances(desk) == {}


def test_detail_ledger_through_ingest_reports_every_row(desk: Desk, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "往来明细账.xlsx",
        (
            "Sheet1",
            [
                ["客户往来明细账"],
                ["会计期间：2025年1期至2025年2期"],
                ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"],
                [None, None, "KH1", "甲公司", "期初余额", None, None, "借", 500],
                [dt.datetime(2025, 1, 3), "记-1", "KH1", "甲公司", "销售 发票号 12345678", 1000,
                 None, "借", 1500],
                [dt.datetime(2025, 1, 9), "记-2", "KH1", "甲公司", "红字冲销", -200, None, "借",
                 1300],
                [None, None, "KH1", "甲公司", "本月合计", 800, 0, "借", 1300],
                [None, None, " ", None, "\u3000"],  # blank, spaces only
                [dt.datetime(2025, 2, 9), "记-5", "KH1", "甲公司", "收款", None, 300, "借", 1000],
                [None, None, "KH1", "甲公司", "本年累计", 800, 300, "借", 1000],
            ],
        ),
    )  # fmt: skip
    report = ingest_paths(desk, [path])
    (outcome,) = report.outcomes
    assert outcome.status == "archived"
    assert "读取 7 行：导入 4 行，跳过空行 1 行，跳过小计行 1 行，跳过合计行 1 行" in (
        outcome.label
    )
    assert balances(desk) == {"KH1": D("1000.00")}


def test_many_rows_one_bad_row_at_the_end_imports_nothing(desk: Desk, tmp_path: Path) -> None:
    rows = "".join(f"KH{n % 50},客户{n % 50},F{n:06d},2025-01-01,{n}.01\n" for n in range(6000))
    path = csv_file(
        tmp_path / "大台账.csv", INVOICE_HEAD + rows + "KH1,客户1,F999999,2025-13-01,1\n"
    )
    report = ingest_paths(desk, [path])
    assert [o.status for o in report.outcomes] == ["failed"]
    assert "读取 6001 行：本可导入 6000 行，有误 1 行" in (report.outcomes[0].reason or "")
    assert balances(desk) == {}
    error = (desk.failed / "大台账.csv.error.txt").read_text(encoding="utf-8")
    assert "第 6002 行「开票日期」'2025-13-01'：" in error
