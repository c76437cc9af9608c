"""Commands for letters: pack and templates."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dunning.actors import os_actor
from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.cli.output import (
    DATE,
    allow_future_option,
    current_desk,
    echo_json,
    echo_table,
    json_option,
    office_day,
    progress_enabled,
)
from dunning.dates import refuse_future
from dunning.desk import PACKAGE_TEMPLATES
from dunning.money import format_amount
from dunning.vocabulary import DOCUMENT_TITLES, LETTER_LEVELS, TEMPLATE_SOURCES, title

if TYPE_CHECKING:  # rendering machinery loads only for the letter commands
    from dunning.letters.pack import Plan


@main.command()
@click.option("--as-of", type=DATE, help="Letter date (default: today).")
@click.option(
    "--min-days", type=click.IntRange(0), help="Only customers at least this many days overdue."
)
@click.option("--customer", "customers", multiple=True, help="Only this customer (repeatable).")
@click.option(
    "--level", type=int, help="Send this level regardless of the policy (recorded as manual)."
)
@click.option("--pdf", is_flag=True, help="Also make one print-ready PDF (needs LibreOffice).")
@click.option("--dry-run", is_flag=True, help="Show who would get what; write nothing.")
@click.option(
    "--ignore-unreviewed",
    is_flag=True,
    help="Send even where a bank receipt awaiting review may cover the claim (logged).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Pack folder (default: out/<date>_<time>).",
)
@click.option(
    "--allow-no-address",
    is_flag=True,
    help="Also write letters to customers without an address (the address stays blank).",
)
@allow_future_option
@json_option
@click.pass_context
def pack(
    ctx: click.Context,
    as_of: dt.date | None,
    min_days: int | None,
    customers: tuple[str, ...],
    level: int | None,
    pdf: bool,
    dry_run: bool,
    ignore_unreviewed: bool,
    quiet: bool,
    out_dir: Path | None,
    allow_no_address: bool,
    allow_future: bool,
    as_json: bool,
) -> None:
    """Generate a letter pack: statements, demand letters, receipts per the policy levels.

    Example: dunning pack --as-of 2025-12-31 --pdf     (try --dry-run first)
    """
    desk = current_desk(ctx)
    today = office_day(desk)
    day = as_of or today
    refuse_future(day, today, "函件日期 --as-of", allow=allow_future)
    with open_archive(desk.db_path) as db:
        from dunning.letters.pack import NO_ADDRESS, plan_pack, write_pack

        plan = plan_pack(
            db,
            desk.config,
            as_of=day,
            customers=customers,
            min_days=min_days,
            level=level,
            ignore_unreviewed=ignore_unreviewed,
            allow_no_address=allow_no_address,
        )
        if dry_run:
            from dunning.workflow.limitation_archive import expiring_customers

            codes = [c.customer.code for c in plan.candidates]
            plan.expiring = expiring_customers(db, desk.config, as_of=day, codes=codes)
            _show_plan(plan, desk.config.levels, as_json=as_json)
            return
        for warning in dict.fromkeys(w for c in plan.selected for w in c.warnings):
            click.echo(f"提醒：{warning}。", err=True)
        for cand in plan.candidates:
            if cand.decision.reason == NO_ADDRESS:
                click.echo(
                    f"未生成：{cand.customer.code} {cand.customer.name}，{NO_ADDRESS}。", err=True
                )
        count = len(plan.selected)
        if progress_enabled(quiet or as_json) and count > 20:
            with click.progressbar(length=count, label="正在生成函件", file=sys.stderr) as bar:
                result = write_pack(
                    desk, db, plan, out_dir=out_dir, pdf=pdf, progress=lambda: bar.update(1)
                )
        else:
            result = write_pack(desk, db, plan, out_dir=out_dir, pdf=pdf)
        if ignore_unreviewed:
            from dunning.letters.unreviewed import log_overrides, overridden

            codes = overridden(plan, {letter.customer for letter in result.letters})
            with write_transaction(db) as conn:
                log_overrides(conn, codes, by=os_actor().label)
        if result.pack_dir is not None:
            from dunning.workflow.actions import audit

            audit(db, os_actor(), "pack", f"{result.pack_dir.name}：{len(result.letters)} 封函件")
    for note in result.notes:
        click.echo(f"说明：{note}。", err=True)
    if as_json:
        echo_json(result.to_json())
        return
    if result.letters:
        echo_table(
            ["函件编号", "客户编号", "客户名称", "函件类型", "金额"],
            [
                [x.ref, x.customer, x.name, title(LETTER_LEVELS, x.level_name), _money(x.amount)]
                for x in result.letters
            ],
            right={4},
        )
    if result.pack_dir is None:
        click.echo(f"{day.isoformat()} 没有客户需要发函，什么也没有生成（--dry-run 说明原因）。")
        return
    click.echo(f"共 {len(result.letters)} 封函件，在 {result.pack_dir}")
    if result.pdf:
        click.echo(f"可打印的 PDF：{result.pdf}")


def _show_plan(plan: Plan, levels: tuple[object, ...], *, as_json: bool) -> None:
    data = plan.to_json()
    if as_json:
        echo_json(data)
        return
    rows = data["customers"]
    echo_table(
        ["客户编号", "客户名称", "逾期金额", "逾期天数", "上次", "本次", "原因"],
        [
            [
                r["customer"],
                r["name"],
                _money(r["overdue"]),
                r["max_days_overdue"],
                r["current_level"] or "-",
                r["next_level"] or "-",
                _limitation_mark(r["limitation_expires"]) + str(r["reason"]),
            ]
            for r in rows
        ],
        right={2, 3},
    )
    for warning in dict.fromkeys(w for c in plan.selected for w in c.warnings):
        click.echo(f"提醒：{warning}。", err=True)
    for receipt in plan.unmatched:
        click.echo(f"未匹配到款：{receipt.sentence()}", err=True)
    click.echo(
        f"预览：{len(plan.candidates)} 个客户中 {len(plan.selected)} 个会收到函件；什么也没有写入。"
    )


def _money(value: object) -> str:
    return format_amount(Decimal(str(value)))


def _limitation_mark(expires: object) -> str:
    # An invoice of this customer lapses (诉讼时效) within 60 days: act before it does.
    return f"[时效 {expires.isoformat()}] " if isinstance(expires, dt.date) else ""


@main.group()
def templates() -> None:
    """List, check and export the desk's Word templates.

    Example: dunning templates check
    """


@templates.command("list")
@click.option("--context", "show_context", is_flag=True, help="Also list every template variable.")
@json_option
@click.pass_context
def templates_list(ctx: click.Context, show_context: bool, as_json: bool) -> None:
    """List the templates the desk uses (its own copy, else the default).

    Example: dunning templates list --context
    """
    from dunning.letters.context import CONTEXT_DOC
    from dunning.letters.pack import template_list

    entries = template_list(current_desk(ctx))
    if as_json:
        echo_json({"templates": entries, "context": CONTEXT_DOC if show_context else None})
        return
    rows = [
        [
            f"{e['template']}.docx",
            title(DOCUMENT_TITLES, e["template"]),
            title(TEMPLATE_SOURCES, e["source"]),
            e["path"],
        ]
        for e in entries
    ]
    echo_table(["模板", "文书", "来源", "路径"], rows)
    if show_context:
        click.echo("\n模板变量（在 Word 中写作 {{ name }}）：")
        for key, doc in CONTEXT_DOC.items():
            click.echo(f"  {key}: {doc}")


@templates.command("check")
@json_option
@click.pass_context
def templates_check(ctx: click.Context, as_json: bool) -> None:
    """Check every template for unknown variables, Jinja errors, full-width braces, Track
    Changes and comments, and templates saved as .doc/.wps (never used).

    Exit 1 when a template has a problem.

    Example: dunning templates check
    """
    from dunning.letters.checks import check_template, unused_templates
    from dunning.letters.context import CONTEXT_DOC

    desk = current_desk(ctx)
    paths = sorted(desk.templates.glob("*.docx")) or sorted(PACKAGE_TEMPLATES.glob("*.docx"))
    problems = [p for path in paths for p in check_template(path, set(CONTEXT_DOC))]
    problems += unused_templates(desk.templates)
    if as_json:
        echo_json([p.to_json() for p in problems])
    else:
        for p in problems:
            click.echo(f"{Path(p.file).name}：{p.problem}（位置：{p.tag}）")
        click.echo(f"已检查 {len(paths)} 个模板，发现 {len(problems)} 个问题")
    if problems:
        ctx.exit(1)


@templates.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--defaults", is_flag=True, help="Export the package defaults, not the desk's copies."
)
@click.pass_context
def templates_export(ctx: click.Context, directory: Path, defaults: bool) -> None:
    """Copy the templates into DIRECTORY (never overwrites a file there).

    Example: dunning templates export ~/templates-backup
    """
    source = PACKAGE_TEMPLATES if defaults else current_desk(ctx).templates
    directory.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.glob("*.docx")):
        target = directory / path.name
        if target.exists():
            click.echo(f"跳过 {target}：已经存在", err=True)
            continue
        shutil.copyfile(path, target)
        copied += 1
    click.echo(f"已复制 {copied} 个模板到 {directory}")
