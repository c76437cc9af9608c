"""The weekly overdue report and the legal hand-over, read back cell by cell with openpyxl."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.worksheet import Worksheet
from tooling import require_soffice, require_tool

from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths
from dunning.money import parse_amount
from dunning.workflow import record_entry, set_status

D = dt.date
AS_OF = "2025-06-30"  # a week ago: 2025-06-23; the week's receipts run 06-24..06-30

CUSTOMERS = """客户编号,客户名称,地址,联系人,电话,信用等级,业务员
C001,杭州明远贸易有限公司,杭州市滨江区江南大道1号,陈会计,0571-1234567,A,王五
C002,宁波海辰机械有限公司,宁波市鄞州区,周总,0574-7654321,B,赵六
C003,绍兴&华 <HK> 有限公司,绍兴市,,,C,王五
C004,温州新开五金有限公司,温州市,,,B,赵六
C005,嘉兴远航物流有限公司,嘉兴市,,,A,王五
"""
INVOICES = """客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
C001,杭州明远贸易有限公司,HT-2025-0001,FP0001,2025-01-05,2025-02-04,"10,000.00",0
C001,杭州明远贸易有限公司,HT-2025-0001,FP0002,2025-02-10,2025-03-12,5000.50,1000
C002,宁波海辰机械有限公司,HT-2025-0002,FP0003,2025-03-01,2025-03-31,8800,0
C003,绍兴&华 <HK> 有限公司,HT-2025-0003,FP0004,2025-04-01,2025-05-01,1200.00,1200.00
C004,温州新开五金有限公司,HT-2025-0004,FP0005,2025-05-27,2025-06-26,3000,0
C004,温州新开五金有限公司,HT-2025-0004,FP0006,2025-06-15,2025-07-15,2000,0
C005,嘉兴远航物流有限公司,HT-2025-0005,FP0007,2025-04-20,2025-05-20,1500,0
"""
PAYMENTS = """客户编号,客户名称,回款日期,回款金额,对应发票号,收款单号
C001,杭州明远贸易有限公司,2025-03-01,3000.00,FP0002,SK001
C001,杭州明远贸易有限公司,2025-03-15,2000.00,,SK002
C002,宁波海辰机械有限公司,2025-04-10,800.00,,SK003
C002,宁波海辰机械有限公司,2025-06-23,100.00,,SK004
C005,嘉兴远航物流有限公司,2025-06-25,500.00,FP0007,SK005
C001,杭州明远贸易有限公司,2025-07-01,1000.00,,SK006
"""


def letter(
    conn: object, ref: str, code: str, level: int, name: str, issued: str, **kw: str
) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO letters (ref, customer_code, level, level_name, as_of, issued_on, amount_fen,"
        " overdue_fen, status, signed_at) VALUES (?, ?, ?, ?, ?, ?, 900050, 900050, ?, ?)",
        [ref, code, level, name, issued, issued, kw.get("status", "issued"), kw.get("signed_at")],
    )


@pytest.fixture
def report_desk(desk: Desk, tmp_path: Path) -> Desk:
    files = []
    for name, text in (("客户.csv", CUSTOMERS), ("应收.csv", INVOICES), ("回款.csv", PAYMENTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    assert all(o.status == "archived" for o in ingest_paths(desk, files).outcomes)
    with open_archive(desk.db_path) as db:
        with write_transaction(db) as conn:
            letter(conn, "CS-2025-000001", "C001", 2, "demand", "2025-05-01",
                   status="signed", signed_at="2025-05-08")  # fmt: skip
            letter(conn, "CS-2025-000002", "C001", 4, "lawyer", "2025-06-20")
            letter(conn, "CS-2025-000003", "C002", 1, "reminder", "2025-06-01")
            letter(conn, "CS-2025-000004", "C002", 2, "demand", "2025-07-05")  # after as-of
            conn.execute(
                "UPDATE contracts SET amount_fen = 1500050, signed_on = '2025-01-02',"
                " title = '购销合同' WHERE contract_no = 'HT-2025-0001'"
            )
        log = [
            ("C001", "call", "电话催收，财务说月底付", None, None, D(2025, 6, 10)),
            ("C001", "promise", "承诺25日前付5000", Decimal(5000), D(2025, 6, 25), D(2025, 6, 12)),
            ("C001", "visit", "上门拜访，未见负责人", None, None, D(2025, 6, 26)),
            ("C004", "promise", "下周付清", Decimal(3000), D(2025, 7, 5), D(2025, 6, 28)),
            ("C005", "promise", "25日付500", Decimal(500), D(2025, 6, 25), D(2025, 6, 20)),
            ("C002", "sms", "发送短信提醒", None, None, D(2025, 7, 2)),  # after as-of
        ]
        for code, kind, note, amount, due, on in log:
            record_entry(db, code, kind=kind, note=note, by="王五", promise_amount=amount,
                         promise_date=due, on=on)  # fmt: skip
        set_status(db, "C002", "litigation", note="已委托律师")
        set_status(db, "C005", "disputed")
    return desk


def money(value: object) -> Decimal:
    assert isinstance(value, int | float), value
    return parse_amount(value)


def values(ws: Worksheet, row: int) -> list[object]:
    return [c.value for c in ws[row]]


def run_report(runner: CliRunner, desk: Desk, *args: str) -> Path:
    result = runner.invoke(main, ["--desk", str(desk.root), "report", *args])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.is_file()
    return path


# -- weekly ------------------------------------------------------------------------------------


def test_weekly_report_goes_to_out_by_default(report_desk: Desk, runner: CliRunner) -> None:
    path = run_report(runner, report_desk, "weekly", "--as-of", AS_OF)
    assert path == report_desk.out / "逾期客户周报-2025-06-30.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "汇总",
        "逾期客户名单",
        "本周回款",
        "新增逾期",
        "时效预警",
        "未入账到款",
    ]


@pytest.fixture
def weekly(report_desk: Desk, runner: CliRunner, tmp_path: Path) -> openpyxl.Workbook:
    path = run_report(
        runner, report_desk, "weekly", "--as-of", AS_OF, "--out", str(tmp_path / "w.xlsx")
    )
    assert path == tmp_path / "w.xlsx"
    return openpyxl.load_workbook(path)


def test_weekly_summary_sheet(weekly: openpyxl.Workbook) -> None:
    ws = weekly["汇总"]
    assert ws["A1"].value == "示例贸易有限公司　逾期客户周报（截至2025年6月30日）"
    assert ws["A1"].font.b
    assert values(ws, 2) == ["项目", "数值"]
    summary = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(3, ws.max_row + 1)}
    assert summary["截至日期"].value == dt.datetime(2025, 6, 30)
    assert summary["截至日期"].number_format == "yyyy-mm-dd"
    assert summary["逾期客户数"].value == 4
    expected = {
        "应收余额合计（全部客户）": "22900.50",
        "其中逾期客户的应收余额": "22900.50",
        "逾期金额合计": "20900.50",
        "账龄 未到期": "2000.00",
        "账龄 1-30天": "3000.00",
        "账龄 31-60天": "1000.00",
        "账龄 61-90天": "0.00",
        "账龄 91天以上": "16900.50",
        "本周回款（2025-06-24 至 2025-06-30）": "500.00",
    }
    for label, amount in expected.items():
        assert money(summary[label].value) == Decimal(amount), label
        assert summary[label].number_format == "#,##0.00"
    assert summary["本周回款笔数"].value == 1
    assert summary["本周新增逾期客户数"].value == 1
    assert summary["承诺未兑现客户数"].value == 1


def test_weekly_overdue_list_cell_by_cell(weekly: openpyxl.Workbook) -> None:
    ws = weekly["逾期客户名单"]
    assert ws["A1"].value == "示例贸易有限公司　逾期客户名单（截至2025年6月30日）"
    assert ws.freeze_panes == "C3"
    assert values(ws, 2) == [
        "客户编号", "客户名称", "业务员", "信用等级", "应收余额", "逾期金额", "未到期", "1-30天",
        "31-60天", "61-90天", "91天以上", "最长逾期天数", "最近函件", "发函日期", "回执",
        "最近催收措施", "措施说明", "措施日期", "承诺金额", "承诺付款日", "承诺状态", "客户状态",
    ]  # fmt: skip
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("D9E1F2") for c in ws[2])
    # Largest overdue first. C001: 146 days on FP0001, a lawyer's letter, a broken promise,
    # and its latest measure a visit; the payment of 07-01 is after the as-of date.
    c001 = values(ws, 3)
    assert c001[:4] == ["C001", "杭州明远贸易有限公司", "王五", "A"]
    assert [money(v) for v in c001[4:11]] == [Decimal(x) for x in
        ("9000.50", "9000.50", "0", "0", "0", "0", "9000.50")]  # fmt: skip
    assert c001[11:] == [
        146, "律师函", dt.datetime(2025, 6, 20), "未签回", "上门", "上门拜访，未见负责人",
        dt.datetime(2025, 6, 26), 5000, dt.datetime(2025, 6, 25), "未兑现", "正常",
    ]  # fmt: skip
    c002 = values(ws, 4)
    assert c002[:2] == ["C002", "宁波海辰机械有限公司"]
    assert [money(v) for v in c002[4:6]] == [Decimal("7900.00"), Decimal("7900.00")]
    # The July letter and SMS are after the as-of date; no promise; status set later shows.
    assert c002[11:] == [91, "提醒函", dt.datetime(2025, 6, 1), "未签回", None, None, None,
                         None, None, None, "诉讼中"]  # fmt: skip
    c004 = values(ws, 5)
    assert c004[0] == "C004" and c004[11] == 4
    assert [money(v) for v in c004[4:8]] == [Decimal(x) for x in ("5000", "3000", "2000", "3000")]
    assert c004[18:21] == [3000, dt.datetime(2025, 7, 5), "未到期"]
    c005 = values(ws, 6)
    assert c005[0] == "C005" and c005[20:] == ["已兑现", "有争议"]
    totals = values(ws, 7)
    assert totals[:4] == ["合计", "共 4 户", None, None]
    assert [money(v) for v in totals[4:11]] == [Decimal(x) for x in
        ("22900.50", "20900.50", "2000", "3000", "1000", "0", "16900.50")]  # fmt: skip
    assert ws.max_row == 7  # C003 owes nothing
    assert ws["E3"].number_format == "#,##0.00" and ws["N3"].number_format == "yyyy-mm-dd"
    assert ws["E7"].font.b and ws["E3"].border.left.style == "thin"


def test_weekly_receipts_and_new_overdue(weekly: openpyxl.Workbook) -> None:
    ws = weekly["本周回款"]
    assert values(ws, 2) == [
        "回款日期",
        "客户编号",
        "客户名称",
        "回款金额",
        "对应发票号",
        "收款单号",
    ]
    row = values(ws, 3)
    assert row[:3] == [dt.datetime(2025, 6, 25), "C005", "嘉兴远航物流有限公司"]
    assert money(row[3]) == Decimal("500.00") and row[4:] == ["FP0007", "SK005"]
    assert values(ws, 4)[:3] == ["合计", None, "共 1 笔"]
    assert ws.max_row == 4  # 06-23 is eight days back; 07-01 is after the as-of date
    ws = weekly["新增逾期"]
    assert [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)] == ["C004", "合计"]
    assert values(ws, 3)[5] == 4


def test_weekly_layout_prints_landscape_fitted_to_width(weekly: openpyxl.Workbook) -> None:
    for ws in weekly.worksheets:
        assert ws.page_setup.orientation == "landscape"
        if ws.title == "逾期客户名单":  # 22 columns: full size across pages (issue 22)
            assert not ws.sheet_properties.pageSetUpPr.fitToPage
        else:
            assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$2:$2"
        assert [str(r)[:3] for r in ws.merged_cells.ranges] == ["A1:"]
        assert ws.column_dimensions["B"].width >= 8
    # Chinese names are wide: the name column is sized for them.
    assert weekly["逾期客户名单"].column_dimensions["B"].width >= 20


def test_weekly_report_with_nothing_overdue(desk: Desk, runner: CliRunner) -> None:
    wb = openpyxl.load_workbook(run_report(runner, desk, "weekly", "--as-of", AS_OF))
    ws = wb["逾期客户名单"]
    assert values(ws, 3)[:2] == ["合计", "共 0 户"]
    assert wb["汇总"]["B4"].value == 0


def test_report_out_must_be_xlsx(report_desk: Desk, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main,
        ["--desk", str(report_desk.root), "report", "weekly", "--out", str(tmp_path / "w.pdf")],
    )
    assert result.exit_code == 2
    assert "文件名要以 .xlsx 结尾" in result.stderr


def test_libreoffice_opens_the_weekly_report(
    report_desk: Desk, runner: CliRunner, tmp_path: Path
) -> None:
    require_soffice()
    path = run_report(
        runner, report_desk, "weekly", "--as-of", AS_OF, "--out", str(tmp_path / "w.xlsx")
    )
    profile = (tmp_path / "lo").as_uri()
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={profile}", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    if "source file could not be loaded" in done.stderr and not (tmp_path / "w.pdf").exists():
        require_tool(
            "LibreOffice Calc", lambda: False, install="apt-get install libreoffice-calc-nogui"
        )
    assert (tmp_path / "w.pdf").stat().st_size > 1000, done.stderr


# -- legal hand-over -------------------------------------------------------------------------------


@pytest.fixture
def legal(report_desk: Desk, runner: CliRunner) -> openpyxl.Workbook:
    path = run_report(runner, report_desk, "legal", "--as-of", AS_OF)
    assert path == report_desk.out / "法务移交清单-2025-06-30.xlsx"
    return openpyxl.load_workbook(path)


def test_legal_summary_lists_litigation_and_lawyer_letter_customers(
    legal: openpyxl.Workbook,
) -> None:
    # C001: last letter the lawyer's (level 4); C002: in litigation. C005 is only disputed.
    assert legal.sheetnames == [
        "移交汇总",
        *("C001", "C001 发票", "C001 函件", "C001 记录"),
        *("C002", "C002 发票", "C002 函件", "C002 记录"),
    ]
    ws = legal["移交汇总"]
    assert ws["A1"].value == "示例贸易有限公司　法务移交清单（截至2025年6月30日）"
    c001, c002, totals = values(ws, 3), values(ws, 4), values(ws, 5)
    assert c001[:4] == ["C001", "杭州明远贸易有限公司", "正常", "已发律师函（2025-06-20）"]
    assert [money(v) for v in c001[4:6]] == [Decimal("9000.50"), Decimal("9000.50")]
    assert c001[6:] == [146, 1, 2, 1, "律师函", dt.datetime(2025, 6, 20)]
    assert c002[:4] == ["C002", "宁波海辰机械有限公司", "诉讼中", "状态：诉讼中"]
    assert c002[6:11] == [91, 1, 1, 0, "提醒函"]
    assert totals[:2] == ["合计", "共 2 户"] and money(totals[5]) == Decimal("16900.50")
    # Each code opens the customer's papers; the totals row links nowhere.
    assert [ws[f"A{r}"].hyperlink.location for r in (3, 4)] == ["'C001'!A1", "'C002'!A1"]
    assert ws["A5"].hyperlink is None


def sections(ws: Worksheet) -> dict[str, list[list[object]]]:
    """Each section's table rows (header first), keyed by its heading."""
    found: dict[str, list[list[object]]] = {}
    current: list[list[object]] | None = None
    for row in ws.iter_rows(min_row=3, values_only=True):
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        if len(cells) == 1 and isinstance(cells[0], str) and "、" in cells[0]:
            current = found.setdefault(cells[0], [])
        elif cells and current is not None:
            current.append(cells)
    return found


def customer_sections(wb: openpyxl.Workbook, code: str) -> dict[str, list[list[object]]]:
    """The sections of all of a customer's sheets ("C001", "C001 发票", ...), in sheet order."""
    found: dict[str, list[list[object]]] = {}
    for ws in wb.worksheets:
        if ws.title == code or ws.title.startswith(f"{code} "):
            found.update(sections(ws))
    return found


def test_legal_detail_sheets_hold_what_a_lawyer_needs(legal: openpyxl.Workbook) -> None:
    ws = legal["C001"]
    assert ws["A1"].value == (
        "示例贸易有限公司　法务移交资料（截至2025年6月30日）\nC001 杭州明远贸易有限公司"
    )
    parts = customer_sections(legal, "C001")
    assert list(parts) == [
        "一、客户信息", "二、欠款情况", "三、合同", "四、未收发票", "五、催款函件", "六、签收回执",
        "七、催收记录",
    ]  # fmt: skip
    info = dict(parts["一、客户信息"])  # label/value pairs: no header row
    assert info["地址"] == "杭州市滨江区江南大道1号" and info["电话"] == "0571-1234567"
    debt = dict(parts["二、欠款情况"])
    assert money(debt["应收余额"]) == Decimal("9000.50") and debt["最长逾期天数"] == 146
    assert parts["三、合同"][1][0] == "HT-2025-0001" and parts["三、合同"][1][3] == "购销合同"
    assert parts["三、合同"][1][1] == dt.datetime(2025, 1, 2)
    assert money(parts["三、合同"][1][2]) == Decimal("15000.50")
    invoices = parts["四、未收发票"]
    assert [r[0] for r in invoices[1:]] == ["FP0001", "FP0002", "合计"]
    assert money(invoices[1][5]) == Decimal("8000.00") and invoices[1][6] == 146
    # By hand: FP0001 10,000.00 + FP0002 5,000.50 invoiced = 15,000.50; open 8,000.00 (the
    # unmarked 2,000 taken by the oldest) + 1,000.50 (5,000.50 less 1,000 received and 3,000
    # paid against it) = 9,000.50, the balance; SK006 comes after the as-of day.
    total = invoices[3]
    assert total[1] == "共 2 张" and money(total[4]) == Decimal("15000.50")
    assert money(total[5]) == Decimal("9000.50") == money(debt["应收余额"])
    letters = parts["五、催款函件"]
    assert [r[:4] for r in letters[1:]] == [
        ["CS-2025-000001", 2, "催款函", dt.datetime(2025, 5, 1)],
        ["CS-2025-000002", 4, "律师函", dt.datetime(2025, 6, 20)],
    ]
    assert letters[1][5:] == ["已签回", dt.datetime(2025, 5, 8)] and letters[2][5:] == ["未签回"]
    receipts = parts["六、签收回执"]
    assert receipts[0] == letters[0]  # the same columns as the letters
    assert receipts[1][:4] == ["CS-2025-000001", 2, "催款函", dt.datetime(2025, 5, 1)]
    assert money(receipts[1][4]) == Decimal("9000.50")
    assert receipts[1][5:] == ["已签回", dt.datetime(2025, 5, 8)]
    log = parts["七、催收记录"]
    assert [r[1] for r in log[1:]] == ["电话", "承诺付款", "上门"]
    assert log[2][4:7] == [5000, dt.datetime(2025, 6, 25), "未兑现"]
    # C002 has no contract amount and no signed receipt: the sections say so.
    other = customer_sections(legal, "C002")
    assert other["六、签收回执"][1:] == [["（无）"]]


def test_legal_report_with_no_cases(desk: Desk, runner: CliRunner) -> None:
    wb = openpyxl.load_workbook(run_report(runner, desk, "legal", "--as-of", AS_OF))
    assert wb.sheetnames == ["移交汇总"]
    assert values(wb["移交汇总"], 3)[0] == "（无）"
