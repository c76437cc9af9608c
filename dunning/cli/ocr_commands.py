"""`dunning ocr`: read the pages of archived scans that are waiting for OCR."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from dunning.cli import main
from dunning.cli.output import current_desk, echo_json, json_option, progress_enabled

if TYPE_CHECKING:
    from dunning.ingest.ocr_queue import PageOutcome


@main.command()
@click.option("--all", "retry", is_flag=True, help="Also try again pages OCR gave up on.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or per-page lines.")
@json_option
@click.pass_context
def ocr(ctx: click.Context, retry: bool, quiet: bool, as_json: bool) -> None:
    """Read the scanned pages waiting for OCR, one page at a time, until none is left.

    Each page is searchable as soon as it is read. Stopping (Ctrl-C, a kill) loses nothing:
    the next run starts at the next unread page. The watcher does the same between files;
    this is for cron, or to catch up now. The engine is [ocr] engine in dunning.toml.

    Example: dunning ocr        or, from cron,   dunning ocr --all --quiet
    """
    from dunning.archive.contracts.pages import retry_failed
    from dunning.archive.db import write_transaction
    from dunning.ingest.ocr_queue import OcrReader, queue_older_scans

    desk = current_desk(ctx)
    with OcrReader.for_desk(desk) as reader:
        queue_older_scans(desk, reader.db)  # archived before the queue existed
        if retry:
            with write_transaction(reader.db) as conn:
                retry_failed(conn)
        total = reader.counts().pages
        if progress_enabled(quiet) and not as_json and total:
            label = f"OCR ({reader.engine})"
            with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
                outcomes = reader.drain(progress=lambda o: bar.update(1))
        else:
            outcomes = reader.drain(progress=None if quiet or as_json else _line)
        left = reader.counts()
    if as_json:
        echo_json(_json(outcomes, reader.engine, left.pages, left.failed))
        return
    done = sum(o.state == "done" for o in outcomes)
    click.echo(
        f"用 {reader.engine} 识别 {done} 页，失败 {len(outcomes) - done} 页；"
        f"仍有 {left.pages} 页待识别，累计识别失败 {left.failed} 页"
        + ("（`dunning ocr --all` 再试一次）" if left.failed else "")
    )
    if any(o.state == "failed" for o in outcomes):
        ctx.exit(1)


def _line(outcome: PageOutcome) -> None:
    where = f"文档 {outcome.document} 第 {outcome.page} 页"
    if outcome.state == "done":
        click.echo(f"已识别 {where}：{outcome.chars} 个字符（{outcome.engine}）", err=True)
    else:
        click.echo(f"识别失败 {where}：{outcome.error}", err=True)


def _json(outcomes: list[PageOutcome], engine: str, waiting: int, failed: int) -> dict[str, Any]:
    return {
        "engine": engine,
        "pages": [
            {
                "document": o.document,
                "page": o.page,
                "state": o.state,
                "engine": o.engine,
                "chars": o.chars,
                "error": o.error,
            }
            for o in outcomes
        ],
        "waiting": waiting,
        "failed": failed,
    }
