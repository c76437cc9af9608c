"""`dunning interest`, `dunning fees` and `dunning case` with input nobody planned for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.cli import main
from dunning.desk import Desk

LEDGER = (
    "客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额\n"
    "C1,甲公司,HT-1,FP1,2025-01-05,2025-02-04,10000.00,0\n"
)


@pytest.fixture
def ledger_desk(desk: Desk, tmp_path: Path, runner: CliRunner) -> Desk:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER, encoding="utf-8")
    done = runner.invoke(main, ["--desk", str(desk.root), "ingest", str(path)])
    assert done.exit_code == 0, done.output
    return desk


def run(runner: CliRunner, desk: Desk, *args: str) -> object:
    return runner.invoke(main, ["--desk", str(desk.root), *args])


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1e40", "１２３abc"])
def test_fees_refuses_what_is_not_a_claim(runner: CliRunner, amount: str) -> None:
    result = runner.invoke(main, ["fees", amount])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_fees_reads_clerk_amounts(runner: CliRunner) -> None:
    result = runner.invoke(main, ["fees", "￥300,000.00", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["payment_order"]["amount"] == "1933.33"


def test_interest_rate_confirm_set_and_clear(runner: CliRunner, ledger_desk: Desk) -> None:
    lpr = run(runner, ledger_desk, "interest", "C1", "--as-of", "2026-02-04", "--json")
    assert lpr.exit_code == 0, lpr.output  # type: ignore[attr-defined]
    line = json.loads(lpr.stdout)["invoices"][0]  # type: ignore[attr-defined]
    assert line["rate"]["basis"] == "lpr" and line["interest"] == "403.00"  # 10,000 × 4.03 %
    for bad in (["--confirm", "1"], ["--set", "abc"], ["--set", "日200%"]):
        refused = run(runner, ledger_desk, "interest", "rate", "C1", *bad)
        assert refused.exit_code in (1, 2) and "Traceback" not in refused.output  # type: ignore[attr-defined]
    done = run(runner, ledger_desk, "interest", "rate", "C1", "--set", "每日万分之五")
    assert done.exit_code == 0 and "日利率0.05%" in done.stdout  # type: ignore[attr-defined]
    daily = run(runner, ledger_desk, "interest", "C1", "--as-of", "2026-02-04", "--json")
    assert json.loads(daily.stdout)["interest"] == "1825.00"  # type: ignore[attr-defined]
    cleared = run(runner, ledger_desk, "interest", "rate", "C1", "--clear")
    assert cleared.exit_code == 0  # type: ignore[attr-defined]
    again = run(runner, ledger_desk, "interest", "C1", "--as-of", "2026-02-04", "--json")
    assert json.loads(again.stdout)["interest"] == "403.00"  # type: ignore[attr-defined]
    missing = run(runner, ledger_desk, "interest", "NOPE")
    assert missing.exit_code == 1 and "NOPE" in missing.stderr  # type: ignore[attr-defined]


def test_case_commands_refuse_nonsense(runner: CliRunner, ledger_desk: Desk) -> None:
    opened = run(runner, ledger_desk, "case", "open", "C1", "--no-pdf", "--as-of", "2025-06-30",
                 "--json")  # fmt: skip
    assert opened.exit_code == 0, opened.output  # type: ignore[attr-defined]
    case = json.loads(opened.stdout)  # type: ignore[attr-defined]
    assert case["stage"] is None and case["claim"] == f"{10000 + float(case['interest']):.2f}"
    for args in (
        ["case", "cost", "1", "lawyer", "-5"],
        ["case", "cost", "1", "lawyer", "5", "--note", "x" * 600],
        ["case", "stage", "1", "filed", "--on", "2999-01-01"],
        ["case", "stage", "99999999999999999999", "filed"],
        ["case", "stage", "1", "filed", "--document", "12345"],
        ["case", "stage", "1", "appeal"],
        ["case", "show", "'; DROP TABLE cases; --"],
    ):
        result = run(runner, ledger_desk, *args)
        assert result.exit_code in (1, 2), args  # type: ignore[attr-defined]
        assert "Traceback" not in result.output, args  # type: ignore[attr-defined]
    listed = run(runner, ledger_desk, "case", "list", "--json")
    assert len(json.loads(listed.stdout)) == 1  # type: ignore[attr-defined]
    second = run(runner, ledger_desk, "case", "open", "C1", "--no-pdf", "--kind", "payment_order")
    assert second.exit_code == 0 and "已有未结案件 #1" in second.stdout  # type: ignore[attr-defined]
    status = run(runner, ledger_desk, "customer", "C1", "--json")
    assert json.loads(status.stdout)["status"] == "litigation"  # type: ignore[attr-defined]


def test_verify_does_not_take_a_case_folder_for_a_broken_pack(
    runner: CliRunner, ledger_desk: Desk
) -> None:
    opened = run(runner, ledger_desk, "case", "open", "C1", "--no-pdf", "--as-of", "2025-06-30")
    assert opened.exit_code == 0  # type: ignore[attr-defined]
    checked = run(runner, ledger_desk, "verify", "--json")
    assert checked.exit_code == 0, checked.output  # type: ignore[attr-defined]
    stray = ledger_desk.out / "stray"
    stray.mkdir()
    (stray / "x.docx").write_bytes(b"x")
    assert run(runner, ledger_desk, "verify").exit_code == 1  # type: ignore[attr-defined]


def test_a_confirmed_lpr_multiple_is_kept_and_used(runner: CliRunner, ledger_desk: Desk) -> None:
    done = run(runner, ledger_desk, "interest", "rate", "C1", "--set", "LPR的1.5倍")
    assert done.exit_code == 0 and "一年期LPR × 1.5" in done.stdout  # type: ignore[attr-defined]
    shown = run(runner, ledger_desk, "interest", "C1", "--as-of", "2026-02-04", "--json")
    line = json.loads(shown.stdout)["invoices"][0]  # type: ignore[attr-defined]
    assert line["rate"]["basis"] == "contract" and line["rate"]["percent"] == "4.65"
    assert line["interest"] == "465.00"  # 10,000 × 365 days × 3.10 % × 1.5
