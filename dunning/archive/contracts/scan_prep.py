"""Cleaning a scanned page before OCR: stamp ink out, skew out.

Needs numpy and Pillow (both come with `pip install 'dunning[ocr]'`); `available()` says
whether they are there, and callers skip the cleaning (not the OCR) when they are not.

- Stamp ink: a company seal (red) or a blue stamp lies over the text it certifies. Taking the
  brightest channel of each pixel turns coloured ink nearly white while black toner, alone or
  under the ink (ink multiplies: red over black stays black), stays dark.
- Dust: isolated specks are whitened (OCR reads them as 、 or ·).
- Skew: a copier feeds pages a degree or two askew. The angle is the one at which the rows
  of ink line up best (the row-sum profile of the page has the most contrast), found coarse
  then fine on a small copy of the page.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_SKEW_DEG = 5.0
_INK_CHROMA = 60  # max - min channel: above this a pixel is coloured ink, not toner
_PAPER_LEVEL = 200.0  # grey levels at or above this are paper
_DARK = 160  # below this a pixel is ink, for the dust check
_PROFILE_WIDTH = 700  # pixels across for the skew search: ~0.1° resolution is plenty


def available() -> bool:
    """Whether numpy and Pillow are installed (the `ocr` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in ("numpy", "PIL"))


def drop_stamp_ink(image: Image) -> Image:
    """A greyscale page with red and blue ink whitened and black text kept.

    Works on bytes (a channel's max and min, a 256-entry levelling table) rather than on wider
    copies of the page: a 200 dpi page is four million pixels, read once per OCR'd page.
    """
    import numpy as np
    from PIL import Image as PILImage

    rgb = np.asarray(image.convert("RGB"))
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    brightest = np.maximum(np.maximum(red, green), blue)
    chroma = brightest - np.minimum(np.minimum(red, green), blue)  # never below 0
    # Plainly coloured pixels are ink alone (toner under ink is dark and grey): paper white.
    brightest[chroma > _INK_CHROMA] = 255
    # Paper and faint ink edges above the paper level go white; text keeps its contrast.
    return PILImage.fromarray(_levels()[brightest], mode="L")


@cache
def _levels() -> Any:
    """Each grey level scaled so that `_PAPER_LEVEL` and above become white."""
    import numpy as np

    scaled = np.arange(256, dtype=np.float32) * (255.0 / _PAPER_LEVEL)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _profile_score(array: Any) -> float:
    import numpy as np

    rows = array.sum(axis=1, dtype=np.float64)
    return float(np.square(np.diff(rows)).sum())


def skew_angle(grey: Image) -> float:
    """The angle (degrees, counter-clockwise) that makes the page's text rows level."""
    import numpy as np
    from PIL import Image as PILImage

    width, height = grey.size
    scale = min(1.0, _PROFILE_WIDTH / max(1, width))
    small = grey.resize((max(1, int(width * scale)), max(1, int(height * scale))))
    ink = PILImage.fromarray(((np.asarray(small) < 140) * 255).astype(np.uint8), mode="L")

    def score(angle: float) -> float:
        turned = ink.rotate(angle, resample=PILImage.Resampling.NEAREST, fillcolor=0)
        return _profile_score(np.asarray(turned) > 0)

    coarse = max(np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 0.01, 0.5), key=score)
    fine = max(np.arange(coarse - 0.5, coarse + 0.51, 0.1), key=score)
    return round(float(fine), 2)


def deskew(grey: Image, *, min_angle: float = 0.15) -> tuple[Image, float]:
    """The page turned level, and the angle it was turned by (0 when already level)."""
    from PIL import Image as PILImage

    angle = skew_angle(grey)
    if abs(angle) < min_angle:
        return grey, 0.0
    return grey.rotate(angle, resample=PILImage.Resampling.BICUBIC, fillcolor=255), angle


def drop_speckles(grey: Image) -> Image:
    """Copier dust out: a dark pixel with at most one dark neighbour goes white.

    A median filter does the same to dust but also thins the strokes of small print (a
    150 dpi page then reads "2019-4-25" as "20:9425"); a pixel of a stroke always has more
    than one dark neighbour.
    """
    import numpy as np
    from PIL import Image as PILImage

    pixels = np.asarray(grey).copy()
    dark = pixels < _DARK
    padded = np.pad(dark, 1).astype(np.uint8)
    height, width = dark.shape
    neighbours = sum(
        padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    pixels[dark & (neighbours <= 1)] = 255
    return PILImage.fromarray(pixels, mode="L")


def clean_page(image: Image) -> tuple[Image, float]:
    """Stamp ink, dust and skew out: the greyscale page OCR should read, and its skew."""
    return deskew(drop_speckles(drop_stamp_ink(image)))
