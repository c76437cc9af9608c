"""`read_ledger`: a CSV or XLSX export read into a Ledger, every row accounted for.

The header is found (title lines, blank lines and two-row headers allowed), the kind decided
from the recognised columns, and every row converted; one bad row rejects the whole file with
every bad row listed. A detail ledger is read from every sheet that has one (a sheet per
customer); the list kinds from the first sheet that fits.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

from dunning.archive.ledger.detail import DetailReader, context_of
from dunning.archive.ledger.files import Row, Sheet, open_sheets
from dunning.archive.ledger.header import (
    Column,
    Header,
    decide_kind,
    find_header,
    missing_columns,
    no_header_error,
)
from dunning.archive.ledger.rows import Ledger, LedgerKind, is_blank, sheet_currencies
from dunning.archive.ledger.tabular import (
    MONEY_FIELDS,
    read_customers,
    read_invoices,
    read_payments,
)
from dunning.errors import IngestError, RowProblem
from dunning.money import YUAN
from dunning.vocabulary import LEDGER_KINDS

_LIST_READERS = {
    "invoices": read_invoices,
    "payments": read_payments,
    "customers": read_customers,
}


def read_ledger(path: Path, *, currency: str = YUAN) -> Ledger:
    """Read a CSV, XLSX, XLS, ET or ODS ledger export; raises IngestError listing every bad row.

    Amounts are in the desk's `currency`: a row in another one (a 币种 column, a 币别：美元
    title line, `$5,000.00` in a cell) is a bad row, unless the amounts come from 本位币
    columns.

    Every visible sheet with a ledger header is read; hidden sheets and sheets without one are
    named in `Ledger.ignored_sheets`. Row numbers are those Excel shows (for CSV: the record
    number, which is the line number unless a cell holds a line break).
    """
    first: list[Row] | None = None
    ledger: Ledger | None = None
    ignored: list[str] = []
    found: list[tuple[str | None, list[RowProblem]]] = []
    deferred: IngestError | None = None
    with open_sheets(path) as sheets:
        for sheet in sheets:
            if first is None and not all(is_blank(list(row)) for row in sheet.head):
                first = sheet.head
            header = find_header(sheet.head)
            decided = decide_kind(header.columns) if header else None
            if header is None or decided is None or sheet.hidden:
                if sheet.name is not None and not all(is_blank(list(r)) for r in sheet.head):
                    why = "隐藏的工作表" if sheet.hidden else "没有台账表头"
                    ignored.append(f"{sheet.name}（{why}）")
                continue
            kind = cast(LedgerKind, decided[0])
            missing = missing_columns(kind, decided[1])
            if missing:
                error = _missing_error(path, sheet, header, kind, missing)
                if kind != "detail":
                    raise error
                # A 汇总 sheet (balances per customer, no dates) beside the customers' books.
                deferred = deferred or error
                ignored.append(f"{sheet.name}（没有日期的汇总表）")
                continue
            ledger = ledger or Ledger(
                kind, sheet.name, header.index + 1, {}, encoding=sheet.encoding
            )
            found.append(
                (sheet.name, _read_sheet(sheet, header, kind, decided[1], ledger, currency))
            )
    if ledger is None:
        if deferred is not None:
            raise deferred
        if first is None:
            raise IngestError(f"{path.name} 中没有数据：请重新导出台账后再导入。")
        raise no_header_error(first)
    ledger.ignored_sheets = ignored
    return _finish(path, ledger, _labelled(found, detail=ledger.kind == "detail"))


def _missing_error(
    path: Path, sheet: Sheet, header: Header, kind: str, missing: list[str]
) -> IngestError:
    return IngestError(
        f"{_where(path, sheet)}的{LEDGER_KINDS[kind]}表头（第 {header.index + 1} 行）缺少"
        f"「{'」「'.join(missing)}」列：请补上后重新导入。"
    )


# A problem's column names its sheet when the rows came from several: 余额（工作表 往来明细账）.
SHEET_MARK = "（工作表 "


def _sheet_of(problem: RowProblem) -> str:
    """The sheet a labelled problem's row is on ("" when unlabelled): rows of two sheets with
    the same number are two bad rows, not one."""
    _, mark, sheet = problem.column.rpartition(SHEET_MARK)
    return sheet if mark else ""


def _labelled(
    found: list[tuple[str | None, list[RowProblem]]], *, detail: bool
) -> list[RowProblem]:
    """Every problem, naming its sheet when the rows came from more than one (or a sheet per
    customer)."""
    label = len(found) > 1 or (detail and found and found[0][0] is not None)
    return [
        RowProblem(p.row, f"{p.column}{SHEET_MARK}{name}）", p.value, p.why)
        if label and name is not None
        else p
        for name, problems in found
        for p in problems
    ]


def _where(path: Path, sheet: Sheet) -> str:
    return f"{path.name}" + (f"{SHEET_MARK}{sheet.name}）" if sheet.name else "")


def _read_sheet(
    sheet: Sheet,
    header: Header,
    kind: LedgerKind,
    columns: dict[str, Column],
    ledger: Ledger,
    currency: str = YUAN,
) -> list[RowProblem]:
    """Read one sheet's rows into `ledger`; returns the sheet's bad cells."""
    offset = header.index
    above = sheet.head[: offset + 1 - header.rows]
    money = [columns[f] for f in MONEY_FIELDS if f in columns]
    currencies = sheet_currencies(
        currency, above, [c.header for c in money], [c.currency for c in money]
    )
    rows: Iterable[tuple[int, Row]] = enumerate(
        itertools.chain(sheet.head[offset + 1 :], sheet.rest), start=offset + 2
    )
    problems: list[RowProblem] = []
    if sheet.name is None:
        rows = _no_wider_than(rows, sheet.head[offset], problems)
    if kind == "detail":
        ctx = context_of(above, sheet.name)
        ctx.year = header.year or ctx.year
        DetailReader(columns, ledger, problems, ctx, sheet.head[offset], currencies).read(rows)
        used: tuple[str, ...] = tuple(columns)
    else:
        used = _LIST_READERS[kind](rows, columns, ledger, problems, sheet.head[offset], currencies)
    if sheet.name is not None:
        ledger.sheets.append(sheet.name)
    listed = {(p.row, p.column) for p in problems}
    problems.extend(
        p for p in _uncomputed(sheet, header, columns) if (p.row, p.column) not in listed
    )
    for field in used:
        if field in columns:
            ledger.columns.setdefault(field, columns[field].header)
    used_at = {columns[field].index for field in used if field in columns}
    for i, cell in enumerate(sheet.head[offset]):
        name = cell.strip() if isinstance(cell, str) else ""
        if name and i not in used_at and name not in ledger.ignored_columns:
            ledger.ignored_columns.append(name)
    return problems


def _no_wider_than(
    rows: Iterable[tuple[int, Row]], header: Row, problems: list[RowProblem]
) -> Iterator[tuple[int, Row]]:
    """A CSV record with a value past the header's last column has shifted its cells (an
    amount like 1,234.50 written without quotes): a bad row, never read cell by cell."""
    width = max(
        (i + 1 for i, c in enumerate(header) if isinstance(c, str) and c.strip()), default=0
    )
    for row, raw in rows:
        if len(raw) > width:
            spill = [v for v in raw[width:] if isinstance(v, str) and v.strip()]
            if spill:
                why = (
                    f"该行有 {len(raw)} 个单元格，表头只有 {width} 个：有含逗号的值（如金额 "
                    "1,234.50 或名称）没有加引号：请加上引号或重新导出文件"
                )
                problems.append(RowProblem(row, "（最后一列之后）", spill[0], why))
        yield row, raw


def _uncomputed(sheet: Sheet, header: Header, columns: dict[str, Column]) -> list[RowProblem]:
    """Formula cells Excel never calculated, in columns the ledger reads (an empty 已收金额
    would otherwise be a silent 0)."""
    by_index = {c.index: c.header for c in columns.values()}
    why = (
        "单元格中的公式从未被 Excel 计算过（文件由程序生成，未经 Excel 保存）：请用 Excel "
        "打开并保存后重新导入"
    )
    return [
        RowProblem(row, by_index[col], "", why)
        for row, col in sorted(sheet.uncomputed)
        if row > header.index + 1 and col in by_index
    ]


def _finish(path: Path, ledger: Ledger, problems: list[RowProblem]) -> Ledger:
    counts = ledger.counts
    if problems:
        counts.bad = len({(p.row, _sheet_of(p)) for p in problems})
        counts.imported = counts.read - sum(counts.skipped.values()) - counts.bad
        raise IngestError(
            f"{path.name}：{counts.bad} 行有误，整个文件未导入（{counts.summary(rejected=True)}）："
            "请更正下列各行后重新导入。",
            sorted(problems, key=lambda p: (_sheet_of(p), p.row)),
        )
    if ledger.row_count == 0:
        raise IngestError(
            f"{path.name} 有表头但没有台账行（{counts.summary()}）：请连同数据行重新导出。"
        )
    assert counts.adds_up, counts
    return ledger
