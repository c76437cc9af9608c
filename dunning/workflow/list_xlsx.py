"""The web desk's lists exported as they are shown: one printable sheet, with a 合计 row."""

from __future__ import annotations

import io
from collections.abc import Sequence

from dunning.workflow.xlsx import Cell, add_sheet, finish_sheet, new_workbook, write_table


def list_workbook(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    totals: Sequence[Cell] | None = None,
) -> bytes:
    """An .xlsx of one list: title, header (repeated on every printed page), rows, totals."""
    wb = new_workbook()
    ws = add_sheet(wb, title[:31], title)
    write_table(ws, 3, headers, rows, totals=totals)
    finish_sheet(ws, header_row=3, freeze="A4")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
