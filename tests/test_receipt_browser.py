"""Reviewing a receipt in a real browser (issue 22): a bank statement with one probable receipt
imported into a desk of its own, served by `dunning serve`; the clerk goes from 今日 to 到账核对
and accepts it in Debian's chromium. Its own module: Playwright's sync API cannot start while the
clerk's-morning module still holds its browser open.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from test_today_receipts import desk_with_receipts
from test_web_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, serve
from tooling import require_browser

from dunning.archive.bank import review
from dunning.archive.db import open_archive
from dunning.desk import Desk
from dunning.web.users import add_user

pytestmark = pytest.mark.slow


def test_a_clerk_reviews_a_receipt_from_today(
    desk: Desk, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """今日 lists a probable bank receipt; 核对到账 leads to 到账核对, where 确认 settles it."""
    require_browser(CHROMIUM)
    desk = desk_with_receipts(desk, tmp_path_factory.mktemp("receipts"))
    with open_archive(desk.db_path) as db:
        add_user(db, "clerk", "clerk", PASSWORD)
        (waiting,) = review.receipts(db, status=("probable",))
    with serve(desk) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.set_default_timeout(30_000)
        page.goto(base + "/login")
        page.fill("input[name=name]", "clerk")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('登录')")
        page.wait_for_url(re.compile(r"/$"))
        row = page.locator("#today tr", has_text=f"银行流水 #{waiting.id}")
        assert "到账待核对" in row.inner_text()
        row.locator("a.button:has-text('核对到账')").click()
        page.wait_for_url(re.compile(r"/bank$"))
        line = page.locator("tr", has=page.locator(f"input[name=receipt][value='{waiting.id}']"))
        line.first.locator("button:has-text('确认')").click()
        page.wait_for_url(re.compile(r"/bank$"))
        page.screenshot(path=str(tmp_path / "clerk-receipt-reviewed.png"), full_page=True)
        page.goto(base + "/")
        assert f"银行流水 #{waiting.id}" not in page.locator("#today").inner_text()
        browser.close()
    with open_archive(desk.db_path) as db:
        done = review.get_receipt(db, waiting.id)
    assert done.status == "confirmed" and done.customer == "C001" and done.decided_by == "clerk"
