"""今日 lists receipts to review: bank receipts waiting in 到账核对 and ledger payments with no
customer, ranked by amount × days waiting, each linking to the queue that settles it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from bank_corpus import Customer, Invoice, Txn, World, _balances, write_statement
from click.testing import CliRunner
from test_bank_corpus import bank_desk

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.web.home_page import action_url
from dunning.workflow.today import Day, TodayItem, receipts_to_review, today_list

AS_OF = dt.date(2026, 4, 11)


def _world() -> World:
    a = Customer("C001", "杭州甲贸易有限公司", "33050161000000001", "HT-2026-001")
    a.invoices.append(
        Invoice("FP1001", "C001", dt.date(2026, 1, 5), dt.date(2026, 2, 4), Decimal("10000"))
    )
    b = Customer("C002", "宁波乙机械有限公司", "33050161000000002", "HT-2026-002")
    b.invoices.append(
        Invoice("FP2001", "C002", dt.date(2026, 1, 8), dt.date(2026, 2, 7), Decimal("5000"))
    )
    txns = [
        # The payer's name is the customer's, the account unknown, the amount fits nothing.
        Txn(dt.datetime(2026, 4, 1, 9, 30), Decimal("4000.00"), True, a.name,
            "6222020000001111", "货款", "000000880001", "C001", "name"),
        # Nobody the desk knows, an amount no invoice has.
        Txn(dt.datetime(2026, 4, 1, 10, 0), Decimal("777.77"), True, "某陌生商行",
            "6222020000009999", "转账", "000000880002", None, "refund"),
    ]  # fmt: skip
    _balances(txns, Decimal("100000.00"))
    return World([a, b], {}, txns)


@pytest.fixture
def receipt_desk(desk: Desk, tmp_path: Path) -> Desk:
    return desk_with_receipts(desk, tmp_path)


def desk_with_receipts(desk: Desk, tmp_path: Path) -> Desk:
    """A desk with its ledger, a bank statement and a payment list, all through ingest: a
    probable bank receipt from C001, an unmatched one, and a ledger payment with no customer."""
    world = _world()
    desk = bank_desk(desk, world, tmp_path)
    statement = write_statement("ccb01", world.txns, tmp_path / "建行流水.xlsx")
    payments = tmp_path / "回款明细.csv"
    payments.write_text("付款单位,回款日期,回款金额\n完全陌生的公司,2026-04-05,250.50\n")
    report = ingest_paths(desk, [statement, payments])
    assert [o.status for o in report.outcomes] == ["archived", "archived"], report.outcomes
    return desk


def test_waiting_receipts_are_on_the_today_list_ranked_with_the_rest(
    receipt_desk: Desk,
) -> None:
    with open_archive(receipt_desk.db_path) as db:
        items = today_list(db, receipt_desk.config, today=AS_OF)
        later = today_list(db, receipt_desk.config, today=dt.date(2026, 3, 31))
    found = [i for i in items if i.kind == "receipt_review"]
    assert [(i.customer, i.amount, i.days, i.receipt and i.receipt[0]) for i in found] == [
        ("C001", Decimal("4000.00"), 10, "bank"),
        ("", Decimal("777.77"), 10, "bank"),
        ("", Decimal("250.50"), 6, "ledger"),
    ]
    assert all(i.action == "review_receipt" for i in found)
    assert "建议归入 C001" in found[0].what and found[0].name == "杭州甲贸易有限公司"
    assert "未找到客户" in found[1].what and found[1].name == "某陌生商行"
    assert "完全陌生的公司" in found[2].what and "无相近客户" in found[2].what
    # Ranked among everything else by amount × days.
    scores = [i.score for i in items]
    assert scores == sorted(scores, reverse=True)
    assert [action_url(i) for i in found] == ["/bank", "/bank", "/receipts/unmatched"]
    # Receipts after the day planned are not yet waiting.
    assert not [i for i in later if i.kind == "receipt_review"]


def waiting(desk: Desk) -> list[TodayItem]:
    with open_archive(desk.db_path) as db:
        return receipts_to_review(Day(db, desk.config, AS_OF))


def test_a_reviewed_receipt_leaves_the_list(receipt_desk: Desk, runner: CliRunner) -> None:
    first = next(i for i in waiting(receipt_desk) if i.customer)
    assert first.receipt is not None
    base = ["--desk", str(receipt_desk.root)]
    res = runner.invoke(main, [*base, "bank", "review", str(first.receipt[1]), "--accept"])
    assert res.exit_code == 0, res.output
    assert [i.amount for i in waiting(receipt_desk)] == [Decimal("777.77"), Decimal("250.50")]


def test_today_json_carries_the_receipts(receipt_desk: Desk, runner: CliRunner) -> None:
    res = runner.invoke(
        main, ["--desk", str(receipt_desk.root), "today", "--as-of", AS_OF.isoformat(), "--json"]
    )
    assert res.exit_code == 0, res.output
    items = [i for i in json.loads(res.stdout)["items"] if i["kind"] == "receipt_review"]
    assert [(i["amount"], i["days"], i["receipt"]["queue"]) for i in items] == [
        ("4000.00", 10, "bank"),
        ("777.77", 10, "bank"),
        ("250.50", 6, "ledger"),
    ]
    assert {i["kind_title"] for i in items} == {"到账待核对"}
    assert {i["action_title"] for i in items} == {"核对到账"}
    text = runner.invoke(
        main, ["--desk", str(receipt_desk.root), "today", "--as-of", AS_OF.isoformat()]
    )
    assert "到账待核对" in text.stdout and "4,000.00" in text.stdout
