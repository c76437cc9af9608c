"""The legal hand-over (法务移交清单) as a printable workbook.

One summary sheet (移交汇总, each code a link to the customer's papers), the court cases
(诉讼案件) when there are any, then each customer's papers in what a lawyer asks for: the
customer, the debt and the contracts (sheet "C004"), open invoices ("C004 发票"), letters sent
and signed receipts ("C004 函件"), the collection log ("C004 记录") and its court cases
("C004 诉讼"). Each sheet is sized for its own tables and printed on A4 (xlsx.fit_columns).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from dunning.dates import chinese_date, office_time
from dunning.receivables import ZERO, bucket_title
from dunning.vocabulary import CASE_KINDS
from dunning.workflow.cases import Case
from dunning.workflow.log import KIND_TITLES, PROMISE_TITLES
from dunning.workflow.reports import LegalCase, LegalReport, LetterInfo
from dunning.workflow.status import STATUS_TITLES
from dunning.workflow.xlsx import (
    Cell,
    add_sheet,
    finish_sheet,
    fit_row_heights,
    link_to_sheet,
    new_workbook,
    save_workbook,
    write_pairs,
    write_section,
    write_table,
)

SUMMARY = "移交汇总"
HEADER_ROW = 2
NONE_ROW: list[Cell] = ["（无）"]


def legal_path(out_dir: Path, as_of: dt.date) -> Path:
    """Where `report legal` writes by default: out/法务移交清单-2025-06-30.xlsx."""
    return out_dir / f"法务移交清单-{as_of.isoformat()}.xlsx"


def write_legal(report: LegalReport, path: Path) -> Path:
    return save_workbook(legal_workbook(report), path)


def legal_workbook(report: LegalReport) -> Workbook:
    wb = new_workbook()
    _summary_sheet(wb, report)
    if report.court_cases:
        _court_cases_sheet(wb, report)
    for row, case in enumerate(report.cases, start=HEADER_ROW + 1):
        # The summary's customer code opens the customer's papers: a lawyer's way in.
        link_to_sheet(wb[SUMMARY], row, 1, _case_sheet(wb, report, case))
    return wb


def _title(report: LegalReport, what: str) -> str:
    return f"{report.company}　{what}（截至{chinese_date(report.as_of)}）".lstrip("　")


SUMMARY_HEADERS = [
    "客户编号",
    "客户名称",
    "客户状态",
    "移交原因",
    "应收余额",
    "逾期金额",
    "最长逾期天数",
    "合同数",
    "函件数",
    "已签回执数",
    "最近函件",
    "发函日期",
]


def _summary_row(case: LegalCase) -> list[Cell]:
    p = case.position
    letter = p.last_letter
    return [
        p.customer.code,
        p.customer.name,
        STATUS_TITLES.get(p.customer.status, p.customer.status),
        "；".join(case.reasons),
        p.aging.balance,
        p.aging.overdue,
        p.aging.max_days_overdue,
        len(case.contracts),
        len(p.letters),
        len(case.signed_letters),
        letter.title if letter else None,
        letter.issued_on if letter else None,
    ]


def _summary_sheet(wb: Workbook, report: LegalReport) -> None:
    ws = add_sheet(wb, SUMMARY, _title(report, "法务移交清单"))
    cases = report.cases
    totals: list[Cell] = [
        "合计",
        f"共 {len(cases)} 户",
        None,
        None,
        sum((c.position.aging.balance for c in cases), ZERO),
        sum((c.position.aging.overdue for c in cases), ZERO),
    ]
    totals += [None] * (len(SUMMARY_HEADERS) - len(totals))
    rows = [_summary_row(c) for c in cases] or [["（无）", "没有诉讼中或已发最高级函件的客户"]]
    write_table(ws, HEADER_ROW, SUMMARY_HEADERS, rows, totals=totals)
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"C{HEADER_ROW + 1}")


# A lawyer's binder, one customer after another: the customer's sheets follow each other, each
# section group on its own sheet so its columns are sized for its own content, and the long
# tables (invoices, the log) repeat their heading rows on every printed page. Not one sheet on
# a fine grid of merged cells: print titles are per sheet, so only a table alone on its sheet
# can repeat its header on page 2, and a lawyer copies the invoice list into a claim's schedule,
# which merged cells break. A customer's first sheet keeps the bare code as its name.
Block = Callable[[Worksheet, int, LegalReport, LegalCase], int]
Section = tuple[str, Block]
FIRST_ROW = 3  # row 1 the title, row 2 a blank line


def _sheet_groups(report: LegalReport, case: LegalCase) -> list[tuple[str, list[Section]]]:
    groups: list[tuple[str, list[Section]]] = [
        ("", [("一、客户信息", _customer_block), ("二、欠款情况", _debt_block),
              ("三、合同", _contracts_block)]),
        ("发票", [("四、未收发票", _invoices_block)]),
        ("函件", [("五、催款函件", _letters_block), ("六、签收回执", _receipts_block)]),
        ("记录", [("七、催收记录", _log_block)]),
    ]  # fmt: skip
    if _cases_of(report, case):
        groups.append(("诉讼", [("八、诉讼案件", _court_block)]))
    return groups


def _case_sheet(wb: Workbook, report: LegalReport, case: LegalCase) -> str:
    """The customer's sheets, one per section group; returns the first one's name."""
    cust = case.position.customer
    names: list[str] = []
    # Two lines, so the customer's name never breaks on a portrait page: who hands over, then whom.
    title = f"{_title(report, '法务移交资料')}\n{cust.code} {cust.name}"
    for suffix, sections in _sheet_groups(report, case):
        # A long code is cut, never the suffix that says what the sheet holds (31 characters).
        name = f"{cust.code[: 30 - len(suffix)]} {suffix}" if suffix else cust.code
        ws = add_sheet(wb, name, title)
        names.append(str(ws.title))
        row = FIRST_ROW
        for heading, write in sections:
            row = write_section(ws, row, heading)
            row = write(ws, row, report, case) + 1
        # A single table repeats the title, its heading and its header on every page.
        single = len(sections) == 1
        finish_sheet(
            ws,
            header_row=None,
            freeze=f"A{FIRST_ROW + 2}" if single else None,
            fit_page=True,
            stretch=STRETCH.get(suffix),
            repeat_rows=f"1:{FIRST_ROW + 1}" if single else "1:1",
        )
        fit_row_heights(ws, FIRST_ROW)
    return names[0]


# The column that takes the page's spare width: the contract's name on the first sheet (the
# form's values are merged across it), the notes of a court case.
STRETCH = {"": 4, "诉讼": 2}
FORM_SPAN = 3  # the first sheet's columns after the labels: 签订日期, 合同金额, 合同名称
AMOUNT_SPAN = 2  # the debt's figures end under the contract amounts


def _customer_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    c = case.position.customer
    pairs: list[tuple[str, Cell]] = [
        ("客户编号", c.code),
        ("客户名称", c.name),
        ("地址", c.address),
        ("联系人", c.contact),
        ("电话", c.phone),
        ("业务员", c.salesperson),
        ("信用等级", c.credit_grade),
        ("客户状态", STATUS_TITLES.get(c.status, c.status)),
        ("移交原因", "；".join(case.reasons)),
    ]
    return write_pairs(ws, row, pairs, span=FORM_SPAN)


def _debt_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    aging = case.position.aging
    pairs: list[tuple[str, Cell]] = [
        ("应收余额", aging.balance),
        ("逾期金额", aging.overdue),
        ("最长逾期天数", aging.max_days_overdue),
    ]
    pairs += [(f"账龄 {bucket_title(k)}", aging.buckets[k]) for k in report.labels]
    return write_pairs(ws, row, pairs, span=AMOUNT_SPAN)


def _contracts_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    rows = [[k.contract_no, _day(k.signed_on), k.amount, k.title] for k in case.contracts]
    return write_table(
        ws, row, ["合同编号", "签订日期", "合同金额", "合同名称"], rows or [NONE_ROW]
    )


def _invoices_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    items = case.position.aging.items
    rows: list[list[Cell]] = [
        [
            a.item.invoice.invoice_no,
            a.item.invoice.contract_no,
            a.item.invoice.invoice_date,
            a.item.invoice.due_date,
            a.item.invoice.amount,
            a.item.open_amount,
            max(a.days_overdue, 0),
        ]
        for a in items
    ]
    headers = ["发票号", "合同编号", "开票日期", "到期日", "发票金额", "未收金额", "逾期天数"]
    if not rows:
        return write_table(ws, row, headers, [NONE_ROW])
    totals: list[Cell] = [
        "合计",
        f"共 {len(rows)} 张",
        None,
        None,
        sum((a.item.invoice.amount for a in items), ZERO),
        sum((a.item.open_amount for a in items), ZERO),
        None,
    ]
    return write_table(ws, row, headers, rows, totals=totals)


def _letters_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    rows: list[list[Cell]] = [
        [
            letter.ref,
            letter.level,
            letter.title,
            letter.issued_on,
            letter.amount,
            "已签回" if letter.signed else "未签回",
            _signed_on(report, letter),
        ]
        for letter in case.position.letters
    ]
    return write_table(ws, row, LETTER_HEADERS, rows or [NONE_ROW])


LETTER_HEADERS = ["函件编号", "级别", "函件", "发函日期", "催收金额", "回执", "签回日期"]


def _receipts_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    # The same columns as the letters above (a receipt is a signed letter), so the two tables
    # share their widths without either being wrong; the amount is what the customer signed for.
    rows: list[list[Cell]] = [
        [
            letter.ref,
            letter.level,
            letter.title,
            letter.issued_on,
            letter.amount,
            "已签回",
            _signed_on(report, letter),
        ]
        for letter in case.signed_letters
    ]
    return write_table(ws, row, LETTER_HEADERS, rows or [NONE_ROW])


def _signed_on(report: LegalReport, letter: LetterInfo) -> Cell:
    """The office's day the signed receipt came in (stored as a timestamp with its zone)."""
    if not letter.signed_at:
        return None
    return _day(office_time(letter.signed_at, report.timezone))


def _log_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    statuses = case.position.promise_statuses
    rows: list[list[Cell]] = [
        [
            e.day,
            KIND_TITLES.get(e.kind, e.kind),
            e.note,
            e.by,
            e.promise_amount,
            e.promise_date,
            PROMISE_TITLES[statuses[e.id]] if e.id in statuses else None,
            e.letter_ref,
        ]
        for e in case.position.log
    ]
    headers = ["日期", "方式", "说明", "经办人", "承诺金额", "承诺付款日", "承诺状态", "函件编号"]
    return write_table(ws, row, headers, rows or [NONE_ROW])


def _day(text: str | None) -> Cell:
    # Contract dates come from OCR and file names: keep what cannot be read as written.
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return text


# --- court cases (workflow.cases) ----------------------------------------------------------

COURT_SHEET = "诉讼案件"
COURT_HEADERS = [
    "案件编号", "客户编号", "客户名称", "类型", "开案日期", "当前阶段", "阶段日期", "本金",
    "利息", "请求金额", "受理费", "办案费用", "已回款",
]  # fmt: skip


def _cases_of(report: LegalReport, case: LegalCase) -> list[Case]:
    code = case.position.customer.code
    return [c for c in report.court_cases if c.customer == code]


def _court_row(c: Case) -> list[Cell]:
    stage = c.stage
    return [
        c.id, c.customer, c.name, CASE_KINDS[c.kind], c.opened_on,
        stage.title if stage else "未立案", stage.on if stage else None, c.principal,
        c.interest, c.claim, c.court_fee, c.total_costs, c.recovered,
    ]  # fmt: skip


def _court_cases_sheet(wb: Workbook, report: LegalReport) -> None:
    ws = add_sheet(wb, COURT_SHEET, _title(report, "诉讼案件一览"))
    cases = report.court_cases
    totals: list[Cell] = ["合计", None, f"共 {len(cases)} 件", None, None, None, None]
    totals += [
        sum((c.principal for c in cases), ZERO),
        sum((c.interest for c in cases), ZERO),
        sum((c.claim for c in cases), ZERO),
        sum((c.court_fee for c in cases), ZERO),
        sum((c.total_costs for c in cases), ZERO),
        sum((c.recovered for c in cases), ZERO),
    ]
    write_table(ws, HEADER_ROW, COURT_HEADERS, [_court_row(c) for c in cases], totals=totals)
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"D{HEADER_ROW + 1}")


def _court_block(ws: Worksheet, row: int, report: LegalReport, case: LegalCase) -> int:
    rows: list[list[Cell]] = []
    for c in _cases_of(report, case):
        stage = c.stage
        rows.append(
            [f"案件 #{c.id} {CASE_KINDS[c.kind]}", "请求金额（本金＋利息）", c.opened_on, c.claim]
        )
        rows.append(
            ["当前阶段", stage.title if stage else "未立案", stage.on if stage else None, None]
        )
        rows += [[s.title, s.note, s.on, None] for s in c.stages]
        rows += [[k.title, k.note, k.on, k.amount] for k in c.costs]
        rows.append(["办案费用合计", None, None, c.total_costs])
        rows.append(["开案后回款", None, None, c.recovered])
    return write_table(ws, row, ["项目", "说明", "日期", "金额"], rows)
