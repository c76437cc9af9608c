"""Golden tests: currencies, 核销 columns and legacy spreadsheet formats, from balances worked
out by hand, through the real ingest pipeline into a real desk."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlwt
from hypothesis import given
from hypothesis import strategies as st
from tooling import require_soffice

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.ledger import read_ledger
from dunning.archive.sniff import sniff
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths
from dunning.money import currency_code, parse_amount, parse_money

AS_OF = dt.date(2025, 6, 30)


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def csv_file(folder: Path, text: str, name: str = "台账.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, **kwargs: str) -> IngestError:
    with pytest.raises(IngestError) as caught:
        read_ledger(path, **kwargs)
    return caught.value


HEAD = "客户编号,客户名称,发票号码,开票日期,应收金额,币种\n"


def test_a_usd_row_beside_a_cny_row_is_refused_naming_the_row(tmp_path: Path) -> None:
    # The case: 10,000 CNY + 10,000 USD used to show 20,000.00.
    path = csv_file(
        tmp_path, HEAD + "C1,甲,F1,2025-01-05,10000,人民币\nC1,甲,F2,2025-01-06,10000,USD\n"
    )
    error = refused(path)
    (problem,) = error.problems
    assert (problem.row, problem.column, problem.value) == (3, "币种", "USD")
    assert "不是本工作台的记账币种 CNY" in problem.why and "整个文件未导入" in error.reason


def test_cny_words_in_the_currency_column_are_all_yuan(desk: Desk, tmp_path: Path) -> None:
    rows = "".join(
        f"C1,甲,F{n},2025-01-05,1000.{n}0,{word}\n"
        for n, word in enumerate(["人民币", "CNY", "RMB", "￥", "", "人民币元"])
    )
    report = ingest_paths(desk, [csv_file(tmp_path, HEAD + rows)])
    assert report.of("failed") == []
    # 1000.00 + 1000.10 + 1000.20 + 1000.30 + 1000.40 + 1000.50
    assert balances(desk) == {"C1": Decimal("6001.50")}


def test_foreign_rows_are_read_in_ben_wei_bi_where_the_book_has_it(
    desk: Desk, tmp_path: Path
) -> None:
    text = (
        "客户编号,客户名称,发票号码,开票日期,币种,汇率,应收金额(原币),应收金额(本位币)\n"
        "C1,甲,F1,2025-01-05,人民币,1,10000,10000\n"
        "C1,甲,F2,2025-01-06,美元,7.1,10000,71000\n"
    )
    report = ingest_paths(desk, [csv_file(tmp_path, text)])
    assert report.of("failed") == []
    assert balances(desk) == {"C1": Decimal("81000.00")}  # 10,000 + 71,000 in 本位币


@pytest.mark.parametrize(
    "cell", ["$5,000.00", "US$5000", "USD 5000", "€5000", "HK$5000", "JPY 5000"]
)
def test_a_foreign_mark_in_an_amount_cell_is_never_yuan(tmp_path: Path, cell: str) -> None:
    path = csv_file(
        tmp_path, f'客户编号,客户名称,发票号码,开票日期,应收金额\nC1,甲,F1,2025-01-05,"{cell}"\n'
    )
    (problem,) = refused(path).problems
    assert (problem.row, problem.column, problem.value) == (2, "应收金额", cell)
    assert "不是本工作台的本位币 CNY" in problem.why


def test_a_payment_in_dollars_is_refused_too(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "客户编号,回款日期,回款金额\nC1,2025-03-01,$300.00\n")
    (problem,) = refused(path).problems
    assert (problem.row, problem.column) == (2, "回款金额")


def kingdee_detail(path: Path, currency: str) -> Path:
    """A Kingdee 应收款明细表 whose title line names the currency (币别：...)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "明细"
    for row in [
        ["应收款明细表"],
        ["客户：KH003 南京同创化工有限公司", None, f"币别：{currency}", None, "期间：2025年1期"],
        ["日期", "凭证字号", "摘要", "借方", "贷方", "余额"],
        [None, None, "期初余额", None, None, 1000],
        [dt.datetime(2025, 1, 10), "记-1", "销售", 5000, None, 6000],
        [dt.datetime(2025, 1, 20), "记-2", "收款", None, 2500, 3500],
        [None, None, "本期合计", 5000, 2500, 3500],
    ]:
        ws.append(row)
    wb.save(path)
    return path


def test_a_kingdee_book_in_usd_is_refused(tmp_path: Path) -> None:
    error = refused(kingdee_detail(tmp_path / "kd.xlsx", "美元"))
    assert {p.row for p in error.problems} == {4, 5, 6}
    assert all(p.value == "币别：美元" for p in error.problems)


def test_a_kingdee_book_in_yuan_is_read(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [kingdee_detail(tmp_path / "kd.xlsx", "人民币")])
    assert balances(desk) == {"KH003": Decimal("3500.00")}  # 1000 + 5000 − 2500


def test_a_kingdee_book_in_zong_he_ben_wei_bi_is_read(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [kingdee_detail(tmp_path / "kd.xlsx", "综合本位币")])
    assert balances(desk) == {"KH003": Decimal("3500.00")}


def test_an_amount_header_naming_usd_refuses_the_rows(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "客户编号,发票号码,开票日期,应收金额(USD)\nC1,F1,2025-01-05,100\n")
    (problem,) = refused(path).problems
    assert problem.value == "应收金额(USD)"


def test_a_desk_in_usd_takes_dollars_and_refuses_yuan(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, HEAD + "C1,甲,F1,2025-01-05,$100.00,USD\nC1,甲,F2,2025-01-05,200,人民币\n"
    )
    (problem,) = refused(path, currency="USD").problems
    assert (problem.row, problem.value) == (3, "人民币")


def test_the_desk_currency_comes_from_dunning_toml(desk: Desk, tmp_path: Path) -> None:
    toml = desk.root / "dunning.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('currency = "CNY"', 'currency = "USD"'),
        encoding="utf-8",
    )
    path = csv_file(tmp_path, HEAD + "C1,甲,F1,2025-01-05,$100.00,USD\n")
    report = ingest_paths(Desk(desk.root), [path])
    assert report.of("failed") == []
    assert balances(desk) == {"C1": Decimal("100.00")}


HEXIAO = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额,{}\n"


@pytest.mark.parametrize("header", ["核销金额", "已核销金额", "本次核销"])
def test_a_settled_invoice_with_hexiao_is_not_owed(desk: Desk, tmp_path: Path, header: str) -> None:
    # The case: 10,000 with 10,000 核销 stayed 10,000 overdue.
    text = HEXIAO.format(header) + (
        "C1,甲,F1,2025-01-05,2025-02-04,10000,10000\nC1,甲,F2,2025-02-05,2025-03-07,8000,3000\n"
    )
    report = ingest_paths(desk, [csv_file(tmp_path, text)])
    assert report.of("failed") == []
    assert balances(desk) == {"C1": Decimal("5000.00")}  # 0 + (8000 − 3000)


@pytest.mark.parametrize("header", ["未核销金额", "未核销余额"])
def test_wei_hexiao_is_the_open_balance(desk: Desk, tmp_path: Path, header: str) -> None:
    text = HEXIAO.format(f"核销金额,{header}") + (
        "C1,甲,F1,2025-01-05,2025-02-04,10000,10000,0\n"
        "C1,甲,F2,2025-02-05,2025-03-07,8000,3000,5000\n"
    )
    ingest_paths(desk, [csv_file(tmp_path, text)])
    assert balances(desk) == {"C1": Decimal("5000.00")}
    # Without 核销金额, the received part is amount − 未核销.
    text = HEXIAO.format(header) + "C2,乙,F3,2025-01-05,2025-02-04,900,400\n"
    ingest_paths(desk, [csv_file(tmp_path, text, "台账2.csv")])
    assert balances(desk)["C2"] == Decimal("400.00")


def test_wei_hexiao_that_does_not_add_up_is_a_bad_row(tmp_path: Path) -> None:
    text = HEXIAO.format("已核销金额,未核销金额") + (
        "C1,甲,F1,2025-01-05,2025-02-04,10000,10000,0\n"
        "C1,甲,F2,2025-02-05,2025-03-07,8000,3000,4000\n"
    )
    (problem,) = refused(csv_file(tmp_path, text)).problems
    assert (problem.row, problem.column, problem.value) == (3, "未核销金额", "4000.00")
    assert "8000.00 − 已核销金额 3000.00 不等于未核销金额 4000.00" in problem.why


LEGACY_TABLE = [
    ["应收账款台账"],
    ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额", "已收金额"],
    ["KH001", "杭州明远贸易有限公司", "00012345", dt.datetime(2025, 1, 5), 10000.5, 0],
    ["KH001", "杭州明远贸易有限公司", "FP0002", dt.datetime(2025, 2, 10), 5000, 1000],
    ["KH002", "宁波海辰机械有限公司", "FP0003", dt.datetime(2025, 3, 1), 8800, 8800],
    ["合计", None, None, None, 23800.5, 9800],
]


def write_xls(path: Path) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("应收账款")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(LEGACY_TABLE):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value, date) if isinstance(value, dt.datetime) else sheet.write(
                    r, c, value
                )
    book.save(str(path))
    return path


def legacy_checks(desk: Desk, path: Path, kind: str) -> None:
    assert sniff(path) == kind
    report = ingest_paths(desk, [path])
    assert report.of("failed") == [], report.of("failed")
    assert balances(desk) == {"KH001": Decimal("14000.50"), "KH002": Decimal("0.00")}
    ledger = read_ledger(path)
    assert [i.invoice_no for i in ledger.invoices] == ["00012345", "FP0002", "FP0003"]
    assert ledger.counts.read == 4 and ledger.counts.skipped == {"total": 1}


def test_an_xls_export_is_read(desk: Desk, tmp_path: Path) -> None:
    legacy_checks(desk, write_xls(tmp_path / "K3应收.xls"), "xls")


def test_a_wps_et_file_is_recognised_by_its_content(desk: Desk, tmp_path: Path) -> None:
    # WPS 表格 keeps .et in the same compound-file workbook format as .xls.
    legacy_checks(desk, write_xls(tmp_path / "应收.et"), "xls")


def test_an_xls_dropped_into_the_inbox_is_routed_as_a_ledger(desk: Desk, tmp_path: Path) -> None:
    dropped = desk.inbox / "导出.dat"  # a clerk's odd name: the content decides
    shutil.copy(write_xls(tmp_path / "a.xls"), dropped)
    report = ingest_paths(desk, [desk.inbox])
    assert [(o.status, o.kind) for o in report.outcomes] == [("archived", "ledger")]


def test_an_ods_made_by_libreoffice_is_read(desk: Desk, tmp_path: Path) -> None:
    require_soffice()
    source = write_xls(tmp_path / "src.xls")
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "ods", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    legacy_checks(desk, tmp_path / "src.ods", "ods")


def test_a_word_97_file_is_not_taken_for_a_workbook(tmp_path: Path) -> None:
    # A compound file without a Workbook stream: its directory names WordDocument.
    head = bytearray(512)
    head[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    head[0x1E:0x20] = (9).to_bytes(2, "little")  # 512-byte sectors
    head[0x30:0x34] = (1).to_bytes(4, "little")  # directory at sector 1
    head[0x4C:0x50] = (0).to_bytes(4, "little")  # FAT at sector 0
    fat = bytearray(b"\xff" * 512)
    directory = bytearray(512)
    name = "WordDocument".encode("utf-16-le") + b"\0\0"
    directory[: len(name)] = name
    directory[64:66] = len(name).to_bytes(2, "little")
    path = tmp_path / "letter.doc"
    path.write_bytes(bytes(head) + bytes(fat) + bytes(directory))
    assert sniff(path) == "unknown"
    directory[: len(name)] = b"\0" * len(name)
    book = "Workbook".encode("utf-16-le") + b"\0\0"
    directory[: len(book)] = book
    directory[64:66] = len(book).to_bytes(2, "little")
    path.write_bytes(bytes(head) + bytes(fat) + bytes(directory))
    assert sniff(path) == "xls"


FOREIGN_MARKS = ["$", "US$", "USD", "usd", "€", "EUR", "HK$", "HKD", "JPY", "£", "美元", "港币"]
YUAN_MARKS = ["¥", "￥", "RMB", "CNY", "人民币", "元", "rmb"]


@given(
    cents=st.integers(0, 10**12),
    mark=st.sampled_from(FOREIGN_MARKS),
    before=st.booleans(),
    space=st.sampled_from(["", " ", "\u3000"]),
)
def test_a_foreign_mark_never_reads_as_yuan(
    cents: int, mark: str, before: bool, space: str
) -> None:
    amount = f"{Decimal(cents) / 100:,.2f}"
    cell = f"{mark}{space}{amount}" if before else f"{amount}{space}{mark}"
    with pytest.raises(ValueError, match="不是本工作台的本位币 CNY"):
        parse_amount(cell)
    value, currency = parse_money(cell)
    assert currency not in (None, "CNY") and value == Decimal(cents) / 100


@given(cents=st.integers(-(10**12) + 1, 10**12 - 1), mark=st.sampled_from(YUAN_MARKS))
def test_a_yuan_mark_reads_the_same_amount_as_no_mark(cents: int, mark: str) -> None:
    amount = f"{Decimal(cents) / 100:.2f}"
    assert parse_amount(f"{mark}{amount}") == parse_amount(amount) == Decimal(cents) / 100


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("人民币(CNY)", "CNY"),
        ("美元/USD", "USD"),
        ("港币", "HKD"),
        ("rmb", "CNY"),
        ("全部", "全部"),
    ],
)
def test_currency_names_and_codes(raw: str, code: str) -> None:
    assert currency_code(raw) == code


def test_a_two_row_header_with_yuan_bi_and_ben_wei_bi_reads_ben_wei_bi(tmp_path: Path) -> None:
    # Kingdee: 应收金额 over 原币 | 本位币, a 币别 column, one row in USD.
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [
        ["应收单列表"],
        ["客户编码", "客户名称", "单据编号", "单据日期", "币别", "应收金额", None],
        [None, None, None, None, None, "原币", "本位币"],
        ["C1", "甲", "AR001", dt.datetime(2025, 1, 5), "人民币", 1000, 1000],
        ["C1", "甲", "AR002", dt.datetime(2025, 1, 6), "美元", 100, 710],
    ]:
        ws.append(row)
    ws.merge_cells("F2:G2")
    path = tmp_path / "k3.xlsx"
    wb.save(path)
    ledger = read_ledger(path)
    assert [str(i.amount) for i in ledger.invoices] == ["1000.00", "710.00"]
    assert ledger.columns["amount"] == "应收金额本位币"
