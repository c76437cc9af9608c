"""Ledger files through the one ingest pipeline: archive, supersede, reject whole, CLI."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow.records import customer_record
from dunning.workflow.verify import verify

AS_OF = __import__("datetime").date(2025, 6, 30)


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def counts(desk: Desk) -> tuple[int, int, int]:
    with open_archive(desk.db_path) as db:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("documents", "invoices", "payments")
        )


def test_invoices_and_gbk_payments_give_the_right_balances(
    desk: Desk, invoice_csv: Path, payment_csv: Path
) -> None:
    report = ingest_paths(desk, [invoice_csv, payment_csv])
    assert [o.status for o in report.outcomes] == ["archived", "archived"]
    assert balances(desk) == {
        "C001": Decimal("9000.50"),  # 10000 + 5000.50 - 1000 received - 3000 - 2000
        "C002": Decimal("8000.00"),
        "C003": Decimal("0.00"),
    }
    assert counts(desk) == (2, 4, 3)
    # Files given from outside the desk stay where they are.
    assert invoice_csv.exists() and payment_csv.exists()


def test_reimporting_the_same_file_is_a_duplicate_and_changes_nothing(
    desk: Desk, invoice_csv: Path
) -> None:
    ingest_paths(desk, [invoice_csv])
    before = (counts(desk), balances(desk))
    dropped = desk.inbox / "ledgers" / "again.csv"
    dropped.write_bytes(invoice_csv.read_bytes())
    report = ingest_paths(desk, [desk.inbox])
    assert [o.status for o in report.outcomes] == ["duplicate"]
    assert report.outcomes[0].document == 1
    assert (counts(desk), balances(desk)) == before
    assert not dropped.exists()
    error = (desk.failed / "again.csv.error.txt").read_text(encoding="utf-8")
    assert "与文档 1（应收台账.csv，" in error and "内容相同" in error


def test_an_updated_export_supersedes_the_rows_it_covers(desk: Desk, tmp_path: Path) -> None:
    first = tmp_path / "v1.csv"
    first.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        "C1,甲公司,F1,2025-01-01,2025-01-31,100\n"
        "C1,甲公司,F2,2025-01-02,2025-02-01,200\n",
        encoding="utf-8",
    )
    second = tmp_path / "v2.csv"
    second.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额,已收金额\n"
        "C1,甲公司,F2,2025-01-02,2025-02-01,200,50\n"
        "C1,甲公司,F3,2025-03-01,2025-03-31,300,0\n",
        encoding="utf-8",
    )
    ingest_paths(desk, [first])
    report = ingest_paths(desk, [second])
    assert report.outcomes[0].status == "archived"
    assert "新增 1 条，更新 1 条" in report.outcomes[0].label
    assert counts(desk)[1] == 3  # F1, F2, F3 — F2 counted once
    assert balances(desk) == {"C1": Decimal("550.00")}


def test_payments_reimported_in_a_longer_export_are_not_counted_twice(
    desk: Desk, invoice_csv: Path, tmp_path: Path
) -> None:
    ingest_paths(desk, [invoice_csv])
    head = "客户编号,回款日期,回款金额\n"
    rows = "C002,2025-04-10,400\nC002,2025-04-10,400\n"  # two real, identical receipts
    (tmp_path / "p1.csv").write_text(head + rows, encoding="utf-8")
    (tmp_path / "p2.csv").write_text(head + rows + "C002,2025-05-10,100\n", encoding="utf-8")
    ingest_paths(desk, [tmp_path / "p1.csv"])
    assert balances(desk)["C002"] == Decimal("8000.00")
    ingest_paths(desk, [tmp_path / "p2.csv"])
    assert balances(desk)["C002"] == Decimal("7900.00")
    assert counts(desk)[2] == 3


def test_a_file_with_bad_rows_is_rejected_whole_with_every_row_listed(desk: Desk) -> None:
    bad = desk.inbox / "ledgers" / "坏台账.csv"
    bad.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        "C1,甲公司,F1,2025-01-01,2025-01-31,100\n"
        "C1,甲公司,F2,2025-13-45,2025-02-01,200\n"
        ",,F3,2025-01-03,2025-02-02,300\n"
        "C1,甲公司,F4,2025-01-04,2025-02-03,abc\n",
        encoding="utf-8",
    )
    report = ingest_paths(desk, [desk.inbox])
    assert [o.status for o in report.outcomes] == ["failed"]
    assert counts(desk) == (0, 0, 0)
    assert not bad.exists()
    assert (desk.failed / "坏台账.csv").read_bytes().startswith("客户编号".encode())
    error = (desk.failed / "坏台账.csv.error.txt").read_text(encoding="utf-8")
    for row in ("第 3 行", "第 4 行", "第 5 行"):
        assert row in error
    assert "第 2 行" not in error
    assert "abc" in error and "2025-13-45" in error
    assert "来源：inbox/ledgers/坏台账.csv" in error
    with open_archive(desk.db_path) as db:
        assert verify(desk, db).ok  # nothing half-stored


def test_duplicate_invoice_numbers_in_one_file_are_bad_rows(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "客户编号,发票号码,开票日期,应收金额\nC1,F1,2025-01-01,100\nC1,F1,2025-01-02,100\n",
        encoding="utf-8",
    )
    report = ingest_paths(desk, [path])
    assert report.outcomes[0].status == "failed"
    error = (desk.failed / "dup.csv.error.txt").read_text(encoding="utf-8")
    assert "第 2 行「发票号码」'F1'：" in error
    assert "第 3 行「发票号码」'F1'：" in error
    assert "发票 F1 出现在第 2 行和第 3 行（内容不同）" in error
    assert counts(desk) == (0, 0, 0)
    with open_archive(desk.db_path) as db:
        assert verify(desk, db).ok


def test_xlsx_with_title_rows_and_customer_master(desk: Desk, tmp_path: Path) -> None:
    master = tmp_path / "客户档案.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户档案"])
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["客户编号", "客户名称", "联系地址", "联系人", "联系电话", "业务员"])
    ws.append(["C001", "杭州明远贸易有限公司", "杭州市西湖区1号", "王经理", "13800000000", "赵六"])
    wb.save(master)
    report = ingest_paths(desk, [master])
    assert report.outcomes[0].status == "archived", report.outcomes[0].reason
    with open_archive(desk.db_path) as db:
        record = customer_record(db, "C001", as_of=AS_OF, edges=(30, 60, 90))
    assert record["address"] == "杭州市西湖区1号"
    assert record["salesperson"] == "赵六"


def test_cli_ingest_aging_and_customer_json(
    in_desk: Desk, runner: CliRunner, invoice_csv: Path, payment_csv: Path
) -> None:
    result = runner.invoke(main, ["ingest", "--json", str(invoice_csv), str(payment_csv)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"archived", "duplicates", "failed"}
    assert [a["kind"] for a in data["archived"]] == ["ledger", "ledger"]
    assert all(isinstance(a["document"], int) for a in data["archived"])

    aging = json.loads(runner.invoke(main, ["aging", "--as-of", "2025-06-30", "--json"]).stdout)
    c001 = next(a for a in aging if a["customer"] == "C001")
    assert c001["balance"] == "9000.50"
    assert set(c001["buckets"]) == {"current", "1-30", "31-60", "61-90", "91+"}
    assert c001["buckets"]["91+"] == "9000.50"
    assert c001["max_days_overdue"] == 146

    text = runner.invoke(main, ["aging", "--as-of", "2025-06-30"])
    assert "杭州明远贸易有限公司" in text.stdout and "9,000.50" in text.stdout

    one = runner.invoke(main, ["customer", "C003", "--json"])
    record = json.loads(one.stdout)
    assert record["name"] == "绍兴&华 <HK> 有限公司"
    assert record["status"] == "active"
    for key in ("invoices", "payments", "contracts", "letters", "log"):
        assert isinstance(record[key], list)
    assert record["invoices"][0]["open"] == "0.00"

    missing = runner.invoke(main, ["customer", "NOPE"])
    assert missing.exit_code == 1
    assert "没有客户“NOPE”" in missing.stderr


def test_cli_ingest_failure_exits_1_and_names_the_file(
    in_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "unknown.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    result = runner.invoke(main, ["ingest", str(bad)])
    assert result.exit_code == 1
    assert "失败 unknown.csv：" in result.stderr
    assert "Traceback" not in result.output
    assert (in_desk.failed / "unknown.csv.error.txt").exists()
    assert bad.exists()


def test_a_payment_whose_reference_is_filled_in_later_is_not_counted_twice(
    desk: Desk, tmp_path: Path
) -> None:
    (tmp_path / "inv.csv").write_text(
        "客户编号,发票号码,开票日期,应收金额\nC1,F1,2025-01-01,1000\nC1,F2,2025-01-02,500\n",
        encoding="utf-8",
    )
    ingest_paths(desk, [tmp_path / "inv.csv"])
    (tmp_path / "p1.csv").write_text(
        "客户编号,回款日期,回款金额,对应发票号\nC1,2025-03-01,300,\n", encoding="utf-8"
    )
    (tmp_path / "p2.csv").write_text(
        "客户编号,回款日期,回款金额,对应发票号\nC1,2025-03-01,300,F2\n", encoding="utf-8"
    )
    ingest_paths(desk, [tmp_path / "p1.csv"])
    ingest_paths(desk, [tmp_path / "p2.csv"])
    assert balances(desk) == {"C1": Decimal("1200.00")}
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT invoice_ref FROM payments").fetchall() == [("F2",)]


def test_an_absurd_amount_is_a_bad_row_not_a_crash(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        "客户编号,发票号码,开票日期,应收金额\nC1,F1,2025-01-01,100000000000000000\n",
        encoding="utf-8",
    )
    (outcome,) = ingest_paths(desk, [path]).outcomes
    assert outcome.status == "failed"
    assert "金额太大" in (desk.failed / "big.csv.error.txt").read_text(encoding="utf-8")
    with open_archive(desk.db_path) as db:
        assert verify(desk, db).ok
