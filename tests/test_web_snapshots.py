"""The web desk's held invoices (void / keep on the customer page) and 未匹配到款 page + API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from web_support import client, csrf

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_paths

HEADER = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
WEEK1 = (
    HEADER
    + "C001,杭州甲有限公司,INV001,2025-11-01,2025-11-30,10000\n"
    + "C001,杭州甲有限公司,INV/002,2025-11-10,2025-12-10,5000\n"
    + "C002,<b>乙</b> & {{7*7}},INV003,2025-11-20,2025-12-20,8000\n"
)
WEEK2 = HEADER + "C001,杭州甲有限公司,INV001,2025-11-01,2025-11-30,10000\n"
WEEK2 += "C002,<b>乙</b> & {{7*7}},INV003,2025-11-20,2025-12-20,8000\n"
PAYMENTS = "付款单位,回款日期,回款金额,摘要\n<script>x</script>公司,2025-12-01,300,\n杭州甲,2025-12-02,200,\n"


@pytest.fixture
def desk_with_changes(desk: Desk, tmp_path: Path) -> Desk:
    for name, text in (("w1.csv", WEEK1), ("w2.csv", WEEK2), ("p.csv", PAYMENTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        report = ingest_paths(desk, [tmp_path / name])
        assert report.outcomes[0].status == "archived", report.outcomes[0].reason
    return desk


def cli_json(desk: Desk, *args: str) -> object:
    result = CliRunner().invoke(main, ["--desk", str(desk.root), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pages_show_held_invoices_and_unmatched_receipts_escaped(desk_with_changes: Desk) -> None:
    web = client(desk_with_changes)
    page = web.get("/customers/C001")
    assert page.status_code == 200
    assert "暂停催收的发票" in page.text and "INV/002" in page.text
    assert 'action="/invoices/INV%2F002/void"' in page.text
    assert "可能是该客户的未匹配到款" in page.text and "归入本客户" in page.text
    listing = web.get("/receipts/unmatched")
    assert listing.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt;公司" in listing.text and "<script>x" not in listing.text
    assert "无相近客户" in listing.text
    assert "未匹配到款" in web.get("/").text  # the nav links to it


def test_api_equals_the_cli(desk_with_changes: Desk) -> None:
    web = client(desk_with_changes)
    assert web.get("/api/invoices/held").json() == cli_json(desk_with_changes, "invoice", "held")
    assert web.get("/api/receipts/unmatched").json() == cli_json(
        desk_with_changes, "receipts", "unmatched"
    )
    assert web.get("/api/invoices/held?state=bogus").status_code == 400


def test_void_and_keep_from_the_customer_page(desk_with_changes: Desk) -> None:
    web = client(desk_with_changes)
    token = csrf(web, "/customers/C001")
    assert web.post("/invoices/INV%2F002/void", data={"reason": "x"}).status_code == 403
    empty = web.post(
        "/invoices/INV%2F002/void", data={"csrf": token, "customer": "C001", "reason": " "}
    )
    assert empty.status_code == 400 and "--reason" in empty.text
    missing = web.post("/invoices/NOPE/void", data={"csrf": token, "reason": "x"})
    assert missing.status_code == 404
    done = web.post(
        "/invoices/INV%2F002/void",
        data={"csrf": token, "customer": "C001", "reason": "ERP 已作废"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/customers/C001#held"
    (held,) = web.get("/api/invoices/held?state=voided").json()
    assert (held["invoice"], held["reason"], held["actor"]) == ("INV/002", "ERP 已作废", "本机")
    with open_archive(desk_with_changes.db_path) as db:
        audit = db.execute("SELECT user, action FROM audit_log ORDER BY id DESC").fetchone()
    assert audit == ("本机", "invoice void")
    kept = web.post(
        "/api/invoices/INV%2F002/keep", json={"note": "客户确认"}, headers={"X-CSRF-Token": token}
    )
    assert kept.status_code == 200 and kept.json()["state"] == "kept"
    assert web.get("/api/customers/C001").json()["balance"] == "15000.00"


def test_assign_from_the_page_and_the_api(desk_with_changes: Desk) -> None:
    web = client(desk_with_changes)
    token = csrf(web, "/receipts/unmatched")
    receipts = web.get("/api/receipts/unmatched").json()
    by_payer = {r["payer"]: r["id"] for r in receipts}
    short = by_payer["杭州甲"]
    done = web.post(
        f"/receipts/{short}/assign",
        data={"csrf": token, "customer": "C001", "to": "C001"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert web.get("/api/customers/C001").json()["balance"] == "9800.00"
    unknown = web.post(
        f"/receipts/{by_payer['<script>x</script>公司']}/assign", data={"csrf": token, "to": "C999"}
    )
    assert unknown.status_code == 400 and "没有客户" in unknown.text
    api = web.post(
        f"/api/receipts/{by_payer['<script>x</script>公司']}/assign",
        json={"customer": "C002"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 200 and api.json()["assigned_to"] == "C002"
    twice = web.post(
        f"/api/receipts/{short}/assign", json={"customer": "C002"}, headers={"X-CSRF-Token": token}
    )
    assert twice.status_code == 400 and "归入 C001：未做任何改动" in twice.json()["error"]
    bad = web.post(
        "/api/receipts/abc/assign", json={"customer": "C002"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 404
    typed = web.post(
        f"/api/receipts/{short}/assign", json={"customer": 5}, headers={"X-CSRF-Token": token}
    )
    assert typed.status_code == 400
    assert web.get("/api/receipts/unmatched").json() == []


def test_dismiss_from_the_page_and_the_api(desk_with_changes: Desk) -> None:
    web = client(desk_with_changes)
    token = csrf(web, "/receipts/unmatched")
    by_payer = {r["payer"]: r["id"] for r in web.get("/api/receipts/unmatched").json()}
    hostile, short = by_payer["<script>x</script>公司"], by_payer["杭州甲"]
    empty = web.post(f"/receipts/{hostile}/dismiss", data={"csrf": token, "reason": " "})
    assert empty.status_code == 400 and "--reason" in empty.text
    done = web.post(
        f"/receipts/{hostile}/dismiss",
        data={"csrf": token, "reason": "银行利息"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = web.get("/receipts/unmatched").text
    assert "已忽略：银行利息" in page and "&lt;script&gt;" in page
    api = web.post(
        f"/api/receipts/{short}/dismiss", json={"reason": "退款"}, headers={"X-CSRF-Token": token}
    )
    assert api.status_code == 200 and api.json()["dismissed"] == "退款"
    assert api.json()["dismissed_by"] == "本机"
    assert web.get("/api/receipts/unmatched").json() == []
    assert {r["dismissed"] for r in web.get("/api/receipts/unmatched?assigned=1").json()} == {
        "银行利息",
        "退款",
    }
    assert web.get("/api/customers/C001").json()["balance"] == "10000.00"


def test_a_viewer_cannot_void_keep_assign_or_dismiss(
    desk_with_changes: Desk, runner: CliRunner
) -> None:
    for name, role in (("vera", "viewer"),):
        made = runner.invoke(
            main,
            ["--desk", str(desk_with_changes.root), "user", "add", name, "--role", role],
            input="viewer-pass-1\n",
        )
        assert made.exit_code == 0, made.output
    web = client(desk_with_changes)
    login = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text)
    assert login
    web.post("/login", data={"csrf": login.group(1), "name": "vera", "password": "viewer-pass-1"})
    token = csrf(web, "/receipts/unmatched")
    page = web.get("/customers/C001").text
    assert "暂停催收的发票" in page and "/void" not in page  # no forms for a viewer
    headers = {"X-CSRF-Token": token}
    rid = web.get("/api/receipts/unmatched").json()[0]["id"]
    assert (
        web.post("/api/invoices/INV%2F002/void", json={"reason": "x"}, headers=headers).status_code
        == 403
    )
    assert web.post("/api/invoices/INV%2F002/keep", json={}, headers=headers).status_code == 403
    assert (
        web.post(
            f"/api/receipts/{rid}/assign", json={"customer": "C001"}, headers=headers
        ).status_code
        == 403
    )
    assert (
        web.post(f"/receipts/{rid}/dismiss", data={"csrf": token, "reason": "x"}).status_code == 403
    )
    assert web.get("/api/invoices/held").status_code == 200
