"""Commands about the desk itself: init, demo, backup, restore."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import click

from dunning.cli import main
from dunning.cli.output import DATE, current_desk, echo_json, json_option
from dunning.desk import init_desk
from dunning.workflow.backup import backup_desk, default_destination, restore_desk


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--rebuild",
    is_flag=True,
    help="Archive lost or damaged and no backup: a new archive from the store (see below).",
)
@json_option
def init(directory: Path, rebuild: bool, as_json: bool) -> None:
    """Create a desk in DIRECTORY (default: here); never touches an existing desk.

    With --rebuild, on an existing desk whose archive.db is lost or damaged: ingest the
    store's originals again into a new archive and say what could not be rebuilt (the log,
    statuses, letters registry, accounts: restore a backup for those). The damaged archive,
    the old store and out/ are kept under failed/.

    Example: dunning init ~/credit-desk
    """
    if rebuild:
        _rebuild(directory, as_json=as_json)
        return
    desk = init_desk(directory)
    click.echo(f"created desk {desk.root}")
    click.echo(f"  edit {desk.config_path.name} for your company, bank account and policy;")
    click.echo(f"  drop ledgers and contract scans into {desk.inbox}/,")
    click.echo("  then run `dunning ingest inbox` (or `dunning watch`).")


def _rebuild(directory: Path, *, as_json: bool) -> None:
    from dunning.desk import find_desk
    from dunning.ingest.rebuild import rebuild_desk

    result = rebuild_desk(find_desk(directory))
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(
        f"rebuilt {result.desk / 'archive.db'}: {len(result.archived)} originals archived"
        f" again, {len(result.failed)} could not be"
    )
    if result.set_aside:
        click.echo(f"  the damaged archive was kept as {result.set_aside}")
    for name, why in result.failed:
        click.echo(f"  not rebuilt: {name}: {why}")
    if result.letters_moved:
        click.echo(
            f"  {result.letters_moved} letter files of the old registry: {result.kept_in}/out"
        )
    click.echo("  not rebuilt (only the archive held them; `dunning restore` a backup for them):")
    for what in result.to_json()["not_rebuilt"]:
        click.echo(f"    - {what}")


@main.command()
@click.argument("directory", default="demo-desk", type=click.Path(file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Rebuild a demo desk made earlier by this command.")
@click.option("--as-of", type=DATE, help="Demo date (default: today).")
def demo(directory: Path, replace: bool, as_of: dt.date | None) -> None:
    """Build a desk with realistic sample data, ingest it and make a letter pack.

    Example: dunning demo            (creates ./demo-desk)
    """
    from dunning.demo import build_demo

    result = build_demo(directory, replace=replace, as_of=as_of)
    desk, report = result.desk, result.ingest
    click.echo(f"demo desk: {desk.root}")
    click.echo(
        f"  ingested {len(report.of('archived'))} files (customer master, GBK CSV ledger,"
        f" XLSX payments, contract PDFs); {len(report.of('failed'))} failed"
    )
    click.echo(f"  letter pack: {result.pack.pack_dir} ({len(result.pack.letters)} letters)")
    if result.pack.pdf:
        click.echo(f"  print-ready PDF: {result.pack.pdf}")
    if result.pdf_skipped:
        click.echo(f"  note: {result.pdf_skipped}")
    # After `make demo` the command lives in .venv/bin, which is usually not on PATH.
    own = Path(sys.argv[0])
    on_path = own.name != "dunning" or shutil.which("dunning") == str(own)
    cmd = "dunning" if on_path else str(own.resolve())
    click.echo("next:")
    for args in ("aging", "search 违约金", "customer C004"):
        click.echo(f"  {cmd} --desk {directory} {args}")


@main.command()
@click.argument("dest", required=False, type=click.Path(file_okay=False, path_type=Path))
@json_option
@click.pass_context
def backup(ctx: click.Context, dest: Path | None, as_json: bool) -> None:
    """Back up the desk (archive, store, letters, settings) into DEST; safe while serve runs.

    DEST defaults to a folder beside the desk (DESK-backup); better, one on another disk. The
    store and letters are copied once (incremental); each run adds a snapshot of the archive.
    Restore with `dunning restore DEST`.

    Example: dunning backup /mnt/usb/desk-backup
    """
    desk = current_desk(ctx)
    result = backup_desk(desk, dest or default_destination(desk))
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(
        f"backed up to {result.dest} (snapshot {result.snapshot}): {result.documents} documents,"
        f" {result.letters} letters; {result.store_copied} stored files copied,"
        f" {result.store_kept} already there; {result.out_copied} letter files copied"
    )
    for name in result.removed_partials:
        click.echo(f"  removed {name}: a backup that was interrupted")


@main.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option
@click.pass_context
def restore(ctx: click.Context, source: Path, as_json: bool) -> None:
    """Restore the newest backup in SOURCE into this desk (or --desk DIR, created if new).

    The desk must have no archive or a damaged one (set aside, never deleted); a working
    archive is never overwritten. `dunning verify` runs at the end.

    Example: dunning --desk ~/desk restore /mnt/usb/desk-backup
    """
    root = (ctx.find_root().obj or {}).get("desk") or Path.cwd()
    result = restore_desk(source, Path(root))
    if as_json:
        echo_json(result.to_json())
    else:
        click.echo(
            f"restored {result.snapshot.name} into {result.desk}: {result.documents} documents,"
            f" {result.letters} letters, {result.out_files} letter files"
        )
        if result.set_aside:
            click.echo(f"  the damaged archive was kept as {result.set_aside}")
        if result.requeued:
            click.echo(
                f"  {len(result.requeued)} originals archived after this backup were put back in"
                " inbox/: run `dunning ingest inbox` (or let `watch` take them)"
            )
        if result.verify is not None:
            for problem in result.verify.problems:
                click.echo(f"  {problem.kind}: {problem.path}: {problem.detail}")
            verdict = "ok" if result.verify.ok else f"{len(result.verify.problems)} problem(s)"
            click.echo(f"  verify: {verdict}")
    if result.verify is not None and not result.verify.ok:
        ctx.exit(1)
