"""Print-ready PDFs: LibreOffice converts a whole pack in one batch, pypdf merges.

A big batch is split between two LibreOffice processes (one per core), each with its own user
profile copied from one made once per user in ~/.cache/dunning (making a profile costs
LibreOffice a first start and a restart, a second or more; copying it, milliseconds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pypdf import PdfWriter

from dunning.errors import DunningError
from dunning.procs import alive, die_with_parent

INSTALL_HINT = (
    "没有安装 LibreOffice，无法生成 PDF：请安装"
    "（apt-get install libreoffice-writer-nogui fonts-wqy-microhei），或不加 --pdf 运行。"
)


class PdfToolError(DunningError):
    """LibreOffice is missing or failed."""


def soffice_path() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_soffice() -> str:
    found = soffice_path()
    if found is None:
        raise PdfToolError(INSTALL_HINT)
    return found


def convert_to_pdf(docs: Sequence[Path], *, timeout_s: float = 600.0) -> list[Path]:
    """Convert .docx files to PDFs beside them, in one LibreOffice run (two for a big batch).

    The files are linked into one folder under unique names (packs hold many files of the same
    name) and converted with a private user profile, so a LibreOffice the clerk has open does
    not swallow the request.
    """
    soffice = require_soffice()
    remove_stale_work_folders()
    with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp)
        sources = []
        for n, doc in enumerate(docs):
            link = work / f"{n:06d}.docx"
            try:
                os.link(doc, link)
            except OSError:
                shutil.copyfile(doc, link)
            sources.append(link)
        parts = _SPLIT if len(sources) >= _SPLIT_FROM else 1
        template = _profile_template(soffice, work, timeout_s)
        runs = [(sources[n::parts], work / f"run{n}") for n in range(parts)]
        with ThreadPoolExecutor(max_workers=parts) as pool:
            done = list(
                pool.map(lambda run: _convert(soffice, run[0], run[1], template, timeout_s), runs)
            )
        results = []
        for n, doc in enumerate(docs):
            produced = work / f"run{n % parts}" / "pdf" / f"{n:06d}.pdf"
            if not produced.is_file():
                stderr = done[n % parts].stderr.decode(errors="replace").strip().splitlines()
                detail = stderr[-1:] or [""]
                raise PdfToolError(f"LibreOffice 无法转换 {doc.name}：{detail[0]}")
            target = doc.with_suffix(".pdf")
            shutil.move(produced, target)
            results.append(target)
    return results


# From this many documents, two LibreOffice processes share the batch.
_SPLIT_FROM = 8
_SPLIT = 2


def _convert(
    soffice: str, sources: list[Path], work: Path, template: Path | None, timeout_s: float
) -> subprocess.CompletedProcess[bytes]:
    """One LibreOffice run over `sources`, PDFs into work/pdf, with a profile of its own."""
    profile = work / "profile"
    work.mkdir()
    if template is not None:
        shutil.copytree(template, profile, symlinks=True)
    cmd = [
        _program(soffice),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work / "pdf"),
        *map(str, sources),
    ]
    return _run(cmd, timeout_s)


def _profile_template(soffice: str, work: Path, timeout_s: float) -> Path | None:
    """A LibreOffice user profile made once per user and version, to copy for each run; None
    (each run makes its own) when it cannot be made."""
    # In the user's own cache, not the shared temp folder: a profile planted by another user
    # could switch macros on.
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dunning"
    version = Path(soffice).resolve().parent.parent.name  # e.g. "libreoffice"
    cached = home / f"lo-profile-{version}"
    if (cached / "user").is_dir():
        mode = cached.stat()
        if mode.st_uid == os.getuid() and not mode.st_mode & 0o022:
            return cached
        return None
    fresh = work / "profile-template"
    cmd = [
        _program(soffice),
        f"-env:UserInstallation={fresh.as_uri()}",
        "--headless",
        "--norestore",
        "--terminate_after_init",
    ]
    try:
        _run(cmd, timeout_s)
    except PdfToolError:
        return None
    if not (fresh / "user").is_dir():
        return None
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh.chmod(0o700)
        fresh.rename(cached)  # atomic: a concurrent run's copy, if any, wins
    except OSError:
        return fresh  # this run uses the one it made
    return cached


WORK_PREFIX = "dunning-lo-"
# soffice.bin asks its launcher to start it again after creating a new profile.
_RESTART = 81


def _program(soffice: str) -> str:
    """`soffice.bin` itself when `soffice` is LibreOffice's launcher script.

    The launcher (a shell script, then oosplash) starts soffice.bin as its child: killing the
    launcher leaves soffice.bin running. Started directly it dies with us (`die_with_parent`).
    """
    binary = Path(soffice).resolve().with_name("soffice.bin")
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else soffice


def _run(cmd: list[str], timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    """Run LibreOffice, dying with this process, restarting it once after profile creation."""
    for _ in range(3):
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                timeout=timeout_s,
                check=False,
                preexec_fn=die_with_parent,
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfToolError(
                f"LibreOffice 用时超过 {timeout_s:.0f} 秒：请分批生成较小的函件包。"
            ) from exc
        if done.returncode != _RESTART:
            return done
    return done


def remove_stale_work_folders() -> list[Path]:
    """Remove LibreOffice work folders left by dunning processes that were killed."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*-*"):
        pid = folder.name[len(WORK_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def merge_pdfs(parts: Sequence[Path], target: Path) -> Path:
    """Concatenate PDFs into `target` (identical objects shared, so repeated pages stay small)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.compress_identical_objects()
    with target.open("wb") as out:
        writer.write(out)
    return target
