"""The weekly overdue report (逾期客户周报) as a printable workbook.

Sheets, in order: 汇总 (the week in figures), 逾期客户名单 (one row per overdue customer with
its letters, latest measure and promise), 本周回款 (receipts of the week), 新增逾期, 时效预警
(invoices whose limitation period ends within 180 days or has ended), 未入账到款 (bank
receipts finance has not booked yet: 与财务核对).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

from dunning.dates import chinese_date
from dunning.receivables import ZERO, bucket_title
from dunning.vocabulary import BANK_STATUS, UNBOOKED_TITLE
from dunning.workflow.limitation import EVENT_TITLES, Position
from dunning.workflow.log import KIND_TITLES, PROMISE_TITLES
from dunning.workflow.reports import CustomerPosition, WeeklyReport
from dunning.workflow.status import STATUS_TITLES
from dunning.workflow.xlsx import (
    Cell,
    add_sheet,
    finish_sheet,
    fit_row_heights,
    new_workbook,
    print_across_pages,
    save_workbook,
    write_table,
)

SUMMARY, OVERDUE, RECEIPTS, NEW_OVERDUE = "汇总", "逾期客户名单", "本周回款", "新增逾期"
LIMITATION = "时效预警"
LIMITATION_HEADERS = [
    "客户编号",
    "客户名称",
    "发票号",
    "到期日",
    "未收金额",
    "时效届满日",
    "剩余天数",
    "最近中断事由",
    "中断日期",
    "证据",
    "已寄出未证实送达",
    "建议措施",
]
HEADER_ROW = 2  # row 1 is the title


def weekly_path(out_dir: Path, as_of: dt.date) -> Path:
    """Where `report weekly` writes by default: out/逾期客户周报-2025-06-30.xlsx."""
    return out_dir / f"逾期客户周报-{as_of.isoformat()}.xlsx"


def write_weekly(report: WeeklyReport, path: Path) -> Path:
    return save_workbook(weekly_workbook(report), path)


def weekly_workbook(report: WeeklyReport) -> Workbook:
    wb = new_workbook()
    _summary_sheet(wb, report)
    _overdue_sheet(wb, report)
    _receipts_sheet(wb, report)
    _new_overdue_sheet(wb, report)
    _limitation_sheet(wb, report)
    _unbooked_sheet(wb, report)
    return wb


def _title(report: WeeklyReport, what: str) -> str:
    return f"{report.company}　{what}（截至{chinese_date(report.as_of)}）".lstrip("　")


def _summary_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, SUMMARY, _title(report, "逾期客户周报"))
    week = f"{report.week_start.isoformat()} 至 {report.as_of.isoformat()}"
    buckets = report.bucket_totals
    rows: list[list[Cell]] = [
        ["截至日期", report.as_of],
        ["逾期客户数", len(report.overdue)],
        ["应收余额合计（全部客户）", report.total_balance],
        ["其中逾期客户的应收余额", sum((p.aging.balance for p in report.overdue), ZERO)],
        ["逾期金额合计", report.total_overdue],
    ]
    rows += [[f"账龄 {bucket_title(label)}", buckets[label]] for label in report.labels]
    rows += [
        [f"本周回款（{week}）", report.receipts_total],
        ["本周回款笔数", len(report.receipts)],
        ["本周新增逾期客户数", len(report.new_overdue)],
        ["承诺未兑现客户数", report.broken_promises],
    ]
    write_table(ws, HEADER_ROW, ["项目", "数值"], rows)
    finish_sheet(ws, header_row=HEADER_ROW)


def overdue_headers(report: WeeklyReport) -> list[str]:
    return [
        "客户编号",
        "客户名称",
        "业务员",
        "信用等级",
        "应收余额",
        "逾期金额",
        *(bucket_title(label) for label in report.labels),
        "最长逾期天数",
        "最近函件",
        "发函日期",
        "回执",
        "最近催收措施",
        "措施说明",
        "措施日期",
        "承诺金额",
        "承诺付款日",
        "承诺状态",
        "客户状态",
    ]


def _overdue_row(p: CustomerPosition, report: WeeklyReport) -> list[Cell]:
    letter, entry, promise = p.last_letter, p.last_entry, p.last_promise
    promise_state = p.last_promise_status
    return [
        p.customer.code,
        p.customer.name,
        p.customer.salesperson,
        p.customer.credit_grade,
        p.aging.balance,
        p.aging.overdue,
        *(p.aging.buckets[label] for label in report.labels),
        p.aging.max_days_overdue,
        letter.title if letter else None,
        letter.issued_on if letter else None,
        ("已签回" if letter.signed else "未签回") if letter else None,
        KIND_TITLES.get(entry.kind, entry.kind) if entry else None,
        entry.note if entry else None,
        entry.day if entry else None,
        promise.promise_amount if promise else None,
        promise.promise_date if promise else None,
        PROMISE_TITLES[promise_state] if promise_state else None,
        STATUS_TITLES.get(p.customer.status, p.customer.status),
    ]


def _overdue_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, OVERDUE, _title(report, "逾期客户名单"))
    headers = overdue_headers(report)
    overdue = report.overdue
    totals: list[Cell] = [
        "合计",
        f"共 {len(overdue)} 户",
        None,
        None,
        sum((p.aging.balance for p in overdue), ZERO),
        report.total_overdue,
        *(sum((p.aging.buckets[k] for p in overdue), ZERO) for k in report.labels),
    ]
    totals += [None] * (len(headers) - len(totals))
    write_table(ws, HEADER_ROW, headers, (_overdue_row(p, report) for p in overdue), totals=totals)
    # Code and name stay in view while scrolling right through the buckets and measures.
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"C{HEADER_ROW + 1}")
    # 22 columns shrunk onto one A4 page could not be read: full size across pages, code and
    # name repeated on each, rows as tall as their wrapped notes.
    print_across_pages(ws, header_row=HEADER_ROW, keep_columns="A:B")
    fit_row_heights(ws, HEADER_ROW + 1)


def _receipts_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, RECEIPTS, _title(report, f"本周回款（{report.week_start.isoformat()}起）"))
    headers = ["回款日期", "客户编号", "客户名称", "回款金额", "对应发票号", "收款单号"]
    rows = (
        [r.paid_on, r.customer, r.name, r.amount, r.invoice_ref, r.payment_no]
        for r in report.receipts
    )
    totals: list[Cell] = ["合计", None, f"共 {len(report.receipts)} 笔", report.receipts_total]
    write_table(ws, HEADER_ROW, headers, rows, totals=[*totals, None, None])
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"A{HEADER_ROW + 1}")


def _new_overdue_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, NEW_OVERDUE, _title(report, "本周新增逾期客户"))
    headers = ["客户编号", "客户名称", "业务员", "应收余额", "逾期金额", "最长逾期天数", "客户状态"]
    new = report.new_overdue
    rows = (
        [
            p.customer.code,
            p.customer.name,
            p.customer.salesperson,
            p.aging.balance,
            p.aging.overdue,
            p.aging.max_days_overdue,
            STATUS_TITLES.get(p.customer.status, p.customer.status),
        ]
        for p in new
    )
    totals: list[Cell] = [
        "合计",
        f"共 {len(new)} 户",
        None,
        sum((p.aging.balance for p in new), ZERO),
        sum((p.aging.overdue for p in new), ZERO),
        None,
        None,
    ]
    write_table(ws, HEADER_ROW, headers, rows, totals=totals)
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"A{HEADER_ROW + 1}")


def limitation_row(p: Position) -> list[Cell]:
    event = p.last_event
    return [
        p.claim.customer,
        p.claim.name,
        p.claim.invoice_no,
        p.claim.due,
        p.claim.open_amount,
        p.expires,
        p.days_left,
        EVENT_TITLES[event.kind] if event else None,
        event.date if event else None,
        event.evidence if event else None,
        "、".join(p.unproven) or None,
        p.advice_zh,
    ]


def _limitation_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, LIMITATION, _title(report, "诉讼时效预警（180天内届满或已届满）"))
    rows = report.limitation
    totals: list[Cell] = [
        "合计",
        f"共 {len(rows)} 张发票",
        None,
        None,
        sum((p.claim.open_amount for p in rows), ZERO),
    ]
    totals += [None] * (len(LIMITATION_HEADERS) - len(totals))
    write_table(
        ws, HEADER_ROW, LIMITATION_HEADERS, (limitation_row(p) for p in rows), totals=totals
    )
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"C{HEADER_ROW + 1}")


def _unbooked_sheet(wb: Workbook, report: WeeklyReport) -> None:
    ws = add_sheet(wb, UNBOOKED_TITLE, _title(report, f"{UNBOOKED_TITLE}（与财务核对）"))
    headers = ["到账日期", "付款人户名", "金额", "付款账号", "附言", "状态", "客户编号", "客户名称"]
    rows = (
        [r.received_on, r.payer_name, r.amount, r.payer_account, r.memo,
         BANK_STATUS.get(r.status, r.status), r.customer, r.customer_name]
        for r in report.unbooked
    )  # fmt: skip
    total = sum((r.amount for r in report.unbooked), ZERO)
    totals: list[Cell] = ["合计", f"共 {len(report.unbooked)} 笔", total]
    write_table(ws, HEADER_ROW, headers, rows, totals=[*totals, *([None] * 5)])
    finish_sheet(ws, header_row=HEADER_ROW, freeze=f"A{HEADER_ROW + 1}")
