"""The desk's settings, read from `dunning.toml`; every value has a sensible default."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dunning.dates import office_zone
from dunning.errors import ConfigError

DEFAULT_TOML = """\
# dunning desk settings. Lines starting with # are comments; remove the # to change a value.

[company]
name = "示例贸易有限公司"            # printed on every letter
name_en = ""
address = "浙江省杭州市西湖区文三路100号"
phone = "0571-88880000"
contact = "张会计"                  # the person customers call back
contact_phone = "0571-88880001"
email = ""
credit_code = ""                   # 统一社会信用代码: printed on court papers (dunning case open)
representative = ""                # 法定代表人, likewise

[bank]
name = "中国工商银行杭州文三路支行"
account_name = "示例贸易有限公司"
account_no = "1202 0000 0000 0000 000"
# Bank statements (银行流水) are taken only for these accounts of ours; account_no counts too.
accounts = []
fee_tolerance = "50.00"       # a receipt this much short of an invoice still matches it (bank fees)

[signatory]
name = "李经理"
title = "财务经理"

[lawyer]
# The law firm that signs 律师函 on the company's behalf.
firm = "浙江某某律师事务所"
name = "王明"
phone = "0571-87000000"
address = "浙江省杭州市上城区庆春路1号"

[desk]
# The one currency the desk keeps (ISO code). Ledger rows in another currency are refused,
# unless the ledger gives their amounts in 本位币 columns.
currency = "CNY"

[aging]
# Upper edges of the overdue buckets in days: 30, 60, 90 gives 1-30, 31-60, 61-90, 91+.
buckets = [30, 60, 90]

[policy]
tolerance = "100.00"          # overdue balances at or below this get no letters (yuan)
default_terms_days = 30       # due date = invoice date + this, when a ledger has no due date
payment_deadline_days = 10    # letters ask for payment within this many days
reference_prefix = "CS"       # letter references look like CS-2025-000123

# Escalation levels: a customer rises at most one level per letter, and gets nothing while
# fewer than gap_days have passed since its last letter.
[[policy.levels]]
level = 1
name = "reminder"
title = "提醒函"
min_days = 1
gap_days = 14
documents = ["statement", "reminder", "receipt"]

[[policy.levels]]
level = 2
name = "demand"
title = "催款函"
min_days = 30
gap_days = 14
documents = ["statement", "demand", "receipt"]

[[policy.levels]]
level = 3
name = "final"
title = "最后催告函"
min_days = 60
gap_days = 14
documents = ["statement", "final", "receipt"]

[[policy.levels]]
level = 4
name = "lawyer"
title = "律师函"
min_days = 90
gap_days = 14
documents = ["lawyer", "statement", "contract", "evidence", "visit"]

[ingest]
ocr = true                    # read scans with OCR ([ocr] below); false: only `dunning ocr` reads them
ocr_languages = "chi_sim+eng"
max_file_mb = 100
max_pages = 500
extract_timeout_s = 120

[limitation]
# 诉讼时效: years from the due date, started again by a proven demand, an acknowledgement
# (signed statement, promise) or a part payment (民法典 arts. 188, 195).
years = 3
[interest]
# Interest on overdue invoices (SPEC §13): the contract's rate once confirmed
# (`dunning interest rate CODE`), else the 1-year LPR on the due day plus this markup
# (0.30 = 30 %, the law allows 30 %-50 %), simple, per day / 365. LPR change points: lpr.csv.
lpr_markup = "0.30"
in_letters = false            # true: demand letters and the lawyer's letter state interest to date

[ocr]
# Scans are archived at once; their pages are read in the background (the watcher, or
# `dunning ocr`). auto: RapidOCR when installed (pip install 'dunning[ocr]'), else Tesseract.
engine = "auto"               # auto | rapidocr | tesseract
page_timeout_s = 120          # a page still unread after this long is stopped and marked failed

[watch]
stability_delay_s = 2.0
rescan_interval_s = 60.0

[serve]
max_upload_mb = 50            # the web desk refuses larger uploads

[ledger]
# true: every invoice ledger lists open items only (a customer it leaves out has paid). A
# title such as 未清项 / 未核销 / 未结清 marks such an export even when this is false.
open_items_only = false

[web]
# Behind a TLS proxy (nginx, Caddy) give its address, e.g. ["127.0.0.1"]: the client address
# (for the login throttle) is then read from X-Forwarded-For; never from anyone else.
trusted_proxies = []
"""


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    title: str
    min_days: int
    gap_days: int
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    company: dict[str, str] = field(default_factory=dict)
    bank: dict[str, str] = field(default_factory=dict)
    signatory: dict[str, str] = field(default_factory=dict)
    lawyer: dict[str, str] = field(default_factory=dict)
    bucket_edges: tuple[int, ...] = (30, 60, 90)
    tolerance: Decimal = Decimal("100.00")
    default_terms_days: int = 30
    payment_deadline_days: int = 10
    reference_prefix: str = "CS"
    levels: tuple[Level, ...] = ()
    ocr: bool = True
    ocr_languages: str = "chi_sim+eng"
    max_file_mb: int = 100
    max_pages: int = 500
    extract_timeout_s: float = 120.0
    stability_delay_s: float = 2.0
    rescan_interval_s: float = 60.0
    limitation_years: int = 3
    max_upload_mb: int = 50
    ocr_engine: str = "auto"
    ocr_page_timeout_s: float = 120.0
    currency: str = "CNY"
    ledger_open_items_only: bool = False
    trusted_proxies: tuple[str, ...] = ()
    bank_accounts: tuple[str, ...] = ()
    bank_fee_tolerance: Decimal = Decimal("50.00")
    interest_markup: Decimal = Decimal("0.30")
    interest_in_letters: bool = False
    timezone: str = "Asia/Shanghai"  # [desk] timezone: the office's day and clock


def default_config() -> Config:
    return parse_config(tomllib.loads(DEFAULT_TOML), Path("dunning.toml"))


def load_config(path: Path) -> Config:
    """Read a desk's `dunning.toml`; missing keys take the defaults."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings ({exc}); fix or restore it.") from exc
    defaults = tomllib.loads(DEFAULT_TOML)
    for section, values in defaults.items():
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a section of settings, not a value.")
        for key, value in values.items():
            data[section].setdefault(key, value)
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    policy, aging, ingest = data["policy"], data["aging"], data["ingest"]

    def number(section: str, key: str, kind: type[int] | type[float]) -> Any:
        value = data[section][key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: [{section}] {key} must be a number, not {value!r}.")
        return kind(value)

    buckets = aging["buckets"]
    if not isinstance(buckets, list) or not all(
        isinstance(e, int) and not isinstance(e, bool) for e in buckets
    ):
        buckets = []
    edges = tuple(buckets)
    if not edges or list(edges) != sorted(set(edges)) or edges[0] < 1:
        raise ConfigError(
            f"{path}: [aging] buckets must be increasing day counts, like [30, 60, 90]."
        )
    try:
        tolerance = Decimal(str(policy["tolerance"]))
    except InvalidOperation as exc:
        raise ConfigError(f'{path}: [policy] tolerance must be an amount like "100.00".') from exc
    prefix = str(policy["reference_prefix"])
    if not re.fullmatch(r"[A-Z]{1,6}", prefix):
        raise ConfigError(
            f'{path}: [policy] reference_prefix must be 1 to 6 capital letters, like "CS".'
        )
    levels = tuple(_level(raw, path) for raw in policy["levels"])
    if [lv.level for lv in levels] != list(range(1, len(levels) + 1)):
        raise ConfigError(f"{path}: [[policy.levels]] must be numbered 1, 2, 3 … in order.")
    return Config(
        company={k: str(v) for k, v in data["company"].items()},
        bank={k: str(v) for k, v in data["bank"].items() if k not in _BANK_LISTS},
        signatory={k: str(v) for k, v in data["signatory"].items()},
        lawyer={k: str(v) for k, v in data["lawyer"].items()},
        bucket_edges=edges,
        tolerance=tolerance,
        default_terms_days=number("policy", "default_terms_days", int),
        payment_deadline_days=number("policy", "payment_deadline_days", int),
        reference_prefix=prefix,
        levels=levels,
        ocr=bool(ingest["ocr"]),
        ocr_languages=str(ingest["ocr_languages"]),
        max_file_mb=number("ingest", "max_file_mb", int),
        max_pages=number("ingest", "max_pages", int),
        extract_timeout_s=number("ingest", "extract_timeout_s", float),
        stability_delay_s=number("watch", "stability_delay_s", float),
        rescan_interval_s=number("watch", "rescan_interval_s", float),
        limitation_years=_limitation_years(data, path),
        max_upload_mb=number("serve", "max_upload_mb", int),
        ocr_engine=_ocr_engine(data["ocr"].get("engine"), path),
        ocr_page_timeout_s=number("ocr", "page_timeout_s", float),
        currency=_currency(data["desk"].get("currency"), path),
        ledger_open_items_only=_flag(data, "ledger", "open_items_only", path),
        trusted_proxies=_trusted_proxies(data["web"].get("trusted_proxies"), path),
        bank_accounts=_bank_accounts(data["bank"], path),
        bank_fee_tolerance=_fee_tolerance(data["bank"], path),
        interest_markup=_interest_markup(data, path),
        interest_in_letters=bool(data.get("interest", {}).get("in_letters", False)),
        timezone=_timezone(data, path),
    )


def _currency(value: Any, path: Path) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ConfigError(
            f'{path}: [desk] currency must be a currency code of 3 capital letters, like "CNY".'
        )
    return value


def _flag(data: dict[str, Any], section: str, key: str, path: Path) -> bool:
    value = data.get(section, {}).get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: [{section}] {key} must be true or false, not {value!r}.")
    return value


def _trusted_proxies(value: Any, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list):
        value = [value]
    for entry in value:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError:
            raise ConfigError(
                f'{path}: [web] trusted_proxies must list addresses like "127.0.0.1" or'
                f' "10.0.0.0/8", not {entry!r}.'
            ) from None
    return tuple(str(e) for e in value)


_BANK_LISTS = ("accounts", "fee_tolerance")


def account_key(number: str) -> str:
    """An account number as compared: digits, letters and `*` only (spaces, dashes dropped)."""
    return re.sub(r"[^0-9A-Za-z*]", "", number).upper()


def _bank_accounts(bank: dict[str, Any], path: Path) -> tuple[str, ...]:
    raw = bank.get("accounts", [])
    if not isinstance(raw, list) or not all(isinstance(a, str | int) for a in raw):
        raise ConfigError(
            f'{path}: [bank] accounts must be a list of account numbers, like ["1202000000"].'
        )
    found = [account_key(str(a)) for a in raw]
    own = account_key(str(bank.get("account_no", "")))
    if own and own not in found:
        found.append(own)
    return tuple(a for a in found if a)


def _fee_tolerance(bank: dict[str, Any], path: Path) -> Decimal:
    try:
        value = Decimal(str(bank.get("fee_tolerance", "50.00")))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ConfigError(f'{path}: [bank] fee_tolerance must be an amount like "50.00".')
    return value


def _interest_markup(data: dict[str, Any], path: Path) -> Decimal:
    raw = data.get("interest", {}).get("lpr_markup", "0.30")
    try:
        markup = Decimal(str(raw))
    except InvalidOperation:
        markup = Decimal(-1)
    if isinstance(raw, bool) or not markup.is_finite() or not 0 <= markup <= 1:
        raise ConfigError(
            f'{path}: [interest] lpr_markup must be a fraction like "0.30" (30 %), not {raw!r}.'
        )
    return markup


def _timezone(data: dict[str, Any], path: Path) -> str:
    desk = data.get("desk", {})
    zone = desk.get("timezone", "Asia/Shanghai") if isinstance(desk, dict) else None
    try:
        office_zone(str(zone))
    except ValueError:
        raise ConfigError(
            f'{path}: [desk] timezone must be a zone name like "Asia/Shanghai", not {zone!r}.'
        ) from None
    return str(zone)


def _limitation_years(data: dict[str, Any], path: Path) -> int:
    years = data.get("limitation", {}).get("years", 3)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 30:
        raise ConfigError(f"{path}: [limitation] years must be a whole number of years, like 3.")
    return years


def _ocr_engine(value: Any, path: Path) -> str:
    if value not in ("auto", "rapidocr", "tesseract"):
        raise ConfigError(
            f'{path}: [ocr] engine must be "auto", "rapidocr" or "tesseract", not {value!r}.'
        )
    return str(value)


def _level(raw: dict[str, Any], path: Path) -> Level:
    try:
        return Level(
            level=int(raw["level"]),
            name=str(raw["name"]),
            title=str(raw.get("title", raw["name"])),
            min_days=int(raw["min_days"]),
            gap_days=int(raw.get("gap_days", 14)),
            documents=tuple(str(d) for d in raw["documents"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: a [[policy.levels]] entry is incomplete ({exc}).") from exc
