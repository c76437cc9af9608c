"""The 全量发票查询 export reader: layout independence (Hypothesis), row accounting, bad rows."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from einvoice_support import HEADER, ROWS, table, write_csv, write_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.archive.einvoice.listing import read_invoice_list, status_of
from dunning.archive.einvoice.model import EInvoice
from dunning.errors import IngestError

_counter = itertools.count()


def _plain(invoices: tuple[EInvoice, ...]) -> list[EInvoice]:
    return [dataclasses.replace(i, row=None) for i in invoices]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_same_invoices_in_any_layout_read_the_same(tmp_path: Path, data: st.DataObject) -> None:
    picked = data.draw(
        st.lists(st.sampled_from(range(len(ROWS))), min_size=1, max_size=len(ROWS), unique=True)
    )
    order = data.draw(st.permutations(range(len(HEADER))))
    extra = data.draw(st.integers(0, 3))
    titles = data.draw(
        st.lists(st.sampled_from(["全量发票查询", "查询条件：开票日期", ""]), max_size=3)
    )
    layout = data.draw(st.sampled_from(["xlsx", "utf-8", "gb18030", "utf-8-sig"]))
    rows = [ROWS[i] for i in picked]
    n = next(_counter)
    baseline = read_invoice_list(write_xlsx(tmp_path / f"base{n}.xlsx", table(rows)))
    header = [HEADER[i] for i in order] + [f"自定义列{k}" for k in range(extra)]
    # Unknown columns hold hostile text; they are never read.
    body = [[r[i] for i in order] + [f"<b>&x{k}'; DROP" for k in range(extra)] for r in rows]
    cells = table(body, header=header, titles=[t for t in titles if t] or ())
    if layout == "xlsx":
        path = write_xlsx(tmp_path / f"other{n}.xlsx", cells)
    else:
        path = write_csv(tmp_path / f"other{n}.csv", cells, encoding=layout)
    other = read_invoice_list(path)
    assert _plain(other.invoices) == _plain(baseline.invoices)
    assert other.counts is not None and baseline.counts is not None
    assert other.counts.to_json() == baseline.counts.to_json()
    assert other.counts.adds_up
    assert other.counts.imported == len(rows)


def test_every_row_is_accounted_for(tmp_path: Path) -> None:
    cells = table()
    cells.insert(5, [None] * len(HEADER))  # a blank row among the invoices
    parsed = read_invoice_list(write_xlsx(tmp_path / "list.xlsx", cells))
    assert parsed.counts is not None
    assert parsed.counts.to_json() == {
        "read": 11,
        "imported": 9,
        "skipped": {"blank": 1, "total": 1},
        "bad": 0,
    }
    assert parsed.counts.adds_up
    red = [i for i in parsed.invoices if i.red]
    assert [(i.key, i.total, i.original) for i in red] == [
        ("25332000000000000007", Decimal("-1200.00"), "25332000000000000002"),
        ("25332000000000000009", Decimal("-1500.00"), "25332000000000000006"),
    ]
    assert {i.key: i.status for i in parsed.invoices if i.status != "normal"} == {
        "25332000000000000002": "partly_red",
        "25332000000000000003": "void",
        "25332000000000000005": "red_flushed",
        "25332000000000000006": "partly_red",
    }


def test_a_bad_row_rejects_the_file_naming_every_bad_row(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][3] = "2533200000000000000X"  # not a number
    rows[4][8] = "2025-13-40"  # no such day
    rows[6][11] = "=A1*2"  # a formula where an amount is
    with pytest.raises(IngestError) as caught:
        read_invoice_list(write_csv(tmp_path / "bad.csv", table(rows)))
    err = caught.value
    assert "读取 10 行：本可导入 6 行，跳过合计行 1 行，有误 3 行" in err.reason
    assert [p.row for p in err.problems] == [5, 8, 10]
    assert [p.column for p in err.problems] == ["数电票号码", "开票日期", "价税合计"]


def test_an_invoice_listed_twice_is_a_bad_row_unless_the_file_lists_lines(tmp_path: Path) -> None:
    twice = table([ROWS[0], ROWS[0]])
    with pytest.raises(IngestError) as caught:
        read_invoice_list(write_xlsx(tmp_path / "twice.xlsx", twice))
    assert "第 5 行「数电票号码」" in caught.value.report()
    assert "该发票重复列出（第一次在第 4 行）" in caught.value.report()
    header = [*HEADER, "货物或应税劳务名称"]
    lines = table([[*ROWS[0], "钢板"], [*ROWS[0], "运费"]], header=header)
    parsed = read_invoice_list(write_xlsx(tmp_path / "lines.xlsx", lines))
    assert parsed.counts is not None
    assert parsed.counts.skipped == {"invoice line": 1, "total": 1}
    assert len(parsed.invoices) == 1


def test_no_header_is_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="没有全量发票查询的表头"):
        read_invoice_list(write_csv(tmp_path / "x.csv", [["a", "b"], ["1", "2"]]))


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("正常", "normal"),
        ("作废", "void"),
        ("已作废", "void"),
        ("红冲", "red_flushed"),
        ("已红冲", "red_flushed"),
        ("全额红冲", "red_flushed"),
        ("部分红冲", "partly_red"),
        ("失控", "normal"),
        (None, "normal"),
    ],
)
def test_status_words(raw: str | None, status: str) -> None:
    assert status_of(raw) == status


def test_older_invoices_in_the_export_are_keyed_by_code_and_number(tmp_path: Path) -> None:
    row = list(ROWS[0])
    row[1], row[2], row[3] = "033002000111", "00012345", ""
    parsed = read_invoice_list(write_xlsx(tmp_path / "old.xlsx", table([row])))
    (invoice,) = parsed.invoices
    assert (invoice.code, invoice.number, invoice.key) == (
        "033002000111",
        "00012345",
        "033002000111-00012345",
    )


def test_a_number_excel_cut_to_15_digits_is_a_bad_row_not_a_wrong_invoice(
    tmp_path: Path,
) -> None:
    row = list(ROWS[0])
    row[3] = 25332000000000000001  # typed as a number: Excel keeps 15 digits of it
    with pytest.raises(IngestError) as caught:
        read_invoice_list(write_xlsx(tmp_path / "cut.xlsx", table([row])))
    (problem,) = caught.value.problems
    assert problem.column == "数电票号码" and "只保留了前 15 位" in problem.why
