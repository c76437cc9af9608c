"""OCR between files: the watcher reads one waiting page whenever the inbox is quiet."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dunning.desk import Desk
from dunning.vocabulary import PAGE_STATES, title

if TYPE_CHECKING:  # the OCR machinery loads only when there is something to read
    from dunning.ingest.ocr_queue import OcrReader

log = logging.getLogger(__name__)
IDLE_CHECK_S = 2.0  # with nothing waiting, look again after this long


class BackgroundOcr:
    """Reads the desk's waiting pages one per `step`, never raising; `close` when done.

    Off when `[ingest] ocr = false` or no engine is installed (said once, by `notice`).
    """

    def __init__(self, desk: Desk, notice: Callable[[str], None]) -> None:
        self.desk = desk
        self._notice = notice
        self._reader: OcrReader | None = None
        self._off = not desk.config.ocr
        self._next_check = 0.0

    def step(self) -> bool:
        """Read one waiting page; True if one was read (more may be waiting)."""
        if self._off or time.monotonic() < self._next_check:
            return False
        try:
            reader = self._open()
            if reader is None:
                return False
            outcome = reader.read_next()
        except Exception:
            # A bug or a locked database: log it, keep archiving files, try again later.
            log.exception("background OCR failed; files are still archived")
            self._next_check = time.monotonic() + IDLE_CHECK_S
            return False
        if outcome is None:
            self._next_check = time.monotonic() + IDLE_CHECK_S
        else:
            self._notice(
                f"OCR 文档 {outcome.document} 第 {outcome.page} 页："
                + title(PAGE_STATES, outcome.state)
                + (f"（{outcome.error}）" if outcome.error else "")
            )
        return outcome is not None

    def _open(self) -> OcrReader | None:
        from dunning.archive.contracts.ocr_engines import choose_engine, missing_engine_message
        from dunning.ingest.ocr_queue import OcrReader

        if self._reader is None:
            config = self.desk.config
            engine = choose_engine(config.ocr_engine, config.ocr_languages)
            if engine is None:
                self._off = True
                self._notice(f"扫描件已归档但未识别：{missing_engine_message(config.ocr_engine)}")
                return None
            self._reader = OcrReader(self.desk, engine)
        return self._reader

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
