"""`dunning einvoice list|issues`: the archived e-invoices and what disagrees with the ledger."""

from __future__ import annotations

import click

from dunning.archive.accounts import get_customer
from dunning.archive.db import open_archive
from dunning.archive.einvoice.views import all_einvoices, einvoices_for_customer, open_issues
from dunning.cli import main
from dunning.cli.output import current_desk, echo_json, echo_table, json_option
from dunning.money import format_amount
from dunning.vocabulary import EINVOICE_ISSUES, EINVOICE_STATUS, title


@main.group()
def einvoice() -> None:
    """E-invoices (数电 XML, OFD, PDF, the 全量发票查询 export) and their ledger links.

    Drop invoice files or the export into inbox/invoices/ (or `dunning ingest` them).

    Example: dunning einvoice list --customer C001
    """


@einvoice.command("list")
@click.option("--customer", "code", help="Only this customer's e-invoices (code or name).")
@click.option("--unlinked", is_flag=True, help="Only those tied to no ledger invoice.")
@json_option
@click.pass_context
def list_einvoices(ctx: click.Context, code: str | None, unlinked: bool, as_json: bool) -> None:
    """List archived e-invoices with the ledger invoice each one is (or credits).

    Example: dunning einvoice list --unlinked --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        if code:
            found = einvoices_for_customer(db, get_customer(db, code).code)
            if unlinked:
                found = [e for e in found if not (e.invoice_no or e.target_invoice_no)]
        else:
            found = all_einvoices(db, unlinked=unlinked)
    if as_json:
        echo_json([e.to_json() for e in found])
        return
    if not found:
        click.echo("没有电子发票。")
        return
    echo_table(
        ["发票", "开票日期", "价税合计", "状态", "台账发票", "购买方", "原件"],
        [
            [
                e.key + (" 红字" if e.red else ""),
                e.issued_on.isoformat(),
                format_amount(e.amount),
                title(EINVOICE_STATUS, e.status),
                e.invoice_no or (f"冲销 {e.target_invoice_no}" if e.target_invoice_no else ""),
                e.buyer_name or "",
                e.document or "",
            ]
            for e in found
        ],
        right={2},
    )


@einvoice.command("issues")
@click.option("--customer", "code", help="Only this customer's issues (code or name).")
@json_option
@click.pass_context
def issues(ctx: click.Context, code: str | None, as_json: bool) -> None:
    """E-invoices that disagree with the ledger: amount, buyer, 作废 still listed, tax id.

    They are reported, never merged; they go away when the ledger or the invoice is corrected.

    Example: dunning einvoice issues --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        customer = get_customer(db, code).code if code else None
        found = open_issues(db, customer)
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("电子发票与台账一致。")
        return
    for issue in found:
        click.echo(f"[{title(EINVOICE_ISSUES, issue['kind'])}] {issue['detail']}")
