"""Shared rendering for the CLI: JSON, plain tables, progress on stderr."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

from dunning.dates import office_today, parse_date
from dunning.desk import Desk, find_desk
from dunning.money import parse_amount
from dunning.text import display_width

F = TypeVar("F", bound=Callable[..., Any])


def json_option(fn: F) -> F:
    """The shared `--json` flag."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(fn)


def allow_future_option(fn: F) -> F:
    """The shared `--allow-future` flag: accept a date after today."""
    return click.option(
        "--allow-future",
        is_flag=True,
        help="Accept a date after today (refused by default: usually a typing mistake).",
    )(fn)


def office_day(desk: Desk) -> dt.date:
    """Today in the office's time zone (`[desk] timezone`)."""
    return office_today(desk.config.timezone)


def current_desk(ctx: click.Context) -> Desk:
    root = ctx.find_root()
    obj = root.obj or {}
    return find_desk(obj.get("desk"))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def echo_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, right: set[int] | None = None
) -> None:
    """A plain aligned table that keeps Chinese columns straight."""
    right = right or set()
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - display_width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        click.echo("  ".join(parts).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def progress_enabled(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


class DateType(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.3
    """A date as clerks write it: 2025-03-05, 2025/3/5, 2025年3月5日."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class AmountType(click.ParamType):  # type: ignore[type-arg]
    """An amount in yuan: 1234.50, ￥1,234.50."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(value)
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


class DocumentIdType(click.ParamType):  # type: ignore[type-arg]
    """A document number as `dunning search` shows it: 1 or more, within SQLite's integers."""

    name = "id"
    _MAX = 2**63 - 1

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            if not text.lstrip("-").isdigit() or len(text) > 30:
                self.fail(f"{value!r} 不是文档编号：用 `dunning search` 查看文档编号。")
            number = int(text)
        if not 1 <= number <= self._MAX:
            self.fail(f"{value} 不是文档编号（从 1 开始）：用 `dunning search` 查看文档编号。")
        return number


DATE = DateType()
DOCUMENT_ID = DocumentIdType()
AMOUNT = AmountType()
