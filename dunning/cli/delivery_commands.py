"""Commands for proof of delivery and the limitation period: `letter …`, `limitation`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.output import DATE, current_desk, echo_json, echo_table, json_option
from dunning.letters.delivery import CHANNELS, REPLIES, STATUS_TITLES, Delivery

_REPLY_WORDS = {"agreed": "agreed", "相符": "agreed", "disputed": "disputed", "不符": "disputed"}


@main.group()
def letter() -> None:
    """Record where a letter is: sent, delivered (with its proof), returned, replied.

    Example: dunning letter sent CS-2025-000123 --via ems --tracking 1151234567890
    """


def _audit(db: Any, action: str, detail: str) -> None:
    from dunning.actors import os_actor
    from dunning.workflow.actions import audit

    audit(db, os_actor(), action, detail)


def _show(letter: Delivery, *, as_json: bool) -> None:
    if as_json:
        echo_json(letter.letter_json())
        return
    parts = [f"{letter.ref}  {letter.customer}  {letter.status} ({STATUS_TITLES[letter.status]})"]
    if letter.channel:
        parts.append(
            f"via {letter.channel}" + (f" {letter.tracking_no}" if letter.tracking_no else "")
        )
    if letter.sent_on:
        parts.append(f"sent {letter.sent_on.isoformat()}")
    if letter.proven_on:
        parts.append(f"delivered {letter.proven_on.isoformat()}")
    if letter.evidence_document:
        parts.append(f"proof: document {letter.evidence_document}")
    if letter.reply and letter.reply_on:
        parts.append(f"statement reply {letter.reply} on {letter.reply_on.isoformat()}")
    if letter.returned_on:
        parts.append(f"returned {letter.returned_on.isoformat()}: {letter.return_reason}")
    click.echo(", ".join(parts))


@letter.command("sent")
@click.argument("ref", required=False)
@click.option("--via", type=click.Choice(CHANNELS), required=True, help="How it went out.")
@click.option("--tracking", default=None, help="The courier's tracking number.")
@click.option("--on", "on", type=DATE, help="The day it went out (default: today).")
@click.option(
    "--from",
    "sheet",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A courier's batch sheet (CSV/XLSX) with a reference and a tracking-number column.",
)
@json_option
@click.pass_context
def letter_sent(
    ctx: click.Context,
    ref: str | None,
    via: str,
    tracking: str | None,
    on: dt.date | None,
    sheet: Path | None,
    as_json: bool,
) -> None:
    """Record that a letter went out: channel, tracking number, date.

    With --from, every letter of a courier's batch sheet (columns like 运单号 and 订单号/备注
    holding the reference); a sheet with any bad row records nothing and lists every bad row.

    Example: dunning letter sent --from 顺丰批量寄件.csv --via sf --on 2025-07-01
    """
    from dunning.letters.delivery import mark_sent

    if (ref is None) == (sheet is None):
        raise click.UsageError("give either a letter reference or --from FILE, not both or none.")
    today = dt.date.today()
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        if sheet is not None:
            if tracking is not None:
                raise click.UsageError("--tracking goes with one letter; the sheet has its own.")
            _sent_from_sheet(db, sheet, via=via, on=on or today, today=today, as_json=as_json)
            return
        assert ref is not None
        sent = mark_sent(db, ref, via=via, tracking=tracking, on=on or today, today=today)
        _audit(db, "letter sent", f"{ref} {via} {tracking or ''}".strip())
        _show(sent, as_json=as_json)


def _sent_from_sheet(
    db: Any, sheet: Path, *, via: str, on: dt.date, today: dt.date, as_json: bool
) -> None:
    from dunning.letters.tracking_sheet import SheetError, mark_sent_from_sheet

    try:
        result = mark_sent_from_sheet(db, sheet, via=via, on=on, today=today)
    except SheetError as exc:
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(str(exc)) from None
    if result.sent:
        _audit(db, "letter sent", f"{sheet.name}: {len(result.sent)} letters via {via}")
    if as_json:
        echo_json(result.to_json())
        return
    for row in result.sent:
        click.echo(
            f"row {row['row']}: {row['ref']} sent {row['sent_on']} via {via} {row['tracking']}"
        )
    click.echo(
        f"{sheet.name}: {len(result.sent)} sent, {len(result.unchanged)} already recorded,"
        f" {len(result.skipped)} blank or total row(s) skipped (header on row {result.header_row})."
    )


@letter.command("delivered")
@click.argument("ref")
@click.option("--on", "on", type=DATE, help="The day it reached the customer (default: today).")
@click.option(
    "--evidence",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The delivery proof (courier's PDF or a scan): archived and linked to the letter.",
)
@json_option
@click.pass_context
def letter_delivered(
    ctx: click.Context, ref: str, on: dt.date | None, evidence: Path | None, as_json: bool
) -> None:
    """Record that a sent letter reached the customer, with the proof.

    Example: dunning letter delivered CS-2025-000123 --on 2025-07-03 --evidence 妥投证明.pdf
    """
    from dunning.ingest.evidence import deliver

    today = dt.date.today()
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = deliver(desk, db, ref, on=on or today, today=today, evidence=evidence)
        _audit(db, "letter delivered", ref)
    _show(result, as_json=as_json)


@letter.command("returned")
@click.argument("ref")
@click.option("--reason", required=True, help="Why it came back: 拒收, 查无此人, 地址不详 …")
@click.option("--on", "on", type=DATE, help="The day it came back (default: today).")
@json_option
@click.pass_context
def letter_returned(
    ctx: click.Context, ref: str, reason: str, on: dt.date | None, as_json: bool
) -> None:
    """Record that a sent letter came back; the customer's address is flagged.

    Example: dunning letter returned CS-2025-000123 --reason 查无此人
    """
    from dunning.letters.delivery import mark_returned

    today = dt.date.today()
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = mark_returned(db, ref, reason=reason, on=on or today, today=today)
        _audit(db, "letter returned", f"{ref} {reason}")
    _show(result, as_json=as_json)
    if not as_json:
        click.echo(
            f"warning: {result.customer}'s address is flagged; check it before the next letter.",
            err=True,
        )


@letter.command("reply")
@click.argument("ref")
@click.argument("reply", type=click.Choice(sorted(_REPLY_WORDS)))
@click.option("--on", "on", type=DATE, help="The day on the signed reply (default: today).")
@click.option(
    "--evidence",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The scan of the signed and sealed reply slip: archived and linked.",
)
@json_option
@click.pass_context
def letter_reply(
    ctx: click.Context,
    ref: str,
    reply: str,
    on: dt.date | None,
    evidence: Path | None,
    as_json: bool,
) -> None:
    """Record the statement's reply slip: agreed (相符) or disputed (不符).

    A reply marked 相符 is the customer's acknowledgement: it restarts the limitation period.

    Example: dunning letter reply CS-2025-000123 相符 --on 2025-07-05 --evidence 回执.pdf
    """
    from dunning.ingest.evidence import reply as record

    assert set(_REPLY_WORDS.values()) == set(REPLIES)
    today = dt.date.today()
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = record(
            desk,
            db,
            ref,
            answer=_REPLY_WORDS[reply],
            on=on or today,
            today=today,
            evidence=evidence,
        )
        _audit(db, "letter reply", f"{ref} {reply}")
    _show(result, as_json=as_json)


@main.command()
@click.option("--as-of", type=DATE, help="The day to look from (default: today).")
@click.option(
    "--within",
    type=click.IntRange(0),
    default=180,
    show_default=True,
    help="List invoices whose period ends within this many days (or has ended).",
)
@json_option
@click.pass_context
def limitation(ctx: click.Context, as_of: dt.date | None, within: int, as_json: bool) -> None:
    """Open invoices whose limitation period (诉讼时效) is about to end, or has ended.

    Example: dunning limitation --as-of 2025-12-31 --within 90 --json
    """
    from dunning.workflow.limitation import position_json
    from dunning.workflow.limitation_archive import limitation_report

    day = as_of or dt.date.today()
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        rows = limitation_report(db, desk.config, as_of=day, within=within)
    if as_json:
        echo_json([position_json(p) for p in rows])
        return
    if not rows:
        click.echo(
            f"no open invoice's limitation period ends within {within} days of {day.isoformat()}."
        )
        return
    echo_table(
        ["customer", "name", "invoice", "due", "open", "expires", "days", "last event", "evidence"],
        [
            [
                p.claim.customer,
                p.claim.name,
                p.claim.invoice_no,
                p.claim.due.isoformat(),
                f"{p.claim.open_amount:,.2f}",
                p.expires.isoformat(),
                p.days_left,
                f"{p.last_event.kind} {p.last_event.date.isoformat()}" if p.last_event else "-",
                p.last_event.evidence if p.last_event else "-",
            ]
            for p in rows
        ],
        right={4, 6},
    )
    for p in rows:
        unproven = f" (sent, unproven: {', '.join(p.unproven)})" if p.unproven else ""
        back = ", ".join(r.ref for r in p.returned)
        returned = f" (returned: {back})" if back else ""
        click.echo(f"{p.claim.customer} {p.claim.invoice_no}: {p.advice}{unproven}{returned}")
