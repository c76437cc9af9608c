"""Interest (SPEC §13): hand-computed cases across LPR change points, partial payments, leap
years and contract rates; properties: never decreasing with the as-of day, zero until due."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.receivables import Invoice, Payment
from dunning.workflow.contract_rates import parse_rate, rate_candidates
from dunning.workflow.interest import (
    InterestError,
    RateChooser,
    invoice_interest,
    load_lpr,
    lpr_on,
    read_lpr,
)

D = Decimal
LPR = load_lpr()


def inv(no: str, due: dt.date, amount: str, *, received: str = "0", contract: str | None = None,
        dated: dt.date | None = None) -> Invoice:  # fmt: skip
    return Invoice(
        no, "C1", dated or due - dt.timedelta(days=30), due, D(amount), D(received), contract
    )


def pay(day: dt.date, amount: str, ref: str | None = None) -> Payment:
    return Payment("C1", day, D(amount), ref)


def interest(invoices: list[Invoice], payments: list[Payment], as_of: dt.date, **kw: object):
    return invoice_interest(invoices, payments, as_of=as_of, rate_for=RateChooser(LPR, **kw))  # type: ignore[arg-type]


def test_the_spec_change_points_are_all_in_the_package_table() -> None:
    spec = {
        "2019-08-20": "4.25", "2019-09-20": "4.20", "2019-11-20": "4.15", "2020-02-20": "4.05",
        "2020-04-20": "3.85", "2021-12-20": "3.80", "2022-01-20": "3.70", "2022-08-22": "3.65",
        "2023-06-20": "3.55", "2023-08-21": "3.45", "2024-07-22": "3.35", "2024-10-21": "3.10",
        "2025-05-20": "3.00",
    }  # fmt: skip
    assert {p.effective.isoformat(): p.percent for p in LPR} == {k: D(v) for k, v in spec.items()}


@pytest.mark.parametrize(
    ("due", "yearly", "expected"),
    [
        # the day before a change point keeps the old rate: 3.35 × 1.3 = 4.355
        (dt.date(2024, 10, 20), "4.355", "1193.15"),  # 100,000 × 100 × 4.355 % / 365
        (dt.date(2024, 10, 21), "4.03", "1104.11"),  # 3.10 × 1.3
        (dt.date(2025, 5, 19), "4.03", "1104.11"),
        (dt.date(2025, 5, 20), "3.9", "1068.49"),  # 3.00 × 1.3
        (dt.date(2019, 8, 20), "5.525", "1513.70"),  # the first point: 4.25 × 1.3
    ],
)
def test_lpr_in_force_on_the_due_day(due: dt.date, yearly: str, expected: str) -> None:
    [line] = interest([inv("F1", due, "100000")], [], due + dt.timedelta(days=100))
    assert line.rate is not None and line.rate.percent == D(yearly)
    assert line.interest == D(expected)
    assert "÷ 365" in line.formula() and "100天" in line.formula()


def test_the_lpr_does_not_follow_later_changes() -> None:
    # due 2024-07-01 (LPR 3.45): the cuts of 2024-07-22 and 2024-10-21 do not change the rate
    [line] = interest([inv("F1", dt.date(2024, 7, 1), "36500")], [], dt.date(2025, 7, 1))
    assert line.rate is not None and line.rate.percent == D("4.485")
    assert line.interest == D("1637.03")  # 36,500 × 365 × 4.485 % / 365 = 1,637.025


def test_partial_payments_lower_the_principal_from_their_day() -> None:
    due = dt.date(2025, 1, 31)  # LPR 3.10 → 4.03 %
    lines = interest(
        [inv("F1", due, "10000")], [pay(dt.date(2025, 3, 2), "4000")], dt.date(2025, 4, 1)
    )
    [line] = lines
    assert [(s.days, s.principal) for s in line.segments] == [(30, D("10000")), (30, D("6000"))]
    # (10,000 × 30 + 6,000 × 30) × 4.03 % / 365 = 52.997 → 53.00
    assert line.interest == D("53.00")
    assert line.open_amount == D("6000.00")
    assert "10,000.00元 × 30天" in line.formula() and "6,000.00元 × 30天" in line.formula()


def test_payment_before_due_and_undated_received_lower_the_principal_from_the_start() -> None:
    due = dt.date(2025, 1, 31)
    lines = interest(
        [inv("F1", due, "10000", received="1000")],
        [pay(dt.date(2025, 1, 10), "2000")],
        due + dt.timedelta(days=365),
    )
    assert lines[0].segments[0].principal == D("7000.00")
    assert lines[0].interest == D("282.10")  # 7,000 × 4.03 %


def test_unreferenced_payments_go_oldest_due_first_and_referenced_to_their_invoice() -> None:
    a, b = inv("A", dt.date(2025, 1, 31), "1000"), inv("B", dt.date(2025, 2, 28), "1000")
    as_of = dt.date(2025, 12, 31)
    by_age = interest([a, b], [pay(dt.date(2025, 3, 1), "1000")], as_of)
    assert [x.open_amount for x in by_age] == [D("0.00"), D("1000.00")]
    named = interest([a, b], [pay(dt.date(2025, 3, 1), "1000", "B")], as_of)
    assert [x.open_amount for x in named] == [D("1000.00"), D("0.00")]
    # A bore interest for 29 days before the payment (by age); B for 1 day (named)
    assert by_age[0].segments[0].days == 29 and named[1].segments[0].days == 1


def test_leap_years_count_every_day_but_divide_by_365() -> None:
    due = dt.date(2024, 2, 28)  # LPR 3.45 → 4.485 %
    [two] = interest([inv("F1", due, "365000")], [], dt.date(2024, 3, 1))
    assert two.segments[0].days == 2  # 29 February counts
    assert two.interest == D("89.70")  # 365,000 × 2 × 4.485 % / 365
    [year] = interest([inv("F1", dt.date(2024, 1, 1), "100000")], [], dt.date(2025, 1, 1))
    assert year.segments[0].days == 366
    assert year.interest == D("4497.29")  # 100,000 × 366 × 4.485 % / 365 = 4,497.287


def test_contract_rates_per_day_month_and_year() -> None:
    due = dt.date(2025, 1, 31)
    daily = parse_rate("每日万分之五")
    [line] = interest([inv("F1", due, "10000")], [], due + dt.timedelta(days=10), contract=daily)
    assert line.interest == D("50.00")  # 10,000 × 10 × 0.05 %
    assert "日利率0.05%" in line.formula() and "÷ 365" not in line.formula()
    monthly = parse_rate("月1%")
    [line] = interest([inv("F1", due, "10000")], [], due + dt.timedelta(days=365), contract=monthly)
    assert line.interest == D("1200.00")  # 1 % a month × 12 over 365 days
    yearly = parse_rate("年利率6%")
    by_contract = RateChooser(LPR, by_contract={"HT-1": yearly})
    lines = invoice_interest(
        [inv("F1", due, "10000", contract="HT-1"), inv("F2", due, "10000", contract="HT-2")],
        [],
        as_of=due + dt.timedelta(days=365),
        rate_for=by_contract,
    )
    assert [x.interest for x in lines] == [D("600.00"), D("403.00")]  # 6 %; LPR 4.03 %


def test_markup_of_50_percent() -> None:
    [line] = interest(
        [inv("F1", dt.date(2025, 6, 1), "10000")], [], dt.date(2026, 6, 1), markup=D("0.5")
    )
    assert line.rate is not None and line.rate.percent == D("4.500")  # 3.00 × 1.5
    assert line.interest == D("450.00")


def test_no_lpr_before_the_table_starts_is_said_not_guessed() -> None:
    [line] = interest([inv("F1", dt.date(2019, 8, 19), "100")], [], dt.date(2020, 1, 1))
    assert line.interest == 0 and line.rate is None and "lpr.csv" in line.problem
    assert line.formula().startswith("未计息：") and line.open_amount == D("100.00")
    with pytest.raises(InterestError, match=r"lpr\.csv"):
        RateChooser(LPR)(inv("F1", dt.date(2019, 8, 19), "100"))


def test_a_desk_table_extends_the_package_one(tmp_path: Path) -> None:
    (tmp_path / "lpr.csv").write_text("date,rate\n2026-01-20,2.90\n", encoding="utf-8")
    points = load_lpr(tmp_path)
    assert lpr_on(points, dt.date(2026, 2, 1)).percent == D("2.90")  # type: ignore[union-attr]
    assert lpr_on(points, dt.date(2025, 12, 1)).percent == D("3.00")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["date,rate\n2025-13-01,3\n", "date,rate\n2025-01-01,abc\n", "2025-01-01\n",
             "date,rate\n2025-01-01,-1\n", "date,rate\n2025-01-01,NaN\n"],
)  # fmt: skip
def test_a_bad_lpr_line_is_named(text: str) -> None:
    with pytest.raises(InterestError, match=r"第 \d+ 行"):
        read_lpr(text)


@pytest.mark.parametrize(
    ("phrase", "period", "percent"),
    [
        ("买方逾期付款的，每日按未付款的万分之五支付违约金", "day", "0.05"),
        ("逾期付款按日0.05%计收违约金", "day", "0.05"),
        ("逾期的，按日千分之一支付滞纳金", "day", "0.1"),
        ("逾期付款利息按年利率6%计算", "year", "6"),
        ("逾期付款的，按月息1%支付利息", "month", "1"),
        ("逾期每天按欠款的万分之三支付违约金", "day", "0.03"),
        ("逾期付款的按日万分之二点五计付违约金", "day", "0.025"),
        ("迟延付款按每日0.5‰支付违约金", "day", "0.05"),
    ],
)
def test_rate_candidates_in_contract_wording(phrase: str, period: str, percent: str) -> None:
    [found] = rate_candidates(f"第七条 违约责任\n{phrase}。")
    assert (found.rate.period, found.rate.percent) == (period, D(percent))
    assert found.rate.basis == "contract"


def test_rates_far_from_penalty_words_are_not_candidates() -> None:
    assert rate_candidates("合同签订后三日内支付合同总价的30%作为预付款，年底结清。") == []


# --- properties ---------------------------------------------------------------------------

_DAY0 = dt.date(2023, 1, 1)
_days = st.integers(min_value=0, max_value=900)
_amounts = st.integers(min_value=1, max_value=5_000_000).map(lambda f: D(f) / 100)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment]]:
    invoices = []
    for n in range(draw(st.integers(1, 4))):
        dated = _DAY0 + dt.timedelta(days=draw(_days))
        due = dated + dt.timedelta(days=draw(st.integers(0, 120)))
        invoices.append(Invoice(f"F{n}", "C1", dated, due, draw(_amounts)))
    payments = [
        Payment(
            "C1",
            _DAY0 + dt.timedelta(days=draw(_days)),
            draw(_amounts),
            draw(st.sampled_from([None, "F0", "F1", "X"])),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    return invoices, payments


@settings(max_examples=150, deadline=None)
@given(ledgers(), st.integers(0, 1100), st.integers(0, 200))
def test_interest_never_decreases_with_the_as_of_day(
    ledger: tuple[list[Invoice], list[Payment]], first: int, step: int
) -> None:
    invoices, payments = ledger
    early = _DAY0 + dt.timedelta(days=first)
    later = early + dt.timedelta(days=step)
    total = [sum((x.interest for x in interest(invoices, payments, day)), D(0)) for day in
             (early, later)]  # fmt: skip
    assert total[0] <= total[1]


@settings(max_examples=150, deadline=None)
@given(ledgers(), st.integers(0, 1100))
def test_interest_is_zero_until_the_due_date(
    ledger: tuple[list[Invoice], list[Payment]], offset: int
) -> None:
    invoices, payments = ledger
    as_of = _DAY0 + dt.timedelta(days=offset)
    for line in interest(invoices, payments, as_of):
        if as_of <= line.due:
            assert line.interest == 0 and line.segments == ()
        assert line.interest >= 0
        assert all(s.principal > 0 and s.days > 0 for s in line.segments)
        assert sum(s.days for s in line.segments) <= max((as_of - line.due).days, 0)


# --- the letters' optional interest line ([interest] in_letters) ---------------------------


def _demand_text(desk: object, *, in_letters: bool) -> str:
    import zipfile

    from dunning.archive.db import open_archive
    from dunning.desk import Desk, find_desk
    from dunning.ingest.pipeline import ingest_paths
    from dunning.letters.pack import plan_pack, write_pack

    assert isinstance(desk, Desk)
    if in_letters:
        text = desk.config_path.read_text(encoding="utf-8")
        desk.config_path.write_text(
            text.replace("in_letters = false", "in_letters = true"), encoding="utf-8"
        )
    desk = find_desk(desk.root)  # settings read afresh
    ingest_paths(desk, [desk.inbox])
    with open_archive(desk.db_path) as db:
        plan = plan_pack(
            db,
            desk.config,
            as_of=dt.date(2025, 6, 30),
            customers=["C001"],
            level=2,
            allow_no_address=True,
        )
        result = write_pack(desk, db, plan)
    [letter] = result.letters
    demand = next(f for f in letter.files if f.endswith("-demand.docx"))
    with zipfile.ZipFile(result.pack_dir / demand) as z:  # type: ignore[operator]
        return z.read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("in_letters", [False, True])
def test_demand_letters_state_interest_only_when_the_policy_says_so(
    desk: object, invoice_csv: Path, in_letters: bool
) -> None:
    import shutil

    shutil.copy(invoice_csv, desk.inbox / "ledgers" / invoice_csv.name)  # type: ignore[attr-defined]
    xml = _demand_text(desk, in_letters=in_letters)
    assert ("逾期付款已产生利息" in xml) is in_letters
    assert "{%" not in xml and "has_interest" not in xml
    if in_letters:
        # C001 (the invoice ledger only): FP0001 10,000.00 due 2025-02-04, 146 days to 2025-06-30;
        # FP0002 4,000.50 open (1,000 received on the row) due 2025-03-12, 110 days. LPR in force
        # on both due days 3.10 % + 30 % = 4.03 %, per day / 365.
        assert "按到期日一年期贷款市场报价利率（LPR）加计30%" in xml
        from dunning.archive.db import open_archive
        from dunning.workflow.interest_rates import customer_interest

        with open_archive(desk.db_path) as db:  # type: ignore[attr-defined]
            owed = customer_interest(db, "C001", as_of=dt.date(2025, 6, 30))
        assert owed.interest > 0 and f"人民币{owed.interest:,.2f}元" in xml
        # By hand: 10,000.00 × 4.03 % × 146 / 365 + 4,000.50 × 4.03 % × 110 / 365
        # = 161.20 + 48.59.
        assert owed.interest == Decimal("209.79") and "人民币209.79元" in xml


# --- the LPR file reader: layouts and row accounting --------------------------------------

_points = st.dictionaries(
    st.dates(dt.date(2015, 1, 1), dt.date(2040, 12, 31)),
    st.decimals(min_value=D("0.01"), max_value=D("20"), places=2),
    min_size=1,
    max_size=12,
)


def _layouts(points: dict[dt.date, Decimal]) -> dict[str, bytes]:
    rows = sorted(points.items())
    plain = "date,rate\n" + "".join(f"{d.isoformat()},{r}\n" for d, r in rows)
    bare = "".join(f"{d.isoformat()},{r}%\n" for d, r in rows)
    chinese = (
        "贷款市场报价利率（LPR）历史数据\n\n备注,5年期以上LPR(%),1年期LPR(%),生效日期\n"
        + "".join(f"公布,{r + 1},{r},{d.year}年{d.month}月{d.day}日\n" for d, r in rows)
    )
    tabbed = "日期\t利率\n" + "".join(f"{d.year}/{d.month}/{d.day}\t{r}\n" for d, r in rows)
    return {
        "plain": plain.encode("utf-8"),
        "bom": b"\xef\xbb\xbf" + plain.encode("utf-8"),
        "bare": bare.encode("utf-8"),
        "gbk-reordered-titled": chinese.encode("gbk"),
        "tabs-slashes": tabbed.encode("utf-8"),
        "comments-blanks": ("# LPR\n\n" + plain + "\n# end\n").encode("utf-8"),
    }


@settings(max_examples=60, deadline=None)
@given(_points)
def test_every_layout_of_an_lpr_file_reads_the_same(
    tmp_path_factory: pytest.TempPathFactory, points: dict[dt.date, Decimal]
) -> None:
    expected = {d: r for d, r in points.items()}
    for layout, data in _layouts(points).items():
        folder = tmp_path_factory.mktemp(layout)
        (folder / "lpr.csv").write_bytes(data)
        merged = {p.effective: p.percent for p in load_lpr(folder)}
        for day, rate in expected.items():
            assert merged[day] == rate, layout
        from dunning.archive.ledger.csvtext import decode

        text = decode(data)
        assert text is not None
        table = read_lpr(text[0])
        assert table.imported == len(points), layout
        assert table.lines == table.imported + sum(table.skipped.values()), layout


def test_duplicate_and_conflicting_dates() -> None:
    same = read_lpr("date,rate\n2025-05-20,3.00\n2025-05-20,3.00\n")
    assert same.imported == 1 and same.skipped == {"header": 1, "duplicate": 1}
    with pytest.raises(InterestError, match="出现了两次，利率不同"):
        read_lpr("date,rate\n2025-05-20,3.00\n2025-05-20,3.10\n")


def test_every_bad_line_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(InterestError) as caught:
        read_lpr("date,rate\n2025-05-20,x\n2025-02-30,3\n2025-06-20,3.0\n")
    assert "第 2 行" in str(caught.value) and "第 3 行" in str(caught.value)
    (tmp_path / "lpr.csv").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InterestError, match="不是文本文件"):
        load_lpr(tmp_path)


@st.composite
def awkward_ledgers(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment]]:
    """Credit notes, over-receipts, negative and zero payments, references to nothing."""
    signed = st.integers(min_value=-200_000, max_value=2_000_000).map(lambda f: D(f) / 100)
    invoices = []
    for n in range(draw(st.integers(0, 6))):
        dated = _DAY0 + dt.timedelta(days=draw(st.integers(0, 60)))
        due = dated + dt.timedelta(days=draw(st.integers(0, 60)))
        received = D(draw(st.integers(0, 100_000))) / 100
        invoices.append(Invoice(f"F{n}", "C1", dated, due, draw(signed), received))
    payments = [
        Payment("C1", _DAY0 + dt.timedelta(days=draw(st.integers(0, 120))), draw(signed),
                draw(st.sampled_from([None, "F0", "F1", "F2", "nope"])))
        for _ in range(draw(st.integers(0, 8)))
    ]  # fmt: skip
    return invoices, payments


@settings(max_examples=300, deadline=None)
@given(awkward_ledgers(), st.integers(0, 130))
def test_open_amounts_day_by_day_equal_the_allocation(
    ledger: tuple[list[Invoice], list[Payment]], offset: int
) -> None:
    from dunning.receivables import allocate
    from dunning.workflow.interest import _OpenAmounts

    invoices, payments = ledger
    day = _DAY0 + dt.timedelta(days=offset)
    ordered = sorted(invoices, key=lambda i: (i.due_date, i.invoice_no))
    tracker = _OpenAmounts(ordered)
    for payment in sorted(payments, key=lambda p: p.paid_on):
        if payment.paid_on <= day:
            tracker.pay(payment)
    expected = allocate(ordered, [p for p in payments if p.paid_on <= day])
    assert [D(v) / 100 for v in tracker.opens()] == [o.open_amount for o in expected.items]


@pytest.mark.parametrize(
    ("phrase", "multiple"),
    [
        ("逾期付款的，按全国银行间同业拆借中心公布的一年期贷款市场报价利率（LPR）的1.5倍支付违约金", "1.5"),
        ("逾期付款利息按同期同类贷款利率的一点五倍计算", "1.5"),
        ("逾期付款的，在LPR基础上加计50%计付利息", "1.5"),
        ("逾期付款违约金按LPR×2计算", "2"),
    ],
)  # fmt: skip
def test_lpr_multiples_in_contract_wording(phrase: str, multiple: str) -> None:
    [found] = rate_candidates(phrase + "。")
    assert (found.rate.period, found.rate.percent) == ("lpr", D(multiple))
    assert found.rate.words().startswith("一年期LPR × ")


def test_a_contract_lpr_multiple_follows_each_invoices_due_day() -> None:
    agreed = parse_rate("LPR的1.5倍")
    lines = interest(
        [inv("F1", dt.date(2025, 1, 31), "10000"), inv("F2", dt.date(2025, 6, 1), "10000")],
        [],
        dt.date(2026, 6, 1),
        contract=agreed,
    )
    # F1: 3.10 × 1.5 = 4.65 % over 486 days; F2: 3.00 × 1.5 = 4.5 % over 365 days
    assert [x.rate.percent for x in lines] == [D("4.650"), D("4.500")]  # type: ignore[union-attr]
    assert lines[0].interest == D("619.15")  # 10,000 × 486 × 4.65 % / 365 = 619.150…
    assert lines[1].interest == D("450.00")
    assert all(x.rate.basis == "contract" for x in lines)  # type: ignore[union-attr]
    assert (
        "LPR的1.5倍" in lines[0].formula() and "2024-10-21起一年期LPR 3.10%" in lines[0].formula()
    )
