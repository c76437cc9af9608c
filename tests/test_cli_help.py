"""Every command has help with an example, and the README's command table names it."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from dunning.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            path = (*prefix, name)
            if isinstance(command, click.Group):
                walk(command, path)
            else:
                found.append(path)

    walk(main, ())
    return sorted(found)


def test_the_spec_commands_exist() -> None:
    names = {" ".join(c) for c in all_commands()}
    spec = {
        "init", "demo", "ingest", "watch", "aging", "customers", "customer", "search", "show",
        "open", "pack", "templates list", "templates check", "templates export", "log add",
        "log list", "report weekly", "set-status", "verify", "failed list", "failed retry",
    }  # fmt: skip
    assert spec <= names


def test_every_command_has_help_with_an_example_and_is_documented(runner: CliRunner) -> None:
    for path in all_commands():
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, f"`dunning {' '.join(path)} --help` has no example"
        # The whole command, group and subcommand, as a clerk would type it.
        assert f"dunning {' '.join(path)}" in README, (
            f"README never names `dunning {' '.join(path)}`"
        )
