"""Bank statements (SPEC §11): reading layouts, row accounting, balances, the account check,
real-format files, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from bank_corpus import LAYOUTS, OUR_ACCOUNT, Txn, make_world, write_grid, write_statement
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bank_corpus import bank_desk
from tooling import require_realworld

from dunning.archive.accounts import aging_report
from dunning.archive.bank.reader import read_statement
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths

AS_OF = dt.date(2026, 12, 31)


def _txns(n: int = 12, seed: int = 3) -> list[Txn]:
    return make_world(seed, customers=6, receipts=n).txns


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_layout_reads_the_same_receipts(layout: str, suffix: str, tmp_path: Path) -> None:
    txns = _txns(30)
    path = write_statement(layout, txns, tmp_path / f"s{suffix}")
    st_ = read_statement(path)
    incoming = [t for t in txns if t.incoming]
    assert [r.amount for r in st_.receipts] == [t.amount for t in incoming]
    assert [r.payer_name.strip() for r in st_.receipts] == [t.payer_name.strip() for t in incoming]
    assert st_.account == OUR_ACCOUNT
    # Row accounting: every data row is a receipt or skipped by kind; none vanish.
    assert st_.rows_read == len(st_.receipts) + sum(st_.skipped.values())
    assert st_.skipped["outgoing"] == len(txns) - len(incoming)
    assert st_.balance_checked == len(txns)


def test_a_two_row_header_and_column_b_are_read(tmp_path: Path) -> None:
    txns = _txns(10)
    for layout in ("ccb01", "cbhb02"):
        st_ = read_statement(write_statement(layout, txns, tmp_path / f"{layout}.xlsx"))
        assert len(st_.receipts) == sum(t.incoming for t in txns)


def test_a_row_whose_balance_does_not_follow_rejects_the_file(tmp_path: Path) -> None:
    txns = _txns(10)
    path = write_statement("icbc02", txns, tmp_path / "s.csv")
    grid_text = path.read_bytes().decode("gbk").splitlines()
    row = grid_text[9].split(",")
    row[-1] = str(Decimal(row[-1]) + 1)  # the printed balance altered by a yuan
    grid_text[9] = ",".join(row)
    path.write_bytes("\n".join(grid_text).encode("gbk"))
    with pytest.raises(IngestError, match="第 10 行的「余额」"):
        read_statement(path)


def test_bad_rows_are_listed_by_row_and_column(tmp_path: Path) -> None:
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["日期", "对方户名", "对方账号", "摘要", "借方发生额", "贷方发生额"],
        ["2026-04-01", "甲公司", "1", "货款", "", "1,000.00"],
        ["2026-04-02", "乙公司", "2", "货款", "", "一千元"],
        ["2026-04-02", "丙公司", "3", "货款", "", "=1+1"],
    ]
    path = write_grid(grid, tmp_path / "bad.csv", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        read_statement(path)
    assert [(p.row, p.column) for p in err.value.problems] == [(4, "贷方发生额"), (5, "贷方发生额")]


def test_footers_totals_and_notes_are_counted_as_skipped(tmp_path: Path) -> None:
    grid: list[list[object]] = [
        ["中国XX银行账户明细"],
        ["账号：", OUR_ACCOUNT, "户名：", "示例贸易有限公司"],
        ["交易日期", "收入金额", "支出金额", "对方户名", "附言"],
        ["2026-04-01", "100.00", "", "甲公司", "CS-2026-000001"],
        ["2026-04-01", "", "30.00", "乙公司", ""],
        ["2026-04-01", "0.00", "", "丙公司", ""],
        [],
        ["合计", "100.00", "30.00", "", ""],
        ["收入笔数：1", "", "", "", ""],
        ["以上数据仅供参考", "", "", "", ""],
    ]
    st_ = read_statement(write_grid(grid, tmp_path / "f.csv", encoding="utf-8"))
    assert len(st_.receipts) == 1
    assert dict(st_.skipped) == {"outgoing": 1, "zero": 1, "blank": 1, "total": 1, "note": 2}
    assert st_.rows_read == 7


# --- Hypothesis: the same statement in another shape gives the same receipts and balances ---


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    layout=st.sampled_from(sorted(LAYOUTS)),
    encoding=st.sampled_from(["gbk", "utf-8-sig", "utf-16", "xlsx"]),
    extra_title=st.booleans(),
    reorder=st.randoms(use_true_random=False),
)
def test_metamorphic_layout_encoding_title_and_column_order(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    layout: str,
    encoding: str,
    extra_title: bool,
    reorder: random.Random,
) -> None:
    tmp = tmp_path_factory.mktemp("meta")
    txns = make_world(seed, customers=4, receipts=15).txns
    base = read_statement(write_statement("icbc02", txns, tmp / "base.csv"))
    grid = LAYOUTS[layout](txns)
    # Reorder the data columns (header and rows together) and add an unknown column.
    header_at = next(i for i, r in enumerate(grid) if len(r) > 5)
    width = max(len(r) for r in grid[header_at:])
    order = list(range(width))
    reorder.shuffle(order)
    if layout == "ccb01":
        order = list(range(width))  # a two-row header keeps its sub-heads under their group
    body = [[(r + [""] * width)[i] for i in order] + ["x"] for r in grid[header_at:]]
    body[0][-1] = "未知列"
    if layout == "ccb01":
        body[1][-1] = ""  # the sub-head row (借方 / 贷方) has nothing under the new column
    head = [["某某银行 对公账户明细"]] if extra_title else []
    name = "m.xlsx" if encoding == "xlsx" else "m.csv"  # CSV in three encodings, or XLSX
    path = write_grid([*head, *grid[:header_at], *body], tmp / name, encoding=encoding)
    got = read_statement(path)
    assert [(r.on, r.amount, r.payer_account) for r in got.receipts] == [
        (r.on, r.amount, r.payer_account) for r in base.receipts
    ]
    assert got.rows_read == len(got.receipts) + sum(got.skipped.values())


def _balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30,))}


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_shuffle_split_overlap_or_twice_never_changes_the_balances(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("hyp")
    from dunning.desk import init_desk

    world = make_world(data.draw(st.integers(0, 999)), customers=8, receipts=40)
    whole = bank_desk(init_desk(tmp / "a"), world, tmp / "a")
    ingest_paths(whole, [write_statement("icbc02", world.txns, tmp / "whole.csv")])
    want = _balances(whole)
    other = bank_desk(init_desk(tmp / "b"), world, tmp / "b")
    cut = data.draw(st.integers(1, len(world.txns) - 1))
    back = data.draw(st.integers(0, cut))
    shuffled = data.draw(st.permutations(range(len(world.txns))))
    first = write_statement("icbc01", world.txns[:cut], tmp / "first.csv")  # serials
    second = write_statement("abc01", world.txns[back:], tmp / "second.csv")  # no serials
    # A statement shuffled (no balances to follow then): the same receipts again.
    rows = [world.txns[i] for i in shuffled]
    grid = LAYOUTS["bocom01"](rows)
    for row in grid[3:]:
        row[7] = ""  # a shuffled export prints no running balance
    third = write_grid(grid, tmp / "third.csv")
    ingest_paths(other, [first, second, third, first])
    assert _balances(other) == want
    with open_archive(other.db_path) as db:
        n = db.execute("SELECT count(*) FROM bank_receipts").fetchone()[0]
    assert n == sum(t.incoming for t in world.txns)


# --- the account check, the pipeline, the CLI ----------------------------------------------


def test_a_statement_of_another_account_is_refused_naming_it(desk: Desk, tmp_path: Path) -> None:
    world = make_world(5, customers=4, receipts=10)
    desk = bank_desk(desk, world, tmp_path)
    path = write_statement("icbc02", world.txns, tmp_path / "s.csv")
    path.write_bytes(path.read_bytes().replace(OUR_ACCOUNT.encode(), b"6222000011112222333"))
    outcome = ingest_paths(desk, [path]).outcomes[0]
    assert outcome.status == "failed"
    assert "6222000011112222333" in (outcome.reason or "")
    assert "[bank] accounts" in (outcome.reason or "")


def test_statements_dropped_in_the_inbox_are_recognised(desk: Desk, tmp_path: Path) -> None:
    world = make_world(5, customers=4, receipts=20)
    desk = bank_desk(desk, world, tmp_path)
    write_statement("ccb01", world.txns[:10], desk.inbox / "建行流水.xlsx")
    write_statement("icbc02", world.txns[10:], desk.inbox / "bank" / "工行.csv")
    report = ingest_paths(desk, [desk.inbox])
    assert [(o.status, o.kind) for o in report.outcomes] == [("archived", "bank")] * 2
    assert not list((desk.inbox / "bank").iterdir())


def test_cli_import_review_list_unbooked(desk: Desk, tmp_path: Path, runner: CliRunner) -> None:
    world = make_world(11, customers=6, receipts=40)
    desk = bank_desk(desk, world, tmp_path)
    path = write_statement("cmbc01", world.txns, tmp_path / "民生.csv")
    base = ["--desk", str(desk.root), "bank"]
    res = runner.invoke(main, [*base, "import", str(path), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["archived"][0]["kind"] == "bank"
    queue = json.loads(runner.invoke(main, [*base, "review", "--json"]).stdout)
    assert queue and all(r["status"] in ("probable", "unmatched") for r in queue)
    first = next(r for r in queue if r["customer"])
    res = runner.invoke(main, [*base, "review", str(first["id"]), "--accept", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "confirmed"
    loose = next((r for r in queue if not r["customer"]), None)
    if loose is not None:
        res = runner.invoke(main, [*base, "review", str(loose["id"]), "--not-customer"])
        assert res.exit_code == 0 and "非客户回款" in res.stdout
    listed = json.loads(runner.invoke(main, [*base, "list", "--json"]).stdout)
    assert len(listed) == sum(t.incoming for t in world.txns)
    unbooked = json.loads(runner.invoke(main, [*base, "unbooked", "--json"]).stdout)
    assert all(r["sources"] == ["bank"] and r["status"] != "not_customer" for r in unbooked)
    # Usage errors: two decisions at once, a part without an amount.
    assert runner.invoke(main, [*base, "review", "1", "--accept", "--not-customer"]).exit_code == 2
    assert runner.invoke(main, [*base, "review", "1", "--split", "12345678"]).exit_code == 2
    res = runner.invoke(main, [*base, "review", "99999", "--accept"])
    assert res.exit_code == 1 and "没有编号为 99999 的银行到账" in res.stderr


def test_split_and_reassign_teach_the_account(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    world = make_world(12, customers=5, receipts=5)
    desk = bank_desk(desk, world, tmp_path)
    c = world.customers[0]
    inv = c.invoices[:2]
    rows = [
        Txn(dt.datetime(2026, 5, 1, 9), inv[0].amount + inv[1].amount - 3, True, "某某私人",
            "6222990011112222", "货款", "S1", c.code, "split"),
        Txn(dt.datetime(2026, 6, 1, 9), c.invoices[2].amount, True, "某某私人",
            "6222990011112222", "货款", "S2", c.code, "again"),
    ]  # fmt: skip
    rows[0].balance = rows[0].amount
    rows[1].balance = rows[0].amount + rows[1].amount
    base = ["--desk", str(desk.root), "bank"]
    runner.invoke(
        main, [*base, "import", str(write_statement("icbc01", rows[:1], tmp_path / "a.csv"))]
    )
    first = json.loads(runner.invoke(main, [*base, "list", "--json"]).stdout)[0]
    assert first["status"] == "unmatched"
    split = [f"{inv[0].number}={inv[0].amount}", f"{inv[1].number}={inv[1].amount - 3}"]
    args = [*base, "review", str(first["id"]), "--split", split[0], "--split", split[1], "--json"]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["customer"] == c.code
    # The account is learned: the next receipt from it with an exact amount is certain.
    res = runner.invoke(
        main, [*base, "import", str(write_statement("icbc01", rows, tmp_path / "b.csv"))]
    )
    assert res.exit_code == 0, res.output
    second = json.loads(runner.invoke(main, [*base, "list", "--json"]).stdout)[1]
    assert (second["status"], second["customer"]) == ("certain", c.code)


# --- real-format files ---------------------------------------------------------------------

# Hand counts of incoming rows, or None where the file is refused (and why).
REAL = {
    "boc__debit__example-boc-records.csv": 4,
    "abc_debit__example-abc_debit-records.csv": "没有写明是哪个账户的流水",
    "alipay__example-alipay-records.csv": "没有写明是哪个账户的流水",
    "boc__credit__example-boc-records.csv": "中没有银行流水表头",
    "bocom_credit__example-bocom_credit-records.csv": "中没有银行流水表头",
    "bocom_debit__example-bocom_debit-records.csv": "没有写明是哪个账户的流水",
    "ccb__交易明细_xxxx_2025xxxx_2025xxxx.xls": "余额",
    "cgb_credit__example-cgb_credit-records.csv": "中没有银行流水表头",
    "citic__credit__example-citic-records.xls": "中没有银行流水表头",
    "cmb__credit__example-cmb-records.csv": "中没有银行流水表头",
    "cmb__debit__example-cmb-records.csv": "没有写明是哪个账户的流水",
    "icbc__credit__example-icbc-credit-records.csv": "余额",
    "icbc__debit-v1__example-icbc-debit-v1-records.csv": "行无法读取",
    "jd__example-jd-records.csv": "中没有银行流水表头",
    "mt__example-mt-records.csv": "中没有银行流水表头",
    "wechat__example-wechat-records.csv": "没有写明是哪个账户的流水",
}


def test_real_format_files_import_with_hand_counts_or_are_refused_saying_why() -> None:
    folder = require_realworld() / "bank"
    files = sorted(p.name for p in folder.iterdir() if p.name != "SOURCES.md")
    assert files == sorted(REAL)
    for name, want in REAL.items():
        if isinstance(want, int):
            got = read_statement(folder / name, own_accounts=["3167"])
            assert len(got.receipts) == want, name
            assert got.rows_read == len(got.receipts) + sum(got.skipped.values())
        else:
            with pytest.raises(IngestError, match=want):
                read_statement(folder / name)


def test_real_ccb_xls_gives_its_account_from_the_preamble() -> None:
    folder = require_realworld() / "bank"
    with pytest.raises(IngestError) as err:
        read_statement(folder / "ccb__交易明细_xxxx_2025xxxx_2025xxxx.xls")
    # The anonymised file's balances do not follow; the refusal names the row and both sums.
    assert "第 10 行的「账户余额」为 1,579.11" in str(err.value) and "1,625.11" in str(err.value)


def test_pack_holds_a_customer_whose_unreviewed_receipt_covers_the_claim(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    world = make_world(21, customers=3, receipts=0)
    desk = bank_desk(desk, world, tmp_path)
    c = world.customers[0]
    owed = sum((i.amount for i in c.invoices), Decimal("0.00"))
    # The customer's name written differently: probable, waiting for review.
    row = Txn(dt.datetime(2026, 8, 1, 10), owed, True, c.name.replace("有限公司", "有限责任公司"),
              "", "货款", "P1", c.code, "probable")  # fmt: skip
    row.balance = owed
    base = ["--desk", str(desk.root)]
    path = write_statement("icbc01", [row], tmp_path / "p.csv")
    assert runner.invoke(main, [*base, "bank", "import", str(path)]).exit_code == 0
    plan = [
        "pack",
        "--as-of",
        "2026-12-31",
        "--allow-future",
        "--allow-no-address",
        "--customer",
        c.code,
        "--dry-run",
        "--json",
    ]
    res = runner.invoke(main, [*base, *plan])
    (only,) = json.loads(res.stdout)["customers"]
    assert only["next_level"] is None and "dunning bank review" in only["reason"]
    res = runner.invoke(main, [*base, *plan, "--ignore-unreviewed"])
    (only,) = json.loads(res.stdout)["customers"]
    assert only["next_level"] and any("--ignore-unreviewed" in w for w in only["warnings"])
    out = [
        "pack",
        "--as-of",
        "2026-12-31",
        "--allow-future",
        "--allow-no-address",
        "--customer",
        c.code,
        "--ignore-unreviewed",
    ]
    res = runner.invoke(main, [*base, *out, "--out", str(tmp_path / "pack"), "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["letters"]) == 1
    log = json.loads(runner.invoke(main, [*base, "log", "list", c.code, "--json"]).stdout)
    assert any("--ignore-unreviewed" in e["note"] for e in log)
    # Reviewed (accepted): the money is applied, and nothing is owed any more.
    (waiting,) = json.loads(runner.invoke(main, [*base, "bank", "review", "--json"]).stdout)
    runner.invoke(main, [*base, "bank", "review", str(waiting["id"]), "--accept"])
    res = runner.invoke(main, [*base, "aging", "--as-of", "2026-12-31", "--allow-future", "--json"])
    assert {a["customer"]: a["balance"] for a in json.loads(res.stdout)}[c.code] == "0.00"


def test_weekly_report_lists_unbooked_receipts_for_finance(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    import openpyxl

    world = make_world(22, customers=3, receipts=0)
    desk = bank_desk(desk, world, tmp_path)
    c = world.customers[0]
    inv = c.invoices[0]
    rows = [
        Txn(dt.datetime(2026, 8, 1, 10), inv.amount, True, c.name, "1", f"发票{inv.number}",
            "W1", c.code, "certain"),
        Txn(dt.datetime(2026, 8, 2, 10), Decimal("77.70"), True, "=HYPERLINK(\"x\")", "2",
            "=1+1", "W2", None, "hostile"),
    ]  # fmt: skip
    rows[0].balance, rows[1].balance = inv.amount, inv.amount + Decimal("77.70")
    base = ["--desk", str(desk.root)]
    path = write_statement("icbc01", rows, tmp_path / "w.csv")
    assert runner.invoke(main, [*base, "bank", "import", str(path)]).exit_code == 0
    out = tmp_path / "weekly.xlsx"
    res = runner.invoke(
        main, [*base, "report", "weekly", "--as-of", "2026-08-05", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(out)["未入账到款"]
    values = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    # A payer name or memo that looks like a formula stays text, never a formula.
    assert all(cell.data_type != "f" for r in ws.iter_rows(min_row=3) for cell in r)
    assert values[0][5] == "自动核销" and values[1][5] == "未匹配"
    assert Decimal(str(values[0][2])) == inv.amount
    assert values[2][0] == "合计"


def test_web_page_and_api_review_like_the_cli(desk: Desk, tmp_path: Path) -> None:
    from web_support import client, csrf

    world = make_world(23, customers=4, receipts=30)
    desk = bank_desk(desk, world, tmp_path)
    ingest_paths(desk, [write_statement("bocom01", world.txns, tmp_path / "s.csv")])
    c = client(desk)
    page = c.get("/bank")
    assert page.status_code == 200 and "到账核对" in page.text and "未入账到款" in page.text
    token = csrf(c, "/bank")
    listed = c.get("/api/bank/receipts", params={"status": ["probable", "unmatched"]}).json()
    assert listed and all(r["status"] in ("probable", "unmatched") for r in listed)
    assert c.get("/api/bank/receipts", params={"status": "nonsense"}).status_code == 400
    target = listed[0]
    body = {"receipt": target["id"], "action": "customer", "customer": world.customers[1].code}
    assert c.post("/api/bank/review", json=body).status_code == 403  # no CSRF token
    res = c.post("/api/bank/review", json=body, headers={"x-csrf-token": token})
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "confirmed" and res.json()["customer"] == world.customers[1].code
    bad = {
        "receipt": target["id"],
        "action": "split",
        "split": [{"invoice": "NOPE", "amount": "1"}],
    }
    res = c.post("/api/bank/review", json=bad, headers={"x-csrf-token": token})
    assert res.status_code == 400 and "NOPE" in res.json()["error"]
    if len(listed) > 1:
        form = {"csrf": token, "receipt": str(listed[1]["id"]), "action": "not_customer"}
        res = c.post("/bank", data=form, follow_redirects=False)
        assert res.status_code == 303
        one = c.get("/api/bank/receipts").json()
        assert next(r for r in one if r["id"] == listed[1]["id"])["status"] == "not_customer"


def test_a_statement_uploaded_on_the_web_desk_is_a_bank_statement(
    desk: Desk, tmp_path: Path
) -> None:
    import time

    from web_support import client, csrf

    world = make_world(24, customers=3, receipts=12)
    desk = bank_desk(desk, world, tmp_path)
    path = write_statement("boc01", world.txns, tmp_path / "中行流水.xlsx")
    c = client(desk)
    files = {"files": ("中行流水.xlsx", path.read_bytes(), "application/octet-stream")}
    assert c.post("/inbox/upload", files=files, data={"csrf": csrf(c, "/inbox")}).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open_archive(desk.db_path) as db:
            row = db.execute(
                "SELECT kind FROM documents WHERE original_name = '中行流水.xlsx'"
            ).fetchone()
        if row:
            break
        time.sleep(0.2)
    assert row == ("bank",)
    listed = c.get("/api/bank/receipts").json()
    assert len(listed) == sum(t.incoming for t in world.txns)
