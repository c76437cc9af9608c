"""Shared fixtures: a real desk in tmp_path, a CliRunner, sample ledgers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings
from tooling import marks_for, require_rapidocr

from dunning.desk import Desk, init_desk


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Never let a developer's own desk leak into a test.
    monkeypatch.delenv("DUNNING_DESK", raising=False)


@pytest.fixture(scope="session")
def fresh_desk_template(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """A desk as `init_desk` makes it, made once per session (about 50 ms: the migrations)."""
    return init_desk(tmp_path_factory.mktemp("fresh-desk") / "desk")


@pytest.fixture
def desk(tmp_path: Path, fresh_desk_template: Desk) -> Desk:
    """A new, empty desk of the test's own: a copy of the session's (about 5 ms)."""
    from web_support import copy_desk

    return copy_desk(fresh_desk_template, tmp_path / "desk")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def in_desk(desk: Desk) -> Iterator[Desk]:
    old = Path.cwd()
    os.chdir(desk.root)
    try:
        yield desk
    finally:
        os.chdir(old)


INVOICE_CSV = """客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额
C001,杭州明远贸易有限公司,HT-2025-0001,FP0001,2025-01-05,2025-02-04,"10,000.00",0
C001,杭州明远贸易有限公司,HT-2025-0001,FP0002,2025/2/10,2025/3/12,￥5000.50,1000
C002,宁波海辰机械有限公司,HT-2025-0002,FP0003,2025年3月1日,2025年3月31日,8800,0
C003,绍兴&华 <HK> 有限公司,HT-2025-0003,FP0004,2025.4.1,2025.5.1,1200.00,1200.00
合计,,,,,,"25,000.50",
"""

PAYMENT_CSV = """客户编号,客户名称,回款日期,回款金额,对应发票号
C001,杭州明远贸易有限公司,2025-03-01,3000.00,FP0002
C001,杭州明远贸易有限公司,2025-03-15,2000.00,
C002,宁波海辰机械有限公司,2025-04-10,800.00,
"""


@pytest.fixture
def invoice_csv(tmp_path: Path) -> Path:
    path = tmp_path / "应收台账.csv"
    path.write_text(INVOICE_CSV, encoding="utf-8")
    return path


@pytest.fixture
def payment_csv(tmp_path: Path) -> Path:
    path = tmp_path / "回款明细.csv"
    path.write_text(PAYMENT_CSV, encoding="gbk")
    return path


# -- markers, Hypothesis profiles, shared session fixtures --------------------------------------

# `--hypothesis-profile=dev` (make check): a tenth of the examples of every property; the default
# profile (make test, CI) runs them at full size. Sizes go through tooling.examples().
settings.register_profile("dev", max_examples=10, deadline=None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the require_* helpers it reaches (tooling.MARKS): ocr, soffice, ..."""
    for item in items:
        function = getattr(item, "function", None)
        if function is None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        fixtures = [
            defs[-1].func
            for name in (info.names_closure if info else [])
            if (defs := info.name2fixturedefs.get(name)) and info is not None
        ]
        for mark in sorted(marks_for([function, *fixtures])):
            item.add_marker(mark)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The web demo desk (letters due today, a hostile name), built once per session: take a
    copy (web_support.copy_desk) before writing to it."""
    from web_support import demo_desk

    return demo_desk(tmp_path_factory.mktemp("demo-template") / "desk")


@pytest.fixture(scope="session")
def plain_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The demo desk without the hostile name (letters due today), built once per session: a
    demo costs seconds to build and a copy milliseconds, so tests that write take a copy
    (web_support.copy_desk) and never write to this one."""
    from web_support import demo_desk

    return demo_desk(tmp_path_factory.mktemp("plain-demo-template") / "desk", hostile=False)


@pytest.fixture(scope="session")
def ocr_engine() -> object:
    """RapidOCR with its models loaded, once per session (a second or more each time)."""
    require_rapidocr()
    from dunning.archive.contracts import ocr_engines

    return ocr_engines._rapid()


PACK_AS_OF = "2025-11-30"
PACK_CUSTOMERS = 45  # over pack._PARALLEL_FROM: the pack renders in worker processes


@pytest.fixture(scope="session")
def rendered_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Desk, Path, Any]:
    """A desk with 45 overdue customers (one with a hostile name), the plan and the pack written
    from it, once per session: (desk, pack folder, plan). Read them, don't write."""
    import datetime as dt

    from dunning.archive.db import open_archive
    from dunning.ingest.pipeline import ingest_paths
    from dunning.letters.pack import plan_pack, write_pack

    root = tmp_path_factory.mktemp("rendered-pack")
    desk = init_desk(root / "desk")
    lines = ["客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额"]
    names = {0: "A&B <HK> {{ 7*7 }} 贸易", 1: "斜杠/冒号:公司"}
    for n in range(PACK_CUSTOMERS):
        name = names.get(n, f"客户{n:03d}贸易有限公司")
        lines.append(
            f'C{n:03d},"{name}",HT-2025-{n:04d},FP{n:05d},2025-01-05,2025-02-04,{1000 + n}.50,0'
        )
    ledger = root / "ledger.csv"
    ledger.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not ingest_paths(desk, [ledger]).of("failed")
    with open_archive(desk.db_path) as db:
        plan = plan_pack(
            db, desk.config, as_of=dt.date.fromisoformat(PACK_AS_OF), allow_no_address=True
        )
        result = write_pack(desk, db, plan)
    assert result.pack_dir is not None and len(result.letters) == PACK_CUSTOMERS
    return desk, result.pack_dir, plan
