"""What a pack writes besides the letters: contract copies and the manifest (CSV + JSON)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dunning.safenames import numbered, safe_name
from dunning.textsafe import csv_field

if TYPE_CHECKING:
    from dunning.letters.context import ContractInfo
    from dunning.letters.pack import LetterRecord

CONTRACT_NAME = "合同副本-contract"


def copy_contracts(
    desk_root: Path, contracts: list[tuple[ContractInfo, Any]], folder: Path
) -> list[Path]:
    """The archived contract PDFs, copied into the letter's folder under safe names."""
    copies = []
    for info, stored in contracts:
        if stored and (desk_root / stored).suffix.lower() == ".pdf":
            target = _free(folder / safe_name(f"{CONTRACT_NAME}-{info.contract_no}.pdf"))
            shutil.copyfile(desk_root / stored, target)
            target.chmod(0o644)
            copies.append(target)
    return copies


def _free(target: Path) -> Path:
    """`target`, or `name (2).pdf` … when two contract numbers clean to one file name."""
    base, n = target, 1
    while target.exists():
        n += 1
        target = base.with_name(numbered(base.name, n))
    return target


def write_manifest(pack_dir: Path, letters: list[LetterRecord]) -> None:
    """manifest.csv (fields a spreadsheet would run are neutralised) and manifest.json."""
    with (pack_dir / "manifest.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["ref", "customer", "name", "level", "level_name", "amount", "overdue", "files"]
        )
        for letter in letters:
            # Data fields only: amounts are ours, and "-12.00" must stay a number.
            writer.writerow(
                [
                    csv_field(letter.ref),
                    csv_field(letter.customer),
                    csv_field(letter.name),
                    letter.level,
                    csv_field(letter.level_name),
                    letter.amount,
                    letter.overdue,
                    csv_field("; ".join(letter.files)),
                ]
            )
    (pack_dir / "manifest.json").write_text(
        json.dumps([letter.to_json() for letter in letters], ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
