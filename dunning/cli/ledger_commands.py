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
    office_day,
    progress_enabled,
)
from dunning.dates import office_time, refuse_future
from dunning.money import format_amount
from dunning.receivables import ZERO, bucket_title
from dunning.vocabulary import (
    CUSTOMER_STATUS,
    DELIVERY_CHANNELS,
    EINVOICE_STATUS,
    HEADERS,
    INGEST_OUTCOMES,
    LETTER_LEVELS,
    LETTER_STATUS,
    LOG_KINDS,
    VERIFY_PROBLEMS,
    same_as,
    title,
)
from dunning.workflow.records import customer_record
from dunning.workflow.verify import verify as verify_archive


def as_of_option(fn: F) -> F:
    """`--as-of D` (never after today in the office) and `--allow-future` to look ahead."""
    fn = click.option(
        "--as-of",
        type=DATE,
        default=None,
        callback=_not_after_today,
        help="Position on this date (2025-12-31, 2025/12/31 or 2025年12月31日; default: today).",
    )(fn)
    return click.option(
        "--allow-future",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_remember_allow_future,
        help="Accept an --as-of after today (refused by default: usually a typing mistake).",
    )(fn)


def _remember_allow_future(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta["allow_future"] = value
    return value


def _not_after_today(
    ctx: click.Context, param: click.Parameter, value: dt.date | None
) -> dt.date | None:
    if value is not None and not ctx.meta.get("allow_future", False):
        refuse_future(value, office_day(current_desk(ctx)), "日期 --as-of")
    return value


def as_of_day(value: dt.date | None) -> dt.date:
    """The --as-of given, else today in the office's time zone (`[desk] timezone`)."""
    if value is not None:
        return value
    return office_day(current_desk(click.get_current_context()))


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
        said = title(INGEST_OUTCOMES, outcome.status)
        if outcome.status == "archived":
            click.echo(
                f"{said} {outcome.file.name}（文档 {outcome.document}）：{outcome.label}",
                err=True,
            )
        elif outcome.status == "duplicate":
            click.echo(f"{said} {outcome.file.name}：{same_as(outcome.document)}", err=True)
        else:
            click.echo(f"{said} {outcome.file.name}：{outcome.reason}", err=True)
            for text in failed_rows(outcome):
                click.echo(text, err=True)

    if progress_enabled(quiet) and not as_json and len(files) > 20:
        bar = click.progressbar(length=len(files), label="正在导入", file=sys.stderr)
        with bar, Pipeline(desk) as pipeline:
            report = pipeline.ingest_many(files, progress=lambda o: bar.update(1))
    else:
        with Pipeline(desk) as pipeline:
            report = pipeline.ingest_many(files, progress=line)
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo(
            f"已归档 {len(report.of('archived'))} 个，重复 {len(report.of('duplicate'))} 个，"
            f"失败 {len(report.of('failed'))} 个"
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
            f"  …另有 {len(notes) - NOTES_SHOWN} 条：用 `dunning invoice held`、"
            "`dunning receipts unmatched`（或 `dunning ingest --json`）查看"
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
    day = as_of or office_day(desk)
    with open_archive(desk.db_path) as db:
        report = aging_report(db, as_of=day, edges=desk.config.bucket_edges)
    report.sort(key=lambda a: (-a.max_days_overdue, a.customer))
    if as_json:
        echo_json([aging_json(a) for a in report])
        return
    if not report:
        click.echo("还没有应收数据：先导入台账（dunning ingest 台账.xlsx）。")
        return
    labels = list(report[0].buckets)
    rows: list[list[object]] = [
        [a.customer, a.name, format_amount(a.balance)]
        + [format_amount(a.buckets[k]) for k in labels]
        + [a.max_days_overdue]
        for a in report
    ]
    total: list[object] = ["合计", f"{len(report)} 个客户"]
    total += [format_amount(sum((a.balance for a in report), ZERO))]
    total += [format_amount(sum((a.buckets[k] for a in report), ZERO)) for k in labels] + [""]
    rows.append(total)
    echo_table(
        ["客户编号", "客户名称", "应收余额", *(bucket_title(k) for k in labels), "最长逾期天数"],
        rows,
        right=set(range(2, 4 + len(labels))),
    )
    click.echo(f"截至 {day.isoformat()}，{len(report)} 个客户")


@main.command()
@json_option
@click.pass_context
def customers(ctx: click.Context, as_json: bool) -> None:
    """List customers with their status and balance.

    Example: dunning customers --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        rows = customers_json(db, as_of=office_day(desk), edges=desk.config.bucket_edges)
    if as_json:
        echo_json(rows)
        return
    total = sum((Decimal(r["balance"]) for r in rows), Decimal(0))
    echo_table(
        ["客户编号", "客户名称", "状态", "应收余额", "最长逾期天数"],
        [
            *(
                [
                    r["customer"],
                    r["name"],
                    title(CUSTOMER_STATUS, r["status"]),
                    format_amount(Decimal(r["balance"])),
                    r["max_days_overdue"],
                ]
                for r in rows
            ),
            ["合计", f"{len(rows)} 个客户", "", format_amount(total), ""],
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
        day = as_of or office_day(desk)
        record = customer_record(db, code, as_of=day, edges=desk.config.bucket_edges)
    if as_json:
        echo_json(record)
        return
    zone = desk.config.timezone
    status = title(CUSTOMER_STATUS, str(record["status"]))
    click.echo(f"{record['customer']}  {record['name']}  [{status}]")
    for key, label in _PROFILE:
        if record[key]:
            click.echo(f"  {label}：{record[key]}")
    click.echo(
        f"  应收余额 {_money(record['balance'])}，逾期金额 {_money(record['overdue'])}，"
        f"最长逾期 {record['max_days_overdue']} 天（截至 {record['as_of']}）"
    )
    invoices = record["invoices"]
    click.echo("\n发票")
    echo_table(
        ["发票号", "合同号", "开票日期", "到期日", "金额", "已收", "未收", "逾期天数"],
        [
            *(
                [
                    i["invoice"],
                    i["contract"],
                    i["date"],
                    i["due"],
                    _money(i["amount"]),
                    _money(i["received"]),
                    _money(i["open"]),
                    _days(i["days_overdue"]),
                ]
                for i in invoices
            ),
            *_totals_row(invoices, ["amount", "received", "open"], first=4, width=8),
        ],
        right={4, 5, 6, 7},
    )
    _einvoices(record, zone)
    _section("回款", record["payments"], ["date", "amount", "invoice"], zone)
    _section("合同", record["contracts"], ["contract", "amount", "signed_on", "document"], zone)
    _section(
        "函件",
        record["letters"],
        ["ref", "level_name", "date", "status", "channel", "tracking", "sent_on", "delivered_on"],
        zone,
    )
    for flag in record.get("address_flags", []):
        click.echo(
            f"  地址待核实：函件 {flag['letter']} 于 {flag['flagged_on']} 被退回"
            f"（{flag['reason']}），下次发函前请先核实地址"
        )
    _section("催收记录", record["log"], ["at", "kind", "note"], zone)
    changes = [{**c, "change": f"{c['old'] or ''} → {c['new']}"} for c in record["changes"]]
    if changes:
        _section("资料变更", changes, ["at", "field", "change", "file"], zone)
    if record["held_invoices"]:
        _section("暂停催收的发票（不计入余额）", record["held_invoices"], _HELD_KEYS, zone)
    if record["unmatched_receipts"]:
        _section("可能是该客户的未匹配到款", record["unmatched_receipts"], _MAYBE_KEYS, zone)


_HELD_KEYS = ["invoice", "date", "open", "state_title", "reason"]
_MAYBE_KEYS = ["id", "payer", "date", "amount"]


def _einvoices(record: dict[str, Any], zone: str) -> None:
    """The e-invoices, each with the ledger invoice it is (or credits), and what disagrees."""
    rows: list[dict[str, object]] = [
        {
            **e,
            "status": title(EINVOICE_STATUS, e["status"]) + (" 红字" if e["red"] else ""),
            "ledger": e["invoice"] or (f"冲销 {e['credits_invoice']}" if e["red"] else ""),
            "file": f"文档 {e['document']}" if e["document"] else "",
        }
        for e in record.get("einvoices", [])
    ]
    if rows:
        _section("电子发票", rows, ["einvoice", "date", "amount", "status", "ledger", "file"], zone)
    for issue in record.get("einvoice_issues", []):
        click.echo(f"  ！{issue['detail']}")


_PROFILE = (
    ("tax_id", "统一社会信用代码"),
    ("address", "地址"),
    ("contact", "联系人"),
    ("phone", "电话"),
    ("salesperson", "业务员"),
    ("credit_grade", "信用等级"),
)
_AMOUNTS = {"amount", "received", "open", "balance", "overdue"}
_TITLES = {
    "status": LETTER_STATUS,
    "level_name": LETTER_LEVELS,
    "kind": LOG_KINDS,
    "channel": DELIVERY_CHANNELS,
    "field": {"name": "名称", "address": "地址", "contact": "联系人", "phone": "电话"},
}


def _money(value: object) -> str:
    return "" if value in (None, "") else format_amount(Decimal(str(value)))


def _days(value: object) -> str:
    days = int(str(value))
    return "未到期" if days < 0 else str(days)


def _totals_row(
    rows: list[dict[str, object]], keys: list[str], *, first: int, width: int
) -> list[list[object]]:
    """A 合计 row under a table of amounts (none for an empty table)."""
    if not rows:
        return []
    cells: list[object] = ["合计", *[""] * (width - 1)]
    for n, key in enumerate(keys):
        cells[first + n] = format_amount(sum((Decimal(str(r[key])) for r in rows), Decimal(0)))
    return [cells]


def _cell(key: str, value: object, zone: str) -> object:
    if value is None:
        return ""
    if key in _AMOUNTS:
        return _money(value)
    if key in _TITLES:
        return title(_TITLES[key], str(value))
    if key == "at":
        return office_time(str(value), zone)
    return value


def _section(title_: str, rows: list[dict[str, object]], keys: list[str], zone: str) -> None:
    click.echo(f"\n{title_}")
    if not rows:
        click.echo("  （无）")
        return
    right = {n for n, k in enumerate(keys) if k in _AMOUNTS}
    table: list[list[object]] = [[_cell(k, r[k], zone) for k in keys] for r in rows]
    if "amount" in keys and len(rows) > 1:
        table += _totals_row(rows, ["amount"], first=keys.index("amount"), width=len(keys))
    echo_table([HEADERS.get(k, k) for k in keys], table, right=right)


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
            with click.progressbar(length=total, label="正在核验", file=sys.stderr) as bar:
                report = verify_archive(desk, db, progress=lambda: bar.update(1))
        else:
            report = verify_archive(desk, db)
    if as_json:
        echo_json(report.to_json())
    else:
        for p in report.problems:
            doc = f"文档 {p.document}：" if p.document else ""
            click.echo(f"{title(VERIFY_PROBLEMS, p.kind)}：{doc}{p.path}：{p.detail}")
        verdict = "全部完好" if report.ok else f"发现 {len(report.problems)} 个问题"
        click.echo(f"{report.documents} 份文档，{report.store_files} 个存档文件：{verdict}")
    if not report.ok:
        ctx.exit(1)
