"""Print-ready PDFs: LibreOffice converts a whole pack in one batch, pypdf merges."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfWriter

from dunning.errors import DunningError
from dunning.procs import alive, die_with_parent

INSTALL_HINT = (
    "LibreOffice is not installed, so no PDF can be made: install it"
    " (apt-get install libreoffice-writer-nogui fonts-wqy-microhei) or run without --pdf."
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
    """Convert .docx files to PDFs beside them, in one LibreOffice run.

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
        profile = (work / "profile").as_uri()
        cmd = [
            _program(soffice),
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work / "pdf"),
            *map(str, sources),
        ]
        done = _run(cmd, timeout_s)
        results = []
        for n, doc in enumerate(docs):
            produced = work / "pdf" / f"{n:06d}.pdf"
            if not produced.is_file():
                detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
                raise PdfToolError(f"LibreOffice could not convert {doc.name}: {detail[0]}")
            target = doc.with_suffix(".pdf")
            shutil.move(produced, target)
            results.append(target)
    return results


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
                f"LibreOffice took longer than {timeout_s:.0f} s; try a smaller pack."
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
