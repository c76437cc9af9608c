"""The require_* helpers mark the tests that reach them, so `make check` can leave them out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from tooling import examples, marks_for, require_rapidocr, require_soffice, require_tool

from dunning.letters.pdf import soffice_path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["-m", "soffice or ocr or browser", "tests/test_pack.py", "tests/test_realworld.py"]


def _reads_a_scan() -> None:
    require_rapidocr()


def _test_through_a_helper() -> None:
    _reads_a_scan()


def _test_with_a_lambda() -> None:
    require_tool("LibreOffice", lambda: soffice_path() is not None)


def _test_with_two_tools() -> None:
    require_soffice()
    _reads_a_scan()


def _test_of_plain_python() -> None:
    assert sorted([2, 1]) == [1, 2]


def test_a_helper_marks_the_test_directly_through_helpers_and_lambdas() -> None:
    assert marks_for([_test_through_a_helper]) == {"ocr"}
    assert marks_for([_test_with_a_lambda]) == {"soffice"}
    assert marks_for([_test_with_two_tools]) == {"ocr", "soffice"}
    assert marks_for([_test_of_plain_python]) == set()


def test_the_dev_profile_shrinks_properties_and_the_default_keeps_them_whole() -> None:
    # The default profile (make test, CI) runs 100 examples a property: sizes as written.
    assert settings.get_profile("default").max_examples == 100
    assert settings.get_profile("dev").max_examples == 10
    expected = 300 if settings.default.max_examples == 100 else 30
    assert examples(300) == expected


@pytest.mark.slow  # a pytest subprocess collecting two modules
def test_the_suite_is_marked_as_the_helpers_say() -> None:
    """Collected for real: known tests carry the marks their helpers give them."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *ARGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    chosen = done.stdout
    assert "test_pack.py::test_pdf_pack_has_every_page_and_the_text" in chosen, done.stdout[-800:]
    assert "test_realworld.py::test_ocr_replaces_broken_tounicode_text" in chosen
    assert "test_pack.py::test_plan_picks_active_overdue_customers" not in chosen
