"""Customer status and the collection log: library, promises (Hypothesis) and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.dates import office_today
from dunning.desk import Desk
from dunning.errors import NotFoundError
from dunning.ingest.pipeline import ingest_paths
from dunning.workflow import add_entry, list_entries, promise_status, record_entry, set_status
from dunning.workflow.log import InvalidEntryError
from dunning.workflow.status import status_history

D = dt.date


@pytest.fixture
def ledger_desk(desk: Desk, invoice_csv: Path, payment_csv: Path) -> Desk:
    # C001 pays 3000 on 2025-03-01 and 2000 on 2025-03-15; C002 pays 800 on 2025-04-10.
    report = ingest_paths(desk, [invoice_csv, payment_csv])
    assert [o.status for o in report.outcomes] == ["archived", "archived"]
    return desk


def cli(runner: CliRunner, desk: Desk, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--desk", str(desk.root), *args])
    return result.exit_code, result.stdout, result.stderr


def rows(desk: Desk, sql: str) -> list[tuple[object, ...]]:
    with open_archive(desk.db_path) as db:
        return [tuple(r) for r in db.execute(sql).fetchall()]


# -- customer status ---------------------------------------------------------------------------


def test_set_status_updates_the_customer_history_and_log(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    code, out, _ = cli(runner, ledger_desk, "set-status", "C002", "litigation", "--note", "已起诉")
    assert code == 0
    assert out == "C002 宁波海辰机械有限公司：正常 → 诉讼中\n"
    assert rows(ledger_desk, "SELECT status FROM customers WHERE code = 'C002'") == [
        ("litigation",)
    ]
    assert rows(
        ledger_desk, "SELECT customer_code, old_status, new_status, note FROM status_changes"
    ) == [("C002", "active", "litigation", "已起诉")]
    assert rows(ledger_desk, "SELECT customer_code, kind, note FROM collection_log") == [
        ("C002", "status", "正常 → 诉讼中：已起诉")
    ]
    with open_archive(ledger_desk.db_path) as db:
        history = status_history(db, "C002")
    assert [(h.old_status, h.new_status, h.note) for h in history] == [
        ("active", "litigation", "已起诉")
    ]


def test_setting_the_same_status_again_writes_nothing(ledger_desk: Desk, runner: CliRunner) -> None:
    code, out, _ = cli(runner, ledger_desk, "set-status", "C001", "active")
    assert (code, out) == (0, "C001 杭州明远贸易有限公司 已是“正常”，未作改变。\n")
    assert rows(ledger_desk, "SELECT count(*) FROM status_changes") == [(0,)]
    assert rows(ledger_desk, "SELECT count(*) FROM collection_log") == [(0,)]


def test_set_status_accepts_the_customer_name(ledger_desk: Desk) -> None:
    with open_archive(ledger_desk.db_path) as db:
        change = set_status(db, "宁波海辰机械有限公司", "disputed", note=None)
    assert (change.customer, change.old_status, change.new_status) == ("C002", "active", "disputed")
    assert change.changed


def test_set_status_of_an_unknown_customer_is_one_sentence_and_exit_1(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    code, _, err = cli(runner, ledger_desk, "set-status", "C999", "excluded")
    assert code == 1
    assert err == "错误：没有客户“C999”：`dunning customers` 列出所有客户编号。\n"
    assert rows(ledger_desk, "SELECT count(*) FROM status_changes") == [(0,)]


def test_set_status_rejects_a_state_outside_the_four(ledger_desk: Desk, runner: CliRunner) -> None:
    code, _, err = cli(runner, ledger_desk, "set-status", "C001", "bankrupt")
    assert code == 2
    assert "'bankrupt' is not one of 'active', 'disputed', 'litigation', 'excluded'" in err


# -- the collection log --------------------------------------------------------------------------


def test_log_add_records_a_call(ledger_desk: Desk, runner: CliRunner) -> None:
    code, out, _ = cli(
        runner, ledger_desk, "log", "add", "C001", "--kind", "call", "--note", " 财务说月底付 ",
        "--by", "王五", "--on", "2025-06-10",
    )  # fmt: skip
    assert code == 0
    assert out == "已记录 #1：C001 电话 2025-06-10\n"
    assert rows(
        ledger_desk,
        "SELECT customer_code, kind, note, by, promise_amount_fen, promise_date, letter_ref,"
        " substr(logged_at, 1, 10) FROM collection_log",
    ) == [("C001", "call", "财务说月底付", "王五", None, None, None, "2025-06-10")]


def test_a_promise_is_stored_as_integer_fen(ledger_desk: Desk, runner: CliRunner) -> None:
    code, out, _ = cli(
        runner, ledger_desk, "log", "add", "C001", "--kind", "promise", "--note", "承诺分两次付",
        "--promise-amount", "￥1,234.50", "--promise-date", "2025年7月5日", "--on", "2025-06-30",
        "--json",
    )  # fmt: skip
    assert code == 0, out
    entry = json.loads(out)
    assert entry["promise_amount"] == "1234.50"
    assert entry["promise_date"] == "2025-07-05"
    # Judged as of today: the 2025 date has passed with nothing paid since 06-30.
    assert entry["promise_status"] == "broken"
    assert rows(
        ledger_desk, "SELECT promise_amount_fen, typeof(promise_amount_fen) FROM collection_log"
    ) == [(123450, "integer")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "call", "--promise-amount", "100"], "要同时给出 --promise-amount 和"),
        (["--kind", "promise", "--promise-date", "2030-01-01"], "要同时给出 --promise-amount"),
        (["--kind", "promise"], "承诺付款记录要给出 --promise-amount 和 --promise-date"),
        (
            ["--kind", "call", "--promise-amount", "100", "--promise-date", "2030-01-01"],
            "只有 --kind promise 才能带承诺金额和日期",
        ),
        (
            ["--kind", "promise", "--promise-amount", "0", "--promise-date", "2030-01-01"],
            "承诺金额必须大于零",
        ),
        (
            ["--kind", "promise", "--promise-amount", "10", "--promise-date", "2025-02-30"],
            "'2025-02-30': 没有这一天",
        ),
        (
            ["--kind", "promise", "--promise-amount", "10", "--promise-date", "next week"],
            "Invalid value for '--promise-date'",
        ),
        (
            ["--kind", "promise", "--promise-amount", "ten", "--promise-date", "2030-01-01"],
            "Invalid value for '--promise-amount'",
        ),
        (["--kind", "fax"], "'fax' is not one of 'call', 'visit', 'letter'"),
        (["--kind", "call", "--note", "  "], "内容为空：请写明发生了什么"),
        (
            [
                "--kind",
                "promise",
                "--promise-amount",
                "10",
                "--promise-date",
                "2025-01-01",
                "--on",
                "2025-02-01",
            ],
            "早于记录当天",
        ),
    ],
)
def test_log_add_usage_errors_exit_2_and_write_nothing(
    ledger_desk: Desk, runner: CliRunner, args: list[str], message: str
) -> None:
    if "--note" not in args:
        args = [*args, "--note", "电话"]
    code, _, err = cli(runner, ledger_desk, "log", "add", "C001", *args)
    assert code == 2, err
    assert message in err
    assert rows(ledger_desk, "SELECT count(*) FROM collection_log") == [(0,)]


def test_log_add_for_an_unknown_customer_exits_1(ledger_desk: Desk, runner: CliRunner) -> None:
    code, _, err = cli(runner, ledger_desk, "log", "add", "C404", "--kind", "sms", "--note", "x")
    assert code == 1
    assert err == "错误：没有客户“C404”：`dunning customers` 列出所有客户编号。\n"


def promises(desk: Desk) -> None:
    with open_archive(desk.db_path) as db:
        # 5000 paid between 03-01 and 03-20: kept.
        record_entry(db, "C001", kind="promise", note="A", promise_amount=Decimal(4000),
                     promise_date=D(2025, 3, 20), on=D(2025, 3, 1))  # fmt: skip
        # Only the 2000 of 03-15 falls in the window: broken once 03-20 has passed.
        record_entry(db, "C001", kind="promise", note="B", promise_amount=Decimal(3000),
                     promise_date=D(2025, 3, 20), on=D(2025, 3, 10))  # fmt: skip
        # 800 paid on the promised day itself: kept, but only once that day has come.
        record_entry(db, "C002", kind="promise", note="C", promise_amount=Decimal(800),
                     promise_date=D(2025, 4, 10), on=D(2025, 4, 1))  # fmt: skip
        record_entry(db, "C002", kind="visit", note="上门对账", on=D(2025, 4, 2))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Paid in full before the date: kept at once. Entries made after --as-of (C on 04-01,
        # the visit on 04-02) are not part of the log on that day.
        ("2025-03-18", ["kept", "pending"]),
        ("2025-03-20", ["kept", "pending"]),
        ("2025-03-21", ["kept", "broken"]),
        ("2025-04-09", ["kept", "broken", "pending", None]),
        ("2025-04-10", ["kept", "broken", "kept", None]),
        ("2025-12-31", ["kept", "broken", "kept", None]),
    ],
)
def test_log_list_json_shows_kept_broken_and_pending_promises(
    ledger_desk: Desk, runner: CliRunner, as_of: str, expected: list[str | None]
) -> None:
    promises(ledger_desk)
    code, out, _ = cli(runner, ledger_desk, "log", "list", "--as-of", as_of, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [e["note"] for e in listed] == ["A", "B", "C", "上门对账"][: len(expected)]
    assert [e["promise_status"] for e in listed] == expected
    assert listed[0] == {
        "id": 1,
        "customer": "C001",
        "at": listed[0]["at"],
        "kind": "promise",
        "note": "A",
        "by": None,
        "promise_amount": "4000.00",
        "promise_date": "2025-03-20",
        "promise_status": expected[0],
        "letter": None,
    }
    assert listed[0]["at"].startswith("2025-03-01T")


def test_log_list_filters_by_customer_and_day_and_prints_a_table(
    ledger_desk: Desk, runner: CliRunner
) -> None:
    promises(ledger_desk)
    code, out, _ = cli(runner, ledger_desk, "log", "list", "C001", "--as-of", "2025-06-30")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "序号", "日期", "客户编号", "类型", "内容", "记录人", "承诺金额", "承诺付款日", "承诺状态",
    ]  # fmt: skip
    assert lines[2].split() == ["1", "2025-03-01", "C001", "承诺付款", "A", "4,000.00",
                                "2025-03-20", "已兑现"]  # fmt: skip
    assert lines[3].split()[-1] == "未兑现"
    assert len(lines) == 4
    code, out, _ = cli(runner, ledger_desk, "log", "list", "--since", "2025-04-02", "--json")
    assert [e["note"] for e in json.loads(out)] == ["上门对账"]
    code, out, _ = cli(runner, ledger_desk, "log", "list", "C003")
    assert (code, out) == (0, "还没有催收记录。\n")
    code, _, err = cli(runner, ledger_desk, "log", "list", "C404")
    assert code == 1 and "没有客户“C404”" in err


def test_add_entry_writes_inside_the_callers_transaction(ledger_desk: Desk) -> None:
    with open_archive(ledger_desk.db_path) as db:
        with pytest.raises(RuntimeError), write_transaction(db) as conn:
            add_entry(conn, "C001", kind="letter", note="催款函 CS-2025-000001",
                      letter_ref="CS-2025-000001")  # fmt: skip
            assert conn.in_transaction  # it did not commit on its own
            raise RuntimeError("the pack failed after logging")
        assert list_entries(db) == []
        with write_transaction(db) as conn:
            entry = add_entry(conn, "C001", kind="letter", note="催款函", letter_ref="CS-1")
        assert list_entries(db, "C001") == [entry]
        assert entry.letter_ref == "CS-1" and entry.day == office_today()


def test_library_validation_raises_domain_errors(ledger_desk: Desk) -> None:
    with open_archive(ledger_desk.db_path) as db:
        with pytest.raises(InvalidEntryError, match="没有“fax”这种记录类型"):
            record_entry(db, "C001", kind="fax", note="x")
        with pytest.raises(NotFoundError):
            record_entry(db, "nobody", kind="call", note="x")
        with pytest.raises(NotFoundError):
            set_status(db, "nobody", "active")


# -- promise_status: a pure function -----------------------------------------------------------

days = st.dates(min_value=D(2025, 1, 1), max_value=D(2025, 12, 31))
amounts = st.integers(min_value=1, max_value=10_000_000).map(lambda fen: Decimal(fen) / 100)
payments = st.lists(st.tuples(days, amounts), max_size=8)


@given(amount=amounts, promised_on=days, due=days, paid=payments, as_of=days)
def test_promise_status_matches_its_definition(
    amount: Decimal,
    promised_on: D,
    due: D,
    paid: list[tuple[D, Decimal]],
    as_of: D,
) -> None:
    status = promise_status(amount, promised_on, due, paid, as_of=as_of)
    in_window = sum((v for d, v in paid if promised_on <= d <= min(due, as_of)), Decimal(0))
    if in_window >= amount:
        assert status == "kept"
    elif as_of > due:
        assert status == "broken"
    else:
        assert status == "pending"


@given(amount=amounts, promised_on=days, due=days, paid=payments, extra=st.tuples(days, amounts))
def test_a_further_payment_never_breaks_a_promise(
    amount: Decimal, promised_on: D, due: D, paid: list[tuple[D, Decimal]], extra: tuple[D, Decimal]
) -> None:
    as_of = due + dt.timedelta(days=1)
    before = promise_status(amount, promised_on, due, paid, as_of=as_of)
    after = promise_status(amount, promised_on, due, [*paid, extra], as_of=as_of)
    assert before in ("kept", "broken")  # the date has passed: never pending
    if before == "kept":
        assert after == "kept"
    outside = extra[0] < promised_on or extra[0] > due
    if outside:
        assert after == before


@given(amount=amounts, promised_on=days, due=days, paid=payments, as_of=days)
def test_a_promise_is_never_broken_before_its_date(
    amount: Decimal, promised_on: D, due: D, paid: list[tuple[D, Decimal]], as_of: D
) -> None:
    if as_of <= due:
        assert promise_status(amount, promised_on, due, paid, as_of=as_of) != "broken"


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_log_add_files_the_entry_on_the_desks_own_day(
    ledger_desk: Desk, runner: CliRunner, zone: str
) -> None:
    """+14:00 and -11:00 are never on the same date: each entry is on its own office's day."""
    toml = ledger_desk.config_path
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[desk]\n", f'[desk]\ntimezone = "{zone}"\n', 1),
        encoding="utf-8",
    )
    code, out, err = cli(runner, ledger_desk, "log", "add", "C001", "--kind", "call",
                         "--note", "电话", "--json")  # fmt: skip
    assert code == 0, err
    at = dt.datetime.fromisoformat(json.loads(out)["at"])
    assert at.utcoffset() == dt.datetime.now(ZoneInfo(zone)).utcoffset()
    code, out, _ = cli(runner, ledger_desk, "log", "list", "C001")
    assert code == 0 and office_today(zone).isoformat() in out.splitlines()[-1]
