"""`dunning visit …`: 上门催收 planned, approved by a manager, its 到访回执单, then done."""

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
from dunning.vocabulary import VISIT_STATUS


@main.group("visit")
def visit_group() -> None:
    """上门催收: plan a visit, have it approved, print its 到访回执单, record how it went.

    Example: dunning visit plan C004 --on 2026-12-10 --people "张会计、李律师"
    """


def _show(visit: object, *, as_json: bool) -> None:
    from dunning.workflow.visits import Visit

    assert isinstance(visit, Visit)
    if as_json:
        echo_json(visit.to_json())
        return
    click.echo(
        f"上门计划 {visit.id}：{visit.customer}，{visit.planned_on.isoformat()}，"
        f"{visit.people}，{VISIT_STATUS[visit.status]}"
    )
    click.echo(f"  携带材料：{visit.materials}")
    if visit.outcome:
        click.echo(f"  上门结果（{visit.done_on}）：{visit.outcome}")


@visit_group.command("plan")
@click.argument("code")
@click.option("--on", "on", type=DATE, required=True, help="The day of the visit.")
@click.option("--people", required=True, help="Who goes (names, and their roles).")
@click.option("--materials", default=None, help="What they take (default: the usual papers).")
@click.option("--purpose", default="", help="Why, in a sentence.")
@click.option("--by", default=None, help="Who plans it.")
@json_option
@click.pass_context
def visit_plan(
    ctx: click.Context,
    code: str,
    on: dt.date,
    people: str,
    materials: str | None,
    purpose: str,
    by: str | None,
    as_json: bool,
) -> None:
    """Plan a visit to a customer; it waits for a manager's approval.

    Example: dunning visit plan C004 --on 2026-12-10 --people "张会计、李律师" --purpose 当面对账
    """
    from dunning.workflow.visits import DEFAULT_MATERIALS, plan_visit

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        visit = plan_visit(
            db,
            code,
            on=on,
            people=people,
            materials=materials or DEFAULT_MATERIALS,
            purpose=purpose,
            by=by,
            today=office_day(desk),
        )
    _show(visit, as_json=as_json)


@visit_group.command("approve")
@click.argument("visit_id", type=click.IntRange(1))
@click.option("--by", required=True, help="The manager who approves it.")
@click.option("--note", default="", help="The manager's remark.")
@click.option("--reject", is_flag=True, help="Refuse the plan instead.")
@json_option
@click.pass_context
def visit_approve(
    ctx: click.Context, visit_id: int, by: str, note: str, reject: bool, as_json: bool
) -> None:
    """A manager approves (or, with --reject, refuses) a planned visit.

    Example: dunning visit approve 3 --by 王总 --note 同意，注意保留到访回执
    """
    from dunning.workflow.visits import decide_visit

    with open_archive(current_desk(ctx).db_path) as db:
        visit = decide_visit(db, visit_id, approve=not reject, by=by, note=note)
    _show(visit, as_json=as_json)


@visit_group.command("receipt")
@click.argument("visit_id", type=click.IntRange(1))
@click.pass_context
def visit_receipt(ctx: click.Context, visit_id: int) -> None:
    """Print the visit's 到访回执单 (a Word file in out/visits/).

    Example: dunning visit receipt 3
    """
    from dunning.workflow.visits import write_visit_receipt

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        path = write_visit_receipt(desk, db, visit_id)
    click.echo(f"到访回执单：{path}")


@visit_group.command("done")
@click.argument("visit_id", type=click.IntRange(1))
@click.option("--outcome", required=True, help="How it went, in a sentence.")
@click.option("--on", "on", type=DATE, default=None, help="The day it took place (default: today).")
@click.option("--by", default=None, help="Who records it.")
@allow_future_option
@json_option
@click.pass_context
def visit_done(
    ctx: click.Context,
    visit_id: int,
    outcome: str,
    on: dt.date | None,
    by: str | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Record that an approved visit took place (logged as 上门 for the customer).

    Example: dunning visit done 3 --outcome "对方财务确认欠款，承诺月底付一半"
    """
    from dunning.workflow.visits import complete_visit

    desk = current_desk(ctx)
    today = office_day(desk)
    with open_archive(desk.db_path) as db:
        visit = complete_visit(
            db, visit_id, on=on or today, outcome=outcome, by=by, today=today,
            allow_future=allow_future,
        )  # fmt: skip
    _show(visit, as_json=as_json)


@visit_group.command("list")
@click.argument("code", required=False)
@click.option("--status", type=click.Choice(sorted(VISIT_STATUS)), help="Only this state.")
@json_option
@click.pass_context
def visit_list(ctx: click.Context, code: str | None, status: str | None, as_json: bool) -> None:
    """List visits, latest first (one customer's, or everyone's).

    Example: dunning visit list --status planned
    """
    from dunning.workflow.visits import list_visits

    with open_archive(current_desk(ctx).db_path) as db:
        visits = list_visits(db, code=code, status=status)
    if as_json:
        echo_json([v.to_json() for v in visits])
        return
    if not visits:
        click.echo("还没有上门催收计划。")
        return
    echo_table(
        ["编号", "客户编号", "上门日期", "上门人员", "状态", "审批人", "携带材料"],
        [
            [
                v.id,
                v.customer,
                v.planned_on.isoformat(),
                v.people,
                VISIT_STATUS[v.status],
                v.decided_by or "",
                v.materials,
            ]
            for v in visits
        ],
        right={0},
    )
