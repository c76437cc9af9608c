"""Scanned images decoded once before they are archived: damaged files and pixel bombs out.

A file with a PNG signature and no image data used to be archived as a contract that "needs
OCR"; a 30000×30000 PNG took 1 GB and 20 s in Tesseract. Pillow reads the header first (its
decompression-bomb guard set to our pixel cap), then decodes every frame fully, so a damaged
or truncated image fails here with a sentence instead of later in OCR.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from dunning.errors import IngestError

# A4 scanned at 600 dpi is 35 million pixels; A3 at 400 dpi 31 million.
MAX_PIXELS = 60_000_000
MAX_FRAMES = 500


def check_image(path: Path, *, max_pixels: int = MAX_PIXELS, max_frames: int = MAX_FRAMES) -> int:
    """Decode every frame of the image at `path`; returns the frame count or raises."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    frames = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                for frame in ImageSequence.Iterator(image):
                    frames += 1
                    if frames > max_frames:
                        raise IngestError(
                            f"{path.name} has more than {max_frames} pages: split it and drop"
                            " the parts again."
                        )
                    _check_size(path, frame.size, max_pixels)
                    frame.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_big(path, f"over {max_pixels // 1_000_000} million pixels") from exc
        except UnidentifiedImageError as exc:
            raise _damaged(path, "no readable image in it") from exc
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise _damaged(path, str(exc) or type(exc).__name__) from exc
    return frames


def _check_size(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _too_big(path, f"{width}×{height} pixels")


def _too_big(path: Path, detail: str) -> IngestError:
    return IngestError(
        f"{path.name} is too large an image to read ({detail}): it was not decoded; scan it"
        " again at 300 dpi and drop it again."
    )


def _damaged(path: Path, detail: str) -> IngestError:
    detail = detail.strip().splitlines()[0][:160] if detail.strip() else "unreadable"
    return IngestError(
        f"{path.name}: the image is damaged or incomplete ({detail}): scan it again, or ask the"
        " sender for a new copy."
    )
