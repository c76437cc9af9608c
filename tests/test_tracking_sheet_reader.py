"""The courier batch sheet goes through the desk's one guarded reader (issue 20, case 9): the
zip guard refuses what it refuses for a ledger, the one CSV decoder reads the text, and the
same rows in another layout read the same."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hostile_files import billion_laughs_xlsx, giant_shared_string_xlsx, xxe_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.letters.tracking_sheet import SheetError, read_tracking_sheet

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("make", [xxe_xlsx, billion_laughs_xlsx])
def test_an_xlsx_with_a_dtd_is_refused_before_any_parser_sees_it(
    tmp_path: Path, make: object
) -> None:
    assert callable(make)
    path = make(tmp_path / "运单.xlsx")
    with pytest.raises(SheetError, match=r"运单\.xlsx"):
        read_tracking_sheet(path)


def test_a_zip_bomb_sheet_is_refused_in_bounded_time(tmp_path: Path) -> None:
    path = giant_shared_string_xlsx(tmp_path / "运单.xlsx", megabytes=80)
    with pytest.raises(SheetError, match=r"运单\.xlsx"):
        read_tracking_sheet(path)


def test_utf16_csv_is_read_by_the_one_decoder(tmp_path: Path) -> None:
    # Excel's "Unicode text": the old Sniffer-based reader took it for GBK garbage.
    path = tmp_path / "运单.csv"
    path.write_text("运单号\t订单号\n1150000000001\tCS-2025-000001\n", encoding="utf-16")
    sheet = read_tracking_sheet(path)
    assert [(r.ref, r.tracking) for r in sheet.rows] == [("CS-2025-000001", "1150000000001")]


def test_a_formula_in_a_cell_is_text_never_run(tmp_path: Path) -> None:
    path = tmp_path / "运单.csv"
    path.write_text('运单号,订单号\n=HYPERLINK("http://x"),CS-2025-000001\n', encoding="utf-8")
    sheet = read_tracking_sheet(path)
    assert sheet.rows == [] and [p.column for p in sheet.problems] == ["运单号"]


# -- the metamorphic property: another layout, the same result ----------------------------------

tracking_numbers = st.from_regex(r"[A-Z]{0,2}[0-9]{10,13}", fullmatch=True)
rows_strategy = st.lists(
    st.tuples(st.integers(1, 999_999), tracking_numbers, st.sampled_from(["", "", "2025-07-0"])),
    min_size=1,
    max_size=12,
    unique_by=lambda r: r[0],
)


def _layout(
    rows: list[tuple[int, str, str]], *, shuffle: int, extra: bool, titles: int
) -> list[list[str]]:
    header = ["运单号", "订单号", "寄件日期"] + (["收件人", "重量"] if extra else [])
    body = [
        [tracking, f"CS-2025-{ref:06d}", f"{day}{1 + ref % 9}" if day else ""]
        + (["张三=1+1", "0.5"] if extra else [])
        for ref, tracking, day in rows
    ]
    order = list(range(len(header)))
    order = order[shuffle % len(order) :] + order[: shuffle % len(order)]
    table = [[line[i] for i in order] for line in [header, *body]]
    lines = [["顺丰速运 批量寄件"]] * titles + table
    # A total row and a blank row, as exports end.
    return [*lines, [], ["合计", str(len(rows))]]


def _write(path: Path, table: list[list[str]], fmt: str) -> Path:
    if fmt == "xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        for line in table:
            ws.append(line)
        path = path.with_suffix(".xlsx")
        wb.save(path)
        return path
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",").writerows(table)
    encoding = {"csv": "utf-8", "gbk": "gb18030", "tsv": "utf-8-sig"}[fmt]
    path = path.with_suffix(".csv")
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _result(sheet: object) -> tuple[object, ...]:
    rows = [(r.ref, r.tracking, r.sent_on) for r in sheet.rows]  # type: ignore[attr-defined]
    skipped = sorted(w for _, w in sheet.skipped)  # type: ignore[attr-defined]
    return tuple(rows), tuple(skipped), len(sheet.problems)  # type: ignore[attr-defined]


@SETTINGS
@given(
    rows=rows_strategy,
    shuffle=st.integers(0, 4),
    extra=st.booleans(),
    titles=st.integers(0, 2),
    fmt=st.sampled_from(["csv", "gbk", "tsv", "xlsx"]),
)
def test_the_same_rows_in_another_layout_read_the_same(
    tmp_path: Path,
    rows: list[tuple[int, str, str]],
    shuffle: int,
    extra: bool,
    titles: int,
    fmt: str,
) -> None:
    plain = read_tracking_sheet(
        _write(tmp_path / "plain", _layout(rows, shuffle=0, extra=False, titles=0), "csv")
    )
    other = read_tracking_sheet(
        _write(
            tmp_path / f"other-{fmt}",
            _layout(rows, shuffle=shuffle, extra=extra, titles=titles),
            fmt,
        )
    )
    assert _result(other) == _result(plain)
    # Row accounting: every row below the header is a good row, a skipped one or a bad one.
    for sheet in (plain, other):
        assert len(sheet.rows) + len(sheet.skipped) + len(sheet.problems) == len(rows) + 2
        assert len(sheet.rows) == len(rows)


def test_a_non_zip_with_a_zip_name_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "运单.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(SheetError, match=r"运单\.xlsx"):
        read_tracking_sheet(path)
