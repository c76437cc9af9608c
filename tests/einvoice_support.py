"""Builders for e-invoice tests: a 全量发票查询 export (XLSX or CSV) and a ledger to match."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import openpyxl

HEADER = [
    "序号", "发票代码", "发票号码", "数电票号码", "销方识别号", "销方名称", "购方识别号",
    "购买方名称", "开票日期", "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态",
    "是否正数发票", "发票风险等级", "开票人", "备注",
]  # fmt: skip
SELLER = ("91330100MA2H000001", "杭州示例供应链有限公司")
C001 = ("91330100MA27C00011", "杭州明远贸易有限公司")
C002 = ("91330200MA28D00022", "宁波海辰机械有限公司")
STRANGER = ("91310000MA1K000033", "上海未登记客户有限公司")


def _row(
    n: int,
    number: str,
    buyer: tuple[str, str],
    day: str,
    total: str,
    status: str,
    *,
    positive: bool = True,
    note: str = "",
) -> list[object]:
    amount = float(total)
    net = round(amount / 1.13, 2)
    return [
        n, "", "", number, *SELLER, *buyer, day, net, round(amount - net, 2), amount,
        "电子发票服务平台", "数电票（增值税专用发票）", status, "是" if positive else "否",
        "正常", "王会计", note,
    ]  # fmt: skip


# The golden export: 正常, 部分红冲 with its 红字 invoice, 作废, a mismatched amount, 全额红冲
# without its 红字 row, and an invoice to a buyer the ledger does not know.
ROWS: list[list[object]] = [
    _row(1, "25332000000000000001", C001, "2025-01-05", "10000.00", "正常"),
    _row(2, "25332000000000000002", C001, "2025-02-10", "5000.00", "部分红冲"),
    _row(
        3, "25332000000000000007", C001, "2025-04-02", "-1200.00", "正常", positive=False,
        note="被红冲蓝字数电发票号码：25332000000000000002 红字发票信息确认单编号：3301002501",
    ),
    _row(4, "25332000000000000003", C001, "2025-03-01", "8000.00", "作废"),
    _row(5, "25332000000000000004", C002, "2025-03-05", "6600.00", "正常"),
    _row(6, "25332000000000000005", C002, "2025-03-10", "3000.00", "全额红冲"),
    _row(7, "25332000000000000006", C002, "2025-03-20", "4000.00", "部分红冲"),
    _row(
        8, "25332000000000000009", C002, "2025-05-06", "-1500.00", "正常", positive=False,
        note="被红冲蓝字数电发票号码：25332000000000000006",
    ),
    _row(9, "25332000000000000010", STRANGER, "2025-05-08", "2000.00", "正常"),
]  # fmt: skip

LEDGER_CSV = """客户编号,客户名称,发票号码,开票日期,到期日,应收金额
C001,杭州明远贸易有限公司,25332000000000000001,2025-01-05,2025-02-04,10000.00
C001,杭州明远贸易有限公司,25332000000000000002,2025-02-10,2025-03-12,5000.00
C001,杭州明远贸易有限公司,25332000000000000003,2025-03-01,2025-03-31,8000.00
C002,宁波海辰机械有限公司,25332000000000000004,2025-03-05,2025-04-04,6000.00
C002,宁波海辰机械有限公司,25332000000000000005,2025-03-10,2025-04-09,3000.00
C002,宁波海辰机械有限公司,25332000000000000006,2025-03-20,2025-04-19,4000.00
"""


def table(
    rows: Sequence[Sequence[object]] = ROWS,
    *,
    header: Sequence[str] = HEADER,
    titles: Sequence[str] = ("全量发票查询", "导出时间：2025-06-30 10:00:00"),
    total_row: bool = True,
) -> list[list[object]]:
    out: list[list[object]] = [[t] for t in titles]
    out.append(list(header))
    out.extend(list(r) for r in rows)
    if total_row:
        out.append(["合计", *[None] * (len(header) - 1)])
    return out


def write_xlsx(path: Path, cells: Sequence[Sequence[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in cells:
        sheet.append(list(row))
    book.save(path)
    return path


def write_csv(path: Path, cells: Sequence[Sequence[object]], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in cells:
        writer.writerow(["" if v is None else v for v in row])
    path.write_text(buffer.getvalue(), encoding=encoding)
    return path
