"""Payer names: near matches attach to the one customer; anything else is an unmatched receipt."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from dunning.actors import Actor
from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.payer_names import loose_candidates, near_candidates, payer_key
from dunning.archive.unmatched import AssignError, assign, unmatched_receipts
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import NotFoundError
from dunning.ingest.pipeline import ingest_paths

AS_OF = dt.date(2025, 12, 31)
CLERK = Actor("王会计", "clerk", "web")
INVOICES = """客户编号,客户名称,发票号码,开票日期,到期日,应收金额
C001,杭州甲有限公司,INV001,2025-10-01,2025-10-31,10000
C002,宁波乙贸易有限公司,INV002,2025-10-01,2025-10-31,5000
C003,上海丙科技股份有限公司,INV003,2025-10-01,2025-10-31,3000
C004,南京同创(集团)有限公司,INV004,2025-10-01,2025-10-31,2000
C005,苏州丁有限公司,INV005,2025-10-01,2025-10-31,1000
C006,苏州丁股份有限公司,INV006,2025-10-01,2025-10-31,1000
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def payments(tmp_path: Path, rows: list[tuple[str, str, str]], name: str = "回款.csv") -> Path:
    body = "付款单位,回款日期,回款金额\n" + "".join(f"{n},{d},{a}\n" for n, d, a in rows)
    return write(tmp_path / name, body)


def balances(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def customer_count(desk: Desk) -> int:
    with open_archive(desk.db_path) as db:
        return int(db.execute("SELECT count(*) FROM customers").fetchone()[0])


@pytest.mark.parametrize(
    ("payer", "code"),
    [
        ("杭州甲有限责任公司", "C001"),
        ("杭州甲股份有限公司", "C001"),
        ("杭州甲 有限公司", "C001"),
        ("杭州甲有限公司上海分公司", "C001"),
        ("杭州甲有限公司（华东分部）", "C001"),
        ("宁波乙贸易有限责任公司", "C002"),
        ("上海丙科技有限公司", "C003"),
        ("南京同创（集团）有限公司", "C004"),
        ("南京同创集团有限公司", "C004"),
        ("ＮＡＮＪＩＮＧ", None),
    ],
)
def test_near_names_find_the_one_customer(payer: str, code: str | None) -> None:
    customers = {
        "C001": "杭州甲有限公司",
        "C002": "宁波乙贸易有限公司",
        "C003": "上海丙科技股份有限公司",
        "C004": "南京同创(集团)有限公司",
    }
    found = near_candidates(payer, customers)
    assert found == ([code] if code else [])


def test_two_customers_with_the_same_near_name_match_neither() -> None:
    customers = {"C005": "苏州丁有限公司", "C006": "苏州丁股份有限公司"}
    assert near_candidates("苏州丁有限责任公司", customers) == ["C005", "C006"]
    assert loose_candidates("苏州丁", customers) == ["C005", "C006"]
    assert loose_candidates("丁", customers) == []  # one character matches too much


_FORMS = st.sampled_from(["有限公司", "有限责任公司", "股份有限公司"])
_BRACKETS = st.sampled_from([("(", ")"), ("（", "）"), ("", "")])


@given(
    st.text(alphabet="杭州甲乙丙丁贸易科技机械", min_size=2, max_size=8),
    _FORMS,
    _FORMS,
    _BRACKETS,
    st.sampled_from(["", "上海分公司", "华东分部", "北京办事处"]),
    st.sampled_from(["", " ", "\u3000"]),
)
def test_payer_key_ignores_form_width_brackets_spaces_and_branch(
    core: str, form1: str, form2: str, brackets: tuple[str, str], branch: str, space: str
) -> None:
    """Metamorphic: the same company written another way gives the same key."""
    plain = f"{core}{form1}"
    variant = f"{brackets[0]}{core[:1]}{space}{core[1:]}{brackets[1]}{form2}{branch}"
    assert payer_key(plain) == payer_key(variant)
    wide = unicodedata.normalize("NFKC", variant).translate({0x20: 0x3000})
    assert payer_key(wide) == payer_key(plain)


def test_a_payer_name_variant_pays_the_real_customer_and_says_so(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    before = customer_count(desk)
    report = ingest_paths(
        desk,
        [payments(tmp_path, [("杭州甲有限责任公司", "2025-11-20", "1000"),
                             ("上海丙科技有限公司上海分公司", "2025-11-21", "3000")])],
    )  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == "archived"
    assert "付款方 杭州甲有限责任公司 按名称归入 C001 杭州甲有限公司" in outcome.notes
    assert customer_count(desk) == before  # no ghost customer
    assert balances(desk)["C001"] == Decimal("9000.00")
    assert balances(desk)["C003"] == Decimal("0.00")


def test_an_unknown_or_ambiguous_payer_is_an_unmatched_receipt_lowering_nothing(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    before, owed = customer_count(desk), balances(desk)
    report = ingest_paths(
        desk,
        [payments(tmp_path, [("苏州丁有限责任公司", "2025-11-20", "1000"),
                             ("完全陌生的公司", "2025-11-22", "250.50")])],
    )  # fmt: skip
    (outcome,) = report.outcomes
    assert outcome.status == "archived" and "2 笔到款未匹配" in outcome.label
    assert any("苏州丁有限责任公司" in n and "可能是 C005、C006" in n for n in outcome.notes)
    assert any("完全陌生的公司" in n and "无相近客户" in n for n in outcome.notes)
    assert customer_count(desk) == before and balances(desk) == owed
    listed = runner.invoke(main, ["--desk", str(desk.root), "receipts", "unmatched", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["payer"], r["amount"], r["candidates"]) for r in rows] == [
        ("苏州丁有限责任公司", "1000.00", ["C005", "C006"]),
        ("完全陌生的公司", "250.50", []),
    ]
    assert rows[0]["row"] == 2 and rows[0]["document"] == 2
    table = runner.invoke(main, ["--desk", str(desk.root), "receipts", "unmatched"])
    assert "C005、C006" in table.stdout and "250.50" in table.stdout
    assert "2 笔未匹配到款未冲减任何余额" in table.stdout
    # A clerk assigns the first one: it lowers C006's balance, once.
    done = runner.invoke(
        main, ["--desk", str(desk.root), "receipts", "assign", str(rows[0]["id"]), "C006"]
    )
    assert done.exit_code == 0, done.output
    assert "已归入 C006" in done.stdout
    assert balances(desk)["C006"] == Decimal("0.00") and balances(desk)["C005"] == Decimal(
        "1000.00"
    )
    again = runner.invoke(
        main, ["--desk", str(desk.root), "receipts", "assign", str(rows[0]["id"]), "C005"]
    )
    assert again.exit_code == 1 and "归入 C006：未做任何改动" in again.output
    nobody = runner.invoke(main, ["--desk", str(desk.root), "receipts", "assign", "999", "C005"])
    assert nobody.exit_code == 1 and "没有未匹配到款 #999" in nobody.output
    no_customer = runner.invoke(
        main, ["--desk", str(desk.root), "receipts", "assign", str(rows[1]["id"]), "C999"]
    )
    assert no_customer.exit_code == 1 and "没有客户“C999”" in no_customer.output
    left = json.loads(
        runner.invoke(main, ["--desk", str(desk.root), "receipts", "unmatched", "--json"]).stdout
    )
    assert [r["payer"] for r in left] == ["完全陌生的公司"]


def test_an_assigned_payer_is_known_next_time_and_never_counted_twice(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    ingest_paths(desk, [payments(tmp_path, [("老板个人", "2025-11-20", "1000")], "p1.csv")])
    with open_archive(desk.db_path) as db:
        (receipt,) = unmatched_receipts(db)
        assigned = assign(db, receipt.id, "杭州甲有限公司", actor=CLERK)  # by exact name
        assert (assigned.assigned_to, assigned.assigned_by) == ("C001", "王会计")
        with pytest.raises(AssignError):
            assign(db, receipt.id, "C001", actor=CLERK)
        with pytest.raises(NotFoundError):
            assign(db, 12345, "C001", actor=CLERK)
    assert balances(desk)["C001"] == Decimal("9000.00")
    # The updated export: the same payment and a new one from the same payer.
    rows = [("老板个人", "2025-11-20", "1000"), ("老板个人", "2025-11-25", "500")]
    report = ingest_paths(desk, [payments(tmp_path, rows, "p2.csv")])
    assert report.outcomes[0].status == "archived" and report.outcomes[0].notes == ()
    assert balances(desk)["C001"] == Decimal("8500.00")
    with open_archive(desk.db_path) as db:
        assert unmatched_receipts(db) == []
        assert db.execute("SELECT count(*) FROM payments").fetchone()[0] == 2


def test_a_payment_list_before_its_invoice_ledger_attaches_when_the_names_arrive(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [payments(tmp_path, [("杭州甲有限责任公司", "2025-11-20", "1000")])])
    assert customer_count(desk) == 0
    report = ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    assert any("已按名称归入 C001" in n for n in report.outcomes[0].notes)
    assert balances(desk)["C001"] == Decimal("9000.00")


def test_a_payment_with_a_code_is_never_judged_by_its_name(desk: Desk, tmp_path: Path) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    path = write(
        tmp_path / "回款.csv",
        "客户编号,客户名称,回款日期,回款金额\nC002,完全不同的名字,2025-11-20,500\n",
    )
    report = ingest_paths(desk, [path])
    assert report.outcomes[0].notes == ()
    assert balances(desk)["C002"] == Decimal("4500.00")


def test_the_branch_decides_between_branches_and_a_bare_form_names_no_one() -> None:
    customers = {
        "C010": "中国石化销售有限公司浙江分公司",
        "C011": "中国石化销售有限公司江苏分公司",
        "C012": "有限公司",
    }
    assert near_candidates("中国石化销售有限责任公司浙江分公司", customers) == ["C010"]
    assert near_candidates("中国石化销售有限公司", customers) == ["C010", "C011"]
    assert near_candidates("股份有限公司", customers) == []
    assert near_candidates("（）", customers) == [] and loose_candidates("", customers) == []


def test_a_receipt_already_booked_is_refused_and_can_be_dismissed(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    ingest_paths(desk, [payments(tmp_path, [("老板个人", "2025-11-20", "1000")], "p1.csv")])
    # The ERP books the same money with the customer's code.
    booked = "客户编号,回款日期,回款金额\nC001,2025-11-20,1000\n"
    ingest_paths(desk, [write(tmp_path / "p2.csv", booked)])
    base = ["--desk", str(desk.root), "receipts"]
    (receipt,) = json.loads(runner.invoke(main, [*base, "unmatched", "--json"]).stdout)
    refused = runner.invoke(main, [*base, "assign", str(receipt["id"]), "C001"])
    assert refused.exit_code == 1 and "已有一笔 1,000.00 的回款" in refused.output
    assert balances(desk)["C001"] == Decimal("9000.00")  # not lowered twice
    no_reason = runner.invoke(main, [*base, "dismiss", str(receipt["id"]), "--reason", " "])
    assert no_reason.exit_code == 1 and "--reason" in no_reason.output
    done = runner.invoke(main, [*base, "dismiss", str(receipt["id"]), "--reason", "已入账"])
    assert done.exit_code == 0 and "已忽略：已入账" in done.stdout
    assert json.loads(runner.invoke(main, [*base, "unmatched", "--json"]).stdout) == []
    history = runner.invoke(main, [*base, "unmatched", "--assigned"])
    assert "已忽略：已入账" in history.stdout
    again = runner.invoke(main, [*base, "assign", str(receipt["id"]), "C001", "--second"])
    assert again.exit_code == 1 and "已排除" in again.output
    assert balances(desk)["C001"] == Decimal("9000.00")


def test_a_second_payment_of_the_same_day_and_amount_can_be_assigned(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    ingest_paths(
        desk, [write(tmp_path / "p1.csv", "客户编号,回款日期,回款金额\nC001,2025-11-20,1000\n")]
    )
    ingest_paths(desk, [payments(tmp_path, [("老板个人", "2025-11-20", "1000")], "p2.csv")])
    with open_archive(desk.db_path) as db:
        (receipt,) = unmatched_receipts(db)
        with pytest.raises(AssignError, match=r"已有一笔 1,000\.00 的回款"):
            assign(db, receipt.id, "C001", actor=CLERK)
        assign(db, receipt.id, "C001", actor=CLERK, second=True)
        keys = [r[0] for r in db.execute("SELECT natural_key FROM payments ORDER BY id")]
    assert keys == ["C001|2025-11-20|100000|1", "C001|2025-11-20|100000|2"]
    assert balances(desk)["C001"] == Decimal("8000.00")


def test_a_detail_ledgers_credits_belong_to_its_customer_never_unmatched(
    desk: Desk, tmp_path: Path
) -> None:
    detail = write(
        tmp_path / "明细账.csv",
        "客户：新客户有限公司\n日期,凭证号,摘要,借方,贷方,方向,余额\n"
        "2025-11-01,,期初余额,,,借,1000\n2025-11-05,记-9,收款,,400,借,600\n",
    )
    report = ingest_paths(desk, [detail])
    assert report.outcomes[0].status == "archived", report.outcomes[0].reason
    with open_archive(desk.db_path) as db:
        assert unmatched_receipts(db) == []
        assert db.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_hostile_payer_names_and_numbers_are_only_text(
    desk: Desk, tmp_path: Path, runner: CliRunner
) -> None:
    ingest_paths(desk, [write(tmp_path / "台账.csv", INVOICES)])
    hostile = "'; DROP TABLE customers; --"
    body = (
        "付款单位,回款日期,回款金额,收款单号\n"
        f'"{hostile}",2025-11-20,100,P%_1\n'
        '=HYPERLINK("http://x"),2025-11-21,200,P%_2\n'
    )
    report = ingest_paths(desk, [write(tmp_path / "回款.csv", body)])
    assert report.outcomes[0].status == "archived", report.outcomes[0].reason
    with open_archive(desk.db_path) as db:
        found = unmatched_receipts(db)
        assert [r.payer_name for r in found] == [hostile, '=HYPERLINK("http://x")']
        assign(db, found[0].id, "C001", actor=CLERK)
        assign(db, found[1].id, "C001", actor=CLERK)
        keys = sorted(r[0] for r in db.execute("SELECT natural_key FROM payments"))
        assert keys == ["no|C001|P%_1|1", "no|C001|P%_2|1"]
        assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == 6
    # The same export again (a new title line): the learned payers update, never add.
    again = write(tmp_path / "回款2.csv", "回款明细\n" + body)
    assert ingest_paths(desk, [again]).outcomes[0].status == "archived"
    assert balances(desk)["C001"] == Decimal("9700.00")
    with open_archive(desk.db_path) as db:
        assert db.execute("SELECT count(*) FROM payments").fetchone()[0] == 2
