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
                        raise IngestError(f"{path.name} 超过 {max_frames} 页：请拆分后重新放入。")
                    _check_size(path, frame.size, max_pixels)
                    frame.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_big(path, f"超过 {max_pixels // 1_000_000} 百万像素") from exc
        except UnidentifiedImageError as exc:
            raise _damaged(path, "其中没有可读的图像") from exc
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise _damaged(path, "") from exc
    return frames


def _check_size(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _too_big(path, f"{width}×{height} 像素")


def _too_big(path: Path, detail: str) -> IngestError:
    return IngestError(
        f"{path.name} 图像太大，无法读取（{detail}）：未解码；请以 300 dpi 重新扫描后放入。"
    )


def _damaged(path: Path, detail: str) -> IngestError:
    detail = f"（{detail}）" if detail else ""
    return IngestError(
        f"{path.name}：图像已损坏或不完整{detail}：请重新扫描，或向发送方要一份新的。"
    )
