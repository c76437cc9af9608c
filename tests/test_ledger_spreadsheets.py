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
    assert "cannot be opened as an Excel workbook" in str(caught.value)


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
