"""Trying to break the bank module: hostile memos, conflicting evidence, twin rows, wrong
review decisions, decisions taken back."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from bank_corpus import OUR_ACCOUNT, Txn, make_world, write_grid, write_statement
from click.testing import CliRunner
from test_bank_corpus import bank_desk

from dunning.archive.bank import review
from dunning.archive.bank.matching import (
    CERTAIN,
    PROBABLE,
    UNMATCHED,
    Knowledge,
    OpenInvoice,
    Receipt,
    core_name,
    match,
)
from dunning.archive.bank.reader import read_statement
from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import DunningError, IngestError, NotFoundError
from dunning.ingest.pipeline import ingest_paths

DAY = dt.date(2026, 5, 1)


def know(**extra: object) -> Knowledge:
    invoices = {
        "12345678": OpenInvoice("12345678", "A", DAY, 100_000),
        "87654321": OpenInvoice("87654321", "B", DAY, 250_000),
        "11112222": OpenInvoice("11112222", "B", DAY + dt.timedelta(days=1), 50_000),
        "X1": OpenInvoice("X1", "B", DAY, 123),
    }
    base: dict[str, object] = {
        "letters": {"CS-2026-000001": "A"},
        "invoices": invoices,
        "contracts": {"HT-2026-0001": "B"},
        "accounts": {"6222000011112222": "B"},
        "names": {"甲公司": "A", "乙有限公司": "B"},
        "aliases": frozenset(),
        "cores": {"甲": frozenset({"A"}), "乙": frozenset({"B"})},
        "fee_tolerance": Decimal("50.00"),
    }
    base.update(extra)
    return Knowledge(**base)  # type: ignore[arg-type]


def r(amount: str, name: str = "", account: str = "", memo: str = "") -> Receipt:
    return Receipt(DAY, Decimal(amount), name, account, memo)


def test_reference_with_full_width_spaces_and_case_is_certain() -> None:
    m = match(r("1000.00", memo="货款 ｃｓ－２０２６－０００００１ 谢谢"), know())
    assert (m.status, m.customer) == (CERTAIN, "A")
    m = match(r("1000.00", memo="发票号 1234 5678"), know())
    assert (m.status, m.customer, m.allocation) == (
        CERTAIN,
        "A",
        (("12345678", Decimal("1000.00")),),
    )


def test_a_reference_against_a_confirmed_account_of_another_customer_is_only_probable() -> None:
    m = match(r("1000.00", account="6222 0000 1111 2222", memo="发票12345678"), know())
    assert m.status == PROBABLE and m.customer == "A" and "B" in m.grounds_text()


def test_short_tokens_and_dates_in_the_memo_are_not_references() -> None:
    # "X1" is an invoice number, but two characters occur by chance in any memo.
    m = match(r("1.23", memo="X1 批次"), know())
    assert m.status != CERTAIN


def test_account_with_exact_set_of_invoices_is_certain_and_names_them() -> None:
    m = match(r("3000.00", account="6222000011112222"), know())
    assert m.status == CERTAIN
    assert {i for i, _ in m.allocation} == {"87654321", "11112222"}


def test_account_with_fee_short_amount_is_probable_not_certain() -> None:
    m = match(r("2490.00", account="6222000011112222"), know())
    assert m.status == PROBABLE and "手续费" in m.grounds_text()


def test_amount_shared_by_two_customers_is_unmatched() -> None:
    k = know(invoices={
        "1": OpenInvoice("10000001", "A", DAY, 5000),
        "2": OpenInvoice("10000002", "B", DAY, 5000),
    })  # fmt: skip
    assert match(r("50.00", name="路人"), k).status == UNMATCHED


def test_hostile_names_never_raise() -> None:
    for name in [
        "",
        " ",
        "有限公司",
        "()",
        "（集团）有限公司",
        "'; DROP TABLE x;--",
        "=1+1",
        "\x00",
    ]:
        m = match(r("1.00", name=name, memo=name), know())
        assert m.status in (CERTAIN, PROBABLE, UNMATCHED)
    assert core_name("杭州宏达（集团）有限公司") == "杭州宏达"


def test_twin_rows_in_one_file_are_both_kept_and_kept_once(desk: Desk, tmp_path: Path) -> None:
    world = make_world(31, customers=2, receipts=0)
    desk = bank_desk(desk, world, tmp_path)
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["交易时间", "对方户名", "对方账号", "摘要", "收入金额", "支出金额"],
        ["2026-05-01 10:00:00", "路人", "1", "转账", "5.00", ""],
        ["2026-05-01 10:00:00", "路人", "1", "转账", "5.00", ""],
    ]
    path = write_grid(grid, tmp_path / "twins.csv", encoding="utf-8")
    again = write_grid([*grid, []], tmp_path / "twins2.csv", encoding="utf-8")
    ingest_paths(desk, [path, again])
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM bank_receipts").fetchone()[0] == 2


def test_hostile_cells_are_bad_rows_or_text(tmp_path: Path) -> None:
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["交易日期", "对方户名", "对方账号", "附言", "贷方发生额", "借方发生额"],
        ["2026-02-30", "甲", "1", "x", "5.00", ""],
        ["2026-05-01", "甲", "1", "x", "1e999", ""],
        ["2026-05-01", "甲", "1", "x", "99999999999999", ""],
        ["2026-05-01", "<script>", "1", "=cmd|' /C calc'!A0", "5.00", ""],
    ]
    with pytest.raises(IngestError) as err:
        read_statement(write_grid(grid, tmp_path / "h.csv", encoding="utf-8"))
    assert [p.row for p in err.value.problems] == [3, 4, 5]
    ok = read_statement(
        write_grid([grid[0], grid[1], grid[5]], tmp_path / "ok.csv", encoding="utf-8")
    )
    assert ok.receipts[0].payer_name == "<script>" and ok.receipts[0].memo.startswith("=cmd")


def test_an_empty_statement_imports_nothing_and_says_so(tmp_path: Path) -> None:
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["交易日期", "对方户名", "贷方发生额", "借方发生额"],
    ]
    got = read_statement(write_grid(grid, tmp_path / "empty.csv", encoding="utf-8"))
    assert got.receipts == [] and got.rows_read == 0


def test_a_file_that_is_not_a_statement_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(IngestError, match="中没有银行流水表头"):
        read_statement(path)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04not really a zip")
    with pytest.raises(IngestError, match="无法作为表格读取"):
        read_statement(broken)


def test_wrong_review_decisions_are_refused_and_a_decision_can_be_taken_back(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    world = make_world(32, customers=3, receipts=0)
    desk = bank_desk(desk, world, tmp_path)
    a, b = world.customers[0], world.customers[1]
    rows = [
        Txn(dt.datetime(2026, 5, 1, 9), a.invoices[0].amount, True, a.name, "9", f"发票{a.invoices[0].number}",
            "Z1", a.code, "certain"),
        Txn(dt.datetime(2026, 5, 2, 9), Decimal("10.00"), True, "路人", "8", "转账", "Z2", None, "x"),
    ]  # fmt: skip
    rows[0].balance, rows[1].balance = rows[0].amount, rows[0].amount + rows[1].amount
    ingest_paths(desk, [write_statement("icbc01", rows, tmp_path / "s.csv")])

    def balance(code: str) -> str:
        res = runner.invoke(
            main,
            [
                "--desk",
                str(desk.root),
                "aging",
                "--as-of",
                "2026-12-31",
                "--allow-future",
                "--json",
            ],
        )
        return str({x["customer"]: x["balance"] for x in json.loads(res.stdout)}[code])

    before = balance(a.code)
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        first, loose = review.receipts(conn)
        assert first.status == "certain" and loose.status == "unmatched"
        with pytest.raises(DunningError, match="没有建议的客户"):
            review.accept(conn, loose.id, actor="t")
        with pytest.raises(DunningError, match="所列发票属于不同客户"):
            review.split(
                conn,
                loose.id,
                [(a.invoices[0].number, Decimal("1")), (b.invoices[0].number, Decimal("1"))],
                actor="t",
            )
        with pytest.raises(DunningError, match="超过到账金额"):
            review.split(conn, loose.id, [(a.invoices[1].number, Decimal("11"))], actor="t")
        with pytest.raises(NotFoundError):
            review.reassign(conn, loose.id, "NOBODY", actor="t")
        # The certain receipt was not the customer's money after all: taken back.
        review.not_customer(conn, first.id, actor="t")
    assert Decimal(balance(a.code)) == Decimal(before) + rows[0].amount
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        review.reassign(conn, first.id, a.code, actor="t")
    assert balance(a.code) == before


def test_internal_transfers_and_flag_words_and_a_payer_named_like_a_total(tmp_path: Path) -> None:
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["交易日期", "对方户名", "对方账号", "摘要", "发生额", "借贷标志"],
        ["2026-05-01", "总计贸易有限公司", "1", "货款", "5.00", "转入"],
        ["2026-05-01", "示例贸易有限公司", OUR_ACCOUNT, "调拨", "9.00", "贷 Cr"],
        ["2026-05-01", "甲", "2", "付款", "3.00", "转出"],
        ["合计", "", "", "", "17.00", ""],
    ]
    got = read_statement(write_grid(grid, tmp_path / "i.csv", encoding="utf-8"))
    assert [r.payer_name for r in got.receipts] == ["总计贸易有限公司"]
    assert dict(got.skipped) == {"internal": 1, "outgoing": 1, "total": 1}
