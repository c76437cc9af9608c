"""Commands about the desk itself: init, verify."""

from __future__ import annotations

from pathlib import Path

import click

from dunning.cli import main
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
