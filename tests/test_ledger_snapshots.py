"""Ledger snapshots that shrink: vanished invoices, void and keep, open-items exports."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from dunning.actors import Actor
from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.snapshots import (
    InvoiceStateError,
    confirm_keep,
    confirm_void,
    held_invoices,
    open_items_marker,
)
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import NotFoundError
from dunning.ingest.pipeline import IngestReport, ingest_paths

AS_OF = dt.date(2025, 12, 31)
HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额,已收金额\n"
CLERK = Actor("王会计", "clerk", "cli")
# Week 1: the full export. C001 has two invoices, C002 and C003 one each.
WEEK1 = {
    "INV001": ("C001", "杭州甲有限公司", "2025-11-01", "10000.00", "0"),
    "INV002": ("C001", "杭州甲有限公司", "2025-11-10", "5000.00", "0"),
    "INV003": ("C002", "宁波乙有限公司", "2025-11-05", "8000.00", "0"),
    "INV004": ("C003", "绍兴丙有限公司", "2025-11-20", "3000.00", "1000.00"),
}


def ledger_csv(path: Path, rows: dict[str, tuple[str, ...]], *, title: str | None = None) -> Path:
    lines = [f"{title}\n"] if title else []
    lines.append(HEADER)
    for no, (code, name, day, amount, received) in rows.items():
        due = (dt.date.fromisoformat(day) + dt.timedelta(days=10)).isoformat()
        lines.append(f"{code},{name},{no},{day},{due},{amount},{received}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def without(rows: dict[str, tuple[str, ...]], *numbers: str) -> dict[str, tuple[str, ...]]:
    return {k: v for k, v in rows.items() if k not in numbers}


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def notes(report: IngestReport) -> list[str]:
    assert [o.status for o in report.outcomes] == ["archived"] * len(report.outcomes), [
        o.reason for o in report.outcomes
    ]
    return [n for o in report.outcomes for n in o.notes]


def states(desk: Desk) -> dict[str, str | None]:
    with open_archive(desk.db_path) as db:
        return dict(db.execute("SELECT invoice_no, state FROM invoices ORDER BY 1").fetchall())


def test_an_invoice_missing_from_the_next_export_is_held_and_named(
    desk: Desk, tmp_path: Path
) -> None:
    notes(ingest_paths(desk, [ledger_csv(tmp_path / "week1.csv", WEEK1)]))
    assert balances(desk) == {
        "C001": Decimal("15000.00"),
        "C002": Decimal("8000.00"),
        "C003": Decimal("2000.00"),
    }
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "week2.csv", without(WEEK1, "INV002"))]))
    assert len(said) == 1
    assert "C001 的发票 INV002" in said[0] and "已不在本次导出中" in said[0]
    assert "5,000.00" in said[0] and "dunning invoice void INV002" in said[0]
    assert states(desk) == {"INV001": None, "INV002": "vanished", "INV003": None, "INV004": None}
    # Held out of the balance the letters demand; still in the archive.
    assert balances(desk)["C001"] == Decimal("10000.00")
    with open_archive(desk.db_path) as db:
        (held,) = held_invoices(db)
        assert (held.invoice_no, held.customer, held.open_amount) == (
            "INV002",
            "C001",
            Decimal("5000.00"),
        )
        assert held.document_id == 2  # the export that no longer lists it
        assert db.execute("SELECT count(*) FROM invoices").fetchone()[0] == 4


def test_void_records_who_and_why_and_keep_brings_it_back(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", without(WEEK1, "INV002"))])
    with open_archive(desk.db_path) as db:
        with pytest.raises(InvoiceStateError, match="--reason"):
            confirm_void(db, "INV002", reason="   ", actor=CLERK)
        with pytest.raises(NotFoundError):
            confirm_void(db, "INV999", reason="x", actor=CLERK)
        voided = confirm_void(db, "INV002", reason="ERP 已作废  红冲", actor=CLERK)
        assert (voided.state, voided.reason, voided.actor) == (
            "voided",
            "ERP 已作废 红冲",
            "王会计（命令行）",
        )
        with pytest.raises(InvoiceStateError, match="已作废：未做任何改动"):
            confirm_void(db, "INV002", reason="again", actor=CLERK)
        events = db.execute(
            "SELECT event, actor, reason FROM invoice_events WHERE invoice_no = 'INV002'"
            " ORDER BY id"
        ).fetchall()
        assert events == [
            ("vanished", None, None),
            ("voided", "王会计（命令行）", "ERP 已作废 红冲"),
        ]
    assert balances(desk)["C001"] == Decimal("10000.00")
    with open_archive(desk.db_path) as db:
        assert confirm_keep(db, "INV002", actor=CLERK, note="客户确认未付") == "C001"
        with pytest.raises(InvoiceStateError, match="未被暂停（已计入欠款）"):
            confirm_keep(db, "INV002", actor=CLERK)
    assert balances(desk)["C001"] == Decimal("15000.00")
    # Kept: a later export that still leaves it out does not hold it again.
    week3 = without(WEEK1, "INV002") | {
        "INV008": ("C003", "绍兴丙有限公司", "2025-11-28", "1", "0")
    }
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "w3.csv", week3)]))
    assert said == [] and states(desk)["INV002"] == "kept"


def test_a_vanished_invoice_listed_again_counts_again_a_voided_one_stays_void(
    desk: Desk, tmp_path: Path
) -> None:
    week1 = WEEK1 | {"INV009": ("C001", "杭州甲有限公司", "2025-11-15", "700.00", "0")}
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", week1)])
    ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", without(week1, "INV002", "INV009"))])
    assert states(desk)["INV002"] == states(desk)["INV009"] == "vanished"
    with open_archive(desk.db_path) as db:
        confirm_void(db, "INV009", reason="退货", actor=CLERK)
    week3 = week1 | {"INV005": ("C002", "宁波乙有限公司", "2025-11-25", "100.00", "0")}
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "w3.csv", week3)]))
    assert any("INV002" in s and "重新出现" in s for s in said), said
    assert any("INV009" in s and "已作废" in s and "dunning invoice keep INV009" in s for s in said)
    assert len(said) == 2
    assert states(desk)["INV002"] is None and states(desk)["INV009"] == "voided"
    assert balances(desk) == {
        "C001": Decimal("15000.00"),
        "C002": Decimal("8100.00"),
        "C003": Decimal("2000.00"),
    }


def test_only_the_same_period_and_the_customers_the_file_covers_are_judged(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    # A November-only re-export covering C001 alone (dated 11-08 to 11-12): INV001 (11-01) is
    # before its period and C002, C003 are not in it; nothing is judged but INV002's absence
    # — which is present here.
    partial = {
        "INV002": WEEK1["INV002"],
        "INV006": ("C001", "杭州甲有限公司", "2025-11-08", "50.00", "0"),
        "INV007": ("C001", "杭州甲有限公司", "2025-11-12", "60.00", "0"),
    }
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", partial)]))
    assert said == []
    assert set(states(desk).values()) == {None}


def test_a_payment_list_and_a_detail_ledger_do_not_judge_invoice_ledger_items(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    payments = tmp_path / "回款.csv"
    payments.write_text(
        "客户编号,客户名称,回款日期,回款金额\nC001,杭州甲有限公司,2025-11-15,100\n",
        encoding="utf-8",
    )
    detail = tmp_path / "明细账.csv"
    detail.write_text(
        "客户：C001 杭州甲有限公司\n日期,凭证号,摘要,借方,贷方,方向,余额\n"
        "2025-11-01,,期初余额,,,借,0\n2025-11-03,记-1,销售 INV900,200,,借,200\n",
        encoding="utf-8",
    )
    said = notes(ingest_paths(desk, [payments, detail]))
    assert said == []
    assert set(states(desk).values()) == {None}


def test_open_items_export_settles_a_customer_who_paid_and_is_gone(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    # C002 paid and is gone; C001's INV002 is no longer open; C003 paid 500 more.
    open_items = {
        "INV001": WEEK1["INV001"],
        "INV004": ("C003", "绍兴丙有限公司", "2025-11-20", "3000.00", "1500.00"),
    }
    path = ledger_csv(tmp_path / "week2.csv", open_items, title="应收账款未清项明细表")
    said = notes(ingest_paths(desk, [path]))
    assert any(s.startswith("C002 不在本次未清项导出中") and "INV003" in s for s in said), said
    assert any("C001 的发票 INV002" in s and "视为已结清" in s for s in said), said
    assert said[0].startswith("注意：本次未清项导出未列出 1 个客户（C002）") and len(said) == 3
    assert states(desk) == {
        "INV001": None,
        "INV002": "settled",
        "INV003": "settled",
        "INV004": None,
    }
    assert balances(desk) == {"C001": Decimal("10000.00"), "C003": Decimal("1500.00")}
    with open_archive(desk.db_path) as db:
        covered = {
            r[0]
            for r in db.execute(
                "SELECT customer_code FROM ledger_import_customers WHERE import_id = 2"
            )
        }
        assert covered == {"C001", "C002", "C003"}
        assert db.execute("SELECT open_items FROM ledger_imports WHERE id = 2").fetchone() == (1,)


def test_the_open_items_setting_marks_every_invoice_ledger(desk: Desk, tmp_path: Path) -> None:
    toml = desk.root / "dunning.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "open_items_only = false", "open_items_only = true"
        ),
        encoding="utf-8",
    )
    desk = Desk(desk.root)  # settings are read when a desk is opened
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", without(WEEK1, "INV003"))]))
    assert said[1:] == ["C002 不在本次未清项导出中：发票 INV003（8,000.00）视为已结清"]
    assert "如这份导出经过筛选" in said[0]


def test_a_full_export_does_not_settle_customers_it_leaves_out(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", without(WEEK1, "INV003"))]))
    assert said == [] and states(desk)["INV003"] is None


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        ("应收台账.csv", "应收账款未清项明细表", "未清项"),
        ("应收台账.csv", "未核销发票清单 2025-11-30", "未核销"),
        ("应收台账.csv", "客户应收未 结清明细", "未 结清"),
        ("未清项-2025-11.csv", None, "未清项"),
        ("Open items 2025-11.csv", None, "Open items"),
        ("应收台账.csv", "应收账款未清偿明细", "未清偿"),
        ("应收台账.csv", "未结算发票 截至 2025-11-30", "未结算"),
        ("AR.csv", "Outstanding invoices as of 2025-11-30", "Outstanding invoices"),
        ("应收台账.csv", "应收账款台账", None),
        ("应收台账.csv", "应收账款明细（含已核销及未核销）", None),
        ("已清及未清项.csv", None, None),
        ("应收台账.csv", None, None),
    ],
)
def test_open_items_marker_reads_the_title_and_file_name(
    tmp_path: Path, name: str, title: str | None, expected: str | None
) -> None:
    path = ledger_csv(tmp_path / name, WEEK1, title=title)
    assert open_items_marker(path) == expected


def test_a_column_named_like_an_open_items_title_is_not_a_title(tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    path.write_text(
        "客户编号,发票号码,开票日期,应收金额,未核销金额\nC001,INV1,2025-11-01,100,100\n"
        "C001,INV2,2025-11-02,100,未核销\n",
        encoding="utf-8",
    )
    assert open_items_marker(path) is None


def test_open_items_marker_same_in_xlsx_and_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["应收账款未清项明细表"])
    sheet.append(HEADER.strip().split(","))
    for no, (code, name, day, amount, received) in WEEK1.items():
        sheet.append([code, name, no, day, day, float(amount), float(received)])
    book.save(tmp_path / "台账.xlsx")
    csv_path = ledger_csv(tmp_path / "台账.csv", WEEK1, title="应收账款未清项明细表")
    assert open_items_marker(tmp_path / "台账.xlsx") == open_items_marker(csv_path) == "未清项"
    assert open_items_marker(tmp_path / "missing.xlsx") is None


def test_cli_invoice_held_void_keep(desk: Desk, tmp_path: Path, runner: CliRunner) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    out = runner.invoke(
        main,
        [
            "--desk",
            str(desk.root),
            "ingest",
            str(ledger_csv(tmp_path / "w2.csv", without(WEEK1, "INV002"))),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "C001 的发票 INV002（未收 5,000.00）已不在本次导出中" in out.stdout
    args = ["--desk", str(desk.root), "invoice"]
    held = runner.invoke(main, [*args, "held", "--json"])
    assert [h["invoice"] for h in json.loads(held.stdout)] == ["INV002"]
    assert json.loads(held.stdout)[0]["state"] == "vanished"
    table = runner.invoke(main, [*args, "held"])
    assert "INV002" in table.stdout and "5,000.00" in table.stdout and "1 张待核实" in table.stdout
    bad = runner.invoke(main, [*args, "void", "INV002"])
    assert bad.exit_code == 2 and "--reason" in bad.output
    missing = runner.invoke(main, [*args, "void", "NOPE", "--reason", "x"])
    assert missing.exit_code == 1 and "存档中没有发票 'NOPE'" in missing.output
    assert "Traceback" not in missing.output
    done = runner.invoke(main, [*args, "void", "INV002", "--reason", "ERP 已作废"])
    assert done.exit_code == 0 and "已作废：ERP 已作废" in done.stdout
    voided = json.loads(runner.invoke(main, [*args, "held", "--state", "voided", "--json"]).stdout)
    assert voided[0]["reason"] == "ERP 已作废" and voided[0]["actor"].endswith("（命令行）")
    again = runner.invoke(main, [*args, "keep", "INV002"])
    assert again.exit_code == 0 and "恢复催收" in again.stdout
    assert runner.invoke(main, [*args, "held", "--json"]).stdout.strip() == "[]"
    record = json.loads(
        runner.invoke(main, ["--desk", str(desk.root), "customer", "C001", "--json"]).stdout
    )
    assert [e["event"] for e in record["invoice_events"]] == ["vanished", "voided", "kept"]
    assert record["balance"] == "15000.00"


DETAIL = """客户：C001 杭州甲有限公司
日期,凭证号,摘要,借方,贷方,方向,余额
2025-11-01,,期初余额,,,借,1000
{rows}"""


def detail_rows(entries: list[tuple[str, str, str, str]]) -> str:
    balance, lines = Decimal("1000"), []
    for day, voucher, summary, debit in entries:
        balance += Decimal(debit)
        lines.append(f"{day},{voucher},{summary},{debit},,借,{balance}\n")
    return "".join(lines)


def test_a_detail_ledger_re_export_holds_the_debit_it_no_longer_lists(
    desk: Desk, tmp_path: Path
) -> None:
    rows = [
        ("2025-11-03", "记-1", "销售 发票号 INV901", "200"),
        ("2025-11-10", "记-2", "销售 发票号 INV902", "300"),
        ("2025-11-20", "记-3", "销售 发票号 INV903", "400"),
    ]
    first = tmp_path / "明细-1.csv"
    first.write_text(DETAIL.format(rows=detail_rows(rows)), encoding="utf-8")
    notes(ingest_paths(desk, [first]))
    assert balances(desk)["C001"] == Decimal("1900.00")
    again = tmp_path / "明细-2.csv"
    again.write_text(DETAIL.format(rows=detail_rows([rows[0], rows[2]])), encoding="utf-8")
    said = notes(ingest_paths(desk, [again]))
    assert len(said) == 1 and "已不在本次导出中" in said[0] and "300.00" in said[0], said
    (held,) = [n for n, s in states(desk).items() if s == "vanished"]
    assert held.endswith("记-2")  # the debit's stable key: customer, date, voucher
    assert balances(desk)["C001"] == Decimal("1600.00")
    # The opening (期初) of the first file is never judged, though the second carries its own.
    assert all(not n.startswith("期初") for n, s in states(desk).items() if s)


def test_ingest_prints_the_first_20_changes_and_says_where_the_rest_are(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    many = {
        f"INV{i:03d}": ("C001", "杭州甲有限公司", f"2025-11-{1 + i % 28:02d}", "10.00", "0")
        for i in range(30)
    }
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", many)])
    week2 = without(many, *[f"INV{i:03d}" for i in range(1, 26)])
    out = runner.invoke(
        main, ["--desk", str(desk.root), "ingest", str(ledger_csv(tmp_path / "w2.csv", week2))]
    )
    assert out.exit_code == 0
    assert out.stdout.count("已不在本次导出中") == 20
    assert "…另有 5 条：用 `dunning invoice held`" in out.stdout
    data = json.loads(
        runner.invoke(main, ["--desk", str(desk.root), "invoice", "held", "--json"]).stdout
    )
    assert len(data) == 25


def test_the_customer_command_shows_held_invoices(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    ingest_paths(desk, [ledger_csv(tmp_path / "w2.csv", without(WEEK1, "INV002"))])
    out = runner.invoke(main, ["--desk", str(desk.root), "customer", "C001"])
    assert out.exit_code == 0
    assert "暂停催收的发票（不计入余额）" in out.stdout
    assert "INV002" in out.stdout and "已不在最新导出中（待核实）" in out.stdout


def test_the_watcher_says_what_a_ledger_changed(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    ledger_csv(desk.inbox / "ledgers" / "w2.csv", without(WEEK1, "INV002"))
    out = runner.invoke(main, ["--desk", str(desk.root), "watch", "--once", "--json"])
    assert out.exit_code == 0, out.output
    (line,) = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert line["status"] == "archived"
    assert len(line["notes"]) == 1 and "INV002" in line["notes"][0]
    text = runner.invoke(main, ["--desk", str(desk.root), "watch", "--once"])
    assert text.exit_code == 0


def test_a_filtered_open_items_export_is_undone_by_the_full_one(desk: Desk, tmp_path: Path) -> None:
    """One salesperson's 未清项 export settles the others (with a warning); the complete
    export that follows brings their invoices back."""
    ingest_paths(desk, [ledger_csv(tmp_path / "w1.csv", WEEK1)])
    only_c001 = {k: v for k, v in WEEK1.items() if v[0] == "C001"}
    said = notes(
        ingest_paths(desk, [ledger_csv(tmp_path / "a.csv", only_c001, title="未清项 张三")])
    )
    # C003's invoice is dated after the export's latest row: not judged (it may be newer).
    assert said[0].startswith("注意：本次未清项导出未列出 1 个客户（C002）")
    assert balances(desk) == {"C001": Decimal("15000.00"), "C003": Decimal("2000.00")}
    said = notes(ingest_paths(desk, [ledger_csv(tmp_path / "b.csv", WEEK1, title="未清项 全部")]))
    assert [s.split(" ")[0] for s in said] == ["C002"]
    assert all("重新出现在本次导出中" in s for s in said)
    assert balances(desk) == {
        "C001": Decimal("15000.00"),
        "C002": Decimal("8000.00"),
        "C003": Decimal("2000.00"),
    }
