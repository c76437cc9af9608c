"""Detail ledgers (客户往来明细账 / 应收款明细表 / 往来对账单) in the shapes ERPs and clerks export.

Each shape is written here with openpyxl or as CSV text, modelled on Kingdee's 往来明细账 (a
customer column, 期初余额 / 本月合计 / 本年累计 rows), Yonyou's three-column book (年 printed over
月/日, 方向 借/贷/平) and hand-kept Excel books (a sheet per customer, a title line naming the
customer, merged cells over each customer's block). Expected items are written out by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from tooling import require_realworld

from dunning.archive.accounts import aging_report
from dunning.archive.db import open_archive
from dunning.archive.ledger import Ledger, read_ledger
from dunning.desk import Desk
from dunning.errors import IngestError
from dunning.ingest.pipeline import ingest_paths

D = Decimal
AS_OF = dt.date(2025, 12, 31)


def xlsx(
    path: Path, *sheets: tuple[str, list[list[object]]], merge: dict[str, list[str]] | None = None
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for cells in (merge or {}).get(title, []):
            ws.merge_cells(cells)
    wb.save(path)
    return path


def items(ledger: Ledger) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    invoices = [
        (i.customer_code, i.customer_name, i.invoice_no, i.invoice_date, i.due_date, i.amount)
        for i in ledger.invoices
    ]
    payments = [
        (p.customer_code, p.customer_name, p.paid_on, p.amount, p.kind) for p in ledger.payments
    ]
    return invoices, payments


KINGDEE_ROWS: list[list[object]] = [
    ["客户往来明细账"],
    ["会计期间：2025年1期至2025年11期", None, None, None, "币别：人民币"],
    ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"],
    [None, None, "KH001", "厦门鹭岛贸易有限公司", "期初余额", None, None, "借", 5000],
    [
        dt.datetime(2025, 3, 5),
        "记-12",
        "KH001",
        "厦门鹭岛贸易有限公司",
        "销售商品 发票号 12345678",
        11300,
        None,
        "借",
        16300,
    ],
    [
        dt.datetime(2025, 3, 20),
        "记-30",
        "KH001",
        "厦门鹭岛贸易有限公司",
        "收到货款",
        None,
        8000,
        "借",
        8300,
    ],
    [None, None, "KH001", "厦门鹭岛贸易有限公司", "本月合计", 11300, 8000, "借", 8300],
    [None, None, "KH002", "南京同创化工有限公司", "期初余额", None, None, "平", 0],
    [
        dt.datetime(2025, 4, 1),
        "记-3",
        "KH002",
        "南京同创化工有限公司",
        "销售",
        2260,
        None,
        "借",
        2260,
    ],
    [
        dt.datetime(2025, 4, 9),
        "记-9",
        "KH002",
        "南京同创化工有限公司",
        "红字冲销",
        -260,
        None,
        "借",
        2000,
    ],
    [
        dt.datetime(2025, 5, 9),
        "记-4",
        "KH002",
        "南京同创化工有限公司",
        "预收款",
        None,
        3000,
        "贷",
        1000,
    ],
    [None, None, None, None, "本年累计", 13300, 11000, None, None],
]


def test_kingdee_style_book_with_a_customer_column(tmp_path: Path) -> None:
    ledger = read_ledger(xlsx(tmp_path / "k.xlsx", ("往来明细账", KINGDEE_ROWS)))
    assert ledger.kind == "detail"
    invoices, payments = items(ledger)
    assert invoices == [
        # The opening balance is dated at the period's start (会计期间 2025年1期).
        (
            "KH001",
            "厦门鹭岛贸易有限公司",
            "期初-KH001-20250101",
            dt.date(2025, 1, 1),
            dt.date(2025, 1, 1),
            D("5000.00"),
        ),
        ("KH001", "厦门鹭岛贸易有限公司", "12345678", dt.date(2025, 3, 5), None, D("11300.00")),
        (
            "KH002",
            "南京同创化工有限公司",
            "KH002-20250401-记-3",
            dt.date(2025, 4, 1),
            None,
            D("2260.00"),
        ),
    ]
    assert payments == [
        ("KH001", "厦门鹭岛贸易有限公司", dt.date(2025, 3, 20), D("8000.00"), "payment"),
        ("KH002", "南京同创化工有限公司", dt.date(2025, 4, 9), D("260.00"), "credit_note"),
        ("KH002", "南京同创化工有限公司", dt.date(2025, 5, 9), D("3000.00"), "payment"),
    ]
    counts = ledger.counts
    assert (counts.read, counts.imported, counts.skipped, counts.bad) == (
        9, 6, {"opening": 1, "subtotal": 1, "total": 1}, 0,
    )  # fmt: skip


def test_kingdee_book_through_ingest_gives_the_printed_closing_balances(
    desk: Desk, tmp_path: Path
) -> None:
    path = xlsx(tmp_path / "k.xlsx", ("往来明细账", KINGDEE_ROWS))
    report = ingest_paths(desk, [path])
    assert report.outcomes[0].status == "archived", report.outcomes[0].reason
    assert "读取 9 行：导入 6 行" in report.outcomes[0].label
    with open_archive(desk.db_path) as db:
        balances = {
            a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))
        }
    # The book's own last 余额 per customer: 借 8300 and 贷 1000 (a credit of 1000).
    assert balances == {"KH001": D("8300.00"), "KH002": D("-1000.00")}
    # An updated export with one more row supersedes: nothing doubles.
    more = [
        *KINGDEE_ROWS[:-1],
        [
            dt.datetime(2025, 6, 1),
            "记-1",
            "KH002",
            "南京同创化工有限公司",
            "销售",
            1000,
            None,
            "平",
            0,
        ],
        KINGDEE_ROWS[-1],
    ]
    ingest_paths(desk, [xlsx(tmp_path / "k2.xlsx", ("往来明细账", more))])
    with open_archive(desk.db_path) as db:
        balances = {
            a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))
        }
        assert db.execute("SELECT count(*) FROM invoices").fetchone()[0] == 4
    assert balances == {"KH001": D("8300.00"), "KH002": D("0.00")}


def test_a_sheet_per_customer_named_in_a_title_line_or_the_sheet_name(tmp_path: Path) -> None:
    header = ["日期", "单据号", "摘要", "本期应收", "本期收款", "余额"]
    first = [
        ["应收款明细表"],
        ["客户：KH003 南京同创化工有限公司", None, None, "期间：2025年1月至2025年6月"],
        header,
        [None, None, "期初余额", None, None, 1200],
        ["2025-02-03", "XS-0001", "销售出库", 3000, None, 4200],
        ["2025/2/28", "SK-0001", "银行收款", None, 4200, 0],
        [None, None, "本期合计", 3000, 4200, 0],
    ]
    second = [
        header,
        ["2025年3月1日", "XS-0107", "销售出库", 500, None, 500],
    ]
    ledger = read_ledger(
        xlsx(tmp_path / "s.xlsx", ("南京同创", first), ("KH004 温州瓯江电器", second))
    )
    invoices, payments = items(ledger)
    assert invoices == [
        (
            "KH003",
            "南京同创化工有限公司",
            "期初-KH003-20250101",
            dt.date(2025, 1, 1),
            dt.date(2025, 1, 1),
            D("1200.00"),
        ),
        ("KH003", "南京同创化工有限公司", "XS-0001", dt.date(2025, 2, 3), None, D("3000.00")),
        ("KH004", "温州瓯江电器", "XS-0107", dt.date(2025, 3, 1), None, D("500.00")),
    ]
    assert payments == [
        ("KH003", "南京同创化工有限公司", dt.date(2025, 2, 28), D("4200.00"), "payment")
    ]
    assert [p.payment_no for p in ledger.payments] == ["SK-0001"]
    assert ledger.sheets == ["南京同创", "KH004 温州瓯江电器"]
    assert ledger.counts.adds_up and ledger.counts.imported == 4


def test_merged_customer_headings_over_each_block(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["往来对账单"],
        ["日期", "凭证号", "摘要", "借方金额", "贷方金额", "余额"],
        ["KH001 厦门鹭岛贸易有限公司"],
        ["2025-07-01", "记-1", "销售", 100, None, 100],
        ["2025-07-09", "记-5", "收款", None, 40, 60],
        ["客户：KH002 南京同创化工有限公司"],
        ["2025-07-02", "记-2", "销售", 70, None, 70],
        ["小计", None, None, 70, None, 70],
    ]
    path = xlsx(tmp_path / "m.xlsx", ("Sheet1", rows), merge={"Sheet1": ["A3:F3", "A6:F6"]})
    ledger = read_ledger(path)
    invoices, payments = items(ledger)
    assert [(i[0], i[2], i[5]) for i in invoices] == [
        ("KH001", "KH001-20250701-记-1", D("100.00")),
        ("KH002", "KH002-20250702-记-2", D("70.00")),
    ]
    assert [(p[0], p[3]) for p in payments] == [("KH001", D("40.00"))]
    assert ledger.counts.skipped == {"heading": 2, "subtotal": 1}


def test_yonyou_year_over_month_and_day_and_group_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["应收账款明细账"],
        ["科目：1122 应收账款", None, None, None, None, "客户：温州瓯江电器有限公司（KH014）"],
        ["2025年", None, "凭证号", "摘要", "本期发生", None, "方向", "余额"],
        ["月", "日", None, None, "借方", "贷方", None, None],
        [1, 1, None, "上年结转", None, None, "借", 800],
        [1, 15, "记-0008", "销售商品", 1000, None, "借", 1800],
        [1, 31, "记-0031", "收款", None, 1800, "平", 0],
        [None, None, None, "本月合计", 1000, 1800, "平", 0],
    ]
    path = xlsx(
        tmp_path / "y.xlsx",
        ("Sheet1", rows),
        merge={"Sheet1": ["A3:B3", "E3:F3", "C3:C4", "D3:D4", "G3:G4", "H3:H4"]},
    )
    ledger = read_ledger(path)
    invoices, payments = items(ledger)
    assert invoices == [
        (
            "KH014",
            "温州瓯江电器有限公司",
            "期初-KH014-20250101",
            dt.date(2025, 1, 1),
            dt.date(2025, 1, 1),
            D("800.00"),
        ),
        (
            "KH014",
            "温州瓯江电器有限公司",
            "KH014-20250115-记-0008",
            dt.date(2025, 1, 15),
            None,
            D("1000.00"),
        ),
    ]
    assert payments == [
        ("KH014", "温州瓯江电器有限公司", dt.date(2025, 1, 31), D("1800.00"), "payment")
    ]
    assert ledger.header_row == 4


def test_csv_detail_ledger_in_gbk(tmp_path: Path) -> None:
    text = (
        "客户往来明细账\n客户：KH020 宁波海辰机械有限公司\n\n"
        "日期,摘要,借方,贷方,余额\n"
        "2025-09-01,期初余额,,,300.00\n"
        '2025-09-03,销售 发票号码:44019876,"1,000.00",,"1,300.00"\n'
        '2025-09-30,收款,,300.00,"1,000.00"\n'
    )
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("gbk"))
    invoices, payments = items(read_ledger(path))
    assert invoices == [
        (
            "KH020",
            "宁波海辰机械有限公司",
            "期初-KH020-20250901",
            dt.date(2025, 9, 1),
            dt.date(2025, 9, 1),
            D("300.00"),
        ),
        ("KH020", "宁波海辰机械有限公司", "44019876", dt.date(2025, 9, 3), None, D("1000.00")),
    ]
    assert payments == [
        ("KH020", "宁波海辰机械有限公司", dt.date(2025, 9, 30), D("300.00"), "payment")
    ]


def test_a_balance_that_does_not_reconcile_rejects_the_file(tmp_path: Path) -> None:
    rows = [row[:] for row in KINGDEE_ROWS]
    rows[5][8] = 8200  # printed 8200, but 16300 - 8000 = 8300
    with pytest.raises(IngestError) as caught:
        read_ledger(xlsx(tmp_path / "bad.xlsx", ("往来明细账", rows)))
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].row == 6 and problems[0].value == "8200.00"
    assert "表上为 8200.00，按上一行余额 + 借方 − 贷方 应为 8300.00" in problems[0].why
    assert "整个文件未导入" in caught.value.reason


def test_a_row_without_any_customer_is_a_bad_row(tmp_path: Path) -> None:
    rows = [["日期", "摘要", "借方", "贷方", "余额"], ["2025-01-02", "销售", 10, None, 10]]
    with pytest.raises(IngestError) as caught:
        read_ledger(xlsx(tmp_path / "x.xlsx", ("Sheet1", rows)))
    assert "该行没有客户" in caught.value.problems[0].why


def test_the_voucher_journal_is_still_rejected_with_its_message() -> None:
    kis = require_realworld() / "minkolee_kis_kuaijifenlu_xushibu.xlsx"
    with pytest.raises(IngestError) as caught:
        read_ledger(kis)
    assert "这是会计分录序时簿（" in str(caught.value)


def month_book(path: Path, period: str, opening: int, rows: list[list[object]]) -> Path:
    head = ["日期", "凭证字号", "客户编码", "客户名称", "摘要", "借方", "贷方", "方向", "余额"]
    lines: list[list[object]] = [
        [f"会计期间：{period}"],
        head,
        [None, None, "KH001", "厦门鹭岛", "期初余额", None, None, "借", opening],
        *rows,
    ]
    return xlsx(path, ("Sheet1", lines))


JAN = [[dt.datetime(2025, 1, 9), "记-2", "KH001", "厦门鹭岛", "销售", 4000, None, "借", 5000]]
FEB = [[dt.datetime(2025, 2, 9), "记-4", "KH001", "厦门鹭岛", "收款", None, 3000, "借", 2000]]


def balances_of(desk: Desk) -> dict[str, Decimal]:
    with open_archive(desk.db_path) as db:
        return {a.customer: a.balance for a in aging_report(db, as_of=AS_OF, edges=(30, 60, 90))}


def test_months_imported_out_of_order_end_on_the_closing_balance(
    desk: Desk, tmp_path: Path
) -> None:
    feb = month_book(tmp_path / "02.xlsx", "2025年2期", 5000, FEB)
    jan = month_book(tmp_path / "01.xlsx", "2025年1期", 1000, JAN)
    assert [o.status for o in ingest_paths(desk, [feb]).outcomes] == ["archived"]
    assert balances_of(desk) == {"KH001": D("2000.00")}
    report = ingest_paths(desk, [jan])
    assert [o.status for o in report.outcomes] == ["archived"], report.outcomes[0].reason
    # February's opening (5000) is what January's rows come to: it gives way to them.
    assert balances_of(desk) == {"KH001": D("2000.00")}
    with open_archive(desk.db_path) as db:
        openings = [r[0] for r in db.execute("SELECT invoice_no FROM invoices ORDER BY 1")]
    assert openings == ["KH001-20250109-记-2", "期初-KH001-20250101"]


def test_an_opening_that_disagrees_with_the_months_before_is_refused(
    desk: Desk, tmp_path: Path
) -> None:
    ingest_paths(desk, [month_book(tmp_path / "01.xlsx", "2025年1期", 1000, JAN)])
    feb = [[dt.datetime(2025, 2, 9), "记-4", "KH001", "厦门鹭岛", "收款", None, 3000, "借", 1800]]
    report = ingest_paths(desk, [month_book(tmp_path / "02.xlsx", "2025年2期", 4800, feb)])
    assert [o.status for o in report.outcomes] == ["failed"]
    reason = (desk.failed / "02.xlsx.error.txt").read_text(encoding="utf-8")
    assert (
        "KH001 在 2025-02-01 的期初余额 4800.00 与存档中此前明细台账得出的 5000.00 不符" in reason
    )
    assert balances_of(desk) == {"KH001": D("5000.00")}
