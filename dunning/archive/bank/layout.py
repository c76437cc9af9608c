"""Bank statement layouts (SPEC §11): which column is which field, where the header is, whose
account the statement is.

Headers are matched whole after normalising (width, spaces and tabs, a bilingual
`中文[ English ]` tail, a unit such as `/元` or `(元)`), never by substring. A header may sit
below up to ~24 preamble lines or a `[HISTORYDETAIL]` marker, start in column B, or span two
rows (发生额 over 借方 / 贷方).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

# field -> aliases (normalised spelling). `credit` is money in, `debit` money out.
ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "交易日期",
        "交易日",
        "日期",
        "记账日期",
        "记账日",
        "账务日期",
        "账务日",
        "会计日期",
        "交易创建时间",
        "入账日期",
    ),
    "time": ("交易时间", "交易时间戳", "记账时间", "交易成功时间"),
    "credit": (
        "贷方发生额",
        "贷方金额",
        "转入金额",
        "收入金额",
        "收入",
        "贷",
        "贷方",
        "存入",
        "贷方发生额(收入)",
        "贷方金额(收入)",
        "交易金额(收入)",
        "记账金额(收入)",
    ),
    "debit": (
        "借方发生额",
        "借方金额",
        "转出金额",
        "支出金额",
        "支出",
        "借",
        "借方",
        "支取",
        "借方发生额(支取)",
        "借方金额(支出)",
        "交易金额(支出)",
        "记账金额(支出)",
    ),
    "amount": (
        "发生额",
        "交易金额",
        "金额",
        "人民币金额",
        "实付金额",
        "金额(元)",
        "发生额(元)",
        "交易金额(元)",
    ),
    "flag": (
        "借贷标志",
        "借/贷",
        "借贷",
        "收支标识",
        "收支标志",
        "收入/支出标志",
        "收入/支出",
        "收/支",
        "借贷方向",
        "交易方向",
    ),
    "balance": (
        "余额",
        "账户余额",
        "本次余额",
        "交易后余额",
        "联机余额",
        "余额(元)",
        "交易后余额(元)",
    ),
    "name": (
        "对方户名",
        "对方单位",
        "对方单位名称",
        "收(付)方名称",
        "对方账号名称",
        "对方账户名称",
        "对方名称",
        "对方账户名",
        "交易对方",
        "对手信息",
        "对方账户名称",
    ),
    "account": ("对方账号", "收(付)方账号", "对方账户", "对方卡号/账号", "对方卡号"),
    "payer_account": ("付款人账号", "付款账号", "付款方账号"),
    "payer_name": ("付款人名称", "付款户名", "付款方名称", "付款人户名"),
    "payee_account": ("收款人账号", "收款账号", "收款方账号"),
    "payee_name": ("收款人名称", "收款户名", "收款方名称", "收款人户名"),
    "own_account": ("本方账号", "交易账号", "借记卡号", "账号"),
    "own_name": ("本方账户名称", "户名", "账户名称"),
    "serial": (
        "交易流水号",
        "账户明细编号-交易流水号",
        "银行流水号",
        "流水号",
        "核心流水号",
        "交易参考号",
        "交易单号",
        "交易订单号",
        "日志号",
        "交易日志号",
    ),
    "currency": ("币种", "交易货币", "货币", "币别", "交易币种"),
    "status": ("交易状态", "当前状态"),
}
# Every memo-like column is kept; matching reads them joined in this order.
MEMO = (
    "附言",
    "交易附言",
    "客户附言",
    "用途",
    "交易用途",
    "摘要",
    "交易摘要",
    "业务摘要",
    "备注",
    "其它摘要",
    "扩展摘要",
    "交易说明",
    "交易描述",
    "回单个性化信息",
    "个性化信息",
    "商品说明",
    "商品",
    "订单标题",
    "明细标注",
    "业务名称",
)
_FIELD_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_MEMO_SET = frozenset(MEMO)
_BILINGUAL = re.compile(r"\[[^\]]*\]")
_UNIT = re.compile(r"(/元|\(元\)|/RMB|\(人民币\))$")
_PERSONALISED = re.compile(r"个性化信息(名称)?\d+")
HEADER_SCAN_ROWS = 40
_SUBHEADS = {"借方": "debit", "贷方": "credit", "收入": "credit", "支出": "debit"}


def norm_header(cell: object) -> str:
    """A header cell as compared: NFKC, no whitespace, no English tail, no unit."""
    text = unicodedata.normalize("NFKC", str(cell if cell is not None else ""))
    text = _BILINGUAL.sub("", "".join(text.split()))
    return _UNIT.sub("", text).strip(":：")


def field_of(header: str) -> str | None:
    """The field a normalised header names; `memo` for memo columns; None if unknown."""
    if header in _FIELD_OF:
        return _FIELD_OF[header]
    if header in _MEMO_SET or _PERSONALISED.fullmatch(header):
        return None if header.startswith("个性化信息名称") else "memo"
    bare = re.sub(r"\(.*\)$", "", header)
    if bare != header and bare in _FIELD_OF:
        return _FIELD_OF[bare]
    return None


@dataclass(frozen=True)
class Header:
    row: int  # 0-based index of the (last) header row
    columns: dict[str, int]  # field -> column index
    memo: tuple[tuple[str, int], ...]  # (header, column) of every memo column
    names: tuple[str, ...]  # the header cells as written (normalised), for messages
    preamble: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def direction(self) -> str:
        """How the side is read: columns | flag | parties | signed."""
        if "credit" in self.columns and "debit" in self.columns:
            return "columns"
        if "flag" in self.columns:
            return "flag"
        if "payee_account" in self.columns and "payer_account" in self.columns:
            return "parties"
        return "signed"


def _map_row(cells: Sequence[str]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    columns: dict[str, int] = {}
    memo: list[tuple[str, int]] = []
    for i, cell in enumerate(cells):
        name = field_of(cell)
        if name == "memo":
            memo.append((cell, i))
        elif name and name not in columns:
            columns[name] = i
    if "date" not in columns and "time" in columns:
        columns["date"] = columns["time"]  # 交易时间 holds date and time (ICBC_01)
    return columns, memo


def _is_header(columns: dict[str, int]) -> bool:
    money = "amount" in columns or ("credit" in columns and "debit" in columns)
    return "date" in columns and money and len(columns) >= 3


def _merge_two_rows(top: list[str], below: list[str]) -> list[str] | None:
    """发生额 over 借方 / 贷方: the sub-heads replace the cells above them."""
    filled = [b for b in below if b]
    # Only a row of sub-heads (借方 and 贷方, nothing else): a data row's 支出 is not one.
    if len(filled) < 2 or not all(b in _SUBHEADS for b in filled):
        return None
    if {_SUBHEADS[b] for b in filled} != {"debit", "credit"}:
        return None
    merged = list(top) + [""] * max(0, len(below) - len(top))
    for i, b in enumerate(below):
        if b in _SUBHEADS:
            merged[i] = {"debit": "借方发生额", "credit": "贷方发生额"}[_SUBHEADS[b]]
    return merged


def find_header(rows: Sequence[Sequence[object]]) -> Header | None:
    """The best header row within the first rows, or None when none looks like a statement."""
    best: Header | None = None
    best_score = 0
    limit = min(len(rows), HEADER_SCAN_ROWS)
    for r in range(limit):
        cells = [norm_header(c) for c in rows[r]]
        row_at = r
        if r + 1 < len(rows):
            merged = _merge_two_rows(cells, [norm_header(c) for c in rows[r + 1]])
            if merged is not None:
                cells, row_at = merged, r + 1
        columns, memo = _map_row(cells)
        if not _is_header(columns):
            continue
        score = len(columns) + len(memo)
        if score > best_score:
            preamble = tuple(tuple(_text(c) for c in row) for row in rows[:r])
            best = Header(row_at, columns, tuple(memo), tuple(cells), preamble)
            best_score = score
    return best


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


# 账号: 1202… / 查询账号[ Inquiry Account ]: … / 账　　号： … (label and value in one cell or
# in neighbouring cells, or lines of one multi-line cell).
_ACCOUNT_LABEL = re.compile(
    r"^(查询账号|账号|账户号|银行账号|存款账号|本方账号|卡号|账户|支付宝账户)$"
)
_NAME_LABEL = re.compile(r"^(户名|账户名称|账户名|公司名称|单位名称|姓名)$")
_INLINE = re.compile(
    r"(查询账号|银行账号|存款账号|本方账号|账户号|账号|卡号)\s*[:：]\s*\[?\s*([0-9A-Za-z*\- ]{4,})"
)
_INLINE_NAME = re.compile(r"(户名|账户名称|公司名称|单位名称)\s*[:：]\s*([^,，:：\t\n]{2,60})")


def preamble_party(preamble: Sequence[Sequence[str]]) -> tuple[str | None, str | None]:
    """(account number, account name) from the lines above the header, if any."""
    account = name = None
    for row in preamble:
        cells = [c.strip() for c in row]
        for i, cell in enumerate(cells):
            label = norm_header(cell)
            nxt = next((c for c in cells[i + 1 :] if c), "")
            if account is None and _ACCOUNT_LABEL.match(label) and nxt:
                account = nxt
            elif name is None and _NAME_LABEL.match(label) and nxt:
                name = nxt
            flat = unicodedata.normalize("NFKC", cell)
            flat = re.sub(r"(?<=[^\x00-\x7f])[ \u3000]+(?=[^\x00-\x7f])", "", flat)
            if account is None and (m := _INLINE.search(flat)):
                account = m.group(2).strip()
            if name is None and (m := _INLINE_NAME.search(flat)):
                name = m.group(2).strip()
    return account, name
