"""Dates as ledgers write them: ISO, slashes, dots, 年月日, Excel cells and serials."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from dunning.errors import FutureDateError

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_NOT_A_DATE = "不是日期（请写成 2025-03-05、2025/3/5 或 2025年3月5日 这样）"
# Dates a receivables desk can act on; 9999-12-31 (an ERP's "never") would overflow every
# deadline and limitation computed from it.
FIRST_YEAR, LAST_YEAR = 1900, 2999
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(raw: object) -> dt.date:
    """Read a date from a cell; raises ValueError with a short reason."""
    day = _parse(raw)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"年份 {day.year} 超出范围（{FIRST_YEAR} 至 {LAST_YEAR} 年）：请核对日期")
    return day


def _parse(raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise ValueError(_NOT_A_DATE)
    if isinstance(raw, int | float):
        if 19000101 <= raw <= 21001231 and float(raw).is_integer():
            return _from_digits(int(raw))  # 20250305 kept as a number by an ERP export
        return _from_serial(float(raw))
    # NFKC: full-width digits and punctuation (２０２５－０３－０５) read as their ASCII forms.
    text = _TIME_TAIL.sub("", unicodedata.normalize("NFKC", str(raw)).strip())
    if not text:
        raise ValueError("日期为空：请填写日期")
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text))
    for pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError("没有这一天（请核对月份和日）") from exc
    raise ValueError(_NOT_A_DATE)


def _from_digits(value: int) -> dt.date:
    try:
        return dt.date(value // 10000, value // 100 % 100, value % 100)
    except ValueError as exc:
        raise ValueError("没有这一天（请核对月份和日）") from exc


def _from_serial(serial: float) -> dt.date:
    # Excel serials for 1990..2100 are roughly 32874..73415; anything else is a mistake.
    if not 20000 <= serial <= 80000:
        raise ValueError(_NOT_A_DATE)
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def chinese_date(day: dt.date) -> str:
    """2025-11-30 → 2025年11月30日."""
    return f"{day.year}年{day.month}月{day.day}日"


def office_zone(name: str) -> dt.tzinfo:
    """The office's time zone (`[desk] timezone`); ValueError when the name is not one."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"“{name}”不是时区名称（应写成 Asia/Shanghai 这样）") from exc


def office_today(zone: str = "Asia/Shanghai") -> dt.date:
    """Today's date in the office, whatever the server's own zone."""
    return dt.datetime.now(office_zone(zone)).date()


def office_day_of(stamp: str, zone: str = "Asia/Shanghai") -> dt.date:
    """The office's day of a stored ISO timestamp, from its instant (not its text): a row
    written with the server's offset at 17:30 UTC is the next day in Asia/Shanghai."""
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(office_zone(zone))
    return moment.date()


def office_time(stamp: str, zone: str = "Asia/Shanghai") -> str:
    """A stored ISO timestamp shown as the office reads it: `2026-12-04 09:30`."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(office_zone(zone))
    return moment.strftime("%Y-%m-%d %H:%M")


def refuse_future(day: dt.date, today: dt.date, what: str, *, allow: bool = False) -> None:
    """FutureDateError when `day` is after `today` (unless `allow`): `what` names the date."""
    if day > today and not allow:
        raise FutureDateError(
            f"{what} {day.isoformat()} 晚于今天（{today.isoformat()}）：请给今天或以前的日期"
            "（确有需要时加 --allow-future）。"
        )
