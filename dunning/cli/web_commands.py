"""Commands of the web desk: serve, and the accounts it logs in (user add/list/remove/passwd)."""

from __future__ import annotations

import sys

import click

from dunning.actors import os_actor
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.cli.output import current_desk, echo_json, echo_table, json_option
from dunning.vocabulary import ROLE_TITLES, title
from dunning.web.users import ROLES, add_user, list_users, remove_user, set_password
from dunning.workflow.actions import audit


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8470, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--watch/--no-watch",
    default=True,
    show_default=True,
    help="Also watch the inbox in this process (like `dunning watch`).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, watch: bool) -> None:
    """Run the web desk: pages and a JSON API for the archive, letters and the inbox.

    On 127.0.0.1 with no accounts nobody needs to log in; any other address needs
    accounts (`dunning user add`), and then every page asks for a login.

    Example: dunning serve      then open http://127.0.0.1:8470/
    """
    from dunning.web.server import run_server

    desk = current_desk(ctx)
    run_server(desk, host=host, port=port, watch=watch, notice=_notice)


def _notice(message: str) -> None:
    click.echo(f"serve: {message}", err=True)


@main.group("user")
def user_group() -> None:
    """Accounts of the web desk: viewer (reads), clerk (also writes), manager (also accounts).

    Example: dunning user add wang --role clerk
    """


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
        return value
    # Piped: the first line of stdin, so scripts can set passwords without a terminal.
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the user may do.")
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str) -> None:
    """Add an account; the password is asked for (or read from stdin's first line).

    Example: echo 's3cret-pass' | dunning user add wang --role clerk
    """
    desk = current_desk(ctx)
    password = _read_password(f"{name} 的密码")
    with open_archive(desk.db_path) as db:
        user = add_user(db, name, role, password)
        audit(db, os_actor(), "user add", f"{user.name} ({user.role})")
    click.echo(f"已添加 {user.name}（{title(ROLE_TITLES, user.role)}）")


@user_group.command("list")
@json_option
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List the accounts and their roles.

    Example: dunning user list --json
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        users = list_users(db)
    if as_json:
        echo_json([u.to_json() for u in users])
        return
    if not users:
        click.echo("还没有账号：网页工作台只在 127.0.0.1 上提供，无需登录。", err=True)
        return
    echo_table(
        ["用户", "角色", "创建时间"],
        [[u.name, title(ROLE_TITLES, u.role), u.created_at] for u in users],
    )


@user_group.command("remove")
@click.argument("name")
@click.pass_context
def user_remove(ctx: click.Context, name: str) -> None:
    """Remove an account (its sessions end at their next request).

    Example: dunning user remove wang
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        remove_user(db, name)
        audit(db, os_actor(), "user remove", name)
    click.echo(f"已删除 {name}")


@user_group.command("passwd")
@click.argument("name")
@click.pass_context
def user_passwd(ctx: click.Context, name: str) -> None:
    """Set a new password for an account (asked for, or stdin's first line).

    Example: dunning user passwd wang
    """
    desk = current_desk(ctx)
    password = _read_password(f"{name} 的新密码")
    with open_archive(desk.db_path) as db:
        set_password(db, name, password)
        audit(db, os_actor(), "user passwd", name)
    click.echo(f"已修改 {name} 的密码")
