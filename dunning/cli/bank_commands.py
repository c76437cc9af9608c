"""`dunning bank import|list|review|unbooked`: bank statements and the 到账核对 queue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from dunning.actors import os_actor
from dunning.archive.bank import review as queue
from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.cli.output import AMOUNT, current_desk, echo_json, echo_table, json_option
from dunning.money import format_amount
from dunning.vocabulary import BANK_SOURCES, BANK_STATUS


@main.group()
def bank() -> None:
    """Bank statements (银行流水): import, the review queue, receipts finance has not booked.

    Example: dunning bank import 工行流水.xlsx && dunning bank review
    """


@bank.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@json_option
@click.pass_context
def import_(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Import bank statements (CSV, XLS, XLSX) and match their receipts.

    The account must be one of `[bank] accounts` in dunning.toml. Certain matches are applied
    as payments at once; the others wait for `dunning bank review`.

    Example: dunning bank import ~/Downloads/交易明细_20260401_20260430.xls
    """
    from dunning.ingest.classify import collect_files
    from dunning.ingest.pipeline import IngestReport, Pipeline

    desk = current_desk(ctx)
    report = IngestReport()
    with Pipeline(desk) as pipeline:
        for path in collect_files(paths, skip=desk.own_files):
            report.outcomes.append(pipeline.ingest_file(path, kind="bank"))
    if as_json:
        echo_json(report.to_json())
    else:
        for o in report.outcomes:
            if o.status == "archived":
                click.echo(f"已归档 {o.label}（文档 {o.document}）：{o.file.name}")
            else:
                click.echo(f"{o.status} {o.file.name}: {o.reason}", err=True)
    if report.of("failed"):
        ctx.exit(1)


def _table(rows: list[queue.BankReceipt]) -> None:
    echo_table(
        ["id", "到账日期", "金额", "付款人", "状态", "客户", "依据"],
        [
            [
                r.id,
                r.received_on.isoformat(),
                format_amount(r.amount),
                r.payer_name,
                BANK_STATUS.get(r.status, r.status),
                f"{r.customer} {r.customer_name or ''}".strip() if r.customer else "",
                r.grounds,
            ]
            for r in rows
        ],
        right={2},
    )


@bank.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(queue.STATUSES),
    help="Only receipts in this state (repeatable).",
)
@click.option("--customer", default=None, help="Only this customer's receipts.")
@json_option
@click.pass_context
def list_(
    ctx: click.Context, statuses: tuple[str, ...], customer: str | None, as_json: bool
) -> None:
    """Every bank receipt with its match, grounds and sources.

    Example: dunning bank list --status probable --status unmatched
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        rows = queue.receipts(db, status=statuses, customer=customer)
    if as_json:
        echo_json([r.to_json() for r in rows])
    elif rows:
        _table(rows)
    else:
        click.echo("还没有银行到账：请用 `dunning bank import` 导入银行流水。")


@bank.command("review")
@click.argument("receipt", type=int, required=False)
@click.option("--accept", is_flag=True, help="Confirm the proposed customer and invoices.")
@click.option("--customer", default=None, help="The receipt is this customer's money.")
@click.option(
    "--split",
    "parts",
    multiple=True,
    metavar="INVOICE=AMOUNT",
    help="Apply this amount to this invoice (repeatable).",
)
@click.option("--not-customer", is_flag=True, help="Not a customer's payment (refund, interest).")
@json_option
@click.pass_context
def review_(
    ctx: click.Context,
    receipt: int | None,
    accept: bool,
    customer: str | None,
    parts: tuple[str, ...],
    not_customer: bool,
    as_json: bool,
) -> None:
    """The review queue (待核对 and 未匹配), or one decision on receipt RECEIPT.

    A decision for a customer applies the receipt and teaches the payer's account and name.

    Example: dunning bank review 12 --accept   or   dunning bank review 13 --split 12345678=5000
    """
    desk = current_desk(ctx)
    chosen = sum([accept, customer is not None, bool(parts), not_customer])
    if receipt is None:
        if chosen:
            raise click.UsageError("请写明要处理的到账编号，如 `dunning bank review 12 --accept`。")
        with open_archive(desk.db_path) as db:
            rows = queue.receipts(db, status=queue.WAITING)
        if as_json:
            echo_json([r.to_json() for r in rows])
        elif rows:
            _table(rows)
        else:
            click.echo("没有待核对的到账：每笔都已匹配或处理。")
        return
    if chosen != 1:
        raise click.UsageError("请在 --accept、--customer、--split、--not-customer 中选一个。")
    actor = os_actor().label
    with open_archive(desk.db_path) as db, write_transaction(db) as conn:
        if accept:
            done = queue.accept(conn, receipt, actor=actor)
        elif customer is not None:
            done = queue.reassign(
                conn, receipt, customer, actor=actor, fee_tolerance=desk.config.bank_fee_tolerance
            )
        elif parts:
            done = queue.split(conn, receipt, [_part(p) for p in parts], actor=actor)
        else:
            done = queue.not_customer(conn, receipt, actor=actor)
    if as_json:
        echo_json(done.to_json())
    else:
        who = f" → {done.customer} {done.customer_name or ''}" if done.customer else ""
        click.echo(f"到账 {done.id}：{BANK_STATUS[done.status]}{who}")


def _part(text: str) -> tuple[str, Decimal]:
    invoice, sep, amount = text.partition("=")
    if not sep or not invoice.strip():
        raise click.UsageError(f"{text!r}：每部分请写成 发票号=金额，如 12345678=5000.00。")
    try:
        return invoice.strip(), AMOUNT.convert(amount, None, None)
    except click.BadParameter as exc:
        raise click.UsageError(f"{text!r}: {exc.message}") from None


@bank.command("unbooked")
@json_option
@click.pass_context
def unbooked(ctx: click.Context, as_json: bool) -> None:
    """Money on the bank statements that finance has not booked yet (未入账到款, 与财务核对).

    Example: dunning bank unbooked --json > 未入账到款.json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        rows = queue.receipts(db, unbooked=True)
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("没有未入账的到款：流水上的每笔到款财务都已入账。")
        return
    _table(rows)
    total = sum((r.amount for r in rows), Decimal("0.00"))
    click.echo(
        f"{len(rows)} 笔到款，共 {format_amount(total)} 元尚未入账（{BANK_SOURCES['bank']}）"
    )
