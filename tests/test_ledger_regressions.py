"""Issue 13's defects, each in exactly the shape it was found in, through the real pipeline."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.ledger import read_ledger
from dunning.archive.sniff import sniff
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths

AS_OF = dt.date(2025, 11, 30)

INVOICES = """客户编号,客户名称,发票号码,开票日期,到期日,应收金额
KH001,厦门鹭岛贸易有限公司,FP1001,2025-06-01,2025-07-01,10000.00
KH002,南京同创化工有限公司,FP2001,2025-06-05,2025-07-05,8000.00
KH003,杭州明远机电有限公司,FP3001,2025-06-10,2025-07-10,6000.00
"""


def payment_list_with_remarks() -> str:
    """17 payments, 备注 = 银行转账 on every row; 7 of them name their invoice."""
    lines = ["客户编号,客户名称,回款日期,回款金额,对应发票号,备注"]
    plan = (
        [("KH001", "厦门鹭岛贸易有限公司", "FP1001")] * 7
        + [("KH002", "南京同创化工有限公司", "")] * 6
        + [("KH003", "杭州明远机电有限公司", "")] * 4
    )
    for i, (code, name, ref) in enumerate(plan):
        lines.append(f"{code},{name},2025-08-{i + 1:02d},100.00,{ref},银行转账")
    return "\n".join(lines) + "\n"


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def count(desk: Desk, table: str) -> int:
    with open_archive(desk.db_path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_remark_column_is_never_a_payment_number(desk: Desk, tmp_path: Path) -> None:
    inv, pay = tmp_path / "invoices.csv", tmp_path / "payments.csv"
    inv.write_text(INVOICES, encoding="utf-8")
    pay.write_text(payment_list_with_remarks(), encoding="utf-8")
    report = ingest_paths(desk, [inv, pay])
    assert [o.status for o in report.outcomes] == ["archived", "archived"]
    assert count(desk, "payments") == 17
    assert balances(desk) == {
        "KH001": Decimal("9300.00"),
        "KH002": Decimal("7400.00"),
        "KH003": Decimal("5600.00"),
    }
    with open_archive(desk.db_path) as db:
        numbers = {r[0] for r in db.execute("SELECT payment_no FROM payments")}
    assert numbers == {None}
    assert "读取 17 行：导入 17 行" in report.outcomes[1].label


def test_invoice_ledger_with_trailing_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text(
        "客户编号,客户名称,发票号码,开票日期,应收金额,已收金额,业务员,备注\n"
        "KH001,甲公司,FP1,2025-01-01,100,0,张三,加急\n"
        "KH001,甲公司,FP2,2025-01-02,200,,李四,\n",
        encoding="utf-8",
    )
    ledger = read_ledger(path)
    assert [(i.invoice_no, i.due_date, i.contract_no) for i in ledger.invoices] == [
        ("FP1", None, None),
        ("FP2", None, None),
    ]
    assert ledger.ignored_columns == ["业务员", "备注"]


TITLED = "本公司应收账款台账（截至2025年11月30日）\n\n" + INVOICES


def test_csv_with_a_title_line_is_a_csv_wherever_it_is_dropped(desk: Desk, tmp_path: Path) -> None:
    outside = tmp_path / "台账.csv"
    outside.write_text(TITLED, encoding="gbk")
    assert sniff(outside) == "csv"
    (desk.inbox / "a.csv").write_text(TITLED, encoding="utf-8-sig")
    (desk.inbox / "ledgers" / "b.csv").write_text(TITLED.replace("FP", "FQ"), encoding="gb18030")
    report = ingest_paths(desk, [outside, desk.inbox])
    # Three files, three encodings: each archived (the second updates the first's invoices).
    assert [o.status for o in report.outcomes] == ["archived"] * 3
    assert count(desk, "invoices") == 6


def test_utf16_export_gets_in(desk: Desk) -> None:
    path = desk.inbox / "unicode.txt.csv"
    path.write_bytes(INVOICES.replace(",", "\t").encode("utf-16"))
    assert sniff(path) == "csv"
    report = ingest_paths(desk, [desk.inbox])
    assert [o.status for o in report.outcomes] == ["archived"]
    assert count(desk, "invoices") == 3


def test_placeholder_name_is_replaced_by_the_first_real_name(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    pay = tmp_path / "pay.csv"
    pay.write_text("客户编号,回款日期,回款金额\nKH014,2025-08-01,100\n", encoding="utf-8")
    ingest_paths(desk, [pay])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户编号", "客户名称", "发票号码", "开票日期", "应收金额"])
    ws.append(["KH014", None, "FP9", "2025-07-01", 500])  # an empty name cell names nobody
    ws.append(["KH014", "温州瓯江电器有限公司", "FP10", "2025-07-02", 600])
    wb.save(tmp_path / "inv.xlsx")
    ingest_paths(desk, [tmp_path / "inv.xlsx"])
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT name FROM customers WHERE code='KH014'").fetchone()[0] == (
            "温州瓯江电器有限公司"
        )
    master = tmp_path / "master.csv"
    master.write_text(
        "客户编号,客户名称,地址\nKH014,温州瓯江电器股份有限公司,温州市鹿城区车站大道1号\n",
        encoding="utf-8",
    )
    ingest_paths(desk, [master])
    # A later ledger with the old name does not undo the master's name.
    again = tmp_path / "inv2.csv"
    again.write_text(
        "客户编号,客户名称,发票号码,开票日期,应收金额\nKH014,温州瓯江电器有限公司,FP11,2025-07-03,1\n",
        encoding="utf-8",
    )
    ingest_paths(desk, [again])
    result = runner.invoke(main, ["--desk", str(desk.root), "customer", "KH014", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["name"] == "温州瓯江电器股份有限公司"
    changes = [(c["field"], c["old"], c["new"]) for c in record["changes"]]
    assert changes == [
        ("name", "KH014", "温州瓯江电器有限公司"),
        ("name", "温州瓯江电器有限公司", "温州瓯江电器股份有限公司"),
    ]
    assert all(c["file"] for c in record["changes"])
    text = runner.invoke(main, ["--desk", str(desk.root), "customer", "KH014"]).stdout
    assert "温州瓯江电器有限公司 → 温州瓯江电器股份有限公司" in text


def test_split_transfer_and_twin_payments_are_all_kept(desk: Desk, tmp_path: Path) -> None:
    inv = tmp_path / "inv.csv"
    inv.write_text(INVOICES, encoding="utf-8")
    pay = tmp_path / "pay.csv"
    pay.write_text(
        "客户编号,回款日期,回款金额,对应发票号,银行流水号\n"
        "KH001,2025-08-01,1000,FP1001,LS001\n"
        "KH001,2025-08-01,2000,FP1001,LS001\n"  # one transfer over two rows
        "KH002,2025-08-02,500,,\n"
        "KH002,2025-08-02,500,,\n",  # two payments, same day and amount, no number
        encoding="utf-8",
    )
    ingest_paths(desk, [inv, pay])
    assert count(desk, "payments") == 4
    assert balances(desk)["KH001"] == Decimal("7000.00")
    assert balances(desk)["KH002"] == Decimal("7000.00")
    # The same file again (an updated export) supersedes instead of doubling.
    pay.write_text(pay.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    ingest_paths(desk, [pay])
    assert count(desk, "payments") == 4


def test_an_invoice_of_another_customer_is_a_bad_row(desk: Desk, tmp_path: Path) -> None:
    inv = tmp_path / "inv.csv"
    inv.write_text(INVOICES, encoding="utf-8")
    ingest_paths(desk, [inv])
    other = tmp_path / "other.csv"
    other.write_text(
        "客户编号,发票号码,开票日期,应收金额\nKH009,FP2001,2025-06-05,8000\n", encoding="utf-8"
    )
    report = ingest_paths(desk, [other])
    assert report.outcomes[0].status == "failed"
    reason = (desk.failed / "other.csv.error.txt").read_text(encoding="utf-8")
    assert "第 2 行「发票号码」'FP2001'" in reason and "KH002" in reason and "KH009" in reason
    with open_archive(desk.db_path) as db:
        owner = db.execute("SELECT customer_code FROM invoices WHERE invoice_no='FP2001'")
        assert owner.fetchone()[0] == "KH002"


def test_control_character_after_the_first_8kb_is_a_bad_row(desk: Desk, tmp_path: Path) -> None:
    rows = [f"KH{i:03d},客户{i},FP{i:05d},2025-06-01,100" for i in range(400)]
    rows[350] = "KH350,坏\x01名字,FP00350,2025-06-01,100"
    path = tmp_path / "long.csv"
    path.write_text("客户编号,客户名称,发票号码,开票日期,应收金额\n" + "\n".join(rows), "utf-8")
    assert path.stat().st_size > 8192
    report = ingest_paths(desk, [path])
    assert report.outcomes[0].status == "failed"
    reason = (desk.failed / "long.csv.error.txt").read_text(encoding="utf-8")
    assert "第 352 行「客户名称」" in reason and "U+0001" in reason


def test_ingest_reports_and_keeps_the_row_counts(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text(INVOICES + ",,,,,\n合计,,,,,24000.00\n", encoding="utf-8")
    report = ingest_paths(desk, [path])
    assert report.outcomes[0].label == (
        "发票台账（读取 5 行：导入 3 行，跳过空行 1 行，跳过合计行 1 行；新增 3 条，更新 0 条）"
    )
    with open_archive(desk.db_path) as db:
        row = db.execute(
            "SELECT rows_read, rows_imported, rows_skipped, rows_bad FROM ledger_imports"
        ).fetchone()
    assert (row[0], row[1], json.loads(row[2]), row[3]) == (5, 3, {"blank": 1, "total": 1}, 0)


def test_a_ledger_is_found_by_each_identifier_it_holds(desk: Desk, tmp_path: Path) -> None:
    from dunning.archive.search.query import search

    inv, pay = tmp_path / "invoices.csv", tmp_path / "payments.csv"
    inv.write_text(INVOICES, encoding="utf-8")
    pay.write_text(payment_list_with_remarks(), encoding="utf-8")
    ingest_paths(desk, [inv, pay])
    with open_archive(desk.db_path) as db:
        for term, document in (("FP2001", 1), ("鹭岛贸易", 1), ("KH003", 1), ("FP1001", 1)):
            assert document in [h.document for h in search(db, term)], term
        assert 2 in [h.document for h in search(db, "南京同创化工")]
