"""A full disk (issue 20, case 5): a real tmpfs, mounted in a private mount namespace and filled
up, under `dunning ingest` and `dunning backup`. One sentence, the file stays where it was,
nothing half-written; once space is freed the same command succeeds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tooling import require_slow

DRIVER = Path(__file__).with_name("disk_full_driver.py")


def _namespace_reason(probe: Path) -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe.mkdir(exist_ok=True)
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', str(probe)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"a tmpfs cannot be mounted here ({done.stderr.strip() or done.returncode})"
    return None


def run_full(tmp_path: Path, size: str, *args: str) -> dict[str, object]:
    require_slow()  # a namespace, a tmpfs and four CLI runs in a subprocess: seconds each
    reason = _namespace_reason(tmp_path / "probe")
    if reason:
        pytest.skip(f"needs a private mount namespace to fill a real disk: {reason}")
    mount = tmp_path / "mnt"
    mount.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = 'mount -t tmpfs -o size="$1" tmpfs "$0" && shift && exec "$@"'
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, str(mount), size, sys.executable, str(DRIVER),
         str(mount), *args],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _one_sentence(err: str) -> None:
    assert err.count("\n") <= 1 and "Traceback" not in err, err


@pytest.mark.parametrize("leave", [0, 4096, 12288, 32768, 131072])
def test_a_full_disk_during_ingest_leaves_the_ledger_in_the_inbox(
    tmp_path: Path, leave: int
) -> None:
    state = run_full(tmp_path, "2m", "ingest", str(leave))
    full = state["full"]
    assert isinstance(full, dict)
    _one_sentence(str(full["err"]))
    if state["in_inbox"]:
        # Not archived: never quarantined as "无法读取", told why in one sentence.
        assert state["failed"] == [], state
        assert full["code"] == 1, full
        text = str(full["out"]) + str(full["err"])
        assert "无法读取" not in text
        assert "磁盘空间" in text or "disk" in text, text
    # Once there is room again the same ledger goes in whole, and the desk verifies clean.
    again, verify, aging = state["again"], state["verify"], state["aging"]
    assert isinstance(again, dict) and isinstance(verify, dict) and isinstance(aging, dict)
    assert again["code"] == 0, again
    assert verify["code"] == 0, verify
    assert not state["in_inbox_after"]
    balances = {a["customer"]: a["balance"] for a in json.loads(str(aging["out"]))}
    assert balances == {"C001": "10000.00", "C002": "8800.00"}


@pytest.mark.parametrize("leave", [0, 65536])
def test_a_full_backup_disk_leaves_the_last_backup_whole(tmp_path: Path, leave: int) -> None:
    work = tmp_path / "work"
    work.mkdir()
    state = run_full(tmp_path, "3m", "backup", str(leave), str(work))
    first, full, restore = state["first"], state["full"], state["restore"]
    assert isinstance(first, dict) and isinstance(full, dict) and isinstance(restore, dict)
    assert first["code"] == 0, first
    assert full["code"] == 1, full
    _one_sentence(str(full["err"]))
    assert "那里上一次完整的备份没有改变" in str(full["err"])
    snapshot = json.loads(str(first["out"]))["snapshot"]
    assert state["latest"] == snapshot
    assert state["snapshots"] == [snapshot]  # no half-written snapshot left behind
    assert restore["code"] == 0, restore
    assert json.loads(str(restore["out"]))["verify"]["ok"]
