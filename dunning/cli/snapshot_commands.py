"""Commands over ledger snapshots: held invoices (`dunning invoice ...`) and ledger payments
with no customer (`dunning receipts ...`)."""

from __future__ import annotations

import click

from dunning.actors import os_actor
from dunning.archive.db import open_archive
from dunning.archive.snapshots import confirm_keep, confirm_void, held_invoices
from dunning.archive.unmatched import UnmatchedReceipt, assign, dismiss, unmatched_receipts
from dunning.cli import main
from dunning.cli.output import current_desk, echo_json, echo_table, json_option
from dunning.money import format_amount
from dunning.vocabulary import INVOICE_STATES


@main.group("invoice")
def invoice_group() -> None:
    """Invoices a later ledger export no longer lists: see them, void them or keep them.

    Example: dunning invoice held
    """


@invoice_group.command("held")
@click.option("--customer", default=None, help="Only this customer's (code).")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["vanished", "voided", "settled"]),
    help="Only invoices in this state (repeatable; default: all three).",
)
@json_option
@click.pass_context
def invoice_held(
    ctx: click.Context, customer: str | None, states: tuple[str, ...], as_json: bool
) -> None:
    """List invoices held out of the balances: vanished (waiting for a clerk), voided, settled.

    Example: dunning invoice held --state vanished --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        held = held_invoices(
            db, customer=customer, states=states or ("vanished", "voided", "settled")
        )
    if as_json:
        echo_json([h.to_json() for h in held])
        return
    if not held:
        click.echo("没有暂停催收的发票。")
        return
    echo_table(
        ["客户", "发票号", "开票日期", "未收金额", "状态", "原因"],
        [
            [
                h.customer,
                h.invoice_no,
                h.invoice_date.isoformat(),
                format_amount(h.open_amount),
                INVOICE_STATES[h.state],
                h.reason or "",
            ]
            for h in held
        ],
        right={3},
    )
    waiting = sum(1 for h in held if h.state == "vanished")
    if waiting:
        click.echo(
            f"{waiting} 张待核实：`dunning invoice void 发票号 --reason …` 或"
            " `dunning invoice keep 发票号`"
        )


@invoice_group.command("void")
@click.argument("invoice_no")
@click.option("--reason", required=True, help="Why it is not owed (kept with your name).")
@click.pass_context
def invoice_void(ctx: click.Context, invoice_no: str, reason: str) -> None:
    """Confirm an invoice is not owed (voided in the ERP): it leaves the balances and letters.

    Nothing is deleted: the invoice stays in the archive, marked void, with who and why.

    Example: dunning invoice void INV002 --reason "ERP 已作废，红冲发票 INV002-R"
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        held = confirm_void(db, invoice_no, reason=reason, actor=os_actor())
    click.echo(
        f"{held.customer} 的发票 {held.invoice_no}（{format_amount(held.open_amount)}）已作废："
        f"{held.reason}"
    )


@invoice_group.command("keep")
@click.argument("invoice_no")
@click.option("--note", default=None, help="Why it is owed after all (optional).")
@click.pass_context
def invoice_keep(ctx: click.Context, invoice_no: str, note: str | None) -> None:
    """Confirm a vanished, voided or settled invoice is owed: it counts again in balances.

    Example: dunning invoice keep INV002 --note "客户确认未付，ERP 漏导出"
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        code = confirm_keep(db, invoice_no, actor=os_actor(), note=note)
    click.echo(f"{code} 的发票 {invoice_no.strip()} 恢复催收。")


@main.group("receipts")
def receipts_group() -> None:
    """Ledger payments with no customer (unmatched receipts): list them, assign them.

    Example: dunning receipts unmatched
    """


@receipts_group.command("unmatched")
@click.option("--assigned", is_flag=True, help="List those already assigned or dismissed.")
@json_option
@click.pass_context
def receipts_unmatched(ctx: click.Context, assigned: bool, as_json: bool) -> None:
    """List ledger payments whose payer matched no customer (they lower no balance yet).

    Example: dunning receipts unmatched --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        found = unmatched_receipts(db, assigned=assigned)
    if as_json:
        echo_json([r.to_json() for r in found])
        return
    if not found:
        click.echo("没有未匹配到款。" if not assigned else "还没有归入客户的到款。")
        return
    echo_table(
        ["编号", "付款方", "付款日期", "金额", "可能的客户" if not assigned else "归入客户"],
        [
            [
                r.id,
                r.payer_name,
                r.paid_on.isoformat(),
                format_amount(r.amount),
                "、".join(r.candidates) if not assigned else _outcome(r),
            ]
            for r in found
        ],
        right={3},
    )
    if not assigned:
        click.echo(
            f"{len(found)} 笔未匹配到款未冲减任何余额：`dunning receipts assign 编号 客户编号`"
        )


def _outcome(receipt: UnmatchedReceipt) -> str:
    if receipt.assigned_to is not None:
        return f"{receipt.assigned_to}（{receipt.assigned_by}）"
    return f"已忽略：{receipt.dismissed_reason}"


@receipts_group.command("assign")
@click.argument("receipt_id", type=click.IntRange(min=1))
@click.argument("customer")
@click.option(
    "--second",
    is_flag=True,
    help="Assign even though the customer has a payment of that day and amount already.",
)
@click.pass_context
def receipts_assign(ctx: click.Context, receipt_id: int, customer: str, second: bool) -> None:
    """Assign an unmatched receipt to a customer: it becomes that customer's payment.

    The payer's name is remembered: the next ledger with the same payer finds the customer.

    Example: dunning receipts assign 3 C001
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        receipt = assign(db, receipt_id, customer, actor=os_actor(), second=second)
    click.echo(
        f"到款 #{receipt.id}（{receipt.payer_name} {receipt.paid_on.isoformat()}"
        f" {format_amount(receipt.amount)}）已归入 {receipt.assigned_to}。"
    )


@receipts_group.command("dismiss")
@click.argument("receipt_id", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why it is no customer's payment.")
@click.pass_context
def receipts_dismiss(ctx: click.Context, receipt_id: int, reason: str) -> None:
    """Dismiss an unmatched receipt that is no customer's payment (a refund, interest, money
    already booked): it leaves the list and lowers nothing; kept with who and why.

    Example: dunning receipts dismiss 4 --reason "银行利息，非客户回款"
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        receipt = dismiss(db, receipt_id, reason=reason, actor=os_actor())
    click.echo(f"到款 #{receipt.id}（{receipt.payer_name}）已忽略：{receipt.dismissed_reason}")
