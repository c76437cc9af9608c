"""Ledger header recognition: which column is which field, where the header row is, which kind.

Headers are matched whole (after normalising width, case, spaces and a unit suffix such as
`(元)`), never by substring, so a title row like `应收账款明细表` is not mistaken for a header.
A header may span two rows (a group such as 本期发生 over 借方/贷方, or 2025年 over 月/日).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from dunning.errors import IngestError
from dunning.money import known_currency

# field -> aliases, strongest first: when two columns match the same field, the stronger
# alias wins (a file with both 价税合计 and 金额 owes the 价税合计).
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_code": (
        "客户编号", "客户代码", "客户编码", "客户号", "客户id", "单位编号", "单位代码",
        "单位编码", "往来单位编号", "往来单位代码", "往来单位编码", "customercode",
        "customerno", "customernumber", "customerid", "custcode", "custno", "clientcode",
        "clientno", "clientid",
    ),
    "customer_name": (
        "客户名称", "单位名称", "客户全称", "往来单位", "往来单位名称", "购货单位",
        "购方名称", "购买方名称", "付款单位", "付款单位名称", "付款方", "客户",
        "customername", "customer", "clientname", "client", "payer",
    ),
    "contract_no": (
        "合同编号", "合同号", "合同号码", "合同", "contractno", "contractnumber", "contract",
    ),
    "invoice_no": (
        "发票号码", "发票号", "发票编号", "单据号", "单据编号", "单号", "invoiceno",
        "invoicenumber", "invoice", "invno", "documentno",
    ),
    "invoice_date": (
        "开票日期", "发票日期", "业务日期", "单据日期", "invoicedate", "documentdate",
        "日期", "date",
    ),
    "due_date": (
        "到期日", "到期日期", "应收日期", "约定付款日", "约定付款日期", "约定收款日",
        "约定收款日期", "付款到期日", "duedate", "due", "paymentduedate",
    ),
    "amount": (
        "应收金额", "价税合计", "发票金额", "含税金额", "开票金额", "应收款", "应收账款",
        "本位币金额", "本币金额", "应收金额本位币", "价税合计本位币", "金额本位币",
        "invoiceamount", "金额", "amount",
    ),
    "received": (
        "已收金额", "已回款", "已回款金额", "已收款", "已收款金额", "已收", "累计收款",
        "累计回款", "received", "amountreceived", "receivedamount", "amountpaid", "paid",
        # Yonyou / Kingdee 核销: what has been settled against the invoice.
        "已核销金额", "核销金额", "已核销", "累计核销", "累计核销金额", "本次核销",
        "本次核销金额", "已收金额本位币", "核销金额本位币", "已核销金额本位币",
    ),
    "paid_on": (
        "回款日期", "收款日期", "到账日期", "回款日", "收款日", "paymentdate", "receiptdate",
        "datepaid", "paiddate",
    ),
    "paid_amount": (
        "回款金额", "收款金额", "到账金额", "本次收款", "本次回款", "paymentamount",
        "receiptamount", "收款金额本位币", "回款金额本位币",
    ),
    "currency": ("币种", "币别", "币种名称", "币别名称", "货币", "币制", "currency", "ccy", "curr"),
    "invoice_ref": (
        "对应发票号", "对应发票号码", "核销发票号", "关联发票号", "关联发票", "invoiceref",
        "invoicereference", "forinvoice", "appliedinvoice",
    ),
    "payment_no": (
        "收款单号", "回款单号", "流水号", "银行流水号", "收款单编号", "回款单编号", "回单号",
        "paymentno", "paymentnumber", "paymentid", "receiptno", "receiptnumber",
    ),
    "address": (
        "地址", "联系地址", "通讯地址", "客户地址", "单位地址", "邮寄地址", "address",
        "mailingaddress",
    ),
    "contact": ("联系人", "联系人姓名", "对接人", "contact", "contactperson", "contactname"),
    "phone": (
        "电话", "联系电话", "手机", "手机号", "手机号码", "电话号码", "联系方式", "phone",
        "tel", "telephone", "mobile",
    ),
    "credit_grade": (
        "信用等级", "信用级别", "信用评级", "creditgrade", "creditrating", "creditlevel",
    ),
    "salesperson": (
        "业务员", "销售员", "销售人员", "客户经理", "业务负责人", "salesperson", "salesrep",
        "accountmanager",
    ),
    # Detail ledgers (客户往来明细账, 应收款明细表, 往来对账单): dated debits and credits.
    "debit": (
        "借方", "借方金额", "借方发生额", "借方发生", "借方发生金额", "借方本币", "借方本位币",
        "本期借方",
        "本期应收", "应收增加", "增加", "debit", "debitamount", "dr",
    ),
    "credit": (
        "贷方", "贷方金额", "贷方发生额", "贷方发生", "贷方发生金额", "贷方本币", "贷方本位币",
        "本期贷方",
        "本期收款", "本期已收", "应收减少", "减少", "credit", "creditamount", "cr",
    ),
    "balance": (
        "余额", "期末余额", "余额金额", "本期余额", "应收余额", "余额本位币", "余额本币",
        "未收金额", "未收款", "欠款余额", "balance", "outstanding",
        "未核销金额", "未核销余额", "未核销", "未核销金额本位币", "未收金额本位币",
    ),
    "direction": ("方向", "余额方向", "借或贷", "借贷", "借贷方向", "drcr"),
    "summary": ("摘要", "业务摘要", "说明", "summary", "description", "memo"),
    "voucher": ("凭证字号", "凭证号", "凭证字", "凭证编号", "voucher", "voucherno"),
    "year": ("年", "年份", "year"),
    "month": ("月", "月份", "month"),
    "day": ("日", "day"),
    "account": ("科目代码", "科目编码", "科目名称", "会计科目", "科目", "accountcode"),
}  # fmt: skip

# Aliases so plain that they only say "a date" / "an amount"; the kind decides what they mean.
GENERIC = frozenset({"日期", "date", "金额", "amount"})

_ALIAS_INDEX: dict[str, tuple[str, int]] = {
    alias: (name, rank) for name, aliases in ALIASES.items() for rank, alias in enumerate(aliases)
}
# A trailing note such as (元), (含税) or (yyyy-mm-dd) does not change what the column is.
_UNIT_SUFFIX = re.compile(r"\([^()]*\)$")
_PUNCT = re.compile(r"[\s_\-.:#*/]+")
_MEANINGFUL_SUFFIX = re.compile(r"不含税|未税|税前|净额|原币|外币")
_SCALES = (("万元", 10000), ("千元", 1000))

MASTER_FIELDS = ("address", "contact", "phone", "credit_grade", "salesperson")
HEADER_SCAN_ROWS = 30
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")

NEEDS = (
    "发票台账需要客户编号或客户名称、发票号码、开票日期和应收金额；"
    "回款台账需要客户编号或客户名称、回款日期和回款金额；"
    "客户资料需要客户编号或客户名称，以及地址、联系人、电话、信用等级或业务员之一；"
    "明细台账需要日期、借方和贷方（另有余额，客户写在一列中、标题行如 客户：KH003 某某公司，"
    "或作为工作表名）"
)


@dataclass(frozen=True)
class Column:
    index: int  # 0-based position in the row
    header: str  # as written in the file
    rank: int  # position of the matched alias: lower is stronger
    generic: bool
    scale: int = 1  # amounts in 万元 (10000) or 千元 (1000) as the header says
    currency: str | None = None  # a currency the header names: 应收金额(USD), 金额（美元）


def normalise_header(cell: object) -> str:
    """` 客户 编号（元）` / `Customer Code` → `客户编号` / `customercode`."""
    text = unicodedata.normalize("NFKC", str(cell)).strip().lower()
    text = _PUNCT.sub("", text)
    hit = _UNIT_SUFFIX.search(text)
    if hit is not None and _MEANINGFUL_SUFFIX.search(hit.group()):
        # 金额(不含税) is not 金额: the note changes what the column is, so it stays in the key.
        return text[: hit.start()] + hit.group()[1:-1]
    return _UNIT_SUFFIX.sub("", text)


def match_header(cells: Sequence[object]) -> dict[str, Column]:
    """The recognised columns of one candidate header row, strongest alias per field."""
    found: dict[str, Column] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, str) or not cell.strip():
            continue
        key = normalise_header(cell)
        hit = _ALIAS_INDEX.get(key)
        if hit is None:
            continue
        name, rank = hit
        current = found.get(name)
        if current is None or rank < current.rank:
            scale = next((n for unit, n in _SCALES if unit in cell), 1)
            found[name] = Column(
                index, cell.strip(), rank, key in GENERIC, scale, _named_currency(cell)
            )
    return found


_NOTE = re.compile(r"[(（\[【]([^()（）\[\]【】]{1,12})[)）\]】]\s*$")


def _named_currency(cell: str) -> str | None:
    """The currency in a header's note, 应收金额(USD) → USD; 元/人民币 name the yuan."""
    hit = _NOTE.search(cell)
    return None if hit is None else known_currency(hit.group(1))


@dataclass(frozen=True)
class Header:
    """Where a sheet's header is and what its columns are."""

    index: int  # 0-based index of the header's last row; data starts on the next row
    columns: dict[str, Column]
    rows: int = 1  # 2 for a two-row header
    year: int | None = None  # a year printed over 月/日 columns (2025年), as Yonyou does


def find_header(rows: Sequence[Sequence[object]]) -> Header | None:
    """The header naming the most fields (at least two), first on ties.

    A two-row header wins over either of its rows alone only when it names more fields.
    """
    best: Header | None = None
    scan = rows[:HEADER_SCAN_ROWS]
    for offset, row in enumerate(scan):
        found = match_header(row)
        candidate = Header(offset, found) if len(found) >= 2 else None
        if offset > 0:
            upper = match_header(scan[offset - 1])
            joined = _two_row(scan[offset - 1], row)
            if len(joined) > max(len(found), len(upper)) or _refines(joined, upper, row):
                candidate = Header(offset, joined, 2, _year_over(scan[offset - 1]))
                if best is not None and best.index == offset - 1 and len(joined) >= len(upper):
                    best = candidate  # the row below completes the header above
                    continue
        if candidate is not None and (best is None or len(candidate.columns) > len(best.columns)):
            best = candidate
    return best


def _refines(joined: dict[str, Column], upper: dict[str, Column], lower: Sequence[object]) -> bool:
    """The lower row moves fields to other columns (借方 over 原币 | 本位币 reads 本位币): a
    header row of text, not data."""
    texts = [c for c in lower if isinstance(c, str) and c.strip()]
    if len(texts) < 2 or any(c is not None and not isinstance(c, str) for c in lower):
        return False
    return len(joined) >= len(upper) and any(
        joined[f].index != upper[f].index for f in joined.keys() & upper.keys()
    )


def _two_row(upper: Sequence[object], lower: Sequence[object]) -> dict[str, Column]:
    """Columns of a header whose upper row groups the lower (本期发生 over 借方, 贷方)."""
    width = max(len(upper), len(lower))
    cells: list[object] = []
    group = ""
    for i in range(width):
        top = upper[i] if i < len(upper) else None
        bottom = lower[i] if i < len(lower) else None
        if isinstance(top, str) and top.strip():
            group = top.strip()
        if not (isinstance(bottom, str) and bottom.strip()):
            cells.append(top)  # a cell merged down over both rows
        elif group and normalise_header(group + bottom) in _ALIAS_INDEX:
            cells.append(group + bottom.strip())  # 借方 over 金额 → 借方金额
        else:
            cells.append(bottom)
    return match_header(cells)


def _year_over(upper: Sequence[object]) -> int | None:
    for cell in upper:
        if isinstance(cell, str) and (hit := _YEAR.search(cell)):
            return int(hit.group(1))
    return None


def decide_kind(found: dict[str, Column]) -> tuple[str, dict[str, Column]] | None:
    """The ledger kind and its field->column map, or None when the columns fit no kind.

    Generic `日期`/`金额` columns are read as the payment date/amount in a payment list.
    """
    has_who = "customer_code" in found or "customer_name" in found
    if "debit" in found and "credit" in found:
        # Account columns and no customer: a voucher journal, which names no debtor.
        return None if "account" in found and not has_who else ("detail", found)
    pay_signal = any(f in found for f in ("paid_on", "paid_amount", "payment_no"))
    amount = found.get("amount")
    if "invoice_no" in found and amount is not None:
        amount_is_payment = amount.generic and pay_signal and "paid_amount" not in found
        if not amount_is_payment:
            return "invoices", found
    if pay_signal:
        return "payments", _payment_columns(found)
    plain_list = not ({"amount", "invoice_date", "invoice_no"} & found.keys())
    if has_who and (any(f in found for f in MASTER_FIELDS) or (plain_list and len(found) >= 2)):
        return "customers", found
    return None


# In a payment list (a 收款单 export) the 单据号 is the receipt's own number, not an invoice's.
_OWN_NUMBER = frozenset({"单据号", "单据编号", "单号", "documentno"})


def _payment_columns(found: dict[str, Column]) -> dict[str, Column]:
    columns = dict(found)
    number = columns.get("invoice_no")
    own = number is not None and normalise_header(number.header) in _OWN_NUMBER
    if own and "payment_no" not in columns:
        columns["payment_no"] = columns.pop("invoice_no")
    for target, fallback in (
        ("paid_on", "invoice_date"),
        ("paid_amount", "amount"),
        ("invoice_ref", "invoice_no"),
    ):
        if target not in columns and fallback in columns:
            columns[target] = columns.pop(fallback)
    return columns


def missing_columns(kind: str, columns: dict[str, Column]) -> list[str]:
    """Human names of the required columns this header lacks."""
    required = {
        "invoices": (
            ("invoice_no", "发票号码"),
            ("invoice_date", "开票日期"),
            ("amount", "应收金额"),
        ),
        "payments": (("paid_on", "回款日期"), ("paid_amount", "回款金额")),
        "customers": (),
        "detail": (),
    }[kind]
    missing = [label for name, label in required if name not in columns]
    if kind == "detail":
        has_date = "invoice_date" in columns or {"month", "day"} <= columns.keys()
        return [] if has_date else ["日期"]
    if "customer_code" not in columns and "customer_name" not in columns:
        missing.insert(0, "客户编号或客户名称")
    return missing


def looks_like_journal(cells: Sequence[object]) -> bool:
    """A voucher journal (会计分录序时簿) header: 科目代码 with 借方/贷方 and no customer."""
    found = match_header(cells)
    has_who = "customer_code" in found or "customer_name" in found
    return "account" in found and ("debit" in found or "credit" in found) and not has_who


def headers_seen(rows: Sequence[Sequence[object]]) -> list[str]:
    """The text cells of the likeliest header row (the one with most text), for error messages."""
    best: list[str] = []
    for row in rows[:HEADER_SCAN_ROWS]:
        texts = [c.strip() for c in row if isinstance(c, str) and c.strip()]
        if len(texts) > len(best):
            best = texts
    return best


def no_header_error(rows: Sequence[Sequence[object]]) -> IngestError:
    """The clerk-facing error for a file whose header fits no ledger kind."""
    if any(looks_like_journal(row) for row in rows[:HEADER_SCAN_ROWS]):
        return IngestError(
            "这是会计分录序时簿（凭证字号、科目代码、借方、贷方），不是应收台账："
            "请改为导出应收账款明细表。"
        )
    seen = headers_seen(rows)
    shown = "、".join(seen[:20]) if seen else "无"
    return IngestError(f"没有找到台账表头（看到的表头：{shown}）；{NEEDS}。")
