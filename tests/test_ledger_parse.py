"""read_ledger against every supported shape and encoding, compared to committed goldens.

Regenerate the goldens after a deliberate change (then review the diff):
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_ledger_parse.py
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tooling import require_realworld

from dunning.archive.ledger import Ledger, read_ledger
from dunning.archive.ledger.rows import amount_value as _amount
from dunning.dates import parse_date
from dunning.errors import IngestError, RowProblem
from dunning.money import parse_amount, parse_money

GOLDEN = Path(__file__).parent / "golden" / "ledger"
KIS_NAME = "minkolee_kis_kuaijifenlu_xushibu.xlsx"

INVOICES = """\
应收账款明细表
客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额,备注
C001,杭州明远贸易有限公司,HT-2025-0001,FP0001,2025-01-05,2025-02-04,"10,000.00",0,
C001,杭州明远贸易有限公司,HT-2025-0001,FP0002,2025/2/10,2025/3/12,￥5000.50,1000,加急
C002,宁波海辰机械有限公司,,FP0003,2025年3月1日,2025年3月31日,8800,,
C003,,HT-2025-0003,FP0004,2025.4.1,,(120.00),-20,红字
,绍兴华 <HK> 有限公司,HT-2025-0004,FP0005,45778,20250601,"¥1,200.5",—,

C004,苏州小计算机有限公司,HT-2025-0005,FP0006,2025-05-02,2025-06-01,300,0,
合计,,,,,,"25,181.00",980.00,
"""


def as_json(ledger: Ledger) -> str:
    data = dataclasses.asdict(ledger)
    return json.dumps(data, default=str, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def check_golden(name: str, ledger: Ledger) -> None:
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(as_json(ledger), encoding="utf-8")
    assert path.exists(), f"no golden {path.name}; run with UPDATE_GOLDEN=1 once"
    assert as_json(ledger) == path.read_text(encoding="utf-8")


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "l.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, *sheets: tuple[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def problems_of(path: Path) -> list[RowProblem]:
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    return caught.value.problems


def refusal(parse: Callable[[str], object], cell: str) -> str:
    """Why `parse` refuses `cell`, in the parser's own words."""
    with pytest.raises(ValueError) as caught:
        parse(cell)
    return str(caught.value)


def reason_of(path: Path) -> str:
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    assert caught.value.problems == []
    return caught.value.reason


# --- CSV encodings and delimiters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig")]
)
def test_utf8_csv_with_and_without_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    ledger = read_ledger(write_csv(tmp_path, INVOICES, encoding))
    assert ledger.kind == "invoices"
    assert ledger.encoding == expected
    assert ledger.header_row == 2
    assert ledger.ignored_columns == ["备注"]
    check_golden("invoices_csv_utf8", dataclasses.replace(ledger, encoding=None))


def test_gbk_csv_is_detected_and_reads_the_same(tmp_path: Path) -> None:
    gbk = read_ledger(write_csv(tmp_path, INVOICES.replace("¥", "￥"), "gbk"))
    utf8 = read_ledger(write_csv(tmp_path, INVOICES.replace("¥", "￥"), "utf-8", "u.csv"))
    assert gbk.encoding == "gb18030"
    assert gbk.invoices == utf8.invoices
    assert gbk.invoices[0].customer_name == "杭州明远贸易有限公司"
    check_golden("invoices_csv_gbk", gbk)


def test_utf16_tab_text_from_excel(tmp_path: Path) -> None:
    text = INVOICES.replace(",", "\t").replace('"10\t000.00"', "10000.00")
    text = text.replace('"25\t181.00"', "25181.00").replace('"¥1\t200.5"', "1200.5")
    ledger = read_ledger(write_csv(tmp_path, text, "utf-16"))
    assert ledger.encoding == "utf-16"
    assert [i.amount for i in ledger.invoices][:1] == [Decimal("10000.00")]
    assert len(ledger.invoices) == 6


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = (
        "客户编号{d}客户名称{d}发票号码{d}开票日期{d}应收金额\n"
        "C1{d}甲公司{d}F1{d}2025-01-02{d}1,500.00\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text.format(d=delimiter)))
    assert ledger.invoices[0].amount == Decimal("1500.00")
    assert ledger.invoices[0].customer_name == "甲公司"


def test_undecodable_bytes_name_the_encoding_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("客户编号,客户名称\n".encode() + "Caf\xe9 M\xfcller,x\n".encode("latin-1"))
    assert "不是 UTF-8、UTF-16 或 GBK/GB18030 编码的文本" in reason_of(path)


# --- content of the invoice ledger --------------------------------------------------------------


def test_invoice_values_dates_amounts_and_skipped_rows(tmp_path: Path) -> None:
    ledger = read_ledger(write_csv(tmp_path, INVOICES))
    by_no = {i.invoice_no: i for i in ledger.invoices}
    assert list(by_no) == ["FP0001", "FP0002", "FP0003", "FP0004", "FP0005", "FP0006"]
    assert [i.row for i in ledger.invoices] == [3, 4, 5, 6, 7, 9]  # blank row 8, total row 10
    assert by_no["FP0002"].invoice_date == dt.date(2025, 2, 10)
    assert by_no["FP0003"].invoice_date == dt.date(2025, 3, 1)
    assert by_no["FP0004"].invoice_date == dt.date(2025, 4, 1)
    assert by_no["FP0005"].invoice_date == dt.date(2025, 5, 1)  # serial 45778
    assert by_no["FP0005"].due_date == dt.date(2025, 6, 1)
    assert by_no["FP0004"].due_date is None
    assert by_no["FP0004"].amount == Decimal("-120.00")
    assert by_no["FP0004"].received == Decimal("-20.00")
    assert by_no["FP0005"].amount == Decimal("1200.50")
    assert by_no["FP0003"].received == Decimal("0.00")
    assert by_no["FP0005"].customer_code is None
    assert by_no["FP0003"].contract_no is None
    assert by_no["FP0006"].customer_name == "苏州小计算机有限公司"  # not a 小计 row
    assert ledger.columns["amount"] == "应收金额"
    assert ledger.payments == []


def test_english_headers_case_space_and_full_width(tmp_path: Path) -> None:
    text = (
        "Customer Code,CUSTOMER,Contract No.,Invoice No,Invoice Date,Due Date,"
        "Amount (RMB),Ｒｅｃｅｉｖｅｄ\n"
        "C9,Acme Ltd,K-1,INV-1,2025-01-31,2025-03-02,99.99,10\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.columns == {
        "customer_code": "Customer Code",
        "customer_name": "CUSTOMER",
        "contract_no": "Contract No.",
        "invoice_no": "Invoice No",
        "invoice_date": "Invoice Date",
        "due_date": "Due Date",
        "amount": "Amount (RMB)",
        "received": "Ｒｅｃｅｉｖｅｄ",
    }
    check_golden("invoices_csv_english", ledger)


def test_stronger_alias_wins_over_generic(tmp_path: Path) -> None:
    text = "客户名称,发票号,日期,业务日期,金额,价税合计\n甲,F1,2025-01-01,2025-02-02,100,113\n"
    invoice = read_ledger(write_csv(tmp_path, text)).invoices[0]
    assert invoice.invoice_date == dt.date(2025, 2, 2)
    assert invoice.amount == Decimal("113.00")


def test_xlsx_title_merged_blank_rows_and_excel_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "应收明细"
    sheet.append(["杭州某某有限公司应收账款明细表"])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["截止日期：2025-06-30"])
    sheet.append([])
    sheet.append(["客户编号", "客户名称", "合同编号", "发票号码", "开票日期", "到期日"])
    sheet["G5"], sheet["H5"] = "应收金额（元）", "已收金额"
    sheet.append(["C001", "甲公司", "HT-1", "FP1", dt.datetime(2025, 3, 5), 45751, 1234.565, 0])
    sheet.append([1002, "乙公司", None, 20250001, "2025年3月6日", "2025/4/5", "￥2,000", 2.675])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append(["C003", "丙公司", None, "FP3", 45723.0, None, 300, None])
    sheet.append(["总计", None, None, None, None, None, 3534.57, 2.68])
    ledger = read_ledger(workbook_path(workbook, tmp_path))
    assert (ledger.sheet, ledger.header_row) == ("应收明细", 5)
    assert [i.row for i in ledger.invoices] == [6, 7, 9]
    first, second, third = ledger.invoices
    assert first.invoice_date == dt.date(2025, 3, 5)
    assert first.due_date == dt.date(2025, 4, 4)
    assert first.amount == Decimal("1234.57")  # Excel float, half-up
    assert (second.customer_code, second.invoice_no) == ("1002", "20250001")
    assert second.received == Decimal("2.68")
    assert third.invoice_date == dt.date(2025, 3, 7)
    check_golden("invoices_xlsx_titled", ledger)


def workbook_path(workbook: openpyxl.Workbook, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.xlsx"
    workbook.save(path)
    return path


def test_xlsx_first_sheet_with_a_header_is_used(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "two.xlsx",
        ("说明", [["本文件由系统导出"], ["请勿修改"]]),
        ("回款", [["客户编号", "回款日期", "回款金额"], ["C1", "2025-02-01", 50]]),
    )
    ledger = read_ledger(path)
    assert (ledger.kind, ledger.sheet, ledger.header_row) == ("payments", "回款", 1)
    assert ledger.payments[0].amount == Decimal("50.00")


# --- payments and customers -------------------------------------------------------------------


def test_payment_list_with_invoice_ref(tmp_path: Path) -> None:
    text = (
        "客户编号,客户名称,回款日期,回款金额,对应发票号,收款单号\n"
        "C001,杭州明远贸易有限公司,2025-03-01,3000.00,FP0002,SK-1\n"
        'C002,宁波海辰机械有限公司,2025/3/9,"1,000",,SK-2\n'
        "小计,,,4000,,\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.kind == "payments"
    assert [(p.invoice_ref, p.payment_no) for p in ledger.payments] == [
        ("FP0002", "SK-1"),
        (None, "SK-2"),
    ]
    check_golden("payments_with_ref", ledger)


def test_payment_list_without_invoice_ref_and_generic_columns(tmp_path: Path) -> None:
    text = (
        "流水号,付款单位,日期,金额\nB-77,甲公司,2025年3月5日,￥800\nB-78,乙公司,2025-03-06,(50)\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.kind == "payments"
    assert ledger.columns == {
        "customer_name": "付款单位",
        "paid_on": "日期",
        "paid_amount": "金额",
        "payment_no": "流水号",
    }
    assert [p.amount for p in ledger.payments] == [Decimal("800.00"), Decimal("-50.00")]
    assert all(p.invoice_ref is None for p in ledger.payments)
    check_golden("payments_without_ref", ledger)


def test_payment_list_reads_a_plain_invoice_column_as_the_reference(tmp_path: Path) -> None:
    text = "客户名称,发票号,收款日期,收款金额\n甲公司,FP9,2025-03-05,10\n"
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.kind == "payments"
    assert ledger.payments[0].invoice_ref == "FP9"


def test_customer_master(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "customers.xlsx",
        (
            "客户档案",
            [
                ["客户代码", "单位名称", "联系地址", "联系人", "联系电话", "信用等级", "业务员"],
                [
                    "C001",
                    "杭州明远贸易有限公司",
                    "杭州市西湖区1号",
                    "王芳",
                    13800000000,
                    "A",
                    "李雷",
                ],
                ["C002", "宁波海辰机械有限公司", None, None, "0574-1234567", "B", None],
            ],
        ),
    )
    ledger = read_ledger(path)
    assert ledger.kind == "customers"
    assert ledger.customers[0].phone == "13800000000"
    assert ledger.customers[1].address is None
    check_golden("customers_xlsx", ledger)


def test_invoice_rows_with_payment_columns_yield_payments(tmp_path: Path) -> None:
    text = (
        "客户编号,发票号码,开票日期,应收金额,回款日期,回款金额\n"
        "C1,F1,2025-01-01,100,2025-02-01,60\n"
        "C1,F2,2025-01-02,200,,\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.kind == "invoices"
    assert [i.received for i in ledger.invoices] == [Decimal("0.00"), Decimal("0.00")]
    assert [(p.invoice_ref, p.paid_on, p.amount, p.row) for p in ledger.payments] == [
        ("F1", dt.date(2025, 2, 1), Decimal("60.00"), 2)
    ]
    check_golden("invoices_with_payments", ledger)


def test_payment_columns_are_not_read_twice_when_received_is_there(tmp_path: Path) -> None:
    text = (
        "客户编号,发票号码,开票日期,应收金额,已收金额,回款日期,回款金额\n"
        "C1,F1,2025-01-01,100,60,2025-02-01,60\n"
    )
    ledger = read_ledger(write_csv(tmp_path, text))
    assert ledger.invoices[0].received == Decimal("60.00")
    assert ledger.payments == []
    assert ledger.ignored_columns == ["回款日期", "回款金额"]


# --- bad input ---------------------------------------------------------------------------------

BAD_ROWS = """\
应收账款明细表
客户编号,客户名称,发票号码,开票日期,应收金额
C1,甲,F1,2025-01-01,100
,,F2,2025-01-01,100
C3,丙,,2025-01-01,100
C4,丁,F4,2025-13-01,100
C5,戊,F5,昨天,100
C6,己,F6,2025-01-01,abc

C7,庚,F7,,
C8,辛,F1,2025-01-01,5
合计,,,,505
"""


def test_every_bad_row_is_listed_with_the_row_number_clerks_see(tmp_path: Path) -> None:
    found = [(p.row, p.column, p.value) for p in problems_of(write_csv(tmp_path, BAD_ROWS))]
    assert found == [
        (3, "发票号码", "F1"),  # the first of a duplicated pair is bad too: neither is kept
        (4, "客户编号/客户名称", ""),
        (5, "发票号码", ""),
        (6, "开票日期", "2025-13-01"),
        (7, "开票日期", "昨天"),
        (8, "应收金额", "abc"),
        (10, "开票日期", ""),
        (10, "应收金额", ""),
        (11, "发票号码", "F1"),
    ]


def test_bad_row_reasons_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as caught:
        read_ledger(write_csv(tmp_path, BAD_ROWS))
    error = caught.value
    assert "8 行有误，整个文件未导入" in error.reason
    assert (
        "（读取 10 行：本可导入 0 行，跳过空行 1 行，跳过合计行 1 行，有误 8 行）" in error.reason
    )
    whys = [p.why for p in error.problems]
    assert whys[1] == "客户编号和客户名称都为空：请至少填写一项"
    assert whys[3] == refusal(parse_date, "2025-13-01")
    assert whys[4] == refusal(parse_date, "昨天")
    assert whys[5] == refusal(parse_money, "abc")
    pair = "发票 F1 出现在第 3 行和第 11 行（内容不同）：只保留一行"
    assert whys[3].startswith("没有这一天") and whys[4].startswith("不是日期（请写成 2025-03-05")
    assert whys[5].startswith("不是金额")
    assert whys[0] == whys[8] == pair
    assert f"第 7 行「开票日期」'昨天'：{whys[4]}" in error.report()


def test_bad_rows_in_xlsx_use_excel_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        (
            "Sheet1",
            [
                ["应收账款"],
                [],
                ["客户名称", "发票号", "开票日期", "应收金额"],
                ["甲", "F1", dt.datetime(2025, 1, 1), 10.5],
                ["乙", "F2", 12, "十元"],
            ],
        ),
    )
    assert [(p.row, p.column, p.value) for p in problems_of(path)] == [
        (5, "开票日期", "12"),
        (5, "应收金额", "十元"),
    ]


def test_payment_and_customer_bad_rows(tmp_path: Path) -> None:
    payments = "客户编号,回款日期,回款金额\n,2025-01-01,5\nC2,2025-02-30,x\n"
    assert [(p.row, p.column) for p in problems_of(write_csv(tmp_path, payments))] == [
        (2, "客户编号"),
        (3, "回款日期"),
        (3, "回款金额"),
    ]
    customers = "客户编号,客户名称,电话\n,,123\nC1,甲,1\nC1,甲二,2\n"
    path = write_csv(tmp_path, customers, name="c.csv")
    assert [(p.row, p.column) for p in problems_of(path)] == [
        (2, "客户编号/客户名称"),
        (4, "客户编号"),
    ]


def test_unknown_columns_list_what_was_found_and_what_is_needed(tmp_path: Path) -> None:
    reason = reason_of(write_csv(tmp_path, "序号,品名,规格,数量\n1,螺丝,M3,100\n"))
    assert reason.startswith("没有找到台账表头（看到的表头：序号、品名、规格、数量）")
    assert "发票台账需要客户编号或客户名称、发票号码、开票日期和应收金额" in reason


def test_invoice_ledger_missing_a_required_column(tmp_path: Path) -> None:
    reason = reason_of(write_csv(tmp_path, "客户名称,发票号码,应收金额\n甲,F1,1\n"))
    assert reason == "l.csv的发票台账表头（第 1 行）缺少「开票日期」列：请补上后重新导入。"


@pytest.mark.parametrize("content", [b"", b"\r\n \r\n", "\ufeff".encode()])
def test_empty_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "是空文件" in reason_of(path) or "中没有数据" in reason_of(path)


def test_empty_workbook_and_header_only(tmp_path: Path) -> None:
    empty = write_xlsx(tmp_path / "empty.xlsx", ("Sheet1", []))
    assert reason_of(empty) == "empty.xlsx 中没有数据：请重新导出台账后再导入。"
    header_only = write_csv(tmp_path, "客户编号,发票号码,开票日期,应收金额\n合计,,,0\n")
    assert "有表头但没有台账行" in reason_of(header_only)


def test_not_a_workbook(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    assert "无法作为 Excel 工作簿打开" in reason_of(fake)
    # A damaged .xls (only the compound-file magic): read, and refused as damaged.
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "无法作为 Excel 工作簿打开" in reason_of(xls)


def test_kingdee_kis_journal_is_refused_with_a_reason_a_clerk_understands() -> None:
    reason = reason_of(require_realworld() / KIS_NAME)
    assert "这是会计分录序时簿（" in reason
    assert "请改为导出应收账款明细表" in reason


def test_xlsx_with_a_wrong_dimension_tag_is_read_in_full(tmp_path: Path) -> None:
    # Some exporters write <dimension ref="A1"/>; openpyxl read-only would then cut every row.
    source = write_xlsx(
        tmp_path / "src.xlsx",
        ("S", [["客户编号", "发票号码", "开票日期", "应收金额"], ["C1", "F1", "2025-01-01", 7]]),
    )
    damaged = tmp_path / "dim.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
            dst.writestr(item, data)
    assert read_ledger(damaged).invoices[0].amount == Decimal("7.00")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_fast_path_matches_parse_amount(value: float) -> None:
    problems: list[RowProblem] = []
    try:
        expected: Decimal | None = parse_amount(value)
    except ValueError:
        expected = None
    assert _amount(value, 2, "应收金额", problems, required=True) == expected
    assert bool(problems) == (expected is None)
