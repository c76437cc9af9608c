"""Copier-style scans with known text, for OCR tests and `benchmarks/ocr.py`.

A page is drawn at 200 dpi with a CJK TrueType font (fonts-wqy-microhei, looked up at run
time), a red company seal stamped over part of the text, optionally a signature scribble,
then turned by a small skew, sprinkled with speckle noise and saved as PNG or as an
image-only PDF. `page_lines` returns the text each page carries, line by line.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

DPI = 200
A4_PX = (1654, 2339)  # 210 x 297 mm at 200 dpi
FONT_PX = 40  # about 14 pt at 200 dpi, a contract's body text
MARGIN = 140

_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

# Sentences of a sales contract; the words Tesseract is known to misread are all here
# (鹭岛, 逾期, 商品, 尺度, 性质), and the customer names change per page.
_CUSTOMERS = (
    "厦门鹭岛贸易有限公司",
    "杭州西湖机电设备公司",
    "宁波港城物流有限公司",
    "苏州工业园区精密制造厂",
)
_SENTENCES = (
    "甲方向乙方购买下列商品，商品的名称、规格、数量及价款如下。",
    "乙方应于合同签订后十日内交货，逾期交货的按日支付违约金。",
    "货款逾期未付的，甲方每日按未付金额的万分之五支付滞纳金。",
    "商品的尺度、性质与质量标准以双方确认的样品为准。",
    "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。",
    "质保金为合同总价的百分之五，质保期满后三十日内无息退还。",
    "因本合同发生的争议，双方协商解决；协商不成的，向乙方所在地法院起诉。",
    "验收合格后甲方应在收到发票之日起三十日内付清全部货款。",
    "合同总价人民币壹拾贰万叁仟肆佰元整，含增值税。",
    "乙方开户银行：中国工商银行杭州文三路支行。",
)


def cjk_font_path() -> Path:
    """The installed CJK TrueType font the scans are drawn with."""
    for path in _FONT_CANDIDATES:
        if path.is_file():
            return path
    found = shutil.which("fc-match")
    if found:
        out = subprocess.run(
            [found, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out and Path(out).is_file():
            return Path(out)
    raise RuntimeError("no CJK font installed: apt-get install fonts-wqy-microhei")


def page_lines(seed: int, *, count: int = 12, ref: str | None = None) -> list[str]:
    """The known text of one generated page (deterministic per seed)."""
    rng = random.Random(seed)
    customer = _CUSTOMERS[seed % len(_CUSTOMERS)]
    lines = [f"购销合同 HT-2025-{seed:04d}", f"甲方：{customer}"]
    if ref:
        lines.insert(1, f"函件编号：{ref}")
    while len(lines) < count:
        lines.append(rng.choice(_SENTENCES))
    return lines


def draw_page(
    lines: Sequence[str],
    *,
    seal: bool = True,
    signature: bool = False,
    skew_deg: float = 1.0,
    noise: float = 0.002,
    upside_down: bool = False,
    seed: int = 0,
    seal_at_line: int = 1,
) -> Image.Image:
    """One RGB page at 200 dpi: text, a red seal over line `seal_at_line`, skew and speckles."""
    rng = random.Random(seed)
    font = ImageFont.truetype(str(cjk_font_path()), FONT_PX)
    page = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(page)
    step = int(FONT_PX * 1.9)
    for i, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + i * step), line, font=font, fill=(20, 20, 20))
    if signature:
        # Pen ink multiplies with the toner under it, like the seal's.
        pen = Image.new("RGB", A4_PX, "white")
        _scribble(ImageDraw.Draw(pen), MARGIN + 420, MARGIN + seal_at_line * step, rng)
        page = ImageChops.multiply(page, pen)
    if seal:
        _stamp(page, (MARGIN + 260, MARGIN + seal_at_line * step + FONT_PX // 2), rng)
    if skew_deg:
        page = page.rotate(skew_deg, resample=Image.Resampling.BICUBIC, fillcolor="white")
    if upside_down:
        page = page.rotate(180)
    if noise:
        _speckle(page, noise, rng)
    return page


def _stamp(page: Image.Image, centre: tuple[int, int], rng: random.Random) -> None:
    """A round company seal in translucent red ink: ring, star and an arc of characters."""
    size = 420
    seal = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    ink = (215, 30, 35, 200)
    draw.ellipse((8, 8, size - 8, size - 8), outline=ink, width=14)
    c = size / 2
    star = [
        (c + r * math.sin(a), c - r * math.cos(a))
        for k in range(10)
        for r, a in [((60 if k % 2 == 0 else 24), k * math.pi / 5)]
    ]
    draw.polygon(star, fill=ink)
    font = ImageFont.truetype(str(cjk_font_path()), 46)
    name = "厦门鹭岛贸易有限公司合同专用章"
    for k, ch in enumerate(name):
        angle = -120 + k * 240 / (len(name) - 1)
        glyph = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((7, 2), ch, font=font, fill=ink)
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        x = c + (c - 70) * math.sin(math.radians(angle)) - 30
        y = c - (c - 70) * math.cos(math.radians(angle)) - 30
        seal.alpha_composite(glyph, (int(x), int(y)))
    seal = seal.rotate(rng.uniform(-20, 20), resample=Image.Resampling.BICUBIC)
    # Ink multiplies with what is under it: red over black toner stays black.
    layer = Image.new("RGB", page.size, "white")
    layer.paste(seal, (centre[0] - size // 2, centre[1] - size // 2), seal)
    page.paste(ImageChops.multiply(page, layer))


def _scribble(draw: ImageDraw.ImageDraw, x: int, y: int, rng: random.Random) -> None:
    """A signature: a blue-black loop of pen strokes across the line."""
    points = [
        (x + k * 14, y + int(40 * math.sin(k / 2.2) + rng.uniform(-12, 12))) for k in range(30)
    ]
    draw.line(points, fill=(30, 40, 120), width=5, joint="curve")


def _speckle(page: Image.Image, share: float, rng: random.Random) -> None:
    """Copier dust: dark and light specks over `share` of the pixels."""
    pixels = page.load()
    assert pixels is not None
    width, height = page.size
    for _ in range(int(width * height * share)):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = (40, 40, 40) if rng.random() < 0.7 else (255, 255, 255)


def save_png(page: Image.Image, path: Path) -> Path:
    page.save(path, format="PNG", dpi=(DPI, DPI))
    return path


def save_pdf(pages: Sequence[Image.Image], path: Path) -> Path:
    """An image-only PDF (no text layer), one page per image, at 200 dpi."""
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(path, format="PDF", resolution=float(DPI), save_all=True, append_images=rest)
    return path


def cer(expected: str, got: str) -> float:
    """Character error rate: edit distance over the expected length, whitespace ignored."""
    a = "".join(unicodedata.normalize("NFKC", expected).split())
    b = "".join(unicodedata.normalize("NFKC", got).split())
    if not a:
        return float(bool(b))
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] / len(a)
