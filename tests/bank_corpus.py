"""A generated corpus of corporate bank statements (SPEC §11 layouts) with realistic noise.

`make_world(seed)` builds customers and open invoices (an invoice ledger CSV), letters, and a
list of bank transactions, each with its truth: whose money it is (or nobody's: interest, a
refund, outgoing money). `write_statement(layout, rows, path)` writes the rows in one of the
banks' layouts. The transactions cover: references in the memo amid boilerplate (letter
references, 8- and 20-digit invoice numbers in full width or with spaces, contract numbers),
names written with other brackets and spaces, parent-company payers and the owner's personal
account, combined payments for 2-5 invoices, partial payments, bank fees deducted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl

OUR_ACCOUNT = "1202020109900012345"
OUR_NAME = "示例贸易有限公司"
_CITIES = ["杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "苏州", "无锡", "常州"]
_WORDS = [
    "明远",
    "海辰",
    "宏达",
    "恒信",
    "瑞丰",
    "华泰",
    "金桥",
    "东方",
    "新锐",
    "汇通",
    "永盛",
    "天成",
    "博远",
    "嘉禾",
    "联创",
    "中和",
    "鼎新",
    "三友",
    "同创",
    "立德",
    "启航",
    "正泰",
]
_TRADES = ["贸易", "机械", "电子", "建材", "化工", "纺织", "物流", "科技", "食品", "五金"]
_PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"]
_BOILER = ["货款", "往来款", "支付货款", "转账", "网银转账", "汇款", "结算款", "付款"]


@dataclass
class Invoice:
    number: str
    customer: str
    date: dt.date
    due: dt.date
    amount: Decimal


@dataclass
class Customer:
    code: str
    name: str
    account: str
    contract: str
    invoices: list[Invoice] = field(default_factory=list)


@dataclass
class Txn:
    """One statement row and its truth."""

    on: dt.datetime
    amount: Decimal  # positive
    incoming: bool
    payer_name: str
    payer_account: str
    memo: str
    serial: str
    truth: str | None  # the customer whose money it is; None: not a customer's payment
    scenario: str
    balance: Decimal = Decimal("0.00")


@dataclass
class World:
    customers: list[Customer]
    letters: dict[str, str]  # ref -> customer code
    txns: list[Txn]

    def invoice_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(
            ["客户编号", "客户名称", "合同编号", "发票号码", "开票日期", "到期日", "应收金额"]
        )
        for c in self.customers:
            for inv in c.invoices:
                w.writerow([c.code, c.name, c.contract, inv.number, inv.date, inv.due, inv.amount])
        return out.getvalue()


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _width(rng: random.Random, text: str) -> str:
    """Sometimes full-width digits and letters, or spaces inside a number."""
    roll = rng.random()
    if roll < 0.25:
        return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    if roll < 0.4 and text.isdigit():
        return f"{text[:4]} {text[4:]}"
    if roll < 0.5:
        return text.lower()
    return text


def _customers(rng: random.Random, n: int) -> list[Customer]:
    names: set[str] = set()
    out = []
    while len(out) < n:
        name = f"{rng.choice(_CITIES)}{rng.choice(_WORDS)}{rng.choice(_TRADES)}有限公司"
        if name in names:
            continue
        names.add(name)
        code = f"C{len(out) + 1:03d}"
        account = "".join(rng.choice("0123456789") for _ in range(19))
        out.append(Customer(code, name, account, f"HT-2026-{len(out) + 1:04d}"))
    return out


def _invoices(rng: random.Random, customers: list[Customer], start: dt.date) -> None:
    used: set[Decimal] = set()
    for c in customers:
        for k in range(rng.randint(3, 8)):
            digits = 20 if rng.random() < 0.5 else 8
            number = "".join(rng.choice("0123456789") for _ in range(digits))
            number = "1" + number[1:]
            date = start + dt.timedelta(days=rng.randint(0, 60) + k)
            amount = _money(rng, 800, 90000)
            while amount in used:
                amount += Decimal("0.01")
            used.add(amount)
            c.invoices.append(Invoice(number, c.code, date, date + dt.timedelta(days=30), amount))


def make_world(seed: int, *, customers: int = 30, receipts: int = 240) -> World:
    rng = random.Random(seed)
    cs = _customers(rng, customers)
    _invoices(rng, cs, dt.date(2026, 1, 5))
    letters = {f"CS-2026-{i + 1:06d}": c.code for i, c in enumerate(cs) if i % 2 == 0}
    by_code = {c.code: c for c in cs}
    refs = {code: ref for ref, code in letters.items()}
    # What each customer still owes, oldest first, as the generator pays it down.
    open_of = {
        c.code: [Invoice(i.number, i.customer, i.date, i.due, i.amount) for i in c.invoices]
        for c in cs
    }
    txns: list[Txn] = []
    when = dt.datetime(2026, 4, 1, 9, 0, 0)
    serial = 880000
    for _ in range(receipts):
        when += dt.timedelta(minutes=rng.randint(7, 300))
        serial += rng.randint(1, 9)
        c = by_code[rng.choice(list(by_code))]
        scenario = rng.choices(
            ["letter", "invoice", "contract", "name", "combined", "fee", "parent", "owner",
             "partial", "outgoing", "interest", "refund", "known_account"],
            weights=[8, 10, 4, 12, 8, 6, 5, 4, 5, 14, 3, 3, 6],
        )[0]  # fmt: skip
        if scenario in ("letter",) and c.code not in refs:
            scenario = "invoice"
        pending = open_of[c.code]
        if not pending and scenario not in ("outgoing", "interest", "refund"):
            scenario = "outgoing"
        txns.append(_txn(rng, scenario, c, pending, refs, when, f"{serial:012d}"))
    _balances(txns, Decimal("100000.00"))
    return World(cs, letters, txns)


def _name_variant(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return f"{name[:2]} {name[2:]}"  # a space typed after the city
    if roll < 0.3:
        return name.replace("有限公司", "有限责任公司")
    return name


def _txn(
    rng: random.Random,
    scenario: str,
    c: Customer,
    pending: list[Invoice],
    refs: dict[str, str],
    when: dt.datetime,
    serial: str,
) -> Txn:
    boiler = rng.choice(_BOILER)
    if scenario == "outgoing":
        return Txn(when, _money(rng, 50, 30000), False, "杭州某供应商有限公司", "33001616",
                   "支付材料款", serial, None, scenario)  # fmt: skip
    if scenario == "interest":
        return Txn(when, _money(rng, 1, 300), True, "", "", "结息 利息入账", serial, None,
                   scenario)  # fmt: skip
    if scenario == "refund":
        return Txn(when, _money(rng, 100, 5000), True, "上海某物流有限公司", "31001234567",
                   "退回多付运费", serial, None, scenario)  # fmt: skip
    inv = pending[0]
    name = _name_variant(rng, c.name)
    if scenario == "letter":
        pending.pop(0)
        memo = f"{boiler} 按贵司函件 {refs[c.code]} 付款"
        return Txn(when, inv.amount, True, name, c.account, memo, serial, c.code, scenario)
    if scenario == "invoice":
        pending.pop(0)
        memo = f"{boiler}，发票号{_width(rng, inv.number)}，请查收"
        return Txn(when, inv.amount, True, name, c.account, memo, serial, c.code, scenario)
    if scenario == "contract":
        pending.pop(0)
        memo = f"{_width(rng, c.contract)} {boiler}"
        return Txn(when, inv.amount, True, name, c.account, memo, serial, c.code, scenario)
    if scenario in ("name", "known_account"):
        pending.pop(0)
        return Txn(when, inv.amount, True, name, c.account, boiler, serial, c.code, scenario)
    if scenario == "combined":
        k = min(len(pending), rng.randint(2, 5))
        total = sum((i.amount for i in pending[:k]), Decimal("0.00"))
        del pending[:k]
        return Txn(when, total, True, name, c.account, f"{boiler} {k}笔", serial, c.code,
                   scenario)  # fmt: skip
    if scenario == "fee":
        pending.pop(0)
        fee = Decimal(rng.choice([5, 10, 15, 20, 25]))
        return Txn(when, inv.amount - fee, True, name, c.account, boiler, serial, c.code,
                   scenario)  # fmt: skip
    if scenario == "parent":
        pending.pop(0)
        parent = f"{rng.choice(_CITIES)}{rng.choice(_WORDS)}控股集团有限公司"
        return Txn(when, inv.amount, True, parent, "62" + c.account[2:], f"代{c.name[2:6]}付货款",
                   serial, c.code, scenario)  # fmt: skip
    if scenario == "owner":
        pending.pop(0)
        person = rng.choice(_PEOPLE)
        return Txn(when, inv.amount, True, person, "6222" + c.account[4:], "转账", serial,
                   c.code, scenario)  # fmt: skip
    # partial: part of the oldest invoice; what is left stays open (on the generator's copy)
    part = (inv.amount * Decimal(rng.choice(["0.3", "0.5", "0.6"]))).quantize(Decimal("0.01"))
    inv.amount -= part
    return Txn(when, part, True, name, c.account, f"{boiler} 部分", serial, c.code, scenario)


# --- layouts ---------------------------------------------------------------------------------


def _balances(rows: list[Txn], opening: Decimal) -> None:
    bal = opening
    for t in rows:
        bal += t.amount if t.incoming else -t.amount
        t.balance = bal


def _d(t: Txn) -> str:
    return t.on.strftime("%Y-%m-%d")


def _tm(t: Txn) -> str:
    return t.on.strftime("%H:%M:%S")


def _amt(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _in_out(t: Txn) -> tuple[Decimal | None, Decimal | None]:
    return (t.amount, None) if t.incoming else (None, t.amount)


def layout_icbc02(rows: list[Txn]) -> list[list[object]]:
    head = [
        ["账号:", OUR_ACCOUNT],
        ["户名:", OUR_NAME],
        ["网点号:", "1202"],
        ["币种:", "人民币"],
        [],
    ]
    out: list[list[object]] = [*head, ["日期", "交易类型", "对方户名", "对方账号", "摘要",
                                       "借方发生额", "贷方发生额", "余额"]]  # fmt: skip
    for t in rows:
        cr, dr = _in_out(t)
        out.append([f"{_d(t)} {_tm(t)}", "转账", t.payer_name, t.payer_account, t.memo,
                    _amt(dr), _amt(cr), _amt(t.balance)])  # fmt: skip
    out.append(["合计", "", "", "", "", "", "", ""])
    return out


def layout_icbc01(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["[HISTORYDETAIL]"], ["凭证号", "对方账号", "交易时间", "借贷标志",
        "对方单位", "对方行号", "用途", "摘要", "附言", "回单个性化信息", "余额", "转出金额",
        "转入金额", "本方账号"]]  # fmt: skip
    for t in rows:
        cr, dr = _in_out(t)
        out.append([t.serial, t.payer_account, f"{_d(t)} {_tm(t)}", "贷" if t.incoming else "借",
                    t.payer_name, "102331", "", "", t.memo, "", _amt(t.balance), _amt(dr),
                    _amt(cr), OUR_ACCOUNT])  # fmt: skip
    return out


def layout_ccb01(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["中国建设银行"], ["明细查询结果"], ["明细查询结果下载"],
        ["开户机构", "建行杭州分行", "币种", "人民币"], ["账\u3000\u3000号", OUR_ACCOUNT, "利\u3000\u3000率", "0.35%"],
        ["账户名称", OUR_NAME, "账户状态", "正常"], [],
        ["记账日期", "交易时间", "凭证种类", "凭证号", "发生额/元", "", "余额/元", "钞汇标志",
         "对方户名", "对方账号", "摘要", "备注", "账户明细编号-交易流水号", "企业流水号"],
        ["", "", "", "", "借方", "贷方", "", "", "", "", "", "", "", ""]]  # fmt: skip
    for t in rows:
        cr, dr = _in_out(t)
        out.append([t.on.strftime("%Y%m%d"), _tm(t), "电子转账凭证", "", _amt(dr) or 0,
                    _amt(cr) or 0, float(t.balance), "钞", t.payer_name, t.payer_account,
                    "转账", t.memo, t.serial, ""])  # fmt: skip
    return out


def layout_abc01(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["账户明细"], ["账号:", OUR_ACCOUNT, "户名:", OUR_NAME],
        ["币种:", "人民币", "起止日期:", "20260401-20260630"],
        ["交易时间", "收入金额", "支出金额", "账户余额", "交易行名", "对方省市", "对方账号",
         "对方户名", "交易用途", "摘要", "会计日期"]]  # fmt: skip
    for t in rows:
        cr, dr = _in_out(t)
        out.append([t.on.strftime("%Y%m%d %H:%M:%S"), _amt(cr), _amt(dr), _amt(t.balance),
                    "农行", "浙江", t.payer_account, t.payer_name, t.memo, "转账",
                    t.on.strftime("%Y%m%d")])  # fmt: skip
    return out


def layout_bocom01(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["查询账号:", OUR_ACCOUNT], ["户  名:", OUR_NAME],
        ["交易时间", "摘要", "凭证种类", "凭证号码", "企业业务编号", "发生额", "币种", "余额",
         "对方账号", "对方户名", "借贷标志", "卡号"]]  # fmt: skip
    for t in rows:
        out.append([f"{_d(t)} {_tm(t)}", t.memo, "", "", "", _amt(t.amount), "CNY",
                    _amt(t.balance), t.payer_account, t.payer_name, "贷" if t.incoming else "借",
                    ""])  # fmt: skip
    return out


def layout_boc01(rows: list[Txn]) -> list[list[object]]:
    def h(zh: str, en: str) -> str:
        return f"{zh}[ {en} ]"

    out: list[list[object]] = [[h("查询账号", "Inquiry Account"), OUR_ACCOUNT],
        [h("总笔数", "Total"), len(rows)], [],
        [h("交易类型", "Transaction Type"), h("付款人账号", "Debit Account No."),
         h("付款人名称", "Payer's Name"), h("收款人账号", "Payee's Account Number"),
         h("收款人名称", "Payee's Name"), h("交易日期", "Transaction Date"),
         h("交易时间", "Transaction Time"), h("交易货币", "Trade Currency"),
         h("交易金额", "Trade Amount"), h("交易后余额", "After-transaction balance"),
         h("交易流水号", "Transaction reference number"), h("摘要", "Reference"),
         h("用途", "Purpose"), h("交易附言", "Remark"), h("备注", "Remarks")]]  # fmt: skip
    for t in rows:
        payer = (t.payer_account, t.payer_name) if t.incoming else (OUR_ACCOUNT, OUR_NAME)
        payee = (OUR_ACCOUNT, OUR_NAME) if t.incoming else (t.payer_account, t.payer_name)
        out.append(["转账", *payer, *payee, t.on.strftime("%Y%m%d"), _tm(t), "CNY",
                    _amt(t.amount), _amt(t.balance), t.serial, "", "", t.memo, ""])  # fmt: skip
    return out


def layout_cbhb02(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["", "明细查询下载"], ["", "查询日期：", "2026-07-01"],
        ["", "账号：", OUR_ACCOUNT], ["", "账户名称：", OUR_NAME],
        ["", "交易日期", "交易时间", "交易流水号", "凭证号", "收支标识", "交易金额", "账户余额",
         "对方户名", "对方账号", "对方行名", "渠道", "备注", "摘要"]]  # fmt: skip
    for t in rows:
        out.append(["", _d(t), _tm(t), t.serial, "", "收入" if t.incoming else "支出",
                    float(t.amount), float(t.balance), t.payer_name, t.payer_account, "渤海银行",
                    "网银", t.memo, "转账"])  # fmt: skip
    return out


def layout_cmbc01(rows: list[Txn]) -> list[list[object]]:
    out: list[list[object]] = [["账户名称:", OUR_NAME], ["账号:", OUR_ACCOUNT], ["币种:", "人民币"],
        ["交易时间", "交易流水号", "借方发生额", "贷方发生额", "账户余额", "凭证号", "客户附言",
         "对方账号", "对方账号名称", "对方开户行"]]  # fmt: skip
    for t in rows:
        cr, dr = _in_out(t)
        out.append([f"{_d(t)} {_tm(t)}", t.serial, _amt(dr), _amt(cr), _amt(t.balance), "",
                    t.memo, t.payer_account, t.payer_name, "民生银行"])  # fmt: skip
    return out


LAYOUTS = {
    "icbc01": layout_icbc01,
    "icbc02": layout_icbc02,
    "ccb01": layout_ccb01,
    "abc01": layout_abc01,
    "bocom01": layout_bocom01,
    "boc01": layout_boc01,
    "cbhb02": layout_cbhb02,
    "cmbc01": layout_cmbc01,
}


def write_grid(grid: list[list[object]], path: Path, *, encoding: str = "gbk") -> Path:
    """CSV in `encoding`, or XLSX when the path ends in .xlsx."""
    if path.suffix == ".xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        for row in grid:
            ws.append(row)
        wb.save(path)
        return path
    out = io.StringIO()
    csv.writer(out).writerows(grid)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_statement(layout: str, rows: list[Txn], path: Path, *, encoding: str = "gbk") -> Path:
    """Rows (consecutive transactions of the world, with their running balance) in a layout."""
    return write_grid(LAYOUTS[layout](rows), path, encoding=encoding)
