"""A rejected ledger says why where the clerk looks: `ingest` text and JSON, the web inbox."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from web_support import client

from dunning.cli import main
from dunning.desk import Desk
from dunning.money import parse_money

HEADER = "客户编号,客户名称,发票号码,开票日期,应收金额\n"


def not_an_amount(cell: str) -> str:
    """Why the amount parser refuses `cell`, in its own words."""
    try:
        parse_money(cell)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{cell!r} parsed")


def bad_ledger(folder: Path, good: int, bad: int) -> Path:
    """`good` rows, then `bad` rows whose amount is 十元 (rows counted as Excel shows them)."""
    lines = [f"C{n % 7},甲{n % 7},F{n:05d},2025-01-05,100.00\n" for n in range(good)]
    lines += [f"C1,甲1,B{n:05d},2025-01-05,十元\n" for n in range(bad)]
    path = folder / "台账.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def test_ingest_lists_the_first_20_bad_rows_then_points_at_the_error_file(
    desk: Desk, runner: CliRunner
) -> None:
    path = bad_ledger(desk.inbox, good=30, bad=25)
    result = runner.invoke(main, ["--desk", str(desk.root), "ingest", str(path)])
    assert result.exit_code == 1
    err = result.stderr
    # Nothing was imported: the 30 good rows "would have" been, never "30 imported".
    assert "读取 55 行：本可导入 30 行，有误 25 行" in err
    assert "导入 30" not in err.replace("本可导入 30", "")
    listed = [line for line in err.splitlines() if line.startswith("  - 第 ")]
    assert len(listed) == 20
    assert listed[0] == f"  - 第 32 行「应收金额」'十元'：{not_an_amount('十元')}"
    assert "  另有 5 行见 failed/台账.csv.error.txt" in err
    note = (desk.failed / "台账.csv.error.txt").read_text(encoding="utf-8")
    # The terminal's lines are the note's lines.
    assert all(line in note.splitlines() for line in listed)
    assert sum(line.startswith("  - 第 ") for line in note.splitlines()) == 25


def test_ingest_json_gives_every_bad_row(desk: Desk, runner: CliRunner) -> None:
    path = bad_ledger(desk.inbox, good=2, bad=23)
    result = runner.invoke(main, ["--desk", str(desk.root), "ingest", "--json", str(path)])
    assert result.exit_code == 1
    (failed,) = json.loads(result.stdout)["failed"]
    assert failed["file"] == str(path)
    assert "本可导入 2 行" in failed["reason"]
    assert len(failed["rows"]) == 23
    assert failed["rows"][0] == {
        "row": 4,
        "column": "应收金额",
        "value": "十元",
        "why": not_an_amount("十元"),
    }
    assert failed["error_file"] == "failed/台账.csv.error.txt"


def test_a_file_failing_without_bad_rows_has_an_empty_rows_list(
    desk: Desk, runner: CliRunner
) -> None:
    path = desk.inbox / "odd.csv"
    path.write_text("名字,电话号码\n甲,1\n", encoding="utf-8")
    result = runner.invoke(main, ["--desk", str(desk.root), "ingest", "--json", str(path)])
    (failed,) = json.loads(result.stdout)["failed"]
    assert failed["rows"] == [] and "没有找到台账表头" in failed["reason"]


def test_the_web_inbox_shows_the_bad_rows_and_offers_the_error_file(
    desk: Desk, runner: CliRunner
) -> None:
    path = bad_ledger(desk.inbox, good=1, bad=22)
    runner.invoke(main, ["--desk", str(desk.root), "ingest", str(path)])
    web = client(desk)
    page = web.get("/inbox").text
    assert "有问题的行 22 行" in page
    assert "第 3 行「应收金额」&#39;十元&#39;：" in page
    assert page.count("<li>第 ") == 20
    assert "另有 2 行见说明文件" in page
    note = web.get("/inbox/failed-note", params={"name": "台账.csv"})
    assert note.status_code == 200
    assert "attachment" in note.headers["content-disposition"]
    assert note.text == (desk.failed / "台账.csv.error.txt").read_text(encoding="utf-8")
    assert web.get("/inbox/failed-note", params={"name": "../dunning.toml"}).status_code == 404


def test_bad_rows_with_the_same_number_on_two_sheets_are_two_bad_rows(tmp_path: Path) -> None:
    """Row 3 of sheet 一月 and row 3 of sheet 二月 are different rows: both counted, both
    listed under their sheet, and the file's rows still add up."""
    import openpyxl
    import pytest

    from dunning.archive.ledger import read_ledger
    from dunning.errors import IngestError

    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "一月"
    second = wb.create_sheet("二月")
    for sheet, prefix in ((first, "A"), (second, "B")):
        sheet.append(HEADER.strip().split(","))
        sheet.append(["C1", "甲", f"{prefix}1", "2025-01-05", 100])
        sheet.append(["C1", "甲", f"{prefix}2", "2025-01-05", "十元"])
    path = tmp_path / "两个月.xlsx"
    wb.save(path)
    with pytest.raises(IngestError) as caught:
        read_ledger(path)
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [
        (3, "应收金额（工作表 一月）"),
        (3, "应收金额（工作表 二月）"),
    ]
    assert "2 行有误" in caught.value.reason
    assert "读取 4 行：本可导入 2 行，有误 2 行" in caught.value.reason
