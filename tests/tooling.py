"""Skip tests that need an optional system tool, unless the run demands every tool.

Set DUNNING_REQUIRE_TOOLS=1 (CI, release checks) and a missing tool fails the test instead
of skipping it, so a broken install cannot pass as green.

The helpers also mark the tests that call them (`MARKS`, applied at collection by conftest's
`pytest_collection_modifyitems`): `make check` deselects `ocr`, `soffice`, `browser` and `slow`.
A test calling a helper directly, through a fixture or through a helper function of the test
modules is marked; so is one naming the library calls that need the tool.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType

import pytest

from dunning.archive.contracts.ocr import pdftoppm_available, tesseract_available

REQUIRE_ENV = "DUNNING_REQUIRE_TOOLS"
# The real-world fixtures (SPEC §8) live beside the project: ../shared/realworld.
REALWORLD = Path(
    os.environ.get("DUNNING_REALWORLD")
    or Path(__file__).resolve().parents[2] / "shared" / "realworld"
)


# A name a test (or what it calls) uses -> the marker the test gets.
MARKS = {
    "require_tesseract": "ocr",
    "require_pdftoppm": "ocr",
    "require_ocr_for_pdf": "ocr",
    "require_poppler_cmaps": "ocr",
    "require_rapidocr": "ocr",
    "require_soffice": "soffice",
    "soffice_path": "soffice",
    "convert_to_pdf": "soffice",
    "require_browser": "browser",
    "require_slow": "slow",
}
TESTS = Path(__file__).resolve().parent


def tools_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def require_tool(name: str, check: Callable[[], bool], *, install: str = "") -> None:
    """Skip the calling test when `check()` is false; fail instead if DUNNING_REQUIRE_TOOLS=1."""
    if check():
        return
    reason = f"{name} is not installed" + (f" (install: {install})" if install else "")
    if tools_required():
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)


def require_tesseract(languages: str = "chi_sim+eng") -> None:
    require_tool(
        f"tesseract with {languages}",
        lambda: tesseract_available(languages),
        install="apt-get install tesseract-ocr tesseract-ocr-chi-sim",
    )


def require_pdftoppm() -> None:
    require_tool("pdftoppm", pdftoppm_available, install="apt-get install poppler-utils")


def require_ocr_for_pdf(languages: str = "chi_sim+eng") -> None:
    """Tesseract; PDF pages are rendered by PDFium (a dependency), not by poppler's pdftoppm."""
    require_tesseract(languages)


def require_poppler_cmaps() -> None:
    """pdftotext with poppler-data's CMaps (Adobe-GB1): it reads CID fonts pypdf garbles."""
    from dunning.archive.contracts.ocr import pdftotext_available

    require_tool(
        "pdftotext with poppler-data",
        lambda: pdftotext_available() and Path("/usr/share/poppler/cMap/Adobe-GB1").is_dir(),
        install="apt-get install poppler-utils poppler-data",
    )


def require_rapidocr() -> None:
    from dunning.archive.contracts.ocr_engines import engine_installed

    require_tool(
        "RapidOCR",
        lambda: engine_installed("rapidocr"),
        install="pip install 'dunning[ocr]'",
    )


def require_realworld() -> Path:
    """The real-world fixture folder; skips (with the path) when it is not there, or fails
    under DUNNING_REQUIRE_TOOLS=1, so a missing folder can never pass as green."""
    if not REALWORLD.is_dir():
        reason = f"real-world fixtures not found at {REALWORLD} (set DUNNING_REALWORLD)"
        if tools_required():
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires them", pytrace=False)
        pytest.skip(reason)
    return REALWORLD


def require_soffice() -> None:
    from dunning.letters.pdf import soffice_path

    require_tool(
        "LibreOffice",
        lambda: soffice_path() is not None,
        install="apt-get install libreoffice-writer-nogui libreoffice-calc-nogui",
    )


def require_browser(executable: str) -> None:
    require_tool(
        f"chromium ({executable})",
        lambda: Path(executable).is_file(),
        install="apt-get install chromium",
    )


def require_slow() -> None:
    """Nothing to check: marks the calling test `slow` (deselected by `make check`)."""


def marks_for(functions: list[Callable[..., object]]) -> set[str]:
    """The markers `MARKS` gives to tests calling `functions`, followed through the helper
    functions of the test folder (not into the library)."""
    found: set[str] = set()
    seen: set[CodeType] = set()
    stack = list(functions)
    while stack:
        function = inspect.unwrap(stack.pop())
        code = getattr(function, "__code__", None)
        if not isinstance(code, CodeType) or code in seen:
            continue
        seen.add(code)
        namespace: dict[str, object] = getattr(function, "__globals__", {})
        for name in _names(code):
            if name in MARKS:
                found.add(MARKS[name])
            target = namespace.get(name)
            if inspect.isfunction(target) and Path(target.__code__.co_filename).parent == TESTS:
                stack.append(target)
    return found


def _names(code: CodeType) -> Iterator[str]:
    """Global and attribute names `code` uses, with its lambdas' and inner functions'."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def examples(n: int) -> int:
    """`n` Hypothesis examples under the default profile (make test, CI); under `dev`
    (make check) the same share of its max_examples: a tenth."""
    from hypothesis import settings

    return max(5, n * settings.default.max_examples // 100)
