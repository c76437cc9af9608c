"""End to end: a claim about to lapse is listed, a delivered demand takes it off the list.

Dates are written out by hand: on 2026-06-30, an invoice due 2023-07-30 (three years minus 30
days earlier) lapses after 2026-07-30, 30 days later.
"""

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

AS_OF = "2026-06-30"
LEDGER = """客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
K01,杭州老账户有限公司,HT-2023-0100,24332000000012345678,2023-06-30,2023-07-30,"12,000.00",0
K02,宁波新客户有限公司,HT-2026-0007,FP-2026-0001,2026-04-01,2026-05-01,5000.00,0
"""


def run(runner: CliRunner, desk: Desk, *args: str, code: int = 0) -> Result:
    result = runner.invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == code, result.output
    return result


def limitation(runner: CliRunner, desk: Desk, *extra: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        run(runner, desk, "limitation", "--as-of", AS_OF, "--json", *extra).stdout
    )
    return rows


@pytest.fixture
def ledger_desk(desk: Desk, runner: CliRunner, tmp_path: Path) -> Desk:
    ledger = tmp_path / "应收台账.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    run(runner, desk, "ingest", str(ledger))
    return desk


def weekly_sheet(runner: CliRunner, desk: Desk, tmp_path: Path) -> Any:
    out = tmp_path / "周报.xlsx"
    run(runner, desk, "report", "weekly", "--as-of", AS_OF, "--out", str(out))
    return openpyxl.load_workbook(out)["时效预警"]


def test_a_claim_about_to_lapse_is_listed_until_a_demand_is_proven_delivered(
    ledger_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    desk = ledger_desk
    listed = limitation(runner, desk)
    assert listed == [
        {
            "customer": "K01",
            "name": "杭州老账户有限公司",
            "invoice": "24332000000012345678",
            "due": "2023-07-30",
            "open": "12000.00",
            "expires": "2026-07-30",
            "days_left": 30,
            "last_event": None,
            "unproven": [],
            "advice": listed[0]["advice"],
            "last_day": "2026-07-30",
            "returned": [],
        }
    ]
    assert "支付令" in listed[0]["advice"]
    text = run(runner, desk, "limitation", "--as-of", AS_OF).stdout
    assert "24332000000012345678" in text and "2026-07-30" in text

    # the dry run marks the customer, and only that one
    plan = json.loads(
        run(
            runner, desk, "pack", "--allow-no-address", "--dry-run", "--as-of", AS_OF, "--json"
        ).stdout
    )
    marks = {c["customer"]: c["limitation_expires"] for c in plan["customers"]}
    assert marks == {"K01": "2026-07-30", "K02": None}
    assert (
        "[时效 2026-07-30]"
        in run(runner, desk, "pack", "--allow-no-address", "--dry-run", "--as-of", AS_OF).stdout
    )

    # a demand goes out: sent is not proof, the claim stays listed as "sent, unproven"
    packed = run(runner, desk, "pack", "--allow-no-address", "--as-of", "2026-06-01", "--customer", "K01",
                 "--level", "2", "--json")  # fmt: skip
    ref = json.loads(packed.stdout)["letters"][0]["ref"]
    run(runner, desk, "letter", "sent", ref, "--via", "ems", "--tracking", "1151234567890",
        "--on", "2026-06-02")  # fmt: skip
    (still,) = limitation(runner, desk)
    assert still["last_event"] is None
    assert still["unproven"] == [{"letter": ref, "status": "sent, unproven"}]
    check_weekly_sheet(weekly_sheet(runner, desk, tmp_path), ref)

    # delivered with the courier's proof: the period starts again, the claim leaves the list
    proof = make_text_pdf(tmp_path / "妥投证明.pdf", [f"EMS 1151234567890 妥投 {ref}"])
    run(runner, desk, "letter", "delivered", ref, "--on", "2026-06-05", "--evidence", str(proof))
    assert limitation(runner, desk) == []
    (kept,) = [r for r in limitation(runner, desk, "--within", "5000") if r["customer"] == "K01"]
    assert kept["expires"] == "2029-06-05" and kept["days_left"] == 1071
    event = kept["last_event"]
    assert (event["kind"], event["date"], event["letter"]) == ("delivered", "2026-06-05", ref)
    document = int(event["evidence"].removeprefix("document "))
    shown = json.loads(run(runner, desk, "show", str(document), "--json").stdout)
    assert shown["original_name"] == "妥投证明.pdf" and shown["kind"] == "evidence"
    assert shown["proves_delivery_of"] == [ref]
    empty = weekly_sheet(runner, desk, tmp_path)
    assert empty.max_row == 3 and empty["B3"].value == "共 0 张发票"


def check_weekly_sheet(ws: Any, ref: str) -> None:
    assert ws["A1"].value.startswith("示例贸易有限公司")
    assert "诉讼时效预警" in ws["A1"].value
    headers = [c.value for c in ws[2]]
    assert headers == [
        "客户编号",
        "客户名称",
        "发票号",
        "到期日",
        "未收金额",
        "时效届满日",
        "剩余天数",
        "最近中断事由",
        "中断日期",
        "证据",
        "已寄出未证实送达",
        "建议措施",
    ]
    row = [c.value for c in ws[3]]
    assert row[:7] == [
        "K01",
        "杭州老账户有限公司",
        "24332000000012345678",
        dt.datetime(2023, 7, 30),
        12000,
        dt.datetime(2026, 7, 30),
        30,
    ]
    assert row[7:11] == [None, None, None, ref]
    assert "支付令" in row[11]
    assert ws["C3"].data_type == "s"  # the 20-digit invoice number stays text
    assert ws["E3"].number_format == "#,##0.00" and ws["D3"].number_format == "yyyy-mm-dd"
    totals = [c.value for c in ws[4]]
    assert totals[:5] == ["合计", "共 1 张发票", None, None, 12000]
    assert ws.max_row == 4
    assert ws.freeze_panes == "C3"


def test_a_payment_or_promise_restarts_the_period(
    ledger_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    payments = tmp_path / "回款.csv"
    payments.write_text(
        "客户编号,客户名称,回款日期,回款金额,对应发票号\n"
        "K01,杭州老账户有限公司,2026-03-02,1000.00,24332000000012345678\n",
        encoding="utf-8",
    )
    run(runner, ledger_desk, "ingest", str(payments))
    (row,) = limitation(runner, ledger_desk, "--within", "5000")[:1]
    assert row["expires"] == "2029-03-02" and row["open"] == "11000.00"
    assert row["last_event"]["kind"] == "payment"
    with open_archive(ledger_desk.db_path) as db:  # a credit note is no acknowledgement
        db.conn.execute("UPDATE payments SET kind = 'credit_note'")
    row = limitation(runner, ledger_desk, "--within", "5000")[0]
    assert row["expires"] == "2026-07-30" and row["last_event"] is None
    assert row["open"] == "11000.00"  # it still lowers what is owed
    run(runner, ledger_desk, "log", "add", "K01", "--kind", "promise", "--note", "电话承诺",
        "--promise-amount", "5000", "--promise-date", "2026-07-15", "--on", "2026-04-10")  # fmt: skip
    row = limitation(runner, ledger_desk, "--within", "5000")[0]
    assert row["expires"] == "2029-04-10" and row["last_event"]["kind"] == "promise"
    assert dt.date.fromisoformat(row["expires"]) - dt.date(2026, 6, 30) == dt.timedelta(1015)
