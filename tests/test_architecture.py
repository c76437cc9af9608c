"""The package's imports follow the layers ARCHITECTURE.md states: nothing imports upwards."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dunning"


def layers() -> dict[str, int]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.DOTALL)
    assert block, "ARCHITECTURE.md has no ```layers block"
    found: dict[str, int] = {}
    for line in block.group(1).splitlines():
        level, _name, *modules = line.split()
        for module in modules:
            found[module] = int(level)
    return found


def layer_of(module: str, table: dict[str, int]) -> int:
    """The layer of the longest prefix of `module` named in the table."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in table:
            return table[prefix]
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """Every dunning module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dunning"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dunning"))
    return found


def test_no_import_goes_up_a_layer() -> None:
    table = layers()
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        mine = layer_of(here, table)
        for target in imports(path):
            # `from dunning.x import name` also yields dunning.x.name, which may be no module.
            if (ROOT / Path(*target.split("."))).with_suffix(".py").exists() or (
                ROOT / Path(*target.split("."))
            ).is_dir():
                theirs = layer_of(target, table)
                if theirs > mine:
                    wrong.append(f"{here} (layer {mine}) imports {target} (layer {theirs})")
    assert wrong == []


def test_every_package_module_has_a_layer() -> None:
    table = layers()
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path), table)


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    table = layers()
    assert layer_of("dunning.archive.ledger.reader", table) == 1
    assert layer_of("dunning.cli", table) > layer_of("dunning.ingest.pipeline", table)
    fake = tmp_path / "m.py"
    fake.write_text("def f():\n    from dunning.ingest.pipeline import ingest_file\n")
    assert "dunning.ingest.pipeline" in imports(fake)
