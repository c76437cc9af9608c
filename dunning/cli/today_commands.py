"""`dunning today`: the clerk's worklist for the day."""

from __future__ import annotations

import datetime as dt

import click

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.output import (
    DATE,
    allow_future_option,
    current_desk,
    echo_json,
    echo_table,
    json_option,
    office_day,
)
from dunning.dates import refuse_future
from dunning.money import format_amount
from dunning.vocabulary import TODAY_ACTIONS, TODAY_KINDS


@main.command("today")
@click.option("--as-of", type=DATE, help="The day to plan (default: today in the office).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Show only the first N.")
@allow_future_option
@json_option
@click.pass_context
def today_command(
    ctx: click.Context,
    as_of: dt.date | None,
    limit: int | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """What to do today: promises due or broken, letters to mail, proofs to get, returned
    letters, claims near the limitation date, receipts to review; largest amount × days first.

    Example: dunning today --limit 20
    """
    from dunning.workflow.today import today_list

    desk = current_desk(ctx)
    today = office_day(desk)
    day = as_of or today
    refuse_future(day, today, "日期 --as-of", allow=allow_future)
    with open_archive(desk.db_path) as db:
        items = today_list(db, desk.config, today=day)
    shown = items[:limit] if limit else items
    if as_json:
        echo_json({"as_of": day.isoformat(), "items": [i.to_json() for i in shown]})
        return
    if not items:
        click.echo(f"{day.isoformat()}：今天没有待办事项。")
        return
    echo_table(
        ["序号", "事项", "客户编号", "客户名称", "金额", "逾期天数", "事由", "操作"],
        [
            [
                n,
                TODAY_KINDS[i.kind],
                i.customer,
                i.name,
                format_amount(i.amount),
                i.days,
                i.what,
                TODAY_ACTIONS[i.action],
            ]
            for n, i in enumerate(shown, 1)
        ],
        right={0, 4, 5},
    )
    customers = len({i.customer for i in items})
    click.echo(
        f"{day.isoformat()}：共 {len(items)} 项待办（{customers} 个客户），显示 {len(shown)} 项。"
    )
