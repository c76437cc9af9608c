"""A courier's batch sheet (批量寄件/运单导出) read for `dunning letter sent --from FILE`.

Real exports put a title line or two above the header, carry many columns we do not need
(收件人, 收件地址, 重量 …) and name the two we need in their own words: the tracking number as
运单号/快递单号/邮件号/tracking, the letter reference in a column the sender filled in
(订单号/客户订单号/备注/reference). Every row below the header is accounted for: a good row,
a blank or total row skipped, or a bad row with its reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.db import write_transaction
from dunning.archive.guarded import guarded_sheets
from dunning.dates import parse_date
from dunning.errors import DunningError, IngestError, RowProblem
from dunning.letters.delivery import (
    CHANNELS,
    Delivery,
    DeliveryError,
    check_sent,
    get_delivery,
    write_sent,
)
from dunning.letters.registry import find_refs, known_refs
from dunning.vocabulary import DELIVERY_CHANNELS, choices

REF_HEADERS = (
    "ref", "reference", "letter", "letterref", "customerreference", "orderno", "函件编号",
    "函件号", "订单号", "订单编号", "客户订单号", "商家订单号", "参考号", "备注", "remark", "remarks",
)  # fmt: skip
TRACKING_HEADERS = (
    "tracking", "trackingno", "trackingnumber", "waybill", "waybillno", "mailno", "运单号",
    "运单编号", "运单号码", "快递单号", "邮件号", "邮件号码", "物流单号", "快件单号",
)  # fmt: skip
DATE_HEADERS = (
    "date", "senton", "sent", "shipdate", "寄件日期", "寄件时间", "邮寄日期", "发货日期", "发件日期",
    "揽收日期", "揽收时间", "收寄日期", "收寄时间",
)  # fmt: skip
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 20_000
_TOTALS = ("合计", "总计", "小计", "total")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+\d+$")


class SheetError(DunningError):
    """The batch sheet cannot be used; names the file and, per bad row, what is wrong."""

    def __init__(self, reason: str, problems: Sequence[RowProblem] = ()) -> None:
        super().__init__(reason)
        self.problems = list(problems)

    def report(self) -> str:
        return "\n".join([str(self), *(f"  - {p}" for p in self.problems)])


@dataclass(frozen=True)
class SheetRow:
    row: int  # as the clerk sees it in Excel (1-based)
    ref: str
    tracking: str
    sent_on: dt.date | None
    # other reference-shaped words of the row (a customer order number like PO-2025-000123
    # may sit in the reference column while 备注 holds the letter's)
    alternatives: tuple[str, ...] = ()


@dataclass
class TrackingSheet:
    path: Path
    header_row: int
    rows: list[SheetRow] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    problems: list[RowProblem] = field(default_factory=list)
    # ref / tracking / date -> the sheet's own header for it (运单号, 单号 …), as the clerk sees it
    titles: dict[str, str] = field(default_factory=dict)

    def problem(self, row: int, key: str, value: str, why: str) -> RowProblem:
        """A bad row, its column named by the sheet's header."""
        return RowProblem(row, self.titles.get(key) or COLUMN_TITLES.get(key, key), value, why)


# What a column is called when the sheet's header cannot say it.
COLUMN_TITLES = {"ref": "函件编号", "tracking": "运单号", "date": "寄出日期"}


def _norm(header: object) -> str:
    text = str(header or "").strip().lower()
    return re.sub(r"[\s_*:：()（）.\-]", "", text)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and abs(value) >= 1e15:
        # More digits than Excel keeps (15): a long tracking number stored as a number has
        # lost its tail; shown in scientific notation so the row is refused, not mis-recorded.
        return f"{value:E}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


def _rows(path: Path) -> list[list[object]]:
    """The first sheet's rows, read by the desk's one guarded reader (zip guard, the one CSV
    decoder, the ledger's XLSX reader): a courier sheet is as hostile as any upload."""
    try:
        with guarded_sheets(path) as sheets:
            sheet = next(sheets, None)
            if sheet is None:
                raise SheetError(f"{path.name} 里没有工作表：请检查文件。")
            rows = itertools.chain(sheet.head, sheet.rest)
            return [list(r) for r in itertools.islice(rows, MAX_ROWS + 1)]
    except IngestError as exc:
        raise SheetError(str(exc)) from None


def _find_header(path: Path, rows: list[list[object]]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = [_norm(c) for c in row]
        columns = {}
        for key, aliases in (("ref", REF_HEADERS), ("tracking", TRACKING_HEADERS)):
            found = next((i for a in aliases for i, n in enumerate(names) if n == a), None)
            if found is not None:
                columns[key] = found
        if len(columns) == 2:
            date = next((i for a in DATE_HEADERS for i, n in enumerate(names) if n == a), None)
            if date is not None:
                columns["date"] = date
            return index, columns
    raise SheetError(
        f"{path.name}：前 {HEADER_SEARCH_ROWS} 行中找不到表头：需要一列运单号（运单号、快递单号、"
        "邮件号或 tracking）和一列函件编号（ref、函件编号、订单号或备注）；请补上表头后再导入。"
    )


def read_tracking_sheet(path: Path) -> TrackingSheet:
    """Read a courier's batch sheet (CSV in UTF-8 or GBK, or XLSX); every row accounted for."""
    rows = _rows(path)
    if len(rows) > MAX_ROWS:
        raise SheetError(f"{path.name} 超过 {MAX_ROWS} 行：请拆成几个文件分别导入。")
    header, columns = _find_header(path, rows)
    titles = {key: _cell(rows[header][i]) for key, i in columns.items()}
    sheet = TrackingSheet(path, header + 1, titles=titles)
    for number, row in _numbered(rows, header):
        _take_row(sheet, number, row, columns)
    return sheet


def _numbered(rows: list[list[object]], header: int) -> Iterator[tuple[int, list[str]]]:
    for index in range(header + 1, len(rows)):
        yield index + 1, [_cell(c) for c in rows[index]]


def _take_row(sheet: TrackingSheet, number: int, cells: list[str], columns: dict[str, int]) -> None:
    def at(key: str) -> str:
        i = columns.get(key)
        return cells[i] if i is not None and i < len(cells) else ""

    if not any(cells):
        sheet.skipped.append((number, "blank"))
        return
    if any(c.lower().startswith(_TOTALS) for c in cells[:3]):
        sheet.skipped.append((number, "total"))
        return
    # NFKC: a reference typed with a Chinese input method (ＣＳ－２０２５－…) reads as ASCII
    in_row = find_refs(_nfkc(" ".join(cells)))
    refs = find_refs(_nfkc(at("ref"))) or in_row
    tracking = _tracking_text(at("tracking"))
    problem = _row_problem(refs, tracking, at("ref"))
    if problem is not None:
        sheet.problems.append(sheet.problem(number, *problem))
        return
    sent_on = None
    if at("date"):
        try:
            sent_on = parse_date(at("date"))
        except ValueError as exc:
            sheet.problems.append(sheet.problem(number, "date", at("date"), str(exc)))
            return
    others = tuple(r for r in in_row if r not in refs)
    sheet.rows.append(SheetRow(number, refs[0], tracking, sent_on, others))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _tracking_text(raw: str) -> str:
    """The number inside the tricks spreadsheets use to keep it text: ="115…", '115…,
    full-width digits."""
    text = _nfkc(raw).strip()
    wrapped = re.fullmatch(r'="(.*)"', text)
    if wrapped:
        text = wrapped.group(1).strip()
    return text.removeprefix("'").strip()


def _row_problem(refs: list[str], tracking: str, ref_cell: str) -> tuple[str, str, str] | None:
    if not refs:
        return ("ref", ref_cell, "没有函件编号（应像 CS-2025-000123 这样）")
    if len(refs) > 1:
        return ("ref", ref_cell, f"有多个函件编号（{'、'.join(refs)}）：每行只写一个")
    if not tracking:
        return ("tracking", tracking, "没有运单号")
    if _SCIENTIFIC.match(tracking):
        return (
            "tracking",
            tracking,
            "Excel 把运单号变成了科学计数法，丢了位数：请把这一列设为文本格式后重新导出",
        )
    if len(tracking) > 40 or not all(c.isalnum() or c in "-_ " for c in tracking):
        return ("tracking", tracking, "不是运单号（只能有字母、数字和短横线）")
    return None


@dataclass
class BatchResult:
    """What `letter sent --from FILE` did with every row of the sheet."""

    file: str
    header_row: int
    sent: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)  # the sheet given twice
    skipped: list[dict[str, Any]] = field(default_factory=list)  # blank and total rows

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "header_row": self.header_row,
            "sent": self.sent,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


def mark_sent_from_sheet(
    db: sqlite_utils.Database, path: Path, *, via: str, on: dt.date, today: dt.date
) -> BatchResult:
    """Record every letter of a courier's batch sheet as sent, or none of them.

    A bad row (unknown reference, a letter already delivered, a date before the letter…)
    rejects the whole sheet with every bad row listed; nothing is written.
    """
    if via not in CHANNELS:
        raise DeliveryError(
            f"没有“{via}”这种寄送方式：请用 {choices(DELIVERY_CHANNELS, CHANNELS)}。"
        )
    sheet = read_tracking_sheet(path)
    result = BatchResult(str(path), sheet.header_row)
    result.skipped = [{"row": r, "why": w} for r, w in sheet.skipped]
    with write_transaction(db) as conn:
        todo, problems = _plan_rows(conn, sheet, result, via=via, on=on, today=today)
        problems = sorted([*sheet.problems, *problems], key=lambda p: p.row)
        if problems:
            raise SheetError(
                f"{path.name}：有 {len(problems)} 行有误，全部未记录：请改正后重新导入整张表。",
                problems,
            )
        for letter, tracking, day in todo:
            write_sent(conn, letter, via=via, tracking=tracking, on=day)
    return result


def _plan_rows(
    conn: Any, sheet: TrackingSheet, result: BatchResult, *, via: str, on: dt.date, today: dt.date
) -> tuple[list[tuple[Delivery, str, dt.date]], list[RowProblem]]:
    """Check each good row against its letter: what to write, and the rows that cannot be."""
    todo: list[tuple[Delivery, str, dt.date]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for row in sheet.rows:
        day = row.sent_on or on
        ref = _letter_ref(conn, row)
        entry = {"row": row.row, "ref": ref, "tracking": row.tracking, "sent_on": day}
        try:
            if ref in seen:
                raise DeliveryError(f"函件 {ref} 已在第 {seen[ref]} 行出现过：每封函件只写一行")
            seen[ref] = row.row
            letter = get_delivery(conn, ref)
            recorded = (letter.status, letter.channel, letter.tracking_no, letter.sent_on)
            if recorded == ("sent", via, row.tracking, day):
                result.unchanged.append(entry)
                continue
            check_sent(letter, on=day, today=today)
        except DunningError as exc:
            problems.append(sheet.problem(row.row, "ref", ref, str(exc).rstrip(".")))
            continue
        todo.append((letter, row.tracking, day))
        result.sent.append(entry)
    return todo, problems


def _letter_ref(conn: Any, row: SheetRow) -> str:
    """The row's reference, or, when it names no letter, the first other one that does."""
    known = known_refs(conn, " ".join((row.ref, *row.alternatives)))
    return known[0] if known else row.ref
