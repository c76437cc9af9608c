"""Adversarial review of delivery and the limitation period (issue 11, SPEC §10).

Inputs the first author did not have in mind, each asserting what a careful credit-control
clerk and the company's lawyer expect:

- 民法典 art. 188/201: a receivable due on D lapses at the end of the corresponding day three
  years later (due 2023-07-30 → last day 2026-07-30); 29 Feb → 28 Feb; a last day that falls
  on a rest day moves to the next working day (art. 201 para. 2).
- art. 195 with 最高法《关于审理民事案件适用诉讼时效制度若干问题的规定》art. 8: a demand
  interrupts when it reached "or should have reached" the debtor; a letter refused at the
  address is at least shown to the clerk, never silently dropped.
- A view "as of" a past day sees the letters as they stood on that day.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow.limitation import (
    Claim,
    Event,
    UnprovenLetter,
    add_years,
    position,
    position_json,
    positions,
)

D = dt.date
DUE = D(2023, 3, 15)


def claim(invoice: str = "FP1", due: dt.date = DUE, customer: str = "C1") -> Claim:
    return Claim(customer, "客户", invoice, due - dt.timedelta(days=30), due, Decimal("1000.00"))


def run(runner: CliRunner, desk: Desk, *args: str, code: int = 0) -> Result:
    result = runner.invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == code, result.output
    return result


# -- the pure rule -------------------------------------------------------------------------


def test_a_29_february_due_date_lapses_on_28_february_and_a_sunday_moves_to_monday() -> None:
    # 2027-02-28 is a Sunday: art. 201 para. 2 makes Monday 2027-03-01 the last day.
    c = claim(due=D(2024, 2, 29))
    assert add_years(c.due, 3) == D(2027, 2, 28)
    p = position(c, [], [], as_of=D(2027, 3, 1), years=3)
    assert p.expires == D(2027, 2, 28)  # the nominal day stays: the clerk acts before it
    assert p.last_day == D(2027, 3, 1)
    assert p.advice_code == "sue"  # still alive today: not "expired"
    assert position_json(p)["last_day"] == "2027-03-01"
    gone = position(c, [], [], as_of=D(2027, 3, 2), years=3)
    assert gone.advice_code == "expired"


def test_an_ordinary_weekday_expiry_has_the_same_last_day() -> None:
    p = position(claim(due=D(2023, 7, 30)), [], [], as_of=D(2026, 6, 30), years=3)
    assert p.expires == p.last_day == D(2026, 7, 30)  # a Thursday
    assert p.days_left == 30


def test_an_event_on_29_february_restarts_to_28_february() -> None:
    event = Event("delivered", "C1", D(2028, 2, 29), "CS-2028-000001")
    p = position(claim(), [event], [], as_of=D(2028, 3, 1), years=3)
    assert p.expires == D(2031, 2, 28)


def test_events_on_or_before_the_due_date_do_not_move_the_start() -> None:
    c = claim(due=D(2023, 3, 15))
    early = [
        Event("payment", "C1", D(2023, 3, 15), "payment on the due day"),
        Event("promise", "C1", D(2023, 1, 2), "log 1"),
    ]
    p = position(c, early, [], as_of=D(2025, 1, 1), years=3)
    assert p.expires == D(2026, 3, 15) and p.last_event is None


def test_events_in_the_future_count_for_nothing_today() -> None:
    future = [Event("statement", "C1", D(2031, 1, 1), "document 9")]
    p = position(claim(), future, [], as_of=D(2026, 3, 1), years=3)
    assert p.expires == D(2026, 3, 15) and p.last_event is None and p.days_left == 14


def test_a_promise_by_another_customer_does_not_help() -> None:
    other = [Event("promise", "C2", D(2025, 1, 1), "log 2")]
    p = position(claim(), other, [], as_of=D(2025, 6, 1), years=3)
    assert p.last_event is None


def test_two_events_on_one_day_restart_once_and_keep_the_stronger_proof() -> None:
    same = [
        Event("delivered", "C1", D(2025, 5, 5), "CS-2025-000001"),
        Event("statement", "C1", D(2025, 5, 5), "document 4"),
    ]
    p = position(claim(), same, [], as_of=D(2025, 6, 1), years=3)
    assert p.expires == D(2028, 5, 5) and p.last_event is not None
    assert p.last_event.evidence == "document 4"


def test_a_credit_note_amount_of_zero_or_paid_claim_is_not_listed() -> None:
    paid = Claim("C1", "客户", "FP9", D(2020, 1, 1), D(2020, 2, 1), Decimal("0.00"))
    assert positions([paid], [], as_of=D(2024, 1, 1), years=3, within=None) == []


def test_an_unproven_letter_sent_after_as_of_is_not_named() -> None:
    later = UnprovenLetter("CS-2026-000009", "C1", D(2026, 3, 10))
    p = position(claim(), [], [later], as_of=D(2026, 3, 1), years=3)
    assert p.unproven == ()


@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)),
    st.integers(min_value=-10, max_value=10),
)
def test_the_last_day_is_a_weekday_at_most_two_days_after_the_nominal_one(
    due: dt.date, offset: int
) -> None:
    c = claim(due=due)
    nominal = add_years(due, 3)
    p = position(c, [], [], as_of=nominal + dt.timedelta(days=offset), years=3)
    assert p.last_day is not None and p.last_day.weekday() < 5
    assert 0 <= (p.last_day - p.expires).days <= 2
    assert p.expired == (nominal + dt.timedelta(days=offset) > p.last_day)
    assert (p.advice_code == "expired") == p.expired


# -- the archive and the CLI -----------------------------------------------------------------

AS_OF = "2026-06-30"
LEDGER = """客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
K01,杭州老账户有限公司,HT-2023-0100,24332000000012345678,2023-06-30,2023-07-30,"12,000.00",0
K01,杭州老账户有限公司,HT-2023-0100,FP-2023-0002,2023-07-05,2023-08-31,5000.00,0
K01,杭州老账户有限公司,HT-2023-0100,FP-2026-0009,2026-06-02,2026-06-03,700.00,0
K01,杭州老账户有限公司,HT-2023-0100,FP-2026-0008,2026-05-20,2026-06-03,800.00,0
K02,宁波新客户有限公司,HT-2023-0007,FP-2023-0100,2023-07-01,2023-08-01,3000.00,0
"""
OLD, SECOND, LATE = "24332000000012345678", "FP-2023-0002", "FP-2026-0009"
NOT_YET_DUE = "FP-2026-0008"  # on the letter of 2026-06-01, but not yet due then


@pytest.fixture
def ledger_desk(desk: Desk, runner: CliRunner, tmp_path: Path) -> Desk:
    ledger = tmp_path / "应收台账.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    run(runner, desk, "ingest", str(ledger))
    return desk


def report(runner: CliRunner, desk: Desk, *extra: str, as_of: str = AS_OF) -> dict[str, Any]:
    rows = json.loads(
        run(
            runner, desk, "limitation", "--as-of", as_of, "--within", "5000", "--json", *extra
        ).stdout
    )
    return {r["invoice"]: r for r in rows}


def k01_letter(runner: CliRunner, desk: Desk) -> str:
    packed = run(runner, desk, "pack", "--allow-no-address", "--as-of", "2026-06-01", "--customer", "K01",
                 "--level", "2", "--json")  # fmt: skip
    ref: str = json.loads(packed.stdout)["letters"][0]["ref"]
    run(runner, desk, "letter", "sent", ref, "--via", "ems", "--tracking", "1151234567890",
        "--on", "2026-06-02")  # fmt: skip
    return ref


def test_the_json_keeps_every_spec_field(ledger_desk: Desk, runner: CliRunner) -> None:
    row = report(runner, ledger_desk)[OLD]
    spec = {"customer", "name", "invoice", "due", "open", "expires", "days_left", "last_event"}
    assert spec <= set(row)
    assert (row["due"], row["expires"], row["days_left"]) == ("2023-07-30", "2026-07-30", 30)
    assert row["open"] == "12000.00" and row["last_event"] is None


def test_as_of_between_sending_and_delivery_shows_the_letter_as_unproven(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)
    run(runner, ledger_desk, "letter", "delivered", ref, "--on", "2026-06-05")
    before = report(runner, ledger_desk, as_of="2026-06-03")[OLD]
    assert before["last_event"] is None and before["expires"] == "2026-07-30"
    assert before["unproven"] == [{"letter": ref, "status": "sent, unproven"}]
    after = report(runner, ledger_desk)[OLD]
    assert after["last_event"]["date"] == "2026-06-05" and after["unproven"] == []


def test_a_letter_does_not_cover_an_invoice_issued_after_it(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)  # issued 2026-06-01; FP-2026-0009 issued 06-02
    run(runner, ledger_desk, "letter", "delivered", ref, "--on", "2026-06-05")
    rows = report(runner, ledger_desk)
    assert rows[OLD]["last_event"]["letter"] == ref
    assert rows[SECOND]["last_event"]["letter"] == ref
    assert rows[LATE]["last_event"] is None and rows[LATE]["expires"] == "2029-06-03"
    # the letter could not demand what was not yet due when it was written
    assert rows[NOT_YET_DUE]["last_event"] is None
    assert rows[NOT_YET_DUE]["expires"] == "2029-06-03"


def test_a_statement_reply_acknowledges_every_item_on_the_statement(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)
    run(runner, ledger_desk, "letter", "reply", ref, "相符", "--on", "2026-06-08")
    rows = report(runner, ledger_desk)
    for invoice in (OLD, SECOND, NOT_YET_DUE):
        event = rows[invoice]["last_event"]
        assert (event["kind"], event["date"]) == ("statement", "2026-06-08"), invoice
    assert rows[LATE]["last_event"] is None


def test_a_refused_letter_is_shown_not_silently_dropped(
    ledger_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    ref = k01_letter(runner, ledger_desk)
    run(runner, ledger_desk, "letter", "returned", ref, "--reason", "拒收", "--on", "2026-06-04")
    row = report(runner, ledger_desk)[OLD]
    # not counted as proof (the clerk must not rely on it), but named with its reason
    assert row["last_event"] is None and row["expires"] == "2026-07-30"
    assert row["returned"] == [{"letter": ref, "reason": "拒收", "returned_on": "2026-06-04"}]
    assert ref in row["advice"] and "应当到达" in row["advice"]
    text = run(runner, ledger_desk, "limitation", "--as-of", AS_OF).stdout
    assert f"{ref}（拒收）" in text  # the advice names the returned letter
    out = tmp_path / "周报.xlsx"
    run(runner, ledger_desk, "report", "weekly", "--as-of", AS_OF, "--out", str(out))
    ws = openpyxl.load_workbook(out)["时效预警"]
    (advice,) = [ws.cell(r, 12).value for r in range(3, ws.max_row) if ws.cell(r, 3).value == OLD]
    assert ref in advice and "拒收" in advice and "应当到达" in advice


def test_payments_with_odd_references(ledger_desk: Desk, runner: CliRunner, tmp_path: Path) -> None:
    payments = tmp_path / "回款.csv"
    payments.write_text(
        "客户编号,客户名称,回款日期,回款金额,对应发票号\n"
        # more than the invoice: only the invoice named is acknowledged
        "K01,杭州老账户有限公司,2026-03-02,6000.00,FP-2023-0002\n"
        # a reference to no invoice of this customer: acknowledges none of these
        "K01,杭州老账户有限公司,2026-04-01,10.00,FP-9999-0001\n"
        # another customer's unreferenced payment: nothing for K01
        "K02,宁波新客户有限公司,2026-05-01,100.00,\n",
        encoding="utf-8",
    )
    run(runner, ledger_desk, "ingest", str(payments))
    rows = report(runner, ledger_desk)
    assert SECOND not in rows  # paid in full
    old = rows[OLD]
    assert old["last_event"] is None and old["expires"] == "2026-07-30"
    assert old["open"] == "10990.00"  # the excess and the stray 10.00 still lower the debt
    k02 = rows["FP-2023-0100"]
    assert k02["last_event"]["kind"] == "payment" and k02["expires"] == "2029-05-01"


def pay(runner: CliRunner, desk: Desk, tmp_path: Path, ref: str) -> None:
    payments = tmp_path / "回款.csv"
    payments.write_text(
        f"客户编号,客户名称,回款日期,回款金额,对应发票号\nK01,杭州老账户有限公司,2026-02-02,1000.00,{ref}\n",
        encoding="utf-8",
    )
    run(runner, desk, "ingest", str(payments))


def test_a_payment_whose_reference_differs_only_in_case_or_spaces_counts(
    ledger_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    pay(runner, ledger_desk, tmp_path, "fp-2023-0002")  # as a bank remark may write it
    with open_archive(ledger_desk.db_path) as db:  # however the import kept it
        db.conn.execute("UPDATE payments SET invoice_ref = ' fp - 2023-0002 '")
    rows = report(runner, ledger_desk)
    assert rows[SECOND]["last_event"]["kind"] == "payment"
    assert rows[SECOND]["expires"] == "2029-02-02"
    assert rows[OLD]["last_event"] is None


def test_a_credit_note_restarts_nothing(
    ledger_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    pay(runner, ledger_desk, tmp_path, "FP-2023-0002")
    with open_archive(ledger_desk.db_path) as db:
        db.conn.execute("UPDATE payments SET kind = 'credit_note'")
    rows = report(runner, ledger_desk)
    assert rows[SECOND]["last_event"] is None and rows[SECOND]["open"] == "4000.00"
    assert rows[OLD]["last_event"] is None


def test_the_window_bounds_on_the_command_line(ledger_desk: Desk, runner: CliRunner) -> None:
    bad = run(runner, ledger_desk, "limitation", "--within", "-1", code=2)
    assert "--within" in bad.output and "Traceback" not in bad.output
    huge = json.loads(
        run(
            runner, ledger_desk, "limitation", "--as-of", AS_OF, "--within", str(10**15), "--json"
        ).stdout
    )
    assert {r["invoice"] for r in huge} == {OLD, SECOND, LATE, NOT_YET_DUE, "FP-2023-0100"}
    never = run(runner, ledger_desk, "limitation", "--as-of", "9999-12-31", code=2)
    assert "9999" in never.output and "Traceback" not in never.output
    slashes = report(runner, ledger_desk, as_of="2026/6/30")
    assert slashes[OLD]["days_left"] == 30


def test_the_weekly_sheet_keeps_a_hostile_name_as_text(
    desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    ledger = tmp_path / "台账.csv"
    ledger.write_text(LEDGER.replace("杭州老账户有限公司", "=HYPERLINK(1)"), encoding="utf-8")
    run(runner, desk, "ingest", str(ledger))
    out = tmp_path / "周报.xlsx"
    run(runner, desk, "report", "weekly", "--as-of", AS_OF, "--out", str(out))
    ws = openpyxl.load_workbook(out)["时效预警"]
    names = [ws.cell(row, 2) for row in range(3, ws.max_row)]
    assert names and all(c.data_type == "s" for c in names)


# -- courier batch sheets --------------------------------------------------------------------

FIRST, OTHER = "CS-2025-000001", "CS-2025-000002"  # C001, C002 (pack of 2025-06-30)


@pytest.fixture
def packed(desk: Desk, runner: CliRunner, invoice_csv: Path) -> Desk:
    assert not ingest_paths(desk, [invoice_csv]).of("failed")
    run(runner, desk, "pack", "--allow-no-address", "--as-of", "2025-06-30", "--json")
    return desk


def delivery_rows(desk: Desk) -> list[Any]:
    with open_archive(desk.db_path) as db:
        return db.execute(
            "SELECT l.ref, d.tracking_no, d.sent_on FROM letter_delivery d"
            " JOIN letters l ON l.id = d.letter_id ORDER BY l.ref"
        ).fetchall()


def test_a_bom_sheet_with_the_order_number_in_the_ref_column_and_lower_case_refs(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "顺丰.csv"
    sheet.write_text(
        "订单号,运单号,寄件日期,备注\n"
        "PO-7788, SF1234567890123 ,2025/7/1,  cs-2025-000001 \n"
        "PO-7789,SF1234567890124,2025/7/2 14:30,催款函 ＣＳ－２０２５－０００００２\n",
        encoding="utf-8-sig",
    )
    run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "sf")
    assert delivery_rows(packed) == [
        (FIRST, "SF1234567890123", "2025-07-01"),
        (OTHER, "SF1234567890124", "2025-07-02"),
    ]


def test_a_gbk_sheet_with_a_title_line(packed: Desk, runner: CliRunner, tmp_path: Path) -> None:
    sheet = tmp_path / "EMS.csv"
    sheet.write_bytes(
        "EMS 批量寄件 2025年7月\n邮件号,函件编号,收件人\n1151234567890,CS-2025-000001,张三\n".encode(
            "gbk"
        )
    )
    run(
        runner, packed, "letter", "sent", "--from", str(sheet), "--via", "ems", "--on", "2025-07-03"
    )
    assert delivery_rows(packed) == [(FIRST, "1151234567890", "2025-07-03")]


def test_an_xlsx_with_numeric_tracking_numbers_and_date_cells(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["运单号", "ref", "寄件日期"])
    ws.append([1151234567890.0, FIRST, dt.datetime(2025, 7, 1, 9, 30)])
    ws.append([1151234567891, OTHER, 45840])  # an Excel serial: 2025-07-02
    sheet = tmp_path / "批量.xlsx"
    wb.save(sheet)
    run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "ems")
    assert delivery_rows(packed) == [
        (FIRST, "1151234567890", "2025-07-01"),
        (OTHER, "1151234567891", "2025-07-02"),
    ]


def test_an_xlsx_tracking_number_beyond_15_digits_stored_as_a_number_is_refused(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["运单号", "ref"])
    ws.append([float(123456789012345678), FIRST])  # Excel keeps 15 digits: the rest is lost
    sheet = tmp_path / "京东.xlsx"
    wb.save(sheet)
    bad = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "courier", code=1)
    assert "第 2 行「运单号」" in bad.output and "设为文本格式" in bad.output
    assert delivery_rows(packed) == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("ref,tracking\nCS-2025-000001,1.15123E+12\n", "科学计数法"),
        ("ref,tracking\nCS-2025-000001,111\ncs-2025-000001 ,222\n", "已在第 2 行出现过"),
        ("ref,tracking\nCS-2025-000001,111\nCS-2025-000099,222\n", "CS-2025-000099"),
        ("ref,tracking,date\nCS-2025-000001,111,2025/2/30\n", "没有这一天"),
        ("ref,tracking,date\nCS-2025-000001,111,2099-01-01\n", "晚于今天"),
    ],
)
def test_a_bad_batch_sheet_records_nothing_and_says_why(
    packed: Desk, runner: CliRunner, tmp_path: Path, body: str, why: str
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text(body, encoding="utf-8")
    bad = run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "ems", code=1)
    assert why in bad.output and "Traceback" not in bad.output
    assert delivery_rows(packed) == []


def test_delivered_before_sent_and_sent_after_delivery_are_refused(
    packed: Desk, runner: CliRunner
) -> None:
    run(runner, packed, "letter", "sent", FIRST, "--via", "ems", "--on", "2025-07-05")
    early = run(runner, packed, "letter", "delivered", FIRST, "--on", "2025-07-04", code=1)
    assert "2025-07-05" in early.output
    run(runner, packed, "letter", "delivered", FIRST, "--on", "2025-07-06")
    again = run(
        runner, packed, "letter", "sent", FIRST, "--via", "sf", "--on", "2025-07-07", code=1
    )
    assert "妥投，不能再登记寄出" in again.output
    assert delivery_rows(packed) == [(FIRST, None, "2025-07-05")]


def test_a_disputed_reply_to_a_sent_letter_proves_that_the_demand_arrived(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)  # sent 2026-06-02
    run(runner, ledger_desk, "letter", "reply", ref, "不符", "--on", "2026-06-08")
    row = report(runner, ledger_desk)[OLD]
    # the debtor answered the demand: it reached them (art. 195), though it is no acknowledgement
    assert row["unproven"] == []
    assert (row["last_event"]["kind"], row["last_event"]["date"]) == ("delivered", "2026-06-08")
    assert row["expires"] == "2029-06-08"
    record = json.loads(run(runner, ledger_desk, "customer", "K01", "--json").stdout)
    (letter,) = [entry for entry in record["letters"] if entry["ref"] == ref]
    assert (letter["status"], letter["delivered_on"]) == ("delivered", "2026-06-08")


def test_a_reply_cannot_be_dated_before_the_letter_was_sent(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)  # issued 2026-06-01, sent 2026-06-02
    early = run(runner, ledger_desk, "letter", "reply", ref, "相符", "--on", "2026-06-01", code=1)
    assert "2026-06-02" in early.output and "Traceback" not in early.output


def test_a_letter_returned_after_the_as_of_day_was_still_on_its_way_then(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)  # sent 2026-06-02
    run(
        runner, ledger_desk, "letter", "returned", ref, "--reason", "查无此人", "--on", "2026-06-20"
    )
    then = report(runner, ledger_desk, as_of="2026-06-10")[OLD]
    assert then["unproven"] == [{"letter": ref, "status": "sent, unproven"}]
    assert then["returned"] == []
    now = report(runner, ledger_desk)[OLD]
    assert now["unproven"] == [] and now["returned"][0]["reason"] == "查无此人"


def test_the_advice_names_the_working_day_after_a_weekend_expiry() -> None:
    p = position(claim(due=D(2024, 2, 29)), [], [], as_of=D(2027, 3, 1), years=3)
    assert "2027-03-01" in p.advice and "2027-03-01" in p.advice_zh
    assert not p.expired


@pytest.mark.parametrize(
    "cell",
    ['="1151234567890"', "'1151234567890", "\t1151234567890", "１１５１２３４５６７８９０"],
)
def test_tracking_numbers_kept_as_text_by_spreadsheet_tricks(
    packed: Desk, runner: CliRunner, tmp_path: Path, cell: str
) -> None:
    sheet = tmp_path / "寄件.csv"
    sheet.write_text(f"运单号,函件编号\n{cell},CS-2025-000001\n", encoding="utf-8")
    run(
        runner, packed, "letter", "sent", "--from", str(sheet), "--via", "ems", "--on", "2025-07-03"
    )
    assert delivery_rows(packed) == [(FIRST, "1151234567890", "2025-07-03")]


def test_a_signed_receipt_scanned_weeks_later_dates_from_the_sending_not_the_scan(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)  # sent 2026-06-02
    with open_archive(ledger_desk.db_path) as db:  # what ingesting the scan on 07-20 records
        db.conn.execute(
            "UPDATE letters SET status = 'signed', signed_at = '2026-07-20T10:00:00+08:00'"
            " WHERE ref = ?",
            [ref],
        )
    row = report(runner, ledger_desk, as_of="2026-07-25")[OLD]
    # the debtor signed somewhere between 06-02 and 07-20: the safe restart is the earliest day
    event = row["last_event"]
    assert (event["kind"], event["date"]) == ("signed", "2026-06-02")
    assert row["expires"] == "2029-06-02" and "2026-07-20" in event["evidence"]
    # on 07-10 the receipt was not back yet: the letter was still "sent, unproven"
    then = report(runner, ledger_desk, as_of="2026-07-10")[OLD]
    assert then["last_event"] is None
    assert then["unproven"] == [{"letter": ref, "status": "sent, unproven"}]
    # once the clerk records the date written on the receipt, that date counts
    run(runner, ledger_desk, "letter", "delivered", ref, "--on", "2026-06-06")
    row = report(runner, ledger_desk, as_of="2026-07-25")[OLD]
    assert (row["last_event"]["date"], row["expires"]) == ("2026-06-06", "2029-06-06")


def test_a_customer_order_number_shaped_like_a_reference_gives_way_to_the_letter(
    packed: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    sheet = tmp_path / "顺丰.csv"
    sheet.write_text(
        "订单号,运单号,备注\nPO-2025-000123,SF1234567890123,催款函 CS-2025-000001\n",
        encoding="utf-8",
    )
    run(runner, packed, "letter", "sent", "--from", str(sheet), "--via", "sf", "--on", "2025-07-01")
    assert delivery_rows(packed) == [(FIRST, "SF1234567890123", "2025-07-01")]


@pytest.mark.xfail(
    strict=True,
    reason="statutory holidays (国庆, 春节 …) and 调休 working weekends need the State Council's"
    " yearly notice, which the desk does not have: only Saturdays and Sundays move the last day",
)
def test_a_period_ending_on_national_day_runs_to_the_first_working_day_after_it() -> None:
    p = position(claim(due=D(2023, 10, 1)), [], [], as_of=D(2026, 10, 2), years=3)
    assert p.last_day == D(2026, 10, 8) and not p.expired


def test_a_refusal_stays_on_record_when_the_letter_is_sent_again(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    ref = k01_letter(runner, ledger_desk)
    run(runner, ledger_desk, "letter", "returned", ref, "--reason", "拒收", "--on", "2026-06-04")
    run(runner, ledger_desk, "letter", "sent", ref, "--via", "sf", "--on", "2026-06-10")
    row = report(runner, ledger_desk)[OLD]
    assert row["unproven"] == [{"letter": ref, "status": "sent, unproven"}]
    assert row["returned"] == [{"letter": ref, "reason": "拒收", "returned_on": "2026-06-04"}]
