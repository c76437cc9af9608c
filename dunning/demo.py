"""`dunning demo`: a desk filled with realistic sample data, ingested, with a letter pack made.

Everything is generated here: a customer master (XLSX), an invoice ledger (GBK CSV, as Chinese
ERPs export it), a payment list (XLSX) and contract PDFs with Chinese text.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl

from dunning.archive.db import open_archive, write_transaction
from dunning.dates import office_today
from dunning.desk import Desk, init_desk
from dunning.errors import DeskExistsError
from dunning.ingest.pipeline import IngestReport, ingest_paths
from dunning.letters.pack import PackResult, plan_pack, write_pack
from dunning.letters.pdf import soffice_path

MARKER = ".dunning-demo"

CUSTOMERS = [
    (
        "C001",
        "杭州明远贸易有限公司",
        "浙江省杭州市拱墅区莫干山路188号",
        "王建国",
        "0571-85551234",
        "A",
        "陈晓",
    ),
    (
        "C002",
        "宁波海辰机械制造有限公司",
        "浙江省宁波市北仑区明州路66号",
        "李海峰",
        "0574-86662345",
        "B",
        "陈晓",
    ),
    (
        "C003",
        "苏州恒通电子科技有限公司",
        "江苏省苏州市工业园区星湖街328号",
        "张敏",
        "0512-67773456",
        "B",
        "刘洋",
    ),
    (
        "C004",
        "上海申达物流有限公司",
        "上海市浦东新区张江路1000号",
        "赵磊",
        "021-58884567",
        "C",
        "刘洋",
    ),
    (
        "C005",
        "南京金陵建材有限公司",
        "江苏省南京市江宁区天元中路9号",
        "孙丽",
        "025-52225678",
        "C",
        "周婷",
    ),
    (
        "C006",
        "温州瓯江服饰有限公司",
        "浙江省温州市鹿城区车站大道77号",
        "钱伟",
        "0577-88996789",
        "A",
        "周婷",
    ),
    ("C007", "合肥安徽众鑫化工有限公司", "", "吴刚", "0551-63337890", "D", "陈晓"),
]
# Days overdue of each customer's oldest open invoice on the demo's as-of day.
OLDEST_OVERDUE = {
    "C001": 12,
    "C002": 45,
    "C003": 75,
    "C004": 130,
    "C005": 5,
    "C006": -10,
    "C007": 95,
}


@dataclass
class DemoResult:
    desk: Desk
    ingest: IngestReport
    pack: PackResult
    pdf_skipped: str | None


def build_demo(root: Path, *, replace: bool = False, as_of: dt.date | None = None) -> DemoResult:
    """Create the demo desk at `root`, ingest its sample files and make a letter pack."""
    if replace and (root / MARKER).is_file():
        shutil.rmtree(root)
    if (root / "dunning.toml").exists():
        raise DeskExistsError(
            f"{root} 已经存在：请删除它，或运行 `dunning demo --replace` 重新生成。"
        )
    desk = init_desk(root)
    (desk.root / MARKER).write_text("由 `dunning demo` 生成，可以放心删除\n", encoding="utf-8")
    day = as_of or office_today(desk.config.timezone)
    rnd = random.Random(2025)
    write_customer_master(desk.inbox / "ledgers" / "客户档案.xlsx")
    invoices = sample_invoices(day, rnd)
    write_invoice_csv(desk.inbox / "ledgers" / "应收账款台账.csv", invoices)
    write_payments_xlsx(desk.inbox / "ledgers" / "回款明细.xlsx", invoices, day, rnd)
    for code, contract_no, amount, signed in sample_contracts(invoices):
        name = next(c[1] for c in CUSTOMERS if c[0] == code)
        (desk.inbox / "contracts" / f"{contract_no} 购销合同.pdf").write_bytes(
            contract_pdf(contract_no, name, desk.config.company["name"], amount, signed)
        )
    report = ingest_paths(desk, [desk.inbox])
    with open_archive(desk.db_path) as db:
        with write_transaction(db) as conn:
            conn.execute("UPDATE customers SET status = 'disputed' WHERE code = 'C003'")
        # Three earlier fortnightly runs give the customers a letter history to escalate from.
        for weeks_ago in (6, 4, 2):
            earlier = day - dt.timedelta(weeks=weeks_ago)
            write_pack(desk, db, plan_pack(db, desk.config, as_of=earlier))
        plan = plan_pack(db, desk.config, as_of=day)
        pdf = soffice_path() is not None
        pack = write_pack(desk, db, plan, pdf=pdf)
    skipped = None if pdf else "没有安装 LibreOffice，所以函件包没有 PDF"
    return DemoResult(desk, report, pack, skipped)


def write_customer_master(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案"
    ws.append(["客户档案（信用管理部）"])
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(["客户编号", "客户名称", "联系地址", "联系人", "联系电话", "信用等级", "业务员"])
    for row in CUSTOMERS:
        ws.append(list(row))
    wb.save(path)


@dataclass(frozen=True)
class SampleInvoice:
    code: str
    name: str
    contract_no: str
    invoice_no: str
    issued: dt.date
    due: dt.date
    amount: Decimal


def sample_invoices(as_of: dt.date, rnd: random.Random) -> list[SampleInvoice]:
    invoices = []
    number = 1
    for n, (code, name, *_rest) in enumerate(CUSTOMERS, start=1):
        contract_no = f"HT-{as_of.year}-{n:04d}"
        oldest = OLDEST_OVERDUE[code]
        for k in range(4):
            due = as_of - dt.timedelta(days=oldest - 20 * k)
            if due - dt.timedelta(days=30) > as_of:
                break  # not invoiced yet
            amount = Decimal(rnd.randrange(300_000, 9_000_000)) / 100
            invoices.append(
                SampleInvoice(
                    code,
                    name,
                    contract_no,
                    f"FP{as_of.year}{number:05d}",
                    due - dt.timedelta(days=30),
                    due,
                    amount,
                )
            )
            number += 1
    return invoices


def write_invoice_csv(path: Path, invoices: list[SampleInvoice]) -> None:
    lines = ["应收账款台账,,,,,,", "客户编号,客户名称,合同编号,发票号码,开票日期,到期日,价税合计"]
    total = Decimal(0)
    for inv in invoices:
        lines.append(
            f"{inv.code},{inv.name},{inv.contract_no},{inv.invoice_no},"
            f'{inv.issued:%Y/%m/%d},{inv.due.year}年{inv.due.month}月{inv.due.day}日,"{inv.amount:,.2f}"'
        )
        total += inv.amount
    lines.append(f'合计,,,,,,"{total:,.2f}"')
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))


def write_payments_xlsx(
    path: Path, invoices: list[SampleInvoice], as_of: dt.date, rnd: random.Random
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "回款明细"
    ws.append(["收款单号", "客户编号", "收款日期", "收款金额", "对应发票号"])
    n = 1
    for inv in invoices:
        # The oldest invoices of the well-behaved customers are paid, some in part.
        if inv.due > as_of:
            continue
        if inv.code in ("C001", "C005", "C006") or rnd.random() < 0.25:
            paid = inv.amount if rnd.random() < 0.7 else (inv.amount / 2).quantize(Decimal("0.01"))
            day = min(inv.due + dt.timedelta(days=rnd.randrange(0, 10)), as_of)
            ref = inv.invoice_no if rnd.random() < 0.8 else None
            ws.append(
                [f"SK{as_of.year}{n:05d}", inv.code, dt.datetime.combine(day, dt.time()), paid, ref]
            )
            n += 1
    wb.save(path)


def sample_contracts(invoices: list[SampleInvoice]) -> list[tuple[str, str, Decimal, dt.date]]:
    seen: dict[str, tuple[str, str, Decimal, dt.date]] = {}
    for inv in invoices:
        if inv.contract_no not in seen:
            total = sum(
                (i.amount for i in invoices if i.contract_no == inv.contract_no), Decimal(0)
            )
            seen[inv.contract_no] = (
                inv.code,
                inv.contract_no,
                total,
                inv.issued - dt.timedelta(days=15),
            )
    return [seen[k] for k in sorted(seen)][:5]


def contract_pdf(
    contract_no: str, buyer: str, seller: str, amount: Decimal, signed: dt.date
) -> bytes:
    lines = [
        "工业品买卖合同",
        f"合同编号：{contract_no}",
        f"买方（甲方）：{buyer}",
        f"卖方（乙方）：{seller}",
        f"签订日期：{signed.year}年{signed.month}月{signed.day}日",
        "第一条 标的、数量、价款：乙方向甲方供应工业设备及配件，",
        f"合同总价：人民币{amount:,.2f}元（含增值税）。",
        "第二条 付款方式：甲方应于每批货物验收合格且收到发票后三十日内付清该批货款。",
        "第三条 质保金：合同总价的百分之五作为质保金，质保期满后十五日内退还。",
        "第四条 违约责任：甲方逾期付款的，每逾期一日按逾期金额的万分之五支付违约金。",
        "第五条 争议解决：协商不成的，任何一方均可向乙方所在地人民法院提起诉讼。",
        "甲方（盖章）：                乙方（盖章）：",
    ]
    return simple_pdf(lines)


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF of Chinese text in the standard STSong-Light font (not embedded)."""

    def hexline(text: str) -> str:
        return "<" + text.encode("utf-16-be").hex().upper() + ">"

    body = ["BT", "/F1 12 Tf", "16 TL", "60 780 Td"]
    for n, line in enumerate(lines):
        body.append(f"{hexline(line)} Tj" + (" T*" if n < len(lines) - 1 else ""))
    body.append("ET")
    stream = "\n".join(body).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF file of numbered objects (object 1 the catalog) with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
