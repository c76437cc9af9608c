"""Adversarial spreadsheets through `read_sheets`/`read_ledger`: error cells calamine reads as
empty, damaged and truncated legacy files, odd sheet names; never a traceback, never a silent 0."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import require_soffice

from dunning.archive.ledger import read_ledger
from dunning.archive.ledger.files import read_sheets
from dunning.archive.ledger.legacy import xls_errors
from dunning.archive.sniff import sniff
from dunning.errors import IngestError

HEADER = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额", "已收金额", "备注"]


def xls(path: Path, sheets: dict[str, list[list[object]]], errors: dict[str, dict]) -> Path:
    """An .xls whose `errors` cells (sheet → {(row, col): code}) hold error values."""
    book = xlwt.Workbook(encoding="utf-8")
    for name, table in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
        for (r, c), code in errors.get(name, {}).items():
            sheet.row(r).set_cell_error(c, code)
    book.save(str(path))
    return path


def rows_with(received: object = 0) -> list[list[object]]:
    return [
        ["应收账款台账"],
        HEADER,
        ["C1", "甲", "F1", "2025-01-05", 100, received, None],
        ["C1", "甲", "F2", "2025-01-06", 200, 0, None],
    ]


def test_an_error_in_an_xls_amount_is_a_bad_row_not_a_zero(tmp_path: Path) -> None:
    path = xls(
        tmp_path / "a.xls", {"A&B <台账>": rows_with(None)}, {"A&B <台账>": {(2, 5): "#REF!"}}
    )
    assert xls_errors(path) == {"A&B <台账>": {(3, 5): "#REF!"}}
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "已收金额", "#REF!")


def test_an_error_in_a_column_nobody_reads_is_harmless(tmp_path: Path) -> None:
    path = xls(tmp_path / "a.xls", {"台账": rows_with()}, {"台账": {(3, 6): 0x07}})
    ledger = read_ledger(path)
    assert [i.invoice_no for i in ledger.invoices] == ["F1", "F2"]


def test_an_error_in_an_xlsx_amount_is_a_bad_row_not_a_zero(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "R&D"
    for row in rows_with("#DIV/0!"):
        ws.append(row)
    path = tmp_path / "a.xlsx"
    wb.save(path)
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    assert [(p.row, p.value) for p in caught.value.problems] == [(3, "#DIV/0!")]


def test_read_sheets_gives_rows_from_a1_with_empty_cells_as_none(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"] = "客户"
    ws["D4"] = 12.0
    ws["E4"] = dt.datetime(2025, 3, 5)
    ws["F4"] = 1.5
    ws["D5"], ws["D6"] = 13, 14
    ws.merge_cells("C4:C6")
    ws["C4"] = "甲"
    ws.sheet_state = "visible"
    hidden = wb.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    path = tmp_path / "a.xlsx"
    wb.save(path)
    first, second = list(read_sheets(path))
    rows = [*first.head]
    assert rows[2] == (None, None, "客户", None, None, None)
    assert rows[3] == (None, None, "甲", 12, dt.date(2025, 3, 5), 1.5)
    # The merge's value on each row it covers.
    assert rows[4] == (None, None, "甲", 13, None, None) and rows[5][2:4] == ("甲", 14)
    assert not first.hidden and second.hidden


def legacy_bytes(tmp_path: Path) -> bytes:
    return xls(tmp_path / "src.xls", {"台账": rows_with()}, {}).read_bytes()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(8, 6000),
    flips=st.lists(st.tuples(st.integers(0, 6000), st.integers(0, 255)), max_size=8),
)
def test_a_damaged_xls_is_refused_or_read_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flips: list[tuple[int, int]]
) -> None:
    tmp = tmp_path_factory.mktemp("damaged")
    data = bytearray(legacy_bytes(tmp))
    for at, value in flips:
        if at < len(data):
            data[at] = value
    path = tmp / "bad.xls"
    path.write_bytes(bytes(data[:cut]))
    sniff(path)  # never raises
    try:
        ledger = read_ledger(path)
    except IngestError as exc:
        assert str(exc)
    else:
        assert ledger.counts.adds_up


def test_an_encrypted_xlsx_is_refused_with_a_reason(tmp_path: Path) -> None:
    # Office keeps a password-protected .xlsx inside a compound file: EncryptedPackage.
    head = bytearray(512)
    head[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    head[0x1E:0x20] = (9).to_bytes(2, "little")
    head[0x30:0x34] = (1).to_bytes(4, "little")
    head[0x4C:0x50] = (0).to_bytes(4, "little")
    fat = bytearray(b"\xff" * 512)
    directory = bytearray(512)
    name = "EncryptedPackage".encode("utf-16-le") + b"\0\0"
    directory[: len(name)] = name
    directory[64:66] = len(name).to_bytes(2, "little")
    path = tmp_path / "secret.xlsx"
    path.write_bytes(bytes(head) + bytes(fat) + bytes(directory))
    assert sniff(path) == "xls"
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    assert "无法作为 Excel 工作簿打开" in str(caught.value)


def test_an_ods_that_is_only_a_mimetype_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "x.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<not-xml")
    assert sniff(path) == "ods"
    with pytest.raises(IngestError):
        read_ledger(path)


def test_an_xls_number_shown_with_leading_zeros_is_read_as_shown(tmp_path: Path) -> None:
    # Kingdee keeps 8-digit invoice numbers as numbers formatted 00000000: 00012345, not 12345.
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("台账")
    zeros = xlwt.easyxf(num_format_str="00000000")
    for c, title in enumerate(HEADER[:5]):
        sheet.write(0, c, title)
    for r, number in enumerate([12345, 99, 12345678], start=1):
        sheet.write(r, 0, "C1")
        sheet.write(r, 1, "甲")
        sheet.write(r, 2, number, zeros)
        sheet.write(r, 3, "2025-01-05")
        sheet.write(r, 4, 100.5, zeros if r == 3 else xlwt.easyxf())  # an amount stays a number
    path = tmp_path / "k3.xls"
    book.save(str(path))
    ledger = read_ledger(path)
    assert [i.invoice_no for i in ledger.invoices] == ["00012345", "00000099", "12345678"]
    assert [str(i.amount) for i in ledger.invoices] == ["100.50", "100.50", "100.50"]


def test_an_error_in_an_ods_amount_is_a_bad_row_not_a_zero(tmp_path: Path) -> None:
    require_soffice()
    source = tmp_path / "g.csv"
    source.write_text(
        "客户编号,发票号码,开票日期,应收金额,已收金额\n"
        "C1,F1,2025-01-05,100,=1/0\nC1,F2,2025-01-05,100,=NA()\nC1,F3,2025-01-05,100,0\n",
        encoding="utf-8",
    )
    subprocess.run(
        ["soffice", "--headless", "--infilter=CSV:44,34,76", "--convert-to", "ods",
         "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    with pytest.raises(IngestError) as caught:
        read_ledger(tmp_path / "g.ods")
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [
        (2, "已收金额", "#DIV/0!"),
        (3, "已收金额", "#N/A"),
    ]


def _a1(ref: str) -> tuple[int, int]:
    letters = "".join(c for c in ref if c.isalpha())
    col = 0
    for char in letters:
        col = col * 26 + ord(char) - 64
    return int(ref[len(letters) :]) - 1, col - 1


def xls_with_merges(path: Path, rows: list[list[object]], merges: list[str]) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value, date) if isinstance(value, dt.datetime) else sheet.write(
                    r, c, value
                )
    for span in merges:
        (r1, c1), (r2, c2) = (_a1(part) for part in span.split(":"))
        sheet.merge(r1, r2, c1, c2)
    book.save(str(path))
    return path


def xlsx_with_merges(path: Path, rows: list[list[object]], merges: list[str]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    for span in merges:
        wb.active.merge_cells(span)
    wb.save(path)
    return path


DETAIL_BOOKS: dict[str, tuple[list[list[object]], list[str]]] = {
    "kingdee": (
        [
            ["客户往来明细账"],
            ["会计期间：2025年1期至2025年11期", None, None, None, "币别：人民币"],
            ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"],
            [None, None, "KH001", "厦门鹭岛贸易有限公司", "期初余额", None, None, "借", 5000],
            [dt.datetime(2025, 3, 5), "记-12", "KH001", "厦门鹭岛贸易有限公司", "销售", 11300, None, "借", 16300],
            [dt.datetime(2025, 4, 1), "记-30", "KH001", "厦门鹭岛贸易有限公司", "收款", None, 6300, "借", 10000],
            [None, None, "KH001", "厦门鹭岛贸易有限公司", "本期合计", 11300, 6300, "借", 10000],
        ],
        [],
    ),
    "merged headings": (
        [
            ["往来对账单"],
            ["日期", "凭证号", "摘要", "借方金额", "贷方金额", "余额"],
            ["KH001 厦门鹭岛贸易有限公司"],
            ["2025-07-01", "记-1", "销售", 100, None, 100],
            ["2025-07-09", "记-5", "收款", None, 40, 60],
            ["客户：KH002 南京同创化工有限公司"],
            ["2025-07-02", "记-2", "销售", 70, None, 70],
            ["小计", None, None, 70, None, 70],
        ],
        ["A3:F3", "A6:F6"],
    ),
    "yonyou two-row header": (
        [
            ["应收账款明细账"],
            ["科目：1122 应收账款", None, None, None, None, "客户：温州瓯江电器有限公司（KH014）"],
            ["2025年", None, "凭证号", "摘要", "本期发生", None, "方向", "余额"],
            ["月", "日", None, None, "借方", "贷方", None, None],
            [1, 1, None, "上年结转", None, None, "借", 800],
            [1, 15, "记-0008", "销售商品", 1000, None, "借", 1800],
            [1, 31, "记-0031", "收款", None, 1800, "平", 0],
            [None, None, None, "本月合计", 1000, 1800, "平", 0],
        ],
        ["A3:B3", "E3:F3", "C3:C4", "D3:D4", "G3:G4", "H3:H4"],
    ),
    "customer merged down": (
        [
            ["应收账款台账"],
            ["客户名称", "发票号码", "开票日期", "应收金额"],
            ["甲公司", "F1", dt.datetime(2025, 1, 5), 100],
            [None, "F2", dt.datetime(2025, 1, 6), 200],
            ["乙公司", "F3", dt.datetime(2025, 1, 7), 300],
        ],
        ["A3:A4"],
    ),
}  # fmt: skip


def read_all(path: Path) -> tuple[object, ...]:
    ledger = read_ledger(path)
    return (
        ledger.kind,
        ledger.invoices,
        ledger.payments,
        ledger.counts,
        ledger.header_row,
    )


@pytest.mark.parametrize("book", list(DETAIL_BOOKS))
def test_xls_and_xlsx_of_one_book_read_the_same(tmp_path: Path, book: str) -> None:
    rows, merges = DETAIL_BOOKS[book]
    from_xlsx = read_all(xlsx_with_merges(tmp_path / "a.xlsx", rows, merges))
    from_xls = read_all(xls_with_merges(tmp_path / "a.xls", rows, merges))
    assert from_xls == from_xlsx
    counts = from_xlsx[3]
    assert counts.adds_up and counts.imported > 0  # type: ignore[attr-defined]


def test_ods_of_each_book_reads_as_its_xlsx(tmp_path: Path) -> None:
    require_soffice()
    sources = [
        xlsx_with_merges(tmp_path / f"book{n}.xlsx", *DETAIL_BOOKS[name])
        for n, name in enumerate(DETAIL_BOOKS)
    ]
    out = tmp_path / "ods"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "ods", "--outdir", str(out), *map(str, sources)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for source in sources:
        assert read_all(out / f"{source.stem}.ods") == read_all(source), source.stem
