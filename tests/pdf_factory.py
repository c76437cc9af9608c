"""Make small contract PDFs for tests: real Chinese text, scans, encrypted and broken files.

reportlab (a test dependency) writes text with the built-in CID font STSong-Light, which
pypdf reads back exactly. Scans are drawn with Pillow (a dependency of reportlab) using a
CJK TrueType font when one is installed, else rendered from a text PDF with pdftoppm.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
FONT_SIZE = 12
MARGIN = 56
CJK_TTF_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def wrap(line: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """Split a line into pieces no wider than `width` points (character by character: CJK)."""
    _register_font()
    pieces: list[str] = []
    current = ""
    for ch in line:
        if current and pdfmetrics.stringWidth(current + ch, FONT, size) > width:
            pieces.append(current)
            current = ""
        current += ch
    pieces.append(current)
    return pieces


def make_text_pdf(path: Path, pages: list[str], *, title: str | None = None) -> Path:
    """A PDF with one page per string, in STSong-Light; long lines wrap at the margin."""
    _register_font()
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    if title is not None:
        pdf.setTitle(title)
    width, height = A4
    for text in pages:
        pdf.setFont(FONT, FONT_SIZE)
        y = height - MARGIN
        for line in text.split("\n"):
            for piece in wrap(line, width - 2 * MARGIN):
                pdf.drawString(MARGIN, y, piece)
                y -= FONT_SIZE * 1.6
        pdf.showPage()
    pdf.save()
    return path


def cjk_ttf() -> Path | None:
    """An installed CJK TrueType font, if any."""
    return next((p for p in CJK_TTF_CANDIDATES if p.is_file()), None)


def render_text_image(text: str, *, font_px: int = 48) -> Image.Image:
    """Black Chinese text on white, large enough for Tesseract at the image's own resolution."""
    font_path = cjk_ttf()
    if font_path is None:
        return _render_via_pdftoppm(text)
    font = ImageFont.truetype(str(font_path), font_px)
    lines = text.split("\n")
    width = max(int(font.getlength(line)) for line in lines) + 2 * font_px
    image = Image.new("L", (width, (len(lines) + 2) * font_px * 3 // 2), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((font_px, font_px + i * font_px * 3 // 2), line, font=font, fill=0)
    return image


def _render_via_pdftoppm(text: str) -> Image.Image:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise RuntimeError("need a CJK TrueType font or pdftoppm to draw a scanned page")
    with tempfile.TemporaryDirectory() as tmp:
        source = make_text_pdf(Path(tmp) / "source.pdf", [text])
        root = Path(tmp) / "page"
        subprocess.run(
            [exe, "-r", "200", "-gray", "-png", "-singlefile", str(source), str(root)],
            check=True,
            timeout=60,
        )
        with Image.open(root.with_suffix(".png")) as image:
            return image.copy()


def make_image_png(path: Path, text: str) -> Path:
    """A PNG 'scan' of Chinese text."""
    render_text_image(text).save(path, format="PNG")
    return path


def make_image_pdf(path: Path, text: str) -> Path:
    """A one-page PDF whose only content is a raster image of Chinese text (no text layer)."""
    image = render_text_image(text)
    # 150 dpi keeps the page a sensible size; OCR renders it back at any resolution.
    image.save(path, format="PDF", resolution=150.0)
    return path


def make_encrypted_pdf(
    path: Path, password: str, *, pages: list[str] | None = None, algorithm: str = "AES-128"
) -> Path:
    """A text PDF encrypted with user password `password` ("" opens without asking)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = make_text_pdf(Path(tmp) / "plain.pdf", pages or ["甲方：杭州示例有限公司"])
        writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def make_truncated_pdf(path: Path, *, keep: float = 0.5) -> Path:
    """A text PDF cut off part-way, as an interrupted download or copy leaves it."""
    with tempfile.TemporaryDirectory() as tmp:
        whole = make_text_pdf(Path(tmp) / "whole.pdf", ["技术开发合同\n甲方：杭州示例有限公司"] * 3)
        data = whole.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path
