"""A clerk's morning in a real browser (issue 22): Debian's chromium driven by Playwright against
a real `dunning serve` on the demo desk, at a laptop's 1366 px and a phone's 390 px.

`DUNNING_SCREENSHOTS=docs` refreshes docs/clerk-*.png.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pdf_factory import make_text_pdf
from playwright.sync_api import Page, sync_playwright
from test_web_browser import CHROMIUM, CHROMIUM_ARGS, DOCS, PASSWORD, served

from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.letters.delivery import get_delivery
from dunning.workflow.log import list_entries

pytestmark = pytest.mark.slow
__all__ = ["served"]  # the module's served desk, shared with test_web_browser's fixture

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
KEPT = {"clerk-today-desktop.png", "clerk-today-phone.png", "clerk-letter-phone.png"}


@pytest.fixture(scope="module", params=list(WIDTHS))
def clerk(request: pytest.FixtureRequest, served: tuple[Desk, str]) -> Iterator[Page]:
    width, height = WIDTHS[request.param]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", is_mobile=width < 500
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        _, base = served
        page.goto(base + "/login")
        page.fill("input[name=name]", "clerk")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('登录')")
        page.wait_for_url(re.compile(r"/$"))
        yield page
        context.close()
        browser.close()


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    if os.environ.get("DUNNING_SCREENSHOTS") == "docs" and name in KEPT:
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS / name)
    return target


def _fits(page: Page) -> None:
    """Nothing on the page is wider than the screen: no sideways scrolling of the page."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1 if page.viewport_size else True


def test_a_clerks_morning(clerk: Page, served: tuple[Desk, str], tmp_path: Path) -> None:
    desk, base = served
    size = "phone" if (clerk.viewport_size or {}).get("width", 0) < 500 else "desktop"
    clerk.goto(base + "/")
    today = clerk.locator("#today")
    assert today.is_visible() and "今日待办" in today.inner_text()
    _fits(clerk)
    if size == "phone":
        assert not clerk.locator("nav").is_visible()  # the menu is folded away
        clerk.click("label.menu-button")
        assert clerk.locator("nav a:has-text('客户')").is_visible()
        clerk.click("label.menu-button")
    _shot(clerk, tmp_path, f"clerk-today-{size}.png")

    # 1. The first letter waiting to be mailed: mark it sent with its tracking number.
    action = today.locator("a.button:has-text('登记寄出')").first
    href = action.get_attribute("href") or ""
    ref = href.rsplit("/", 1)[-1]
    action.click()
    clerk.wait_for_url(re.compile(re.escape(href) + "$"))
    clerk.fill("#sent-form input[name=tracking]", "1151234567890")
    clerk.click("#sent-form button")
    clerk.wait_for_selector("p.notice")
    assert clerk.inner_text("p.notice") == "已登记寄出。"

    # 2. The courier's proof arrives: mark it delivered with the proof attached.
    proof = make_text_pdf(tmp_path / "妥投证明.pdf", ["EMS 妥投证明 邮件号 1151234567890 已签收"])
    clerk.set_input_files("#delivered-form input[name=proof]", str(proof))
    clerk.click("#delivered-form button")
    clerk.wait_for_selector("p.notice:has-text('妥投')")
    assert "妥投证明已归档" in clerk.inner_text("p.notice")
    assert clerk.locator("ol.steps li.done", has_text="已妥投").count() == 1
    _fits(clerk)
    _shot(clerk, tmp_path, f"clerk-letter-{size}.png")
    with open_archive(desk.db_path) as db:
        letter = get_delivery(db, ref)
    assert letter.status == "delivered" and letter.evidence_document is not None

    # 3. Call the customer and log it.
    clerk.click("section.card p a[href^='/customers/']")
    clerk.wait_for_selector("#log-form")
    form = clerk.locator("#log-form")
    form.locator("select[name=kind]").select_option("call")
    note = f"电话催款（{size}）：财务说周五安排付款"
    form.locator("input[name=note]").fill(note)
    form.locator("button").click()
    clerk.wait_for_selector(f"text={note}")
    _fits(clerk)
    with open_archive(desk.db_path) as db:
        logged = [e for e in list_entries(db) if e.note == note]
    assert [e.by for e in logged] == ["clerk"]

    # Back on 今日, the letter is no longer waiting to be mailed.
    clerk.goto(base + "/")
    assert ref not in clerk.locator("#today").inner_text()
