"""The legal hand-over as it prints: each section group of a customer on a sheet of its own,
columns sized from that sheet's content for A4, long text wrapped in rows tall enough, money as
numbers. Read back with openpyxl from a real workbook, then printed through LibreOffice."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader
from tooling import require_soffice
from web_support import copy_desk

from dunning.archive.db import open_archive, write_transaction
from dunning.dates import office_today
from dunning.desk import Desk, init_desk
from dunning.ingest.pipeline import ingest_paths
from dunning.text import display_width
from dunning.workflow import set_status
from dunning.workflow.cases import add_cost, add_stage, open_case
from dunning.workflow.legal_xlsx import write_legal
from dunning.workflow.log import record_entry
from dunning.workflow.reports import legal_report
from dunning.workflow.xlsx import add_sheet, fit_row_heights, new_workbook, write_table

MONEY = "#,##0.00"
LINE = 15  # points a printed line takes (dunning.workflow.xlsx.LINE_HEIGHT)
PORTRAIT, LANDSCAPE = 100, 145  # width units that print at full size across A4
LONG_NOTE = (
    "财务部王经理说这笔款要等甲方的项目验收之后才能支付，验收时间未定；已提醒其合同约定的"
    "付款期限与逾期利息，对方表示会向总经理汇报，下周一前给书面答复。"
)
LINES_NOTE = "对方称：\n一、资金紧张\n二、等待验收"  # short, but three lines
HOSTILE_NOTE = '=HYPERLINK("http://example.com","点我")'
COURT_NOTE = "(2026)沪0115民初12345号，上海市浦东新区人民法院立案庭受理，承办法官：李某"
CONTRACT_TITLE = "物流服务框架合同（2026年度，含仓储及城市配送补充协议）"
CALLS = 40  # enough log lines for the log to run onto a second page


@pytest.fixture(scope="module")
def legal_desk(demo_template: Desk, tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The demo desk's C004 (four letters, the lawyer's the last) with a signed receipt, a long
    log, a court case and a contract title too long for its column."""
    desk = copy_desk(demo_template, tmp_path_factory.mktemp("legal") / "desk")
    today = office_today()
    with open_archive(desk.db_path) as db:
        refs = [r[0] for r in db.execute(
            "SELECT ref FROM letters WHERE customer_code = 'C004' ORDER BY issued_on, ref"
        ).fetchall()]  # fmt: skip
        issued = db.execute("SELECT issued_on FROM letters WHERE ref = ?", [refs[1]]).fetchone()
        with write_transaction(db) as conn:
            # 20:30 UTC is 04:30 the next morning in Shanghai: the receipt came in that day.
            conn.execute(
                "UPDATE letters SET status = 'signed', signed_at = ? WHERE ref = ?",
                [f"{issued[0]}T20:30:00+00:00", refs[1]],
            )
            conn.execute(
                "UPDATE contracts SET title = ? WHERE customer_code = 'C004'", [CONTRACT_TITLE]
            )
        start = today - dt.timedelta(days=CALLS + 5)
        for n in range(CALLS):
            record_entry(db, "C004", kind="call", note=f"第{n + 1}次电话催收，对方称资金紧张",
                         by="刘洋", on=start + dt.timedelta(days=n))  # fmt: skip
        record_entry(db, "C004", kind="call", note=LONG_NOTE, by="刘洋", on=today)
        record_entry(db, "C004", kind="visit", note=HOSTILE_NOTE, by="张敏", on=today)
        record_entry(db, "C004", kind="call", note=LINES_NOTE, by="刘洋", on=today)
        record_entry(
            db, "C004", kind="promise", note="财务电话承诺月底付款", by="刘洋", on=today,
            promise_amount=Decimal("50000"), promise_date=today,
        )  # fmt: skip
        case = open_case(db, "C004", kind="lawsuit", as_of=today, principal=Decimal("115952.83"),
                         interest=Decimal("2712.62"), court_fee=Decimal("1365"), opened_on=today)  # fmt: skip
        add_stage(db, case.id, "filed", on=today, note=COURT_NOTE)
        add_cost(db, case.id, "lawyer", Decimal("8000"), on=today, note="律师代理费（一审）")
        add_cost(db, case.id, "court_fee", Decimal("1365"), on=today)
    return desk


@pytest.fixture(scope="module")
def path(legal_desk: Desk) -> Path:
    with open_archive(legal_desk.db_path) as db:
        report = legal_report(db, as_of=office_today(), config=legal_desk.config)
    return write_legal(report, legal_desk.out / "法务移交清单.xlsx")


@pytest.fixture(scope="module")
def wb(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


SHEETS = {
    "C004": "portrait",
    "C004 发票": "portrait",
    "C004 函件": "portrait",
    "C004 记录": "landscape",  # eight columns and notes of a sentence or two
    "C004 诉讼": "portrait",
}


def shown(cell: openpyxl.cell.cell.Cell) -> int:
    """How wide a cell prints, in column-width units (CJK characters take two)."""
    value = cell.value
    if isinstance(value, float | int):
        return len(f"{value:,.2f}") if cell.number_format == MONEY else len(str(value))
    if isinstance(value, dt.datetime):
        return 10
    return max((display_width(line) for line in str(value).splitlines()), default=0)


def widths(ws: Worksheet) -> dict[int, float]:
    return {ws[f"{letter}1"].column: d.width for letter, d in ws.column_dimensions.items()}


def table_cells(ws: Worksheet) -> list[openpyxl.cell.cell.Cell]:
    """The cells of the sheet's tables and forms (styled ones below the title), not merged-over."""
    merged_over = {
        c for r in ws.merged_cells.ranges for c in r.cells if (c[0], c[1]) != (r.min_row, r.min_col)
    }
    return [
        cell
        for row in ws.iter_rows(min_row=3)
        for cell in row
        if cell.value is not None and cell.style != "Normal"
        and (cell.row, cell.column) not in merged_over
    ]  # fmt: skip


def room(ws: Worksheet, cell: openpyxl.cell.cell.Cell) -> float:
    """The width a cell's text has: its column, or its merged range's columns."""
    sizes = widths(ws)
    for r in ws.merged_cells.ranges:
        if (r.min_row, r.min_col) == (cell.row, cell.column):
            return sum(sizes[c] for c in range(r.min_col, r.max_col + 1))
    return sizes[cell.column]


def test_every_customer_sheet_prints_on_a4_at_full_width(wb: openpyxl.Workbook) -> None:
    names = wb.sheetnames
    assert names[names.index("C004") : names.index("C004") + len(SHEETS)] == list(SHEETS)
    for name, orientation in SHEETS.items():
        ws = wb[name]
        setup = ws.page_setup
        assert int(setup.paperSize) == 9, name  # A4
        assert setup.orientation == orientation, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), name
        # Full size: the columns add up to no more than the page holds.
        page = PORTRAIT if orientation == "portrait" else LANDSCAPE
        assert sum(widths(ws).values()) <= page, name
    # A single table repeats the title, its heading and its header on every printed page.
    assert wb["C004 发票"].print_title_rows == "$1:$4"
    assert wb["C004 记录"].print_title_rows == "$1:$4"
    assert wb["C004 函件"].print_title_rows == "$1:$1"  # two tables: the title alone
    assert wb["C004 记录"].freeze_panes == "A5"  # on screen the header stays in view


def test_each_column_fits_its_own_sheets_content_without_waste(wb: openpyxl.Workbook) -> None:
    stretched = {("C004", 4), ("C004 诉讼", 2)}  # the contract's name, the case notes
    for name in SHEETS:
        ws = wb[name]
        sizes = widths(ws)
        widest: dict[int, int] = {}
        for cell in table_cells(ws):
            need = shown(cell)
            if cell.alignment.wrap_text:
                lines = sum(
                    -(-max(display_width(part), 1) // int(room(ws, cell) - 1))
                    for part in str(cell.value).split("\n")
                )
                height = ws.row_dimensions[cell.row].height or LINE
                assert height >= lines * LINE, (name, cell.coordinate, cell.value)
            else:
                assert need <= room(ws, cell) - 1, (name, cell.coordinate, cell.value)
            if not any((cell.row, cell.column) in r.cells for r in ws.merged_cells.ranges):
                widest[cell.column] = max(widest.get(cell.column, 0), need)
        for column, width in sizes.items():
            if (name, column) not in stretched:
                assert width <= max(widest.get(column, 0) + 2, 6), (name, column)
    # The invoice sheet's columns are its own: invoice numbers, not the log's notes.
    invoices = widths(wb["C004 发票"])
    assert invoices[1] == len("FP202600013") + 2
    assert invoices[5] == len("127,409.03") + 2  # the widest figure is the total


def test_a_long_note_wraps_in_a_row_tall_enough(wb: openpyxl.Workbook) -> None:
    ws = wb["C004 记录"]
    cell = next(c for c in ws["C"] if c.value == LONG_NOTE)
    width = widths(ws)[3]
    assert 40 <= width < display_width(LONG_NOTE)  # as wide as the landscape page allows
    assert cell.alignment.wrap_text
    lines = -(-display_width(LONG_NOTE) // int(width - 1))
    assert lines >= 2 and ws.row_dimensions[cell.row].height >= lines * LINE
    short = next(c for c in ws["C"] if c.value == "财务电话承诺月底付款")
    assert (ws.row_dimensions[short.row].height or LINE) == LINE  # a short note, one line
    assert ws[f"A{cell.row}"].alignment.vertical == "top"  # the date beside the note's top line
    lines = next(c for c in ws["C"] if c.value == LINES_NOTE)
    assert lines.alignment.wrap_text and ws.row_dimensions[lines.row].height >= 3 * LINE
    # The contract's long name on the first sheet wraps too, in the stretched column.
    contract = wb["C004"]
    title = next(c for c in contract["D"] if c.value == CONTRACT_TITLE)
    assert widths(contract)[4] >= 40
    assert (contract.row_dimensions[title.row].height or LINE) >= LINE


def test_the_customer_and_the_debt_are_forms_with_merged_values(wb: openpyxl.Workbook) -> None:
    ws = wb["C004"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    labels = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1)}
    for label in ("客户编号", "客户名称", "地址", "联系人", "电话", "移交原因"):
        row = labels[label]
        assert f"B{row}:D{row}" in merged, label  # the value spans the form's width
        assert ws.cell(row=row, column=1).font.bold
    assert ws[f"B{labels['地址']}"].value == "上海市浦东新区张江路1000号"
    for label in ("应收余额", "逾期金额", "最长逾期天数", "账龄 91天以上"):
        row = labels[label]
        assert f"B{row}:C{row}" in merged, label  # figures end under the contract amounts
    assert ws.page_setup.orientation == "portrait"
    assert ws["A1"].value.endswith("\nC004 上海申达物流有限公司")  # the title's second line
    assert (ws.row_dimensions[1].height or 0) >= 24 + 19  # two lines of the title font


def test_amounts_are_numbers_in_money_format_and_add_up(wb: openpyxl.Workbook) -> None:
    for name in SHEETS:
        for cell in table_cells(wb[name]):
            if isinstance(cell.value, float):
                assert cell.number_format == MONEY, (name, cell.coordinate)
    ws = wb["C004 发票"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5)]
    invoices = [r for r in rows if str(r[0]).startswith("FP")]
    assert [(r[4], r[5]) for r in invoices] == [
        (22912.4, 11456.2), (38492.72, 38492.72), (66003.91, 66003.91),
    ]  # fmt: skip
    total = next(r for r in rows if r[0] == "合计")
    # By hand: 22,912.40 + 38,492.72 + 66,003.91 = 127,409.03 invoiced;
    # 11,456.20 + 38,492.72 + 66,003.91 = 115,952.83 open, the customer's balance.
    assert total[1] == "共 3 张" and total[4:6] == [127409.03, 115952.83]
    total_row = next(c.row for c in ws["A"] if c.value == "合计")
    assert ws[f"E{total_row}"].number_format == MONEY and ws[f"E{total_row}"].font.bold
    form = wb["C004"]
    balance = next(c.row for c in form["A"] if c.value == "应收余额")
    assert form[f"B{balance}"].value == 115952.83
    assert form[f"B{balance}"].number_format == MONEY
    days = next(c.row for c in form["A"] if c.value == "最长逾期天数")
    assert isinstance(form[f"B{days}"].value, int) and form[f"B{days}"].number_format == "0"
    letters = wb["C004 函件"]
    amounts = [c for c in letters["E"] if isinstance(c.value, float)]
    assert amounts and all(c.number_format == MONEY for c in amounts)
    court = wb["C004 诉讼"]
    costs = next(c.row for c in court["A"] if c.value == "办案费用合计")
    assert court[f"D{costs}"].value == 9365  # 8,000.00 + 1,365.00


def test_a_formula_in_a_note_is_text_and_a_receipt_is_dated_in_the_office(
    wb: openpyxl.Workbook, legal_desk: Desk
) -> None:
    ws = wb["C004 记录"]
    cell = next(c for c in ws["C"] if c.value == HOSTILE_NOTE)
    assert cell.data_type == "s"
    letters = wb["C004 函件"]
    signed = [[c.value for c in r] for r in letters.iter_rows(min_row=5) if r[5].value == "已签回"]
    with open_archive(legal_desk.db_path) as db:
        ref, issued = db.execute(
            "SELECT ref, issued_on FROM letters WHERE status = 'signed' AND customer_code = 'C004'"
        ).fetchone()
    next_day = dt.datetime.fromisoformat(issued) + dt.timedelta(days=1)
    # Once among the letters, once among the receipts; 20:30 UTC is the next day in Shanghai.
    assert [(r[0], r[6]) for r in signed] == [(ref, next_day), (ref, next_day)]


def test_the_printed_sheets_keep_their_orientation_and_repeat_the_log_header(
    path: Path, tmp_path: Path
) -> None:
    require_soffice()
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = tmp_path / f"{path.stem}.pdf"
    assert pdf.is_file(), done.stderr
    pages = PdfReader(pdf).pages
    texts = [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, len(pages) + 1)
    ]  # fmt: skip

    def landscape(n: int) -> bool:
        box = pages[n].mediabox
        return float(box.width) > float(box.height)

    log = [n for n, text in enumerate(texts) if "七、催收记录" in text]
    assert len(log) >= 2  # the log runs onto a second page ...
    for n in log:  # ... and every page of it says whose it is and what each column is
        assert "C004 上海申达物流有限公司" in texts[n] and "承诺付款日" in texts[n]
        assert landscape(n)
    form = next(n for n, text in enumerate(texts) if "一、客户信息" in text)
    invoices = next(n for n, text in enumerate(texts) if "四、未收发票" in text)
    assert not landscape(form) and not landscape(invoices)
    # Each figure on one line, whole: the open total and the balance.
    assert "127,409.03" in texts[invoices] and "115,952.83" in texts[invoices]
    assert "财务电话承诺月底付款" in "".join(texts[n] for n in log)


# -- adversarial: codes a sheet name cannot hold, a long address, nothing to list -------------

ODD_CODES = ["O'NEIL-01", "A/B:C*?[1]", "L" * 31]


def test_odd_codes_get_sheets_of_their_own_and_links_that_reach_them(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    ledger = tmp_path / "台账.csv"
    lines = ["客户编号,客户名称,发票号码,开票日期,到期日,应收金额"]
    lines += [f'"{code}",=1+{n},FP{n},2025-01-05,2025-02-04,1000.00' for n, code in
              enumerate(ODD_CODES)]  # fmt: skip
    ledger.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not ingest_paths(desk, [ledger]).of("failed")
    address = "浙江省杭州市滨江区江南大道1号\n" + "某某产业园区某某大厦" * 12
    with open_archive(desk.db_path) as db:
        codes = [r[0] for r in db.execute("SELECT code FROM customers ORDER BY code")]
        for code in codes:
            set_status(db, code, "litigation", note="移交")
        with write_transaction(db) as conn:
            conn.execute("UPDATE customers SET address = ?", [address])
        report = legal_report(db, as_of=dt.date(2025, 6, 30), config=desk.config)
    wb = openpyxl.load_workbook(write_legal(report, tmp_path / "legal.xlsx"))
    assert len(codes) == 3 and len(wb.sheetnames) == 1 + 4 * len(codes)
    assert len({n.casefold() for n in wb.sheetnames}) == len(wb.sheetnames)
    # A 31-character code is cut to make room for what the sheet holds.
    groups = [wb.sheetnames[n : n + 4] for n in range(1, len(wb.sheetnames), 4)]
    assert all([name[-2:] for name in group[1:]] == ["发票", "函件", "记录"] for group in groups)
    assert ["L" * 31, *(f"{'L' * 28} {s}" for s in ("发票", "函件", "记录"))] in groups
    summary = wb["移交汇总"]
    for row in range(3, 3 + len(codes)):
        location = summary[f"A{row}"].hyperlink.location
        target = location.rsplit("!", 1)[0][1:-1].replace("''", "'")
        first = wb[target]  # the link names a sheet that exists ...
        code = summary[f"A{row}"].value
        name = f"=1+{ODD_CODES.index(code)}"  # a formula-looking name stays text
        assert first["A1"].value.endswith(f"\n{code} {name}")
        # ... and the long address wraps in its merged cell, its row as tall as its lines.
        cell = next(c for c in first["B"] if c.value == address)
        width = sum(first.column_dimensions[x].width for x in "BCD")
        lines = sum(-(-display_width(p) // int(width - 1)) for p in address.split("\n"))
        assert lines >= 3 and first.row_dimensions[cell.row].height >= lines * LINE
        assert cell.alignment.wrap_text
    for ws in wb.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row), ws.title
    # A customer with no letters and no log: each section says so.
    log = wb[wb.sheetnames[4]]
    assert log.title.endswith("记录") and "（无）" in [c.value for c in log["A"]]


def test_a_chinese_note_gets_the_line_excel_sets_beyond_the_plain_count() -> None:
    wb = new_workbook()
    ws = add_sheet(wb, "记录", "标题")
    note = "催" * 60  # 120 units by the plain count: three lines of 40 ...
    write_table(ws, 2, ["说明"], [[note], ["短"]])
    ws.column_dimensions["A"].width = 41  # ... 40 units of room a line
    fit_row_heights(ws, 3)
    # ... but Excel sets a CJK character 14.7 px wide, 2.1 units: 60 × 14.7 = 882 px over the
    # 280 px a line holds is 3.15, so four lines.
    assert ws.row_dimensions[3].height == 4 * LINE
    assert ws.row_dimensions[4].height is None  # one line: left as it is
