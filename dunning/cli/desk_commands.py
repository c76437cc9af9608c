"""Commands about the desk itself: init, verify."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import click

from dunning.cli import main
from dunning.cli.output import DATE
from dunning.desk import init_desk


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a desk in DIRECTORY (default: here); never touches an existing desk.

    Example: dunning init ~/credit-desk
    """
    desk = init_desk(directory)
    click.echo(f"created desk {desk.root}")
    click.echo(f"  edit {desk.config_path.name} for your company, bank account and policy;")
    click.echo(f"  drop ledgers and contract scans into {desk.inbox}/,")
    click.echo("  then run `dunning ingest inbox` (or `dunning watch`).")


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
