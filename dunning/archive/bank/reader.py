"""Reading a bank statement file (CSV, XLS, XLSX) into a `Statement`.

Every data row below the header is accounted for: a receipt (incoming), or skipped by kind
(outgoing, total, blank, note, neutral, zero, foreign, failed), or bad — and one bad row
rejects the whole file with every bad row listed, as a ledger does. Where the file prints a
余额, it is reconciled row by row (oldest first or newest first, whichever the file uses).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from dunning.archive.bank.layout import (
    ALIASES,
    HEADER_SCAN_ROWS,
    Header,
    find_header,
    preamble_party,
)
from dunning.archive.bank.statement import BankRow, Statement, same_account
from dunning.archive.ledger.csvtext import DELIMITERS, decode, decode_csv
from dunning.config import account_key
from dunning.dates import parse_date
from dunning.errors import IngestError, RowProblem
from dunning.money import parse_amount

Grid = list[list[object]]
_HEAD_BYTES = 65536
_TOTAL = re.compile(r"^(合计|总计|小计|本页|本期|本月|人民币合计|共\d|共计|笔数|总笔数|累计)")
_DATE_TIME = re.compile(
    r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?:[ T\-]*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)
_IN_FLAGS = ("贷", "收", "入", "CR")
_OUT_FLAGS = ("借", "支", "出", "DR")
_HOME_CURRENCY = frozenset({"", "人民币", "CNY", "RMB", "156", "人民币元", "-", "/"})
_FAILED = ("关闭", "失败", "撤销", "冲正")
_BAD_FILE = "{name}：有 {n} 行无法读取，整个文件未导入：见下列各行。"


def read_grids(path: Path, *, head: bool = False) -> list[tuple[str, Grid]]:
    """(sheet name, rows) for each sheet; a CSV is one sheet named after its file.

    `head`: only the first rows (enough to find a header), for classifying a file cheaply.
    """
    with path.open("rb") as fh:
        data = fh.read(_HEAD_BYTES) if head else fh.read()
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return _read_workbook(path, nrows=HEADER_SCAN_ROWS + 2 if head else None)
    if head:
        decoded = decode(data, complete=len(data) < _HEAD_BYTES)
        if decoded is None:
            return []
        return [(path.name, _csv_grid(decoded[0]))]
    text, _ = decode_csv(path.name, data)
    return [(path.name, _csv_grid(text))]


def _read_workbook(path: Path, *, nrows: int | None) -> list[tuple[str, Grid]]:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        return [
            (
                name,
                [
                    list(r)
                    for r in book.get_sheet_by_index(i).to_python(
                        skip_empty_area=False, nrows=nrows
                    )
                ],
            )
            for i, name in enumerate(book.sheet_names)
        ]
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise IngestError(
            f"{path.name} 无法作为表格读取：请用 Excel 打开，另存为 .xlsx 后导入。"
        ) from exc


def _csv_grid(text: str) -> Grid:
    lines = text.splitlines()
    best: Grid = [[line] for line in lines]
    best_score = -1
    for delim in DELIMITERS:
        try:
            grid: Grid = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delim)]
        except csv.Error:
            continue
        header = find_header(grid)
        score = len(header.columns) + len(header.memo) if header else 0
        if score > best_score:
            best, best_score = grid, score
    return best


# A statement names the other party; an XLSX whose strings hold none of these words is not
# one, and is not parsed a second time just to find that out (ledgers can be large).
_PARTY_WORDS = ("对方", "对手", "付款", "收款", "收(付)", "收（付）", "交易对方")


def _xlsx_without_party(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as book, book.open("xl/sharedStrings.xml") as fh:
            text = fh.read(4 * 1024 * 1024).decode("utf-8", "ignore")
    except (KeyError, OSError, zipfile.BadZipFile, ValueError):
        return False  # inline strings or an odd file: let the reader look
    return not any(word in text for word in _PARTY_WORDS)


def looks_like_statement(path: Path) -> bool:
    """True when the file's first rows hold a bank statement header (for classification)."""
    try:
        with path.open("rb") as fh:
            if fh.read(4) == b"PK\x03\x04" and _xlsx_without_party(path):
                return False
        grids = read_grids(path, head=True)
    except (IngestError, OSError):
        return False
    return any(_bank_header(grid) is not None for _, grid in grids)


def _bank_header(grid: Grid) -> Header | None:
    header = find_header(grid)
    if header is None:
        return None
    cols = set(header.columns)
    # A counterparty (对方户名/对方账号, or payer and payee): what no sales ledger has — a
    # detail ledger (客户往来明细账) has 借方/贷方/余额 too, but names the customer instead.
    party = {"name", "account", "payer_name", "payer_account"}
    banky = {"credit", "debit", "flag", "balance", "serial", "own_account"}
    return header if party & cols and banky & cols else None


def read_statement(path: Path, *, own_accounts: Sequence[str] = ()) -> Statement:
    """Read the statement in `path`; raises IngestError naming the file, row and field."""
    for _, grid in read_grids(path):
        header = _bank_header(grid)
        if header is not None:
            return parse_grid(path.name, grid, header, own_accounts=own_accounts)
    raise IngestError(
        f"{path.name} 的前 40 行中没有银行流水表头（如 交易日期、贷方发生额、对方户名）："
        "请重新导出账户明细。"
    )


def parse_grid(
    name: str, grid: Grid, header: Header, *, own_accounts: Sequence[str] = ()
) -> Statement:
    account, account_name = preamble_party(header.preamble)
    cols = header.columns
    if account is None and "own_account" in cols:
        seen = {_cell(r, cols["own_account"]) for r in grid[header.row + 1 :]} - {""}
        account = seen.pop() if len(seen) == 1 else None
    if account is None and header.direction == "parties" and len(own_accounts) == 1:
        account = own_accounts[0]
    if account is None:
        raise IngestError(
            f"{name} 没有写明是哪个账户的流水（表头上方没有账号，也没有「本方账号」列），"
            "无法与 `[bank] accounts` 核对：请连同账户信息重新导出。"
        )
    ours = [account, *own_accounts]
    reader = _Rows(name, header, ours)
    for index in range(header.row + 1, len(grid)):
        reader.take(index + 1, grid[index])
    if reader.problems:
        raise IngestError(_BAD_FILE.format(name=name, n=len(reader.problems)), reader.problems)
    balance = reader.col_name("balance") if "balance" in reader.c else "余额"
    checked = _reconcile(name, reader.balances, balance)
    return Statement(
        layout=header.direction,
        account=account,
        account_name=account_name,
        header_row=header.row + 1,
        receipts=reader.receipts,
        rows_read=reader.read,
        skipped=reader.skipped,
        balance_checked=checked,
    )


def _cell(row: Sequence[object], col: int | None) -> str:
    if col is None or col >= len(row) or row[col] is None:
        return ""
    value = row[col]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip().strip("\t").strip()


class _Rows:
    """Classifies the data rows one by one; what it finds accumulates on the instance."""

    def __init__(self, name: str, header: Header, ours: list[str]) -> None:
        self.name, self.header, self.ours = name, header, ours
        self.c = header.columns
        self.read = 0
        self.receipts: list[BankRow] = []
        self.skipped: Counter[str] = Counter()
        self.problems: list[RowProblem] = []
        self.balances: list[tuple[int, Decimal, Decimal]] = []  # (row, signed, printed)

    def col_name(self, field: str) -> str:
        return self.header.names[self.c[field]]

    def get(self, raw: Sequence[object], field: str) -> str:
        return _cell(raw, self.c.get(field))

    def take(self, number: int, raw: Sequence[object]) -> None:
        self.read += 1
        texts = [_cell(raw, i) for i in range(len(raw))]
        filled = [t for t in texts if t]
        if not filled:
            self.skipped["blank"] += 1
            return
        on_at = self._when(raw)
        if on_at is None:
            # Only a row without a date can be a total: a payer named 总计贸易 is a payer.
            if _TOTAL.match(filled[0]) or any(t.startswith(("合计", "总计")) for t in filled[:3]):
                self.skipped["total"] += 1
            elif self._money_cells(raw):
                self._bad(number, "date", self.get(raw, "date"), "不是日期")
            else:
                self.skipped["note"] += 1  # a footer line such as 以上数据仅供参考
            return
        try:
            signed = self._signed(raw)
        except ValueError as exc:
            self._bad(number, self._amount_field(), self._amount_text(raw), str(exc))
            return
        if signed is None:
            self.skipped["neutral"] += 1
            return
        self._receipt_or_skip(number, raw, on_at, signed)

    def _receipt_or_skip(
        self, number: int, raw: Sequence[object], on_at: tuple[dt.date, str | None], signed: Decimal
    ) -> None:
        if any(word in self.get(raw, "status") for word in _FAILED):
            self.skipped["failed"] += 1
            return
        if self.get(raw, "currency").upper() not in _HOME_CURRENCY:
            self.skipped["foreign"] += 1
            return
        if "balance" in self.c and self.get(raw, "balance"):
            try:
                printed = parse_amount(self.get(raw, "balance"))
            except ValueError as exc:
                self._bad(number, "balance", self.get(raw, "balance"), str(exc))
                return
            self.balances.append((number, signed, printed))
        if signed == 0:
            self.skipped["zero"] += 1
            return
        if signed < 0:
            self.skipped["outgoing"] += 1
            return
        receipt = self._receipt(number, raw, on_at, signed)
        if any(same_account(receipt.payer_account, own) for own in self.ours):
            self.skipped["internal"] += 1  # a transfer between our own accounts
            return
        self.receipts.append(receipt)

    def _receipt(
        self, number: int, raw: Sequence[object], on_at: tuple[dt.date, str | None], amount: Decimal
    ) -> BankRow:
        name = self.get(raw, "name") or self.get(raw, "payer_name")
        account = self.get(raw, "account") or self.get(raw, "payer_account")
        memo = "；".join(t for _, col in self.header.memo if (t := _cell(raw, col)))
        serial = self.get(raw, "serial").strip("'") or None
        return BankRow(number, on_at[0], on_at[1], amount, name, account, memo, serial)

    def _when(self, raw: Sequence[object]) -> tuple[dt.date, str | None] | None:
        value = raw[self.c["date"]] if self.c["date"] < len(raw) else None
        text = self.get(raw, "date")
        time = self.get(raw, "time") if self.c.get("time") != self.c["date"] else ""
        if isinstance(value, dt.datetime):
            return value.date(), value.isoformat(sep=" ", timespec="seconds")
        m = _DATE_TIME.match(text)
        if m is None:
            try:
                return parse_date(value), None
            except ValueError:
                return None
        y, mo, d, hh, mm, ss = m.groups()
        try:
            day = dt.date(int(y), int(mo), int(d))
        except ValueError:
            return None
        if hh is not None:
            return day, f"{day} {int(hh):02d}:{mm}:{ss or '00'}"
        return day, _time_of(day, time)

    def _money_cells(self, raw: Sequence[object]) -> bool:
        fields = ("credit", "debit", "amount")
        return any(self.get(raw, f) not in ("", "-", "/") for f in fields if f in self.c)

    def _amount_field(self) -> str:
        return "amount" if "amount" in self.c else "credit"

    def _amount_text(self, raw: Sequence[object]) -> str:
        return self.get(raw, self._amount_field())

    def _signed(self, raw: Sequence[object]) -> Decimal | None:
        """Money in as positive, out as negative; None for a neutral row (不计收支)."""
        way = self.header.direction
        if way == "columns":
            credit = _amount_or_zero(self.get(raw, "credit"))
            debit = _amount_or_zero(self.get(raw, "debit"))
            return abs(credit) - abs(debit)  # some banks print 支出 as a negative number
        amount = parse_amount(self.get(raw, "amount"))
        if way == "flag":
            flag = self.get(raw, "flag").upper()
            if flag in ("", "/", "不计收支", "中性交易", "其他"):
                return None
            if any(w in flag for w in _IN_FLAGS) or flag == "C":
                return abs(amount)
            if any(w in flag for w in _OUT_FLAGS) or flag == "D":
                return -abs(amount)
            raise ValueError(f"收支方向 {flag!r} 既不是 借/贷，也不是 收入/支出")
        if way == "parties":
            payee = self.get(raw, "payee_account")
            if any(same_account(payee, own) for own in self.ours):
                return abs(amount)
            payer = self.get(raw, "payer_account")
            if any(same_account(payer, own) for own in self.ours):
                return -abs(amount)
            raise ValueError(f"付款人账号和收款人账号都不是本公司账户 {account_key(self.ours[0])}")
        return amount

    def _bad(self, number: int, field: str, value: str, why: str) -> None:
        column = self.col_name(field) if field in self.c else ALIASES[field][0]
        self.problems.append(RowProblem(number, column, value, why))


def _time_of(day: dt.date, text: str) -> str | None:
    """The time a separate 交易时间 cell gives: `10:22:33`, `102233`, or a whole date-time."""
    t = re.fullmatch(r"(\d{1,2})[:.]?(\d{2})[:.]?(\d{2})", text)
    if t:
        return f"{day} {int(t[1]):02d}:{t[2]}:{t[3]}"
    m = _DATE_TIME.match(text)
    if m and m[4] is not None:
        return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} {int(m[4]):02d}:{m[5]}:{m[6] or '00'}"
    return None


def _amount_or_zero(text: str) -> Decimal:
    return parse_amount(text) if text not in ("", "/") else Decimal("0.00")


def _reconcile(name: str, rows: list[tuple[int, Decimal, Decimal]], column: str = "余额") -> int:
    """Check the printed 余额 row by row; returns the number of rows checked."""
    if len(rows) < 2:
        return len(rows)
    forward = [
        (cur[0], prev[2] + cur[1], cur[2])
        for prev, cur in itertools.pairwise(rows)
        if prev[2] + cur[1] != cur[2]
    ]
    if not forward:
        return len(rows)
    backward = [
        (prev[0], cur[2] + prev[1], prev[2])
        for prev, cur in itertools.pairwise(rows)
        if cur[2] + prev[1] != prev[2]
    ]
    if not backward:
        return len(rows)
    row, computed, printed = min((forward, backward), key=len)[0]
    raise IngestError(
        f"{name}：第 {row} 行的「{column}」为 {printed:,.2f}，按上面各行应为 {computed:,.2f}，"
        "整个文件未导入；可能缺了一行或有行被改动：请重新导出流水。"
    )
