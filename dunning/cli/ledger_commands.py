"""Commands over the receivables and the archive: ingest, aging, customers, customer, verify."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from dunning.archive.accounts import aging_json, aging_report, customers_json
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.output import (
    DATE,
    F,
    current_desk,
    echo_json,
    echo_table,
    json_option,
    progress_enabled,
)
from dunning.money import format_amount
from dunning.vocabulary import EINVOICE_STATUS, title
from dunning.workflow.records import customer_record
from dunning.workflow.verify import verify as verify_archive


def as_of_option(fn: F) -> F:
    return click.option(
        "--as-of",
        type=DATE,
        default=None,
        help="Position on this date (2025-12-31, 2025/12/31 or 2025年12月31日; default: today).",
    )(fn)


def as_of_day(value: dt.date | None) -> dt.date:
    return value or dt.date.today()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="No progress or per-file lines.")
@json_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], quiet: bool, as_json: bool) -> None:
    """Ingest files or folders once (ledgers, contract PDFs, scans), like the watcher would.

    Example: dunning ingest inbox/   or   dunning ingest ~/exports/应收台账.xlsx
    """
    # Imported here: PDF and OCR machinery is only loaded by the commands that ingest.
    from dunning.ingest.classify import collect_files
    from dunning.ingest.pipeline import Outcome, Pipeline, failed_rows

    desk = current_desk(ctx)
    # Collected once here (the progress bar needs the count) and handed to the pipeline.
    files = collect_files(paths, skip=desk.own_files)

    def line(outcome: Outcome) -> None:
        if quiet or as_json:
            return
        if outcome.status == "archived":
            click.echo(
                f"archived {outcome.label} (doc {outcome.document}): {outcome.file.name}", err=True
            )
        elif outcome.status == "duplicate":
            click.echo(f"duplicate {outcome.file.name}: {outcome.reason}", err=True)
        else:
            click.echo(f"failed {outcome.file.name}: {outcome.reason}", err=True)
            for text in failed_rows(outcome):
                click.echo(text, err=True)

    if progress_enabled(quiet) and not as_json and len(files) > 20:
        bar = click.progressbar(length=len(files), label="ingesting", file=sys.stderr)
        with bar, Pipeline(desk) as pipeline:
            report = pipeline.ingest_many(files, progress=lambda o: bar.update(1))
    else:
        with Pipeline(desk) as pipeline:
            report = pipeline.ingest_many(files, progress=line)
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo(
            f"{len(report.of('archived'))} archived, {len(report.of('duplicate'))} duplicate,"
            f" {len(report.of('failed'))} failed"
        )
        for outcome in report.of("archived"):
            _echo_notes(outcome.file.name, outcome.notes)
    if report.of("failed"):
        ctx.exit(1)


NOTES_SHOWN = 20


def _echo_notes(name: str, notes: tuple[str, ...]) -> None:
    """What an import changed about what is owed: the first 20 lines, then where the rest is."""
    if not notes:
        return
    click.echo(f"{name}:")
    for note in notes[:NOTES_SHOWN]:
        click.echo(f"  {note}")
    if len(notes) > NOTES_SHOWN:
        click.echo(
            f"  …另有 {len(notes) - NOTES_SHOWN} 条：dunning invoice held, dunning receipts"
            " unmatched（或 ingest --json）"
        )


@main.command()
@as_of_option
@json_option
@click.pass_context
def aging(ctx: click.Context, as_of: dt.date | None, as_json: bool) -> None:
    """Per-customer balance, overdue amount and aging buckets.

    Example: dunning aging --as-of 2025-12-31
    """
    desk = current_desk(ctx)
    day = as_of_day(as_of)
    with open_archive(desk.db_path) as db:
        report = aging_report(db, as_of=day, edges=desk.config.bucket_edges)
    report.sort(key=lambda a: (-a.max_days_overdue, a.customer))
    if as_json:
        echo_json([aging_json(a) for a in report])
        return
    if not report:
        click.echo("no receivables yet: ingest a ledger first.")
        return
    labels = list(report[0].buckets)
    rows = [
        [a.customer, a.name, format_amount(a.balance)]
        + [format_amount(a.buckets[k]) for k in labels]
        + [a.max_days_overdue]
        for a in report
    ]
    echo_table(
        ["customer", "name", "balance", *labels, "max days"],
        rows,
        right=set(range(2, 4 + len(labels))),
    )
    click.echo(f"as of {day.isoformat()}, {len(report)} customers")


@main.command()
@json_option
@click.pass_context
def customers(ctx: click.Context, as_json: bool) -> None:
    """List customers with their status and balance.

    Example: dunning customers --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        rows = customers_json(db, as_of=dt.date.today(), edges=desk.config.bucket_edges)
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ["customer", "name", "status", "balance", "max days"],
        [
            [
                r["customer"],
                r["name"],
                r["status"],
                format_amount(Decimal(r["balance"])),
                r["max_days_overdue"],
            ]
            for r in rows
        ],
        right={3, 4},
    )


@main.command()
@click.argument("code")
@as_of_option
@json_option
@click.pass_context
def customer(ctx: click.Context, code: str, as_of: dt.date | None, as_json: bool) -> None:
    """One customer: invoices, payments, contracts, letters and the collection log.

    Example: dunning customer C001 --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        record = customer_record(db, code, as_of=as_of_day(as_of), edges=desk.config.bucket_edges)
    if as_json:
        echo_json(record)
        return
    click.echo(f"{record['customer']}  {record['name']}  [{record['status']}]")
    for key in ("tax_id", "address", "contact", "phone", "salesperson", "credit_grade"):
        if record[key]:
            click.echo(f"  {key}: {record[key]}")
    click.echo(
        f"  balance {record['balance']}, overdue {record['overdue']},"
        f" max {record['max_days_overdue']} days overdue (as of {record['as_of']})"
    )
    click.echo("\ninvoices")
    echo_table(
        ["invoice", "contract", "date", "due", "amount", "received", "open", "days"],
        [
            [
                i["invoice"],
                i["contract"],
                i["date"],
                i["due"],
                i["amount"],
                i["received"],
                i["open"],
                i["days_overdue"],
            ]
            for i in record["invoices"]
        ],
        right={4, 5, 6, 7},
    )
    _einvoices(record)
    _section("payments", record["payments"], ["date", "amount", "invoice"])
    _section("contracts", record["contracts"], ["contract", "amount", "signed_on", "document"])
    _section(
        "letters",
        record["letters"],
        [
            "ref",
            "level_name",
            "date",
            "status",
            "channel",
            "tracking",
            "sent_on",
            "delivered_on",
            "evidence_document",
        ],
    )
    for flag in record.get("address_flags", []):
        click.echo(
            f"  address flagged: {flag['letter']} came back on {flag['flagged_on']}"
            f" ({flag['reason']}); check the address before the next letter"
        )
    _section("log", record["log"], ["at", "kind", "note"])
    changes = [{**c, "change": f"{c['old'] or ''} → {c['new']}"} for c in record["changes"]]
    if changes:
        _section("changes", changes, ["at", "field", "change", "file"])
    if record["held_invoices"]:
        _section("held (not in the balance)", record["held_invoices"], _HELD_KEYS)
    if record["unmatched_receipts"]:
        _section("unmatched receipts it may have paid", record["unmatched_receipts"], _MAYBE_KEYS)


_HELD_KEYS = ["invoice", "date", "open", "state_title", "reason"]
_MAYBE_KEYS = ["id", "payer", "date", "amount"]


def _einvoices(record: dict[str, Any]) -> None:
    """The e-invoices, each with the ledger invoice it is (or credits), and what disagrees."""
    rows = [
        {
            **e,
            "amount": format_amount(Decimal(e["amount"])),
            "status": title(EINVOICE_STATUS, e["status"]) + (" 红字" if e["red"] else ""),
            "ledger": e["invoice"] or (f"credits {e['credits_invoice']}" if e["red"] else ""),
            "file": f"doc {e['document']}" if e["document"] else "",
        }
        for e in record.get("einvoices", [])
    ]
    if rows:
        _section("e-invoices", rows, ["einvoice", "date", "amount", "status", "ledger", "file"])
    for issue in record.get("einvoice_issues", []):
        click.echo(f"  ! {issue['detail']}")


def _section(title: str, rows: list[dict[str, object]], keys: list[str]) -> None:
    click.echo(f"\n{title}")
    if not rows:
        click.echo("  (none)")
        return
    echo_table(keys, [[r[k] for k in keys] for r in rows])


@main.command()
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
@click.pass_context
def verify(ctx: click.Context, quiet: bool, as_json: bool) -> None:
    """Re-hash every stored original and check database and store against each other.

    Exit 1 when anything is missing, altered or unrecorded.

    Example: dunning verify --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        total = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        if progress_enabled(quiet or as_json) and total > 50:
            with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
                report = verify_archive(desk, db, progress=lambda: bar.update(1))
        else:
            report = verify_archive(desk, db)
    if as_json:
        echo_json(report.to_json())
    else:
        for p in report.problems:
            doc = f"document {p.document}: " if p.document else ""
            click.echo(f"{p.kind}: {doc}{p.path}: {p.detail}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        click.echo(f"{report.documents} documents, {report.store_files} stored files: {verdict}")
    if not report.ok:
        ctx.exit(1)
