"""A clean clone passes: every test that needs ../shared goes through tooling.require_realworld()."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def direct_shared_uses(source: str) -> list[str]:
    """Places where a test module reaches ../shared without require_realworld()."""
    found: list[str] = []
    tree = ast.parse(source)
    # A docstring may name the folder; only code that builds a path counts.
    prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    for node in ast.walk(tree):
        if id(node) in prose:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.module == "tooling":
            found += [
                f"line {line}: imports REALWORLD" for a in node.names if a.name == "REALWORLD"
            ]
        elif isinstance(node, ast.Attribute) and node.attr == "REALWORLD":
            found.append(f"line {line}: tooling.REALWORLD")
        elif isinstance(node, ast.Name) and node.id == "REALWORLD":
            found.append(f"line {line}: REALWORLD")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.replace("\\", "/")
            if text == "shared" or "shared/realworld" in text or text == "DUNNING_REALWORLD":
                found.append(f"line {line}: the string {node.value!r}")
    return found


def test_the_checker_catches_the_old_clean_clone_failure() -> None:
    old = (
        '"""Reads ../shared/realworld."""\n'
        "from tooling import REALWORLD\n"
        "def test_x():\n"
        "    kis = REALWORLD / 'minkolee.xlsx'\n"
        "    other = Path(__file__).parents[2] / 'shared' / 'realworld'\n"
        "    env = os.environ['DUNNING_REALWORLD']\n"
        "    again = open('../shared/realworld/a.pdf')\n"
    )
    found = direct_shared_uses(old)
    assert len(found) == 5, found
    assert (
        direct_shared_uses("from tooling import require_realworld\nx = require_realworld()\n") == []
    )


def test_no_test_module_opens_a_shared_path_directly() -> None:
    offenders = {
        path.name: uses
        for path in sorted(TESTS.glob("*.py"))
        if path.name != "tooling.py"
        and (uses := direct_shared_uses(path.read_text(encoding="utf-8")))
        and path.name != Path(__file__).name
    }
    assert offenders == {}, f"use tooling.require_realworld() instead: {offenders}"


def _run_realworld_tests(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DUNNING_REALWORLD": "/nonexistent/realworld"}
    env.pop("DUNNING_REQUIRE_TOOLS", None)
    env.update(env_extra)
    modules = ["tests/test_ledger_detail.py", "tests/test_ledger_parse.py"]
    pytest_args = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "voucher or kis"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_clone_without_shared_skips_with_the_reason_and_ci_fails() -> None:
    clone = _run_realworld_tests({})
    assert clone.returncode == 0, clone.stdout[-2000:]
    assert "skipped" in clone.stdout and "failed" not in clone.stdout
    ci = _run_realworld_tests({"DUNNING_REQUIRE_TOOLS": "1"})
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "DUNNING_REQUIRE_TOOLS=1 requires them" in ci.stdout
