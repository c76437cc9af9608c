"""Matching a bank receipt to a customer and invoices (SPEC §11): pure, over plain data.

Strongest evidence first: a reference of ours in the memo (letter reference, invoice number,
contract number), a payer account confirmed for a customer, the payer's name (normalised, or
an alias a clerk confirmed, or the same core name), then the amount (one open invoice, an
exact set of open invoices found by a bounded search, or short by a bank fee within
tolerance). `certain` = a reference of ours, or a confirmed account with an exact amount;
`probable` = a customer found by weaker evidence; `unmatched` = none. Grounds are in words.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dunning.config import account_key
from dunning.money import format_amount, from_fen, to_fen

ZERO = Decimal("0.00")
CERTAIN, PROBABLE, UNMATCHED = "certain", "probable", "unmatched"
# The bounded search for a set of open invoices: the customer's oldest this many, sets of
# at most this size, and at most this many sets tried.
SET_POOL, SET_SIZE, SET_TRIES = 24, 5, 20000
# Shorter tokens ("1", "A01") occur by chance in any memo; our numbers are longer.
MIN_NUMBER = 4
_LETTER_REF = re.compile(r"([A-Z]{1,6})-?(\d{4})-?(\d{6})")
_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-_/.]*[A-Z0-9]|[A-Z0-9]")
_DIGITS = re.compile(r"\d{8,20}")
_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")


def name_key(name: str) -> str:
    """A payer or customer name as compared: width, brackets, spaces and case folded."""
    text = unicodedata.normalize("NFKC", name)
    return "".join(text.split()).casefold()


def core_name(name: str) -> str:
    """The name without its legal form or bracketed parts: 杭州宏达(集团)有限公司 → 杭州宏达."""
    key = re.sub(r"\([^)]*\)", "", name_key(name))
    for suffix in _SUFFIXES:
        if key.endswith(suffix):
            key = key[: -len(suffix)]
            break
    return key.removesuffix("集团")


def memo_key(memo: str) -> str:
    return unicodedata.normalize("NFKC", memo).upper()


@dataclass
class OpenInvoice:
    invoice_no: str
    customer: str
    due: dt.date
    open_fen: int


@dataclass
class Knowledge:
    """What the archive knows, indexed for matching; `consume` keeps open amounts current."""

    letters: Mapping[str, str]  # letter ref -> customer
    invoices: dict[str, OpenInvoice]  # invoice number (folded) -> invoice, open or not
    contracts: Mapping[str, str]  # contract number (folded) -> customer
    accounts: Mapping[str, str]  # payer account key -> customer (confirmed)
    names: Mapping[str, str]  # name key -> customer (customer names and confirmed aliases)
    aliases: frozenset[str]  # the name keys a clerk confirmed
    cores: Mapping[str, frozenset[str]]  # core name -> customers
    fee_tolerance: Decimal
    _by_customer: dict[str, list[OpenInvoice]] = field(default_factory=dict)
    _amounts: list[int] = field(default_factory=list)
    _by_amount: dict[int, list[OpenInvoice]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_customer: dict[str, list[OpenInvoice]] = defaultdict(list)
        by_amount: dict[int, list[OpenInvoice]] = defaultdict(list)
        for inv in self.invoices.values():
            if inv.open_fen > 0:
                by_customer[inv.customer].append(inv)
                by_amount[inv.open_fen].append(inv)
        for items in by_customer.values():
            items.sort(key=lambda i: (i.due, i.invoice_no))
        self._by_customer, self._by_amount = dict(by_customer), dict(by_amount)
        self._amounts = sorted(by_amount)

    def open_of(self, customer: str) -> list[OpenInvoice]:
        return [i for i in self._by_customer.get(customer, []) if i.open_fen > 0]

    def with_amount(self, low: int, high: int) -> list[OpenInvoice]:
        """Open invoices of any customer whose open amount lies in [low, high] fen."""
        if low == high:
            return [i for i in self._by_amount.get(low, ()) if i.open_fen == low]
        found: list[OpenInvoice] = []
        at = bisect.bisect_left(self._amounts, low)
        while at < len(self._amounts) and self._amounts[at] <= high:
            amount = self._amounts[at]
            found.extend(i for i in self._by_amount[amount] if i.open_fen == amount)
            at += 1
        return found

    def consume(self, allocation: Iterable[tuple[str, Decimal]]) -> None:
        """An applied receipt lowers what its invoices still owe."""
        for number, amount in allocation:
            inv = self.invoices.get(fold(number))
            if inv is not None:
                inv.open_fen = max(0, inv.open_fen - to_fen(amount))


def fold(number: str) -> str:
    """A document number as compared: width-folded, without spaces, upper case."""
    if number.isascii() and number.isalnum():
        return number.upper()  # the common case, without NFKC's cost
    return "".join(unicodedata.normalize("NFKC", number).split()).upper()


@dataclass(frozen=True)
class Receipt:
    on: dt.date
    amount: Decimal
    payer_name: str
    payer_account: str
    memo: str


@dataclass(frozen=True)
class Match:
    status: str  # certain | probable | unmatched
    customer: str | None
    grounds: tuple[str, ...]
    allocation: tuple[tuple[str, Decimal], ...] = ()  # (invoice, amount) named for it

    def grounds_text(self) -> str:
        return "；".join(self.grounds)


@dataclass
class _Evidence:
    refs: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    named: list[OpenInvoice] = field(default_factory=list)
    by_account: str | None = None
    by_name: str | None = None
    grounds: list[str] = field(default_factory=list)


def references(memo: str, know: Knowledge) -> _Evidence:
    """Step 1: letter references, invoice and contract numbers found in the memo."""
    ev = _Evidence()
    text = memo_key(memo)
    compact = "".join(text.split())
    for m in _LETTER_REF.finditer(compact):
        ref = "-".join(m.groups())
        if ref in know.letters:
            ev.refs[know.letters[ref]].append(f"附言中有函件编号 {ref}")
    tokens = set(_TOKEN.findall(text)) | set(_DIGITS.findall(compact))
    for token in sorted(t for t in tokens if len(t) >= MIN_NUMBER):
        inv = know.invoices.get(token)
        if inv is not None:
            ev.refs[inv.customer].append(f"附言中有发票号 {inv.invoice_no}")
            if inv not in ev.named:
                ev.named.append(inv)
        elif token in know.contracts:
            ev.refs[know.contracts[token]].append(f"附言中有合同号 {token}")
    return ev


def match(receipt: Receipt, know: Knowledge) -> Match:
    """The customer and invoices a receipt pays, with its confidence and grounds."""
    ev = references(receipt.memo, know)
    acct = account_key(receipt.payer_account)
    if acct and acct in know.accounts:
        ev.by_account = know.accounts[acct]
    key = name_key(receipt.payer_name)
    if key and key in know.names:
        ev.by_name = know.names[key]
    if ev.refs:
        return _by_reference(receipt, know, ev)
    if ev.by_account is not None:
        return _by_party(
            receipt,
            know,
            ev.by_account,
            f"付款账号 {receipt.payer_account} 已确认属于该客户",
            account=True,
        )
    if ev.by_name is not None:
        why = "付款人为已确认的别名" if key in know.aliases else "付款人户名与客户名称一致"
        named = _by_party(
            receipt, know, ev.by_name, f"{why}（{receipt.payer_name}）", account=False
        )
        if named.allocation or key not in know.aliases:
            return named
        # An alias (a person's name is often shared) whose customer owes no such amount: an
        # open invoice of exactly this amount elsewhere is the better guess.
        other = _by_amount_only(receipt, know)
        if other.customer not in (None, ev.by_name):
            return other
        if acct:  # another account than the one confirmed, and an amount it does not owe
            why = (
                f"付款人 {receipt.payer_name} 是客户 {ev.by_name} 的别名，但付款账号未确认、"
                "金额也对不上"
            )
            return Match(UNMATCHED, None, (why,))
        return named
    cores = (
        know.cores.get(core_name(receipt.payer_name), frozenset())
        if receipt.payer_name
        else frozenset()
    )
    if len(cores) == 1:
        (customer,) = cores
        return _by_party(
            receipt,
            know,
            customer,
            f"付款人户名与客户名称相近（{receipt.payer_name}）",
            account=False,
        )
    return _by_amount_only(receipt, know)


def _by_reference(receipt: Receipt, know: Knowledge, ev: _Evidence) -> Match:
    ranked = sorted(ev.refs.items(), key=lambda kv: -len(kv[1]))
    customer, grounds = ranked[0]
    others = [c for c, _ in ranked[1:]]
    conflict = [c for c in (ev.by_account, ev.by_name) if c is not None and c != customer]
    named = [i for i in ev.named if i.customer == customer]
    allocation, how = _allocate_named(receipt.amount, named)
    if not allocation:
        allocation, how, _ = allocate_by_amount(receipt.amount, know.open_of(customer), know)
    words = list(dict.fromkeys(grounds)) + ([how] if how else [])
    if others or conflict:
        words.append("但也指向其他客户 " + "、".join(sorted(set(others + conflict))))
        return Match(PROBABLE, customer, tuple(words), allocation)
    return Match(CERTAIN, customer, tuple(words), allocation)


def _allocate_named(
    amount: Decimal, named: list[OpenInvoice]
) -> tuple[tuple[tuple[str, Decimal], ...], str]:
    left, out = amount, []
    for inv in sorted(named, key=lambda i: (i.due, i.invoice_no)):
        share = min(left, from_fen(inv.open_fen))
        if share > 0:
            out.append((inv.invoice_no, share))
            left -= share
    return tuple(out), ""


def _by_party(
    receipt: Receipt, know: Knowledge, customer: str, ground: str, *, account: bool
) -> Match:
    allocation, how, exact = allocate_by_amount(receipt.amount, know.open_of(customer), know)
    words = (ground, how) if how else (ground, "金额与未收发票对不上")
    status = CERTAIN if account and exact else PROBABLE
    return Match(status, customer, words, allocation)


def allocate_by_amount(
    amount: Decimal, items: list[OpenInvoice], know: Knowledge
) -> tuple[tuple[tuple[str, Decimal], ...], str, bool]:
    """(allocation, grounds, exact) from one customer's open invoices, oldest first."""
    fen, tol = to_fen(amount), to_fen(know.fee_tolerance)
    for inv in items:
        if inv.open_fen == fen:
            return ((inv.invoice_no, amount),), f"金额与发票 {inv.invoice_no} 未收金额一致", True
    found = _exact_set(fen, items)
    if found:
        numbers = "、".join(i.invoice_no for i in found)
        alloc = tuple((i.invoice_no, from_fen(i.open_fen)) for i in found)
        return alloc, f"金额等于 {len(found)} 张未收发票之和（{numbers}）", True
    if sum(i.open_fen for i in items) == fen and items:
        alloc = tuple((i.invoice_no, from_fen(i.open_fen)) for i in items)
        return alloc, "金额等于全部未收发票之和", True
    for inv in items:
        if 0 < inv.open_fen - fen <= tol:
            short = format_amount(from_fen(inv.open_fen - fen))
            return (
                ((inv.invoice_no, amount),),
                f"金额比发票 {inv.invoice_no} 少 {short}（银行手续费）",
                False,
            )
    return (), "", False


def _exact_set(fen: int, items: list[OpenInvoice]) -> list[OpenInvoice]:
    """A set of 2..SET_SIZE open invoices summing to `fen`: the oldest run first, then a
    bounded depth-first search over the oldest SET_POOL."""
    run = 0
    for n, inv in enumerate(items[:SET_POOL]):
        run += inv.open_fen
        if run == fen and n >= 1:
            return items[: n + 1]
        if run > fen:
            break
    pool = [i for i in items[:SET_POOL] if 0 < i.open_fen < fen]
    tries = 0
    chosen: list[OpenInvoice] = []

    def search(start: int, left: int) -> bool:
        nonlocal tries
        for k in range(start, len(pool)):
            tries += 1
            if tries > SET_TRIES:
                return False
            value = pool[k].open_fen
            if value > left:
                continue
            chosen.append(pool[k])
            if (value == left and len(chosen) >= 2) or (
                len(chosen) < SET_SIZE and value < left and search(k + 1, left - value)
            ):
                return True
            chosen.pop()
        return False

    return list(chosen) if search(0, fen) else []


def _by_amount_only(receipt: Receipt, know: Knowledge) -> Match:
    fen = to_fen(receipt.amount)  # exact only: a fee-short guess needs a known customer
    exact = know.with_amount(fen, fen)
    customers = {i.customer for i in exact}
    if len(exact) == 1:
        inv = exact[0]
        why = f"仅凭金额：与发票 {inv.invoice_no} 未收金额一致（付款人 {receipt.payer_name or '未知'} 未登记）"
        return Match(PROBABLE, inv.customer, (why,), ((inv.invoice_no, receipt.amount),))
    if customers:
        why = f"金额与 {len(customers)} 个客户的未收发票相同，无法判断"
        return Match(UNMATCHED, None, (why,))
    return Match(
        UNMATCHED, None, (f"付款人 {receipt.payer_name or '未知'} 未登记，金额对不上任何未收发票",)
    )
