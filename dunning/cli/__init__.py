"""The `dunning` command line: thin commands that parse, call the library and render."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click

from dunning import __version__
from dunning.archive.db import damaged, is_damage
from dunning.desk import find_desk
from dunning.errors import DunningError, NotADeskError


class ClerkError(click.ClickException):
    """A refused command: its one sentence after 错误：, on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", file=file, err=True)


class NotADeskRefusal(ClerkError):
    """No desk where the command looked: a usage error, exit code 2."""

    exit_code = 2


class DunningGroup(click.Group):
    """Turns library errors into one clear sentence and the SPEC's exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotADeskError as exc:
            raise NotADeskRefusal(str(exc)) from None
        except DunningError as exc:
            raise ClerkError(str(exc)) from None
        except sqlite3.OperationalError as exc:
            if is_damage(exc):
                raise ClerkError(str(damaged(_archive_path(ctx), str(exc)))) from None
            raise ClerkError(_database_sentence(exc)) from None
        except sqlite3.DatabaseError as exc:  # a page found damaged half-way through a command
            raise ClerkError(str(damaged(_archive_path(ctx), str(exc)))) from None
        except OSError as exc:
            # A folder that cannot be written, a path that is a file: one sentence, no traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            raise ClerkError(f"{where}{exc.strerror or exc}.") from None


def _archive_path(ctx: click.Context) -> Path:
    try:
        return find_desk((ctx.obj or {}).get("desk")).db_path
    except NotADeskError:
        return Path("archive.db")


def _database_sentence(exc: sqlite3.OperationalError) -> str:
    """One sentence for the archive errors a clerk can meet: read-only, busy, disk full."""
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return (
            "工作台是只读的，数据库无法写入，什么也没有改变：请申请该文件夹的写权限，"
            "或只运行查询类命令。"
        )
    if "locked" in text or "busy" in text:
        return "数据库正忙：另一个 dunning 命令正在写入，什么也没有改变；请稍后再试。"
    if "disk" in text or "full" in text:
        return f"数据库无法写入（{text}），什么也没有改变：请腾出磁盘空间后再试。"
    return f"数据库无法使用（{text}），什么也没有改变：请检查工作台文件夹。"


@click.group(cls=DunningGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--desk",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DUNNING_DESK",
    help="The desk folder (default: $DUNNING_DESK, else this folder or its nearest parent).",
)
@click.version_option(__version__, prog_name="dunning")
@click.pass_context
def main(ctx: click.Context, desk: Path | None) -> None:
    """dunning: a credit-control desk — ledger, contract archive, letter packs.

    Example: dunning init ~/desk && cd ~/desk && dunning ingest ledger.xlsx && dunning aging
    """
    ctx.obj = {"desk": desk}


def _register() -> None:
    # Commands live in one module per area; importing them attaches them to `main`.
    from dunning.cli import (  # noqa: F401
        bank_commands,
        delivery_commands,
        desk_commands,
        einvoice_commands,
        ledger_commands,
        legal_commands,
        letter_commands,
        ocr_commands,
        search_commands,
        snapshot_commands,
        today_commands,
        visit_commands,
        watch_commands,
        web_commands,
        workflow_commands,
    )


_register()
