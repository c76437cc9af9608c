"""The web desk in a real browser: Debian's chromium driven by Playwright, against a real
`dunning serve` (uvicorn, in-process watcher) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from tooling import require_browser, require_tool
from web_support import copy_desk

from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.letters.pdf import soffice_path
from dunning.web.users import add_user

CHROMIUM = os.environ.get("DUNNING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# `DUNNING_SCREENSHOTS=docs` refreshes the README's screenshots in docs/.
DOCS = Path(__file__).resolve().parents[1] / "docs"
PASSWORD = "clerk-pass-2025"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dunning serve exited early: {log.read_text('utf-8')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"dunning serve did not listen on {port}")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, plain_demo_template: Desk
) -> Iterator[tuple[Desk, str]]:
    require_browser(CHROMIUM)
    desk = copy_desk(plain_demo_template, tmp_path_factory.mktemp("browser") / "desk")
    toml = desk.config_path.read_text(encoding="utf-8")
    desk.config_path.write_text(
        toml.replace("stability_delay_s = 2.0", "stability_delay_s = 0.3"), encoding="utf-8"
    )
    with open_archive(desk.db_path) as db:
        add_user(db, "clerk", "clerk", PASSWORD)
    with serve(desk) as base:
        yield Desk(desk.root), base


@contextmanager
def serve(desk: Desk) -> Iterator[str]:
    """`dunning serve` on a free port for `desk`, stopped on leaving; gives its base URL."""
    port = _free_port()
    log = (desk.root.parent / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dunning"),
            "--desk",
            str(desk.root),
            "serve",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, proc, desk.root.parent / "serve.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def page(served: tuple[Desk, str]) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    if os.environ.get("DUNNING_SCREENSHOTS") == "docs":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS / name)
    return target


def test_1_log_in(served: tuple[Desk, str], page: Page, tmp_path: Path) -> None:
    _, base = served
    page.goto(base + "/customers")
    assert "/login" in page.url
    page.fill("input[name=name]", "clerk")
    page.fill("input[name=password]", "wrong-password")
    page.click("button:has-text('登录')")
    assert "用户名或密码不对" in page.content()
    page.fill("input[name=name]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(re.compile(r"/customers$"))
    page.goto(base + "/")
    assert "逾期最久的 10 个客户" in page.content()
    _shot(page, tmp_path, "web-home.png")


def test_2_search_and_open_a_result(served: tuple[Desk, str], page: Page, tmp_path: Path) -> None:
    _, base = served
    page.goto(base + "/search")
    page.fill("input[name=q]", "违约金")
    page.click("button:has-text('搜索')")
    page.wait_for_selector("li.hit mark")
    assert page.inner_text("li.hit mark") == "违约金"
    _shot(page, tmp_path, "web-search.png")
    link = page.locator("li.hit a.open").first
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/documents/\d+/original", href)
    with page.context.expect_page() as opened:
        link.click()
    original = opened.value
    original.wait_for_load_state()
    assert original.url == base + href
    response = page.request.get(base + href)
    assert response.status == 200 and response.body()[:5] == b"%PDF-"
    assert response.headers["content-type"] == "application/pdf"
    original.close()


def test_3_add_a_promise(served: tuple[Desk, str], page: Page, tmp_path: Path) -> None:
    desk, base = served
    page.goto(base + "/customers/C002")
    day = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    form = page.locator("#log-form")
    form.locator("select[name=kind]").select_option("promise")
    form.locator("input[name=note]").fill("财务王经理电话承诺下周付款")
    form.locator("input[name=promise_amount]").fill("20000")
    form.locator("input[name=promise_date]").fill(day)
    form.locator("button").click()
    page.wait_for_selector("text=财务王经理电话承诺下周付款")
    row = page.locator("#log tr", has_text="财务王经理电话承诺下周付款")
    assert "20,000.00" in row.inner_text() and day in row.inner_text()
    assert "clerk" in row.inner_text()
    _shot(page, tmp_path, "web-customer.png")
    with open_archive(desk.db_path) as db:
        found = db.execute(
            "SELECT promise_amount_fen, by FROM collection_log WHERE note LIKE '财务王经理%'"
        ).fetchone()
    assert found == (2_000_000, "clerk")


def test_4_generate_a_pack_and_download_its_pdf(
    served: tuple[Desk, str], page: Page, tmp_path: Path
) -> None:
    _, base = served
    page.goto(base + "/letters")
    assert page.locator("tr.chosen").count() > 0
    pdf = soffice_path() is not None
    if not pdf:
        page.uncheck("input[name=pdf]")
    page.click("#generate-form button")
    page.wait_for_url(re.compile(r"/letters/packs/[^/]+$"))
    assert page.locator("tbody tr, table tr").count() > 1
    with page.expect_download() as got:
        page.click("#pack-zip")
    zipped = tmp_path / "pack.zip"
    got.value.save_as(zipped)
    assert zipped.read_bytes()[:2] == b"PK"
    require_tool(
        "LibreOffice (soffice)", lambda: pdf, install="apt-get install libreoffice-writer-nogui"
    )
    href = page.get_attribute("#pack-pdf", "href")
    assert href
    response = page.request.get(base + href)
    assert response.status == 200 and response.body()[:5] == b"%PDF-"


def _upload(page: Page, path: Path) -> None:
    page.set_input_files("#file-input", str(path))
    page.wait_for_selector("#upload-note:has-text('已放入收件箱')")


def test_5_upload_a_ledger_and_see_it_archived(
    served: tuple[Desk, str], page: Page, tmp_path: Path
) -> None:
    _, base = served
    ledger = tmp_path / "网页上传台账.csv"
    ledger.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        "W001,网页上传测试有限公司,FPW001,2025-01-01,2025-02-01,3300.00\n",
        encoding="utf-8",
    )
    page.goto(base + "/inbox")
    _upload(page, ledger)
    page.wait_for_selector("#archived-list td:has-text('网页上传台账.csv')")
    page.goto(base + "/customers?q=W001")
    assert "网页上传测试有限公司" in page.content()
    # Dragged and dropped, as a clerk would from the file manager.
    page.goto(base + "/inbox")
    page.evaluate(DROP_SCRIPT)
    page.wait_for_selector("#archived-list td:has-text('拖放台账.csv')")


DROP_SCRIPT = """() => {
  const data = new DataTransfer();
  const csv = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\\n"
    + "W002,拖放测试有限公司,FPW002,2025-01-01,2025-02-01,800.00\\n";
  data.items.add(new File([csv], "拖放台账.csv", { type: "text/csv" }));
  const zone = document.getElementById("drop");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


def test_6_upload_a_broken_file_and_see_its_reason(
    served: tuple[Desk, str], page: Page, tmp_path: Path
) -> None:
    _, base = served
    broken = tmp_path / "坏合同.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")  # cut off mid-object
    page.goto(base + "/inbox")
    _upload(page, broken)
    row = page.locator("#failed-list tr", has_text="坏合同.pdf")
    row.wait_for()
    reason = row.locator("td.reason").inner_text()
    assert len(reason) > 10
    _shot(page, tmp_path, "web-inbox.png")
