"""Proof of delivery: `dunning letter sent/delivered/returned/reply` over a real desk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from pdf_factory import make_text_pdf

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths

FIRST, SECOND = "CS-2025-000001", "CS-2025-000002"  # C001, C002 (pack of 2025-06-30)


@pytest.fixture
def packed(desk: Desk, runner: CliRunner, invoice_csv: Path) -> Desk:
    assert not ingest_paths(desk, [invoice_csv]).of("failed")
    result = run(runner, desk, "pack", "--allow-no-address", "--as-of", "2025-06-30", "--json")
    assert [entry["ref"] for entry in json.loads(result.stdout)["letters"]] == [FIRST, SECOND]
    return desk


def run(runner: CliRunner, desk: Desk, *args: str, code: int = 0) -> Result:
    result = runner.invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == code, result.output
    return result


def snapshot(desk: Desk) -> list[Any]:
    """Everything a delivery step may write."""
    with open_archive(desk.db_path) as db:
        return [
            db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("letter_delivery", "address_flags", "collection_log", "documents")
        ]


def letters_of(runner: CliRunner, desk: Desk, code: str) -> dict[str, dict[str, Any]]:
    record = json.loads(run(runner, desk, "customer", code, "--json").stdout)
    return {entry["ref"]: entry for entry in record["letters"]}


def test_sent_then_delivered_with_evidence_shows_in_the_customer_record(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    run(runner, packed, "letter", "sent", FIRST, "--via", "ems", "--tracking", "1151234567890",
        "--on", "2025-07-01")  # fmt: skip
    proof = make_text_pdf(tmp_path / "妥投证明.pdf", ["EMS 妥投证明 邮件号 1151234567890 已签收"])
    result = run(runner, packed, "letter", "delivered", FIRST, "--on", "2025-07-03",
                 "--evidence", str(proof), "--json")  # fmt: skip
    shown = json.loads(result.stdout)
    assert shown["status"] == "delivered" and shown["delivered_on"] == "2025-07-03"
    document = shown["evidence_document"]
    letter = letters_of(runner, packed, "C001")[FIRST]
    # the old fields stay, the delivery fields are added
    assert letter["level"] == 1 and letter["date"] == "2025-06-30" and letter["files"]
    assert (letter["status"], letter["channel"], letter["tracking"]) == (
        "delivered",
        "ems",
        "1151234567890",
    )
    assert (letter["sent_on"], letter["delivered_on"]) == ("2025-07-01", "2025-07-03")
    assert letter["evidence_document"] == document
    shown_doc = json.loads(run(runner, packed, "show", str(document), "--json").stdout)
    assert shown_doc["kind"] == "evidence" and shown_doc["customer_code"] == "C001"
    assert "1151234567890" in shown_doc["text_preview"]
    text = run(runner, packed, "customer", "C001").stdout
    assert "1151234567890" in text and "2025-07-03" in text and "已妥投" in text
    # the same proof given again is not archived twice
    run(
        runner, packed, "letter", "delivered", FIRST, "--on", "2025-07-03", "--evidence", str(proof)
    )
    with open_archive(packed.db_path) as db:
        assert (
            db.execute("SELECT count(*) FROM documents WHERE kind = 'evidence'").fetchone()[0] == 1
        )


def test_a_signed_receipt_counts_as_delivered(packed: Desk, runner: CliRunner) -> None:
    with open_archive(packed.db_path) as db:
        db.conn.execute(
            "UPDATE letters SET status = 'signed', signed_at = '2025-07-04T10:00:00+08:00'"
            " WHERE ref = ?",
            [FIRST],
        )
    letter = letters_of(runner, packed, "C001")[FIRST]
    assert letter["status"] == "signed" and letter["delivered_on"] == "2025-07-04"
    run(runner, packed, "letter", "sent", FIRST, "--via", "sf", code=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sent", "CS-2025-000099", "--via", "ems"], "没有函件“CS-2025-000099”"),
        (["delivered", "CS-2025-000099"], "没有函件“CS-2025-000099”"),
        (["delivered", SECOND, "--on", "2025-07-02"], "还没有登记寄出"),
        (["delivered", FIRST, "--on", "2025-06-30"], "不可能更早在 2025-06-30 妥投"),
        (["sent", FIRST, "--via", "ems", "--on", "2025-06-29"], "不可能更早在 2025-06-29 寄出"),
        (["returned", SECOND, "--reason", "拒收"], "只有已寄出的函件才会被退回"),
        (["returned", FIRST, "--reason", "  "], "请写明退回原因"),
        (["returned", FIRST, "--reason", "拒收\n=1+1"], "只能写一行"),
        (["sent", SECOND, "--via", "ems", "--tracking", "=cmd|' /C calc'!A0"], "不是运单号"),
        (["sent", SECOND, "--via", "ems", "--on", "2999-01-01"], "晚于今天"),
        (["delivered", FIRST, "--on", "2999-01-01"], "晚于今天"),
    ],
)
def test_refused_steps_say_one_sentence_and_change_nothing(
    packed: Desk, runner: CliRunner, args: list[str], message: str
) -> None:
    run(runner, packed, "letter", "sent", FIRST, "--via", "sf", "--on", "2025-07-01")
    before = snapshot(packed)
    result = run(runner, packed, "letter", *args, code=1)
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert snapshot(packed) == before


def test_a_delivered_letter_cannot_be_sent_again(packed: Desk, runner: CliRunner) -> None:
    run(runner, packed, "letter", "sent", FIRST, "--via", "sf", "--on", "2025-07-01")
    run(runner, packed, "letter", "delivered", FIRST, "--on", "2025-07-02")
    before = snapshot(packed)
    result = run(runner, packed, "letter", "sent", FIRST, "--via", "ems", code=1)
    assert "已于 2025-07-02 妥投，不能再登记寄出" in result.stderr
    assert snapshot(packed) == before


def test_evidence_is_not_archived_when_the_delivery_is_refused(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    proof = make_text_pdf(tmp_path / "proof.pdf", ["妥投证明"])
    before = snapshot(packed)
    run(runner, packed, "letter", "delivered", SECOND, "--evidence", str(proof), code=1)
    assert snapshot(packed) == before


def test_evidence_that_is_not_a_pdf_or_scan_is_refused(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    run(runner, packed, "letter", "sent", FIRST, "--via", "sf", "--on", "2025-07-01")
    fake = tmp_path / "proof.pdf"
    fake.write_text('=HYPERLINK("http://x")', encoding="utf-8")
    before = snapshot(packed)
    result = run(runner, packed, "letter", "delivered", FIRST, "--evidence", str(fake), code=1)
    assert "不是 PDF 或扫描图片" in result.stderr
    assert snapshot(packed) == before
    assert not any(packed.failed.iterdir())


def test_a_returned_letter_flags_the_address_and_may_be_sent_again(
    packed: Desk, runner: CliRunner
) -> None:
    run(runner, packed, "letter", "sent", SECOND, "--via", "post", "--on", "2025-07-01")
    result = run(runner, packed, "letter", "returned", SECOND, "--reason", "查无此人",
                 "--on", "2025-07-09")  # fmt: skip
    assert "地址已标记待核实" in result.stderr
    record = json.loads(run(runner, packed, "customer", "C002", "--json").stdout)
    assert record["address_flags"] == [
        {"letter": SECOND, "reason": "查无此人", "flagged_on": "2025-07-09"}
    ]
    letter = {e["ref"]: e for e in record["letters"]}[SECOND]
    assert (letter["status"], letter["return_reason"]) == ("returned", "查无此人")
    assert "地址待核实" in run(runner, packed, "customer", "C002").stdout
    dry = run(runner, packed, "pack", "--allow-no-address", "--dry-run", "--as-of", "2025-07-20")
    assert f"函件 {SECOND} 被退回（查无此人）" in dry.stderr
    run(runner, packed, "letter", "sent", SECOND, "--via", "ems", "--on", "2025-07-12")
    assert letters_of(runner, packed, "C002")[SECOND]["status"] == "sent"
    run(runner, packed, "letter", "delivered", SECOND, "--on", "2025-07-14")
    record = json.loads(run(runner, packed, "customer", "C002", "--json").stdout)
    assert record["address_flags"] == []  # a letter got through: the flag is cleared


def test_a_damaged_xls_sheet_is_refused_with_the_fix(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "EMS.xls"
    sheet.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    result = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "ems", code=1)
    # The one guarded reader's sentence (issue 20): the same as for a ledger.
    assert "EMS.xls 无法作为 Excel 工作簿打开" in result.stderr
    assert "另存为 .xlsx 后重新导入" in result.stderr


def test_a_statement_reply_is_recorded_with_its_scan(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    scan = make_text_pdf(tmp_path / "回执.pdf", [f"对账单回执 {FIRST} 相符 杭州明远贸易有限公司"])
    run(runner, packed, "letter", "reply", FIRST, "相符", "--on", "2025-07-05",
        "--evidence", str(scan))  # fmt: skip
    letter = letters_of(runner, packed, "C001")[FIRST]
    assert (letter["reply"], letter["reply_on"]) == ("agreed", "2025-07-05")
    assert letter["status"] == "delivered"
    shown = json.loads(run(runner, packed, "show", str(letter["reply_document"]), "--json").stdout)
    assert shown["proves_delivery_of"] == [FIRST] and shown["kind"] == "evidence"
    before = snapshot(packed)
    run(runner, packed, "letter", "reply", FIRST, "不符", "--on", "2025-06-01", code=1)
    assert snapshot(packed) == before


def test_sent_needs_a_ref_or_a_sheet(packed: Desk, runner: CliRunner) -> None:
    run(runner, packed, "letter", "sent", "--via", "ems", code=2)


# -- a courier's batch sheet ------------------------------------------------------------------

SF_SHEET = """顺丰速运 批量下单结果导出,,,,,,
导出时间：2025-07-01 17:32,,,,,,
序号,运单号,客户订单号,收件公司,收件人,收件地址,备注
1,SF1402339977811,CS-2025-000001,杭州明远贸易有限公司,王经理,杭州市西湖区,催款函
2,SF1402339977820,cs-2025-000002,宁波海辰机械有限公司,李总,宁波市北仑区,
,,,,,,
合计,2 票,,,,,
"""


def test_a_courier_sheet_with_a_title_and_extra_columns_records_every_row(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "顺丰批量.csv"
    sheet.write_text(SF_SHEET, encoding="gbk")
    result = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "sf",
                 "--on", "2025-07-01", "--json")  # fmt: skip
    report = json.loads(result.stdout)
    assert report["header_row"] == 3
    assert [(r["row"], r["ref"], r["tracking"]) for r in report["sent"]] == [
        (4, FIRST, "SF1402339977811"),
        (5, SECOND, "SF1402339977820"),
    ]
    assert report["skipped"] == [{"row": 6, "why": "blank"}, {"row": 7, "why": "total"}]
    assert letters_of(runner, packed, "C002")[SECOND]["tracking"] == "SF1402339977820"
    # the same sheet again: every row already recorded, nothing new
    again = json.loads(
        run(
            runner,
            packed,
            "letter",
            "sent",
            "--from",
            str(sheet),
            "--via",
            "sf",
            "--on",
            "2025-07-01",
            "--json",
        ).stdout
    )
    assert again["sent"] == [] and len(again["unchanged"]) == 2


def test_a_sheet_with_a_bad_row_records_nothing_and_lists_every_bad_row(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["EMS 大宗邮件交寄清单"])
    ws.append(["邮件号", "备注", "收件人", "收寄日期"])
    ws.append(["1151234567890", f"函件 {FIRST}", "王经理", dt.datetime(2025, 7, 2)])
    ws.append(["1.15123E+12", SECOND, "李总", "2025-07-02"])
    ws.append(["1151234567906", "CS-2025-000077", "赵", "2025-07-02"])
    ws.append(["", "no reference here", "钱", "2025-07-02"])
    ws.append(["1151234567913", FIRST, "王经理", "2025-07-03"])
    path = tmp_path / "ems.xlsx"
    wb.save(path)
    before = snapshot(packed)
    result = run(runner, packed, "letter", "sent", "--from", str(path), "--via", "ems", code=1)
    assert "有 4 行有误，全部未记录" in result.stderr
    # Each bad row names its column by the sheet's own header, whether the sheet's reading or
    # the letter checks after it found the fault.
    for row, column, why in [
        (4, "邮件号", "科学计数法"),
        (5, "备注", "没有函件“CS-2025-000077”"),
        (6, "备注", "没有函件编号"),
        (7, "备注", f"函件 {FIRST} 已在第 3 行出现过"),
    ]:
        assert f"  第 {row} 行「{column}」" in result.stderr and why in result.stderr, (row, why)
    assert "  第 3 行「" not in result.stderr
    assert snapshot(packed) == before


def test_a_sheet_without_the_columns_is_refused(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "list.csv"
    sheet.write_text("name,amount\nA,1\n", encoding="utf-8")
    result = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "sf", code=1)
    assert "前 10 行中找不到表头" in result.stderr


def test_the_plain_ref_tracking_sheet_of_the_spec(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "tracking.csv"
    sheet.write_text(f"ref,tracking\n{FIRST},SF1402339977811\n{SECOND},SF1402339977820\n")
    result = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "courier",
                 "--on", "2025-07-01")  # fmt: skip
    assert "寄出 2 封，已记录过 0 封，跳过空行或合计行 0 行" in result.stdout
    letters = {**letters_of(runner, packed, "C001"), **letters_of(runner, packed, "C002")}
    assert [letters[r]["tracking"] for r in (FIRST, SECOND)] == [
        "SF1402339977811",
        "SF1402339977820",
    ]
