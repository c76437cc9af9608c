"""Title lines read cheaply: the same title found in every layout, never a header or a row."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import require_soffice

from dunning.archive.export_titles import title_lines
from dunning.archive.ledger import read_ledger
from dunning.archive.snapshots import open_items_marker

HEADER = ["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"]
ROWS = [
    ["C001", "杭州甲有限公司", "INV001", "2025-11-01", "100.00"],
    ["C002", "宁波乙有限公司", "INV002", "2025-11-02", "200.00"],
]


def write_xlsx(path: Path, lines: list[list[object]], *, sheet: str = "台账") -> Path:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    for line in lines:
        first.append(line)
    book.save(path)
    return path


def write_csv(path: Path, lines: list[list[object]], encoding: str = "utf-8") -> Path:
    text = "".join(",".join("" if c is None else str(c) for c in line) + "\n" for line in lines)
    path.write_bytes(text.encode(encoding))
    return path


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.sampled_from(
        ["应收账款未清项明细表", "未核销发票清单", "客户应收未结清明细", "应收账款台账"]
    ),
    blank_lines=st.integers(0, 3),
    extra=st.sampled_from([[], ["制表日期：2025-12-05"], ["单位：元"]]),
    layout=st.sampled_from(["xlsx", "csv-utf8", "csv-gbk", "csv-bom"]),
    unknown_column=st.booleans(),
)
def test_the_marker_is_the_same_in_every_layout(
    tmp_path: Path,
    title: str,
    blank_lines: int,
    extra: list[str],
    layout: str,
    unknown_column: bool,
) -> None:
    """Metamorphic: blank lines, a date line, CSV vs XLSX, encodings and an unknown column
    named 未核销金额 never change what the title says."""
    header = HEADER + (["未核销金额"] if unknown_column else [])
    rows = [r + (["0"] if unknown_column else []) for r in ROWS]
    lines: list[list[object]] = [[title], *([[]] * blank_lines), *([extra] if extra else [])]
    lines += [header, *rows]
    expected = next((w for w in ("未清项", "未核销", "未结清") if w in title), None)
    name = f"ledger-{layout}-{blank_lines}-{unknown_column}"
    if layout == "xlsx":
        path = write_xlsx(tmp_path / f"{name}.xlsx", lines)
    else:
        encoding = {"csv-utf8": "utf-8", "csv-gbk": "gbk", "csv-bom": "utf-8-sig"}[layout]
        path = write_csv(tmp_path / f"{name}.csv", lines, encoding)
    ledger = read_ledger(path)
    assert open_items_marker(path, ledger) == expected
    assert open_items_marker(path) == expected


def test_a_header_cell_or_a_data_cell_is_never_a_title(tmp_path: Path) -> None:
    lines: list[list[object]] = [
        ["应收账款台账"],
        [*HEADER, "未核销金额"],
        ["C001", "未清项公司", "INV001", "2025-11-01", "100.00", "100.00"],
    ]
    for path in (write_xlsx(tmp_path / "a.xlsx", lines), write_csv(tmp_path / "a.csv", lines)):
        assert open_items_marker(path, read_ledger(path)) is None
        assert open_items_marker(path) is None
    # A two-column file whose header names 未核销: still a header, not a title.
    two = write_csv(tmp_path / "two.csv", [["客户名称", "未核销金额"], ["甲", "1"]])
    assert open_items_marker(two) is None


def test_the_sheet_the_ledger_was_read_from_is_the_one_looked_at(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "说明"
    cover.append(["本表为未清项说明页"])  # not the ledger's sheet
    data = book.create_sheet("明细")
    data.append(["应收账款台账"])
    data.append(HEADER)
    for row in ROWS:
        data.append(row)
    book.save(tmp_path / "b.xlsx")
    assert title_lines(tmp_path / "b.xlsx", 1, "明细") == [(1, ["应收账款台账"])]
    assert title_lines(tmp_path / "b.xlsx", 1) == [(1, ["本表为未清项说明页"])]
    assert open_items_marker(tmp_path / "b.xlsx", read_ledger(tmp_path / "b.xlsx")) is None


def test_shared_rich_text_and_inline_strings(tmp_path: Path) -> None:
    """A title split into rich-text runs in sharedStrings.xml, and an inline string."""
    sheet = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>单位：元</t></is></c><c r="B3"><v>5</v></c></row>'
        '<row r="9"><c r="A9" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    shared = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>客户编号</t></si><si><r><t>应收账款</t></r><r><t>未清项</t></r>"
        '<rPh sb="0" eb="1"><t>yomi</t></rPh></si></sst>'
    )
    workbook = (
        '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="x" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", shared)
    assert title_lines(path, 5) == [(2, ["应收账款未清项"]), (3, ["单位：元"])]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1broken",
        b"\xff\xfe\x00",
    ],
)
def test_unreadable_files_have_no_title(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    assert title_lines(path, 5) == []
    assert open_items_marker(path) is None
    assert title_lines(tmp_path / "missing.csv", 5) == []


def test_a_large_workbook_is_not_read_to_find_its_title(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(["应收账款未清项明细表"])
    sheet.append(HEADER)
    for i in range(20000):
        sheet.append([f"C{i % 50:03d}", "甲", f"INV{i:06d}", dt.date(2025, 1, 1), 100.0])
    book.save(tmp_path / "big.xlsx")
    best = min(_timed(lambda: open_items_marker(tmp_path / "big.xlsx")) for _ in range(3))
    assert best < 0.2, best  # the whole sheet takes seconds to read; its first rows do not


def _timed(fn: object) -> float:
    start = time.perf_counter()
    assert callable(fn)
    assert fn() == "未清项"
    return time.perf_counter() - start


def test_an_old_xls_export_is_read_through_calamine(tmp_path: Path) -> None:
    require_soffice()
    pytest.importorskip("python_calamine")
    source = write_xlsx(tmp_path / "未核对.xlsx", [["应收账款未核销明细"], HEADER, *ROWS])
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice
    subprocess.run(
        [soffice, "--headless", "--convert-to", "xls", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    xls = tmp_path / "未核对.xls"
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert title_lines(xls, 3)[0] == (1, ["应收账款未核销明细"])
