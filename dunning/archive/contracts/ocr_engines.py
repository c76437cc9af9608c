"""OCR engines: RapidOCR (PP-OCRv4, the `ocr` extra) first, Tesseract as the fallback.

`choose_engine("auto" | "rapidocr" | "tesseract")` names the engine this installation can
run, or None; `missing_engine_message` says what to install. `read_page` turns one page of a
stored PDF or image into text: render (PDFium), clean (stamp ink, skew: `scan_prep`), turn
upright (90°/180°), recognise. It runs in a worker process with a time limit per page
(`ocr_queue`, or the ingest workers for receipts); RapidOCR's models load once per worker,
from the files inside its wheel: nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dunning.archive.contracts import ocr, scan_prep

if TYPE_CHECKING:
    from PIL.Image import Image

ENGINES = ("rapidocr", "tesseract")
ENGINE_CHOICES = ("auto", *ENGINES)
INSTALL_RAPIDOCR = "pip install 'dunning[ocr]'"
INSTALL_TESSERACT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
# RapidOCR reads 200 dpi pages as well as 300 and faster; Tesseract wants 300 for small print.
DPI = {"rapidocr": 200, "tesseract": 300}
# Longest side of a rendered page in pixels: a scanned book page of 17 x 25 inches at 200 dpi
# is 17 megapixels and took RapidOCR 20 s; RapidOCR shrinks larger pages to 2000 anyway.
MAX_SIDE = {"rapidocr": 2400, "tesseract": 3600}
_DETECT_SIDE = 1280  # longest side of the copy text lines are detected on
_TALL_LINES = 0.6  # share of detected boxes taller than wide that means "page on its side"


def rapidocr_installed() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def engine_installed(name: str, languages: str = "chi_sim+eng") -> bool:
    if name == "rapidocr":
        return rapidocr_installed() and scan_prep.available()
    if name == "tesseract":
        return ocr.tesseract_available(languages)
    return False


def choose_engine(setting: str, languages: str = "chi_sim+eng") -> str | None:
    """The engine to use for `[ocr] engine = setting`, or None when it is not installed."""
    wanted = ENGINES if setting == "auto" else (setting,)
    return next((name for name in wanted if engine_installed(name, languages)), None)


def missing_engine_message(setting: str) -> str:
    """One sentence naming what to install for `[ocr] engine = setting`."""
    if setting == "rapidocr":
        return f'未安装 RapidOCR：请运行 `{INSTALL_RAPIDOCR}`，或设置 `[ocr] engine = "auto"`。'
    if setting == "tesseract":
        return f"未安装带 chi_sim 的 Tesseract：请运行 `{INSTALL_TESSERACT}`。"
    return (
        f"未安装 OCR 引擎：请运行 `{INSTALL_RAPIDOCR}`（RapidOCR，推荐）或 `{INSTALL_TESSERACT}`。"
    )


@dataclass(frozen=True)
class PageJob:
    """One page to read; plain and picklable for the worker process."""

    path: str  # the stored original
    page: int  # 0-based
    is_pdf: bool
    engine: str
    languages: str = "chi_sim+eng"
    timeout_s: float = 120.0  # for each external program (tesseract; pdftoppm as fallback)
    dpi: int = 0  # 0: the engine's own (DPI)


@dataclass(frozen=True)
class PageRead:
    text: str
    engine: str
    rotated: int = 0  # degrees turned to make the page upright (0, 90, 180, 270)
    skew: float = 0.0


def read_page(job: PageJob) -> PageRead:
    """OCR one page; raises ocr.OcrError when it cannot be read."""
    with tempfile.TemporaryDirectory(prefix="dunning-ocr-") as tmp:
        if job.engine == "rapidocr":
            return _rapid_page(_page_picture(job, Path(tmp)))
        image = _page_image(job, Path(tmp))
        frame = 0 if job.is_pdf else job.page  # a page of a multi-page TIFF is a frame
        return _tesseract_page(image, frame, job, Path(tmp))


def _page_image(job: PageJob, tmp: Path) -> Path:
    """The page as an image file (Tesseract reads files): the scan itself, or a PDF page drawn."""
    if not job.is_pdf:
        return Path(job.path)
    return ocr.render_pdf_page(Path(job.path), job.page, tmp, **_render_args(job))


def _page_picture(job: PageJob, tmp: Path) -> Image:
    """The page in memory, RGB, at most `MAX_SIDE` pixels long."""
    side = MAX_SIDE[job.engine]
    if not job.is_pdf:
        return _load(Path(job.path), job.page, side)  # a page of a multi-page TIFF is a frame
    drawn = ocr.render_pdf_image(Path(job.path), job.page, tmp, **_render_args(job))
    if isinstance(drawn, Path):  # pdftoppm's PNG
        return _load(drawn, 0, side)
    return _fit(drawn.convert("RGB"), side)


def _render_args(job: PageJob) -> dict[str, Any]:
    dpi = render_dpi(Path(job.path), job.page, job.dpi or DPI[job.engine], MAX_SIDE[job.engine])
    return {"dpi": dpi, "timeout_s": job.timeout_s, "grey": False}


def render_dpi(pdf: Path, page: int, dpi: int, max_side: int) -> int:
    """`dpi`, lowered for an oversized page so its longer side stays within `max_side` px."""
    inches = ocr.page_inches(pdf, page)
    if inches <= 0:
        return dpi  # the renderer will say what is wrong with the page
    return max(72, min(dpi, int(max_side / inches)))


def image_frames(path: Path) -> int:
    """Pages in a scanned image file (TIFF frames); 1 when Pillow cannot tell."""
    if not scan_prep.available():
        return 1
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as image:
            return max(1, int(getattr(image, "n_frames", 1)))
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return 1


def _load(path: Path, frame: int, max_side: int) -> Image:
    """One frame of an image file, shrunk to at most `max_side` pixels on its longer side."""
    from PIL import Image as PILImage

    with PILImage.open(path) as image:
        if frame:
            image.seek(frame)
        image.load()
        return _fit(image.convert("RGB"), max_side)


def _fit(page: Image, max_side: int) -> Image:
    """`page` shrunk to at most `max_side` pixels on its longer side."""
    from PIL import Image as PILImage

    if max(page.size) > max_side:
        page.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)
    return page


# -- RapidOCR ---------------------------------------------------------------------------------


@cache
def _rapid() -> Any:
    """One RapidOCR per process (model loading takes a second); models from the wheel.

    Lines are recognised one at a time (`rec_batch_num=1`), each with `_TAIL` of grey after
    it (`_with_tail`). A batch is padded with grey to its widest line, and a page's lines range
    from a signature to a full clause, so batches of six spent most of their time on padding:
    recognition took 0.93 s a page here, one line at a time 0.42 s. But that padding helps the
    recogniser at a line's end: alone, lines misread 0.81 % of characters against 0.69 % in
    batches of six; with the grey tail 0.64 % in 0.51 s (40 generated pages, seeds 300-339).
    """
    from rapidocr_onnxruntime import RapidOCR
    from rapidocr_onnxruntime.utils import infer_engine

    with _RAPID_LOCK, _threads_that_sleep(infer_engine.OrtInferSession):
        return RapidOCR(print_verbose=False, rec_batch_num=1)


_RAPID_LOCK = threading.Lock()  # the class hook below is process-wide


@contextmanager
def _threads_that_sleep(session_class: Any) -> Iterator[None]:
    """onnxruntime sessions made meanwhile let their idle threads sleep instead of spin.

    Spinning threads take the cores from everything else: with one of 2 cores busy (the
    watcher's PDF workers, the web desk, another test), a page took 1.71 s with spinning
    threads and 1.15 s without (idle: 0.84 s and 0.91 s). RapidOCR (pinned below 1.5) builds
    its sessions' options in `OrtInferSession._init_sess_opts`; without that hook (another
    version) the sessions are made as they are.
    """
    build = getattr(session_class, "_init_sess_opts", None)
    if build is None:
        yield
        return

    def quieter(config: Any) -> Any:
        options = build(config)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        return options

    session_class._init_sess_opts = staticmethod(quieter)
    try:
        yield
    finally:
        session_class._init_sess_opts = staticmethod(build)


def _rapid_page(page: Image) -> PageRead:
    import numpy as np

    grey, skew = scan_prep.clean_page(page)
    engine = _rapid()
    array = np.asarray(grey.convert("RGB"))
    boxes = _detect(engine, array)
    rotated = 0
    if boxes is not None and len(boxes) and _mostly_tall(boxes):
        array, rotated = np.ascontiguousarray(np.rot90(array, k=-1)), 90
        boxes = _detect(engine, array)
    if boxes is None or not len(boxes):
        return PageRead("", "rapidocr", rotated, skew)
    crops = engine.get_crop_img_list(array, boxes)
    _, labels, _ = engine.text_cls(crops)
    if sum(label == "180" for label, _score in labels) * 2 > len(labels):
        # Most lines read upside down: the page is. Turn it and detect again, so lines come
        # out top to bottom (the classifier alone would flip each line but keep them reversed).
        array, rotated = np.ascontiguousarray(np.rot90(array, k=2)), (rotated + 180) % 360
        boxes = _detect(engine, array)
        if boxes is None or not len(boxes):
            return PageRead("", "rapidocr", rotated, skew)
        crops = engine.get_crop_img_list(array, boxes)
    lines = engine.text_rec([_with_tail(crop) for crop in crops])[0]
    return PageRead(_join_lines(boxes, lines, engine.text_score), "rapidocr", rotated, skew)


_TAIL = 6  # line heights of grey after each line cut for recognition
_GREY = 127  # what the recogniser's normalisation turns into 0, as a batch's padding is


def _with_tail(crop: Any) -> Any:
    """A line's picture with `_TAIL` line heights of mid-grey after it: the padding a line
    gets in a batch with longer ones, which the recogniser reads the line's end better with."""
    import numpy as np

    return np.pad(crop, ((0, 0), (0, _TAIL * crop.shape[0]), (0, 0)), constant_values=_GREY)


def _detect(engine: Any, array: Any) -> Any:
    """Text line boxes, found on a copy at most `_DETECT_SIDE` px long (detection cost grows
    with the pixels; lines of body text stay well above its needs) and scaled back, so the
    lines are cut for recognition from the full page."""
    import numpy as np
    from PIL import Image as PILImage

    height, width = array.shape[:2]
    scale = min(1.0, _DETECT_SIDE / max(height, width))
    small = array
    if scale < 1.0:
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        small = np.asarray(PILImage.fromarray(array).resize(size, PILImage.Resampling.BILINEAR))
    boxes = engine.text_det(small)[0]
    if boxes is None or not len(boxes):
        return None
    return engine.sorted_boxes((np.asarray(boxes) / scale).astype(np.float32))


def _mostly_tall(boxes: Any) -> bool:
    tall = 0
    for box in boxes:
        width = abs(float(box[1][0]) - float(box[0][0]))
        height = abs(float(box[3][1]) - float(box[0][1]))
        tall += height > 1.5 * width
    return tall > _TALL_LINES * len(boxes)


def _join_lines(boxes: Any, recognised: list[Any], min_score: float) -> str:
    """Boxes on one visual line joined left to right with a space; lines top to bottom."""
    rows: list[tuple[float, float, list[tuple[float, str]]]] = []  # centre y, height, parts
    for box, (text, score, *_rest) in zip(boxes, recognised, strict=False):
        if not text or float(score) < min_score:
            continue
        top, bottom = float(box[0][1]), float(box[3][1])
        centre, height = (top + bottom) / 2, max(1.0, bottom - top)
        for row in rows:
            if abs(row[0] - centre) < 0.5 * max(row[1], height):
                row[2].append((float(box[0][0]), text))
                break
        else:
            rows.append((centre, height, [(float(box[0][0]), text)]))
    rows.sort(key=lambda row: row[0])
    return "\n".join(" ".join(t for _x, t in sorted(row[2])) for row in rows)


# -- Tesseract --------------------------------------------------------------------------------

_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")


def _tesseract_page(path: Path, frame: int, job: PageJob, tmp: Path) -> PageRead:
    """Tesseract, on the cleaned page when numpy/Pillow are there, else on the raw page."""
    if not scan_prep.available():
        return PageRead(_tesseract(path, job), "tesseract")
    grey, skew = scan_prep.clean_page(_load(path, frame, MAX_SIDE["tesseract"]))
    cleaned = tmp / "clean.png"
    grey.save(cleaned)
    rotated = _osd_rotation(cleaned, job)
    if rotated:
        grey.rotate(-rotated, expand=True, fillcolor=255).save(cleaned)
    return PageRead(_tesseract(cleaned, job), "tesseract", rotated, skew)


def _tesseract(path: Path, job: PageJob) -> str:
    return ocr.ocr_image(path, languages=job.languages, timeout_s=job.timeout_s)


def _osd_rotation(path: Path, job: PageJob) -> int:
    """Tesseract's orientation detection: degrees to turn clockwise, 0 when unsure."""
    if "osd" not in ocr.tesseract_languages():
        return 0
    try:
        out = ocr.run_tool(
            ["tesseract", str(path), "stdout", "--psm", "0"],
            timeout_s=job.timeout_s,
            what="tesseract orientation",
        )
    except (ocr.OcrError, subprocess.SubprocessError):
        return 0  # too little text to tell: read it as it is
    match = _OSD_ROTATE.search(out)
    return int(match.group(1)) % 360 if match else 0
