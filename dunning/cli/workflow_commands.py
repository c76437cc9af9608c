"""Commands of the collection workflow: set-status, log add/list, report weekly/legal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from dunning.actors import os_actor
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.ledger_commands import as_of_day, as_of_option
from dunning.cli.output import (
    AMOUNT,
    DATE,
    current_desk,
    echo_json,
    echo_table,
    json_option,
    office_day,
)
from dunning.money import format_amount
from dunning.vocabulary import title
from dunning.workflow import actions
from dunning.workflow.log import (
    KIND_TITLES,
    KINDS,
    PROMISE_TITLES,
    InvalidEntryError,
    entry_json,
    list_entries,
    promise_statuses,
)
from dunning.workflow.status import STATUS_TITLES, STATUSES


@main.command("set-status")
@click.argument("code")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--note", default=None, help="Why (kept in the status history and the log).")
@click.pass_context
def set_status_command(ctx: click.Context, code: str, status: str, note: str | None) -> None:
    """Mark a customer active, disputed, litigation or excluded (only active ones get letters).

    Example: dunning set-status C001 litigation --note "已委托律师起诉"
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        change = actions.set_status(db, os_actor(), code, status, note=note)
    if change.changed:
        old, new = (title(STATUS_TITLES, s) for s in (change.old_status, change.new_status))
        click.echo(f"{change.customer} {change.name}：{old} → {new}")
    else:
        now = title(STATUS_TITLES, change.new_status)
        click.echo(f"{change.customer} {change.name} 已是“{now}”，未作改变。")


@main.group("log")
def log_group() -> None:
    """The collection log: calls, visits, letters, promises to pay.

    Example: dunning log add C001 --kind call --note "财务说月底付"
    """


@log_group.command("add")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What was done.")
@click.option("--note", required=True, help="What happened, in a sentence.")
@click.option("--promise-amount", type=AMOUNT, help="Promised amount (with --kind promise).")
@click.option("--promise-date", type=DATE, help="Promised payment date (with --promise-amount).")
@click.option("--by", default=None, help="Who did it (default: you, the OS user).")
@click.option("--on", "on", type=DATE, default=None, help="The day it happened (default: today).")
@json_option
@click.pass_context
def log_add(
    ctx: click.Context,
    code: str,
    kind: str,
    note: str,
    promise_amount: Decimal | None,
    promise_date: dt.date | None,
    by: str | None,
    on: dt.date | None,
    as_json: bool,
) -> None:
    """Record a call, visit, letter, SMS, promise to pay or legal step for a customer.

    Example: dunning log add C001 --kind promise --note "电话承诺" --promise-amount 5000
    --promise-date 2025-07-15
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        try:
            entry = actions.add_log(
                db,
                os_actor(),
                code,
                kind=kind,
                note=note,
                by=by,
                promise_amount=promise_amount,
                promise_date=promise_date,
                on=on,
                zone=desk.config.timezone,
            )
        except (InvalidEntryError, actions.ActionRefused) as exc:
            raise click.UsageError(str(exc)) from None
        status = promise_statuses(db, [entry], as_of=office_day(desk)).get(entry.id)
    if as_json:
        echo_json(entry_json(entry, status))
        return
    kind = KIND_TITLES.get(entry.kind, entry.kind)
    click.echo(f"已记录 #{entry.id}：{entry.customer} {kind} {entry.day.isoformat()}")


@log_group.command("list")
@click.argument("code", required=False)
@click.option("--since", type=DATE, default=None, help="Only entries from this day on.")
@as_of_option
@json_option
@click.pass_context
def log_list(
    ctx: click.Context,
    code: str | None,
    since: dt.date | None,
    as_of: dt.date | None,
    as_json: bool,
) -> None:
    """List the collection log (one customer's or everyone's); promises show kept/broken/pending.

    Example: dunning log list C001 --since 2025-06-01 --json
    """
    desk = current_desk(ctx)
    day = as_of_day(as_of)
    with open_archive(desk.db_path) as db:
        entries = list_entries(db, code, since=since, until=as_of, zone=desk.config.timezone)
        statuses = promise_statuses(db, entries, as_of=day)
    if as_json:
        echo_json([entry_json(e, statuses.get(e.id)) for e in entries])
        return
    if not entries:
        click.echo("还没有催收记录。")
        return
    echo_table(
        [
            "序号",
            "日期",
            "客户编号",
            "类型",
            "内容",
            "记录人",
            "承诺金额",
            "承诺付款日",
            "承诺状态",
        ],
        [
            [
                e.id,
                e.day.isoformat(),
                e.customer,
                KIND_TITLES.get(e.kind, e.kind),
                e.note,
                e.by,
                format_amount(e.promise_amount) if e.promise_amount is not None else "",
                e.promise_date.isoformat() if e.promise_date else "",
                PROMISE_TITLES[statuses[e.id]] if e.id in statuses else "",
            ]
            for e in entries
        ],
        right={0, 6},
    )


@main.group("report")
def report_group() -> None:
    """Excel reports: the weekly overdue list and the legal hand-over.

    Example: dunning report weekly --as-of 2025-06-27
    """


def _xlsx_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{value}：文件名要以 .xlsx 结尾。")
    return value


def _out_option(fn: Any) -> Any:
    return click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        callback=_xlsx_path,
        help="The .xlsx file to write (default: in the desk's out/ folder).",
    )(fn)


@report_group.command("weekly")
@as_of_option
@_out_option
@click.pass_context
def report_weekly(ctx: click.Context, as_of: dt.date | None, out: Path | None) -> None:
    """Write the weekly overdue report (逾期客户周报) as an Excel workbook and print its path.

    Example: dunning report weekly --as-of 2025-06-27 --out 周报.xlsx
    """
    desk = current_desk(ctx)
    day = as_of_day(as_of)
    with open_archive(desk.db_path) as db:
        from dunning.workflow.reports import weekly_report
        from dunning.workflow.weekly_xlsx import weekly_path, write_weekly

        report = weekly_report(db, as_of=day, config=desk.config)
    click.echo(str(write_weekly(report, out or weekly_path(desk.out, day))))


@report_group.command("legal")
@as_of_option
@_out_option
@click.pass_context
def report_legal(ctx: click.Context, as_of: dt.date | None, out: Path | None) -> None:
    """Write the legal hand-over (customers in litigation or sent a lawyer's letter).

    Example: dunning report legal --out 法务移交.xlsx
    """
    desk = current_desk(ctx)
    day = as_of_day(as_of)
    with open_archive(desk.db_path) as db:
        from dunning.workflow.legal_xlsx import legal_path, write_legal
        from dunning.workflow.reports import legal_report

        report = legal_report(db, as_of=day, config=desk.config)
    click.echo(str(write_legal(report, out or legal_path(desk.out, day))))
