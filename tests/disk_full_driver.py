"""Run inside `unshare -m` by test_disk_full.py: a small tmpfs is mounted at argv[1]; fill it and
run the real `dunning` command against it. Prints one JSON object of what happened."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

LEDGER = """客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
C001,杭州明远贸易有限公司,HT-2025-0001,FP0001,2025-01-05,2025-02-04,"10,000.00",0
C002,宁波海辰机械有限公司,HT-2025-0002,FP0003,2025-03-01,2025-03-31,8800,0
"""


def dunning(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", "from dunning.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}


def fill(mount: Path, leave: int) -> Path:
    """Fill the tmpfs, then give back `leave` bytes."""
    filler = mount / "filler"
    try:
        with filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError:
        pass  # full (the close flushes nothing more: every write was flushed)
    size = filler.stat().st_size
    with filler.open("r+b") as fh:
        fh.truncate(max(0, size - leave))
    return filler


def ingest_case(mount: Path, leave: int) -> dict[str, object]:
    desk = mount / "desk"
    dunning("init", str(desk))
    ledger = desk / "inbox" / "ledgers" / "台账.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    filler = fill(mount, leave)
    full = dunning("--desk", str(desk), "ingest", str(desk / "inbox"), "--json")
    state = {
        "full": full,
        "in_inbox": ledger.is_file(),
        "failed": sorted(p.name for p in (desk / "failed").iterdir()),
    }
    filler.unlink()
    state["again"] = dunning("--desk", str(desk), "ingest", str(desk / "inbox"), "--json")
    state["verify"] = dunning("--desk", str(desk), "verify", "--json")
    state["aging"] = dunning("--desk", str(desk), "aging", "--json")
    state["in_inbox_after"] = ledger.is_file()
    return state


def backup_case(mount: Path, leave: int, work: Path) -> dict[str, object]:
    desk = work / "desk"
    dunning("init", str(desk))
    (work / "a.csv").write_text(LEDGER, encoding="utf-8")
    dunning("--desk", str(desk), "ingest", str(work / "a.csv"))
    dest = mount / "backup"
    first = dunning("--desk", str(desk), "backup", str(dest), "--json")
    # More to back up than the disk holds: a big contract-sized file in the store.
    big = work / "big.csv"
    rows = "".join(
        f"C{n:04d},客户{n},HT-{n},FP{n:06d},2025-01-05,2025-02-04,{n}.00,0\n" for n in range(20000)
    )
    big.write_text(LEDGER.splitlines()[0] + "\n" + rows, encoding="utf-8")
    dunning("--desk", str(desk), "ingest", str(big))
    filler = fill(mount, leave)
    full = dunning("--desk", str(desk), "backup", str(dest), "--json")
    state = {
        "first": first,
        "full": full,
        "latest": (dest / "LATEST").read_text(encoding="utf-8").strip(),
        "snapshots": sorted(p.name for p in (dest / "snapshots").iterdir()),
    }
    filler.unlink()
    restored = work / "restored"
    state["restore"] = dunning("--desk", str(restored), "restore", str(dest), "--json")
    shutil.rmtree(restored, ignore_errors=True)
    return state


def main() -> None:
    mount, case, leave = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    os.environ.pop("DUNNING_DESK", None)
    if case == "ingest":
        result = ingest_case(mount, leave)
    else:
        result = backup_case(mount, leave, Path(sys.argv[4]))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
