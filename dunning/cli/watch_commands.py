"""Commands for the watched inbox: watch, failed list, failed retry."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from dunning.cli import ClerkError, main
from dunning.cli.output import current_desk, echo_json, echo_table, json_option
from dunning.errors import SHOWN_PROBLEMS, problem_lines
from dunning.ingest.quarantine import list_failed, retry
from dunning.vocabulary import DOCUMENT_KINDS, INGEST_OUTCOMES, NO_FAILED_FILES, same_as, title

if TYPE_CHECKING:  # the watcher and the pipeline load only when `watch` runs
    from dunning.ingest.pipeline import Outcome


@main.command()
@click.option("--once", is_flag=True, help="Archive what is in the inbox now, then exit.")
@click.option("--polling", is_flag=True, help="Poll the folder (network shares, some containers).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=None,
    metavar="S",
    help="Rescan the whole inbox every S seconds, for missed events (default: dunning.toml, 60).",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0.0),
    default=None,
    metavar="S",
    help="Take a file once it has been unchanged for S seconds (default: dunning.toml, 2).",
)
@json_option
@click.pass_context
def watch(
    ctx: click.Context,
    once: bool,
    polling: bool,
    interval: float | None,
    delay: float | None,
    as_json: bool,
) -> None:
    """Watch the inbox and archive every file dropped into it, until Ctrl-C.

    Files in inbox/contracts, inbox/ledgers, inbox/receipts and inbox/invoices (e-invoices) are
    taken as that kind; files in inbox/ itself are recognised by content. Unreadable files go to failed/ with a reason.
    One line per file on stderr (JSON lines on stdout with --json).

    Example: dunning watch        or, from cron,   dunning watch --once --json
    """
    desk = current_desk(ctx)
    from dunning.watcher import Watcher, WatchSettings
    from dunning.watcher.lock import DeskLock

    settings = WatchSettings.from_config(
        desk.config, delay=delay, interval=interval, polling=polling
    )
    report = _json_line if as_json else _text_line
    watcher = Watcher(desk, settings, on_outcome=report, on_notice=_notice)
    stop = threading.Event()
    with DeskLock(desk), _stop_on_signals(stop):
        try:
            if once:
                outcomes = watcher.run_once(stop)
                if any(o.status == "failed" for o in outcomes):
                    ctx.exit(1)
                return
            watcher.run(stop)
        except OSError as exc:
            # Per-file errors never get here; this is the inbox itself (gone, unreadable).
            raise ClerkError(f"无法监视 {desk.inbox}：{exc}") from None
    _notice("已停止")


def _text_line(outcome: Outcome) -> None:
    name = outcome.file.name
    said = title(INGEST_OUTCOMES, outcome.status)
    if outcome.status == "archived":
        label = outcome.label or title(DOCUMENT_KINDS, outcome.kind or "文档")
        # The same line as `dunning ingest`: a ledger's label does not name its file.
        click.echo(f"{said} {name}（文档 {outcome.document}）：{label}", err=True)
        for note in outcome.notes:  # what a ledger changed about what is owed
            click.echo(f"  {note}", err=True)
    elif outcome.status == "duplicate":
        click.echo(f"{said} {name}：{same_as(outcome.document)}", err=True)
    else:
        click.echo(f"{said} {name}：{outcome.reason}", err=True)
        for text in problem_lines(
            outcome.problems, limit=SHOWN_PROBLEMS, error_file=outcome.error_file
        ):
            click.echo(text, err=True)


def _json_line(outcome: Outcome) -> None:
    record = {
        "file": str(outcome.file),
        "status": outcome.status,
        "document": outcome.document,
        "kind": outcome.kind,
        "label": outcome.label,
        "reason": outcome.reason,
        "rows": [
            {"row": p.row, "column": p.column, "value": p.value, "why": p.why}
            for p in outcome.problems
        ],
        "notes": list(outcome.notes),
    }
    # One object per line, flushed by click.echo, so `| jq` sees each file as it lands.
    click.echo(json.dumps(record, ensure_ascii=False))


def _notice(message: str) -> None:
    click.echo(f"收件箱监视：{message}", err=True)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set `stop` (finish the current file, exit 0); a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second signal: the clerk does not want to wait
        stop.set()
        # os.write, not click.echo: the handler may interrupt a write to stderr in progress,
        # and re-entering a buffered stream raises.
        name = signal.Signals(signum).name
        with suppress(OSError):
            os.write(2, f"watch：收到 {name}，处理完当前文件后停止\n".encode())

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@main.group()
def failed() -> None:
    """Files that could not be ingested (in failed/), and retrying them.

    Example: dunning failed list   then, after fixing the file,   dunning failed retry NAME
    """


@failed.command("list")
@json_option
@click.pass_context
def failed_list(ctx: click.Context, as_json: bool) -> None:
    """List quarantined files with the reason each failed.

    Example: dunning failed list --json
    """
    files = list_failed(current_desk(ctx))
    if as_json:
        echo_json([f.to_json() for f in files])
        return
    if not files:
        click.echo(NO_FAILED_FILES, err=True)
        return
    echo_table(["文件", "失败时间", "原因"], [(f.name, f.failed_at, f.reason) for f in files])


@failed.command("retry")
@click.argument("name", required=False)
@click.pass_context
def failed_retry(ctx: click.Context, name: str | None) -> None:
    """Move a failed file (or all of them) back where it came from, to be ingested again.

    The watcher picks it up; without a watcher, run `dunning watch --once`.

    Example: dunning failed retry 应收台账.xlsx
    """
    desk = current_desk(ctx)
    moved = retry(desk, name)
    for path in moved:
        click.echo(f"已移回 {_relative(path, desk.root)}，等待重新导入")
    if not moved:
        click.echo(NO_FAILED_FILES, err=True)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
