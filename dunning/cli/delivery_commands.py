"""Commands for proof of delivery and the limitation period: `letter …`, `limitation`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from dunning.archive.db import open_archive
from dunning.cli import ClerkError, main
from dunning.cli.ledger_commands import as_of_option
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
from dunning.letters.delivery import (
    CHANNEL_TITLES,
    CHANNELS,
    REPLIES,
    REPLY_TITLES,
    STATUS_TITLES,
    Delivery,
)
from dunning.vocabulary import DELIVERY_CHANNELS, title

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
    parts = [f"{letter.ref}  {letter.customer}  {STATUS_TITLES[letter.status]}"]
    if letter.channel:
        number = f" 运单号 {letter.tracking_no}" if letter.tracking_no else ""
        parts.append(f"寄送方式 {CHANNEL_TITLES.get(letter.channel, letter.channel)}{number}")
    if letter.sent_on:
        parts.append(f"寄出 {letter.sent_on.isoformat()}")
    if letter.proven_on:
        parts.append(f"妥投 {letter.proven_on.isoformat()}")
    if letter.evidence_document:
        parts.append(f"妥投证明：文件 {letter.evidence_document}")
    if letter.reply and letter.reply_on:
        reply = REPLY_TITLES.get(letter.reply, letter.reply)
        parts.append(f"对账回执 {reply}（{letter.reply_on.isoformat()}）")
    if letter.returned_on:
        parts.append(f"退回 {letter.returned_on.isoformat()}：{letter.return_reason}")
    click.echo("，".join(parts))


def _step_day(
    ctx: click.Context, on: dt.date | None, what: str, *, allow_future: bool
) -> tuple[dt.date, dt.date]:
    """(the step's day, today as the checks see it): a future day only with --allow-future."""
    today = office_day(current_desk(ctx))
    day = on or today
    refuse_future(day, today, what, allow=allow_future)
    return day, max(day, today)


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
@allow_future_option
@json_option
@click.pass_context
def letter_sent(
    ctx: click.Context,
    ref: str | None,
    via: str,
    tracking: str | None,
    on: dt.date | None,
    sheet: Path | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Record that a letter went out: channel, tracking number, date.

    With --from, every letter of a courier's batch sheet (columns like 运单号 and 订单号/备注
    holding the reference); a sheet with any bad row records nothing and lists every bad row.

    Example: dunning letter sent --from 顺丰批量寄件.csv --via sf --on 2025-07-01
    """
    from dunning.letters.delivery import already_sent, check_tracking, get_delivery, mark_sent

    if (ref is None) == (sheet is None):
        raise click.UsageError("请给出一个函件编号或 --from 文件，二者只能选一个。")
    day, today = _step_day(ctx, on, "寄出日期", allow_future=allow_future)
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        if sheet is not None:
            if tracking is not None:
                raise click.UsageError("--tracking 只用于单封函件；批量表里每行已有运单号。")
            _sent_from_sheet(db, sheet, via=via, on=day, today=today, as_json=as_json)
            return
        assert ref is not None
        before = get_delivery(db, ref)
        repeat = already_sent(before, via=via, tracking=check_tracking(tracking), on=day)
        result = mark_sent(db, ref, via=via, tracking=tracking, on=day, today=today)
        if not repeat:
            _audit(db, "letter sent", f"{ref} {via} {tracking or ''}".strip())
    _show(result, as_json=as_json)
    if repeat and not as_json:
        click.echo(f"{result.ref} 的寄出已经登记过，这次没有重复记录。", err=True)


def _sent_from_sheet(
    db: Any, sheet: Path, *, via: str, on: dt.date, today: dt.date, as_json: bool
) -> None:
    from dunning.letters.tracking_sheet import SheetError, mark_sent_from_sheet

    try:
        result = mark_sent_from_sheet(db, sheet, via=via, on=on, today=today)
    except SheetError as exc:
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise ClerkError(str(exc)) from None
    if result.sent:
        _audit(
            db,
            "letter sent",
            f"{sheet.name}：{len(result.sent)} 封函件经{title(DELIVERY_CHANNELS, via)}寄出",
        )
    if as_json:
        echo_json(result.to_json())
        return
    for row in result.sent:
        click.echo(
            f"第 {row['row']} 行：{row['ref']} 于 {row['sent_on']} 经{title(DELIVERY_CHANNELS, via)}寄出"
            f" {row['tracking']}"
        )
    click.echo(
        f"{sheet.name}：寄出 {len(result.sent)} 封，已记录过 {len(result.unchanged)} 封，"
        f"跳过空行或合计行 {len(result.skipped)} 行（表头在第 {result.header_row} 行）。"
    )


@letter.command("delivered")
@click.argument("ref")
@click.option("--on", "on", type=DATE, help="The day it reached the customer (default: today).")
@click.option(
    "--evidence",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The delivery proof (courier's PDF or a scan): archived and linked to the letter.",
)
@allow_future_option
@json_option
@click.pass_context
def letter_delivered(
    ctx: click.Context,
    ref: str,
    on: dt.date | None,
    evidence: Path | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Record that a sent letter reached the customer, with the proof.

    Example: dunning letter delivered CS-2025-000123 --on 2025-07-03 --evidence 妥投证明.pdf
    """
    from dunning.ingest.evidence import deliver

    day, today = _step_day(ctx, on, "妥投日期", allow_future=allow_future)
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = deliver(desk, db, ref, on=day, today=today, evidence=evidence)
        _audit(db, "letter delivered", ref)
    _show(result, as_json=as_json)


@letter.command("returned")
@click.argument("ref")
@click.option("--reason", required=True, help="Why it came back: 拒收, 查无此人, 地址不详 …")
@click.option("--on", "on", type=DATE, help="The day it came back (default: today).")
@allow_future_option
@json_option
@click.pass_context
def letter_returned(
    ctx: click.Context,
    ref: str,
    reason: str,
    on: dt.date | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Record that a sent letter came back; the customer's address is flagged.

    Example: dunning letter returned CS-2025-000123 --reason 查无此人
    """
    from dunning.letters.delivery import mark_returned

    day, today = _step_day(ctx, on, "退回日期", allow_future=allow_future)
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = mark_returned(db, ref, reason=reason, on=day, today=today)
        _audit(db, "letter returned", f"{ref} {reason}")
    _show(result, as_json=as_json)
    if not as_json:
        click.echo(f"提醒：{result.customer} 的地址已标记待核实，下次发函前请先核实。", err=True)


@letter.command("reply")
@click.argument("ref")
@click.argument("reply", type=click.Choice(sorted(_REPLY_WORDS)))
@click.option("--on", "on", type=DATE, help="The day on the signed reply (default: today).")
@click.option(
    "--evidence",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The scan of the signed and sealed reply slip: archived and linked.",
)
@allow_future_option
@json_option
@click.pass_context
def letter_reply(
    ctx: click.Context,
    ref: str,
    reply: str,
    on: dt.date | None,
    evidence: Path | None,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Record the statement's reply slip: agreed (相符) or disputed (不符).

    A reply marked 相符 is the customer's acknowledgement: it restarts the limitation period.

    Example: dunning letter reply CS-2025-000123 相符 --on 2025-07-05 --evidence 回执.pdf
    """
    from dunning.ingest.evidence import reply as record

    assert set(_REPLY_WORDS.values()) == set(REPLIES)
    day, today = _step_day(ctx, on, "回执日期", allow_future=allow_future)
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        result = record(
            desk,
            db,
            ref,
            answer=_REPLY_WORDS[reply],
            on=day,
            today=today,
            evidence=evidence,
        )
        _audit(db, "letter reply", f"{ref} {reply}")
    _show(result, as_json=as_json)


@main.command()
@as_of_option
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

    desk = current_desk(ctx)
    day = as_of or office_day(desk)
    with open_archive(desk.db_path) as db:
        rows = limitation_report(db, desk.config, as_of=day, within=within)
    if as_json:
        echo_json([position_json(p) for p in rows])
        return
    if not rows:
        click.echo(f"截至 {day.isoformat()}，没有未收发票的诉讼时效在 {within} 天内届满。")
        return
    echo_table(
        [
            "客户编号",
            "客户名称",
            "发票号",
            "到期日",
            "未收",
            "时效届满",
            "剩余天数",
            "最近中断事由",
            "证据",
        ],
        [
            [
                p.claim.customer,
                p.claim.name,
                p.claim.invoice_no,
                p.claim.due.isoformat(),
                f"{p.claim.open_amount:,.2f}",
                p.expires.isoformat(),
                p.days_left,
                _event(p),
                p.last_event.evidence if p.last_event else "—",
            ]
            for p in rows
        ],
        right={4, 6},
    )
    # One line of advice per customer and advice, not one per invoice.
    advice: dict[tuple[str, str], list[str]] = {}
    for p in rows:
        advice.setdefault((p.claim.customer, p.advice_zh), []).append(p.claim.invoice_no)
    for (code, text), invoices in advice.items():
        click.echo(f"{code}（{'、'.join(invoices)}）：{text}")


def _event(p: Any) -> str:
    from dunning.workflow.limitation import EVENT_TITLES

    if p.last_event is None:
        return "—"
    kind = EVENT_TITLES.get(p.last_event.kind, p.last_event.kind)
    return f"{kind} {p.last_event.date.isoformat()}"
