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
    with tempfile.TemporaryDirectory(prefix="dunning-lo-") as tmp:
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
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work / "pdf"),
            *map(str, sources),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfToolError(
                f"LibreOffice took longer than {timeout_s:.0f} s; try a smaller pack."
            ) from exc
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


def merge_pdfs(parts: Sequence[Path], target: Path) -> Path:
    """Concatenate PDFs into `target` (identical objects shared, so repeated pages stay small)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.compress_identical_objects()
    with target.open("wb") as out:
        writer.write(out)
    return target
