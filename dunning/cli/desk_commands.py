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
    click.echo(f"已建立工作台 {desk.root}")
    click.echo(f"  请在 {desk.config_path.name} 中填写本公司、收款账户和催收规则；")
    click.echo(f"  把台账和合同扫描件放进 {desk.inbox}/，")
    click.echo("  然后运行 `dunning ingest inbox`（或 `dunning watch`）。")


def _rebuild(directory: Path, *, as_json: bool) -> None:
    from dunning.desk import find_desk
    from dunning.ingest.rebuild import rebuild_desk

    result = rebuild_desk(find_desk(directory))
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(
        f"已重建 {result.desk / 'archive.db'}：重新归档原件 {len(result.archived)} 份，"
        f"无法归档 {len(result.failed)} 份"
    )
    if result.set_aside:
        click.echo(f"  损坏的数据库已保留为 {result.set_aside}")
    for name, why in result.failed:
        click.echo(f"  未重建：{name}：{why}")
    if result.letters_moved:
        click.echo(f"  原登记簿的函件文件 {result.letters_moved} 个：{result.kept_in}/out")
    click.echo("  未能重建（只存在于原数据库中；需要时请用 `dunning restore` 从备份恢复）：")
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
    click.echo(f"演示工作台：{desk.root}")
    click.echo(
        f"  已归档 {len(report.of('archived'))} 个文件（客户资料、GBK 编码的 CSV 台账、"
        f"XLSX 回款明细、合同 PDF）；失败 {len(report.of('failed'))} 个"
    )
    click.echo(f"  函件包：{result.pack.pack_dir}（{len(result.pack.letters)} 封函件）")
    if result.pack.pdf:
        click.echo(f"  可直接打印的 PDF：{result.pack.pdf}")
    if result.pdf_skipped:
        click.echo(f"  注意：{result.pdf_skipped}")
    # After `make demo` the command lives in .venv/bin, which is usually not on PATH.
    own = Path(sys.argv[0])
    on_path = own.name != "dunning" or shutil.which("dunning") == str(own)
    cmd = "dunning" if on_path else str(own.resolve())
    click.echo("接下来可以试试：")
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
        f"已备份到 {result.dest}（快照 {result.snapshot}）：文档 {result.documents} 份，"
        f"函件 {result.letters} 封；复制存档文件 {result.store_copied} 个，"
        f"已有 {result.store_kept} 个；复制函件文件 {result.out_copied} 个"
    )
    for name in result.removed_partials:
        click.echo(f"  已删除 {name}：一次中断的备份")


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
            f"已把 {result.snapshot.name} 恢复到 {result.desk}：文档 {result.documents} 份，"
            f"函件 {result.letters} 封，函件文件 {result.out_files} 个"
        )
        if result.set_aside:
            click.echo(f"  损坏的数据库已保留为 {result.set_aside}")
        if result.requeued:
            click.echo(
                f"  这次备份之后归档的原件 {len(result.requeued)} 份已放回 inbox/："
                "请运行 `dunning ingest inbox`（或让 `dunning watch` 处理）"
            )
        if result.verify is not None:
            for problem in result.verify.problems:
                click.echo(f"  {problem.kind}: {problem.path}: {problem.detail}")
            verdict = "全部完好" if result.verify.ok else f"{len(result.verify.problems)} 个问题"
            click.echo(f"  校验：{verdict}")
    if result.verify is not None and not result.verify.ok:
        ctx.exit(1)
