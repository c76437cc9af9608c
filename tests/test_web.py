"""The web desk through Starlette's TestClient: pages, the API against the CLI, security."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from web_support import client, copy_desk, csrf

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.dates import office_today
from dunning.desk import Desk
from dunning.web.desk_state import highlight
from dunning.web.inbox_page import safe_name

PAGES = [
    "/",
    "/customers",
    "/customers/C001",
    "/search?q=合同",
    "/letters",
    "/inbox",
    "/inbox/status",
    "/reports",
    "/login",
    "/users",
]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, demo_template: Desk) -> Desk:
    return copy_desk(demo_template, tmp_path_factory.mktemp("web") / "desk")


@pytest.fixture
def web(desk: Desk) -> TestClient:
    return client(desk)


def cli_json(desk: Desk, *args: str) -> object:
    result = CliRunner().invoke(main, ["--desk", str(desk.root), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(web: TestClient, page: str) -> None:
    response = web.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_customer_page_shows_what_the_cli_shows(web: TestClient, desk: Desk) -> None:
    record = cli_json(desk, "customer", "C001")
    assert isinstance(record, dict)
    page = web.get("/customers/C001").text
    for inv in record["invoices"]:
        assert inv["invoice"] in page
    for letter in record["letters"]:
        assert letter["ref"] in page
    for change in record.get("changes", []):
        assert change["new"] in page
    assert record["name"] in page


def test_home_shows_totals_and_most_overdue(web: TestClient, desk: Desk) -> None:
    page = web.get("/").text
    aging = cli_json(desk, "aging")
    assert isinstance(aging, list)
    worst = max(aging, key=lambda a: a["max_days_overdue"])
    assert worst["name"] in page or worst["customer"] in page
    assert "账龄分布" in page and "<svg" in page


@pytest.mark.parametrize(
    ("url", "cli"),
    [
        ("/api/aging", ["aging"]),
        ("/api/aging?as_of=2025-06-30", ["aging", "--as-of", "2025-06-30"]),
        ("/api/customers", ["customers"]),
        ("/api/customers/C001", ["customer", "C001"]),
        ("/api/search?q=合同&limit=5", ["search", "合同", "--limit", "5"]),
        ("/api/search?q=违约金&kind=contract", ["search", "违约金", "--kind", "contract"]),
        ("/api/documents/1", ["show", "1"]),
    ],
)
def test_api_equals_the_cli_json(web: TestClient, desk: Desk, url: str, cli: list[str]) -> None:
    response = web.get(url)
    assert response.status_code == 200
    assert response.json() == cli_json(desk, *cli)


@pytest.mark.parametrize("route", ["/api/aging", "/api/customers/C001"])
def test_api_refuses_an_as_of_after_today_unless_allowed(
    web: TestClient, desk: Desk, route: str
) -> None:
    later = (office_today(desk.config.timezone) + dt.timedelta(days=3)).isoformat()
    refused = web.get(f"{route}?as_of={later}")
    assert refused.status_code == 400
    assert refused.json()["error"] == (
        f"日期 as_of {later} 晚于今天（{office_today(desk.config.timezone).isoformat()}）："
        "请给今天或以前的日期（确有需要时加 --allow-future）。"
    )
    assert web.get(f"{route}?as_of={later}&allow_future=yes").status_code == 400
    today = office_today(desk.config.timezone).isoformat()
    assert web.get(f"{route}?as_of={today}").status_code == 200  # today is not the future
    allowed = web.get(f"{route}?as_of={later}&allow_future=1")
    cli = ["aging"] if route == "/api/aging" else ["customer", "C001"]
    assert allowed.status_code == 200
    assert allowed.json() == cli_json(desk, *cli, "--as-of", later, "--allow-future")


def test_pack_dry_run_equals_the_cli(web: TestClient, desk: Desk) -> None:
    token = csrf(web)
    response = web.post("/api/packs", json={"dry_run": True}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    data = response.json()
    assert data == cli_json(desk, "pack", "--dry-run")
    assert any(c["next_level"] for c in data["customers"])


@pytest.mark.parametrize(
    "doc", ["0", "999999", "-1", "99999999999999999999999", "abc", "1.0", "..%2F..%2Fdunning.toml"]
)
def test_unknown_and_traversal_document_ids_are_404(web: TestClient, doc: str) -> None:
    assert web.get(f"/api/documents/{doc}").status_code == 404
    assert web.get(f"/documents/{doc}/original").status_code == 404


def test_original_is_the_stored_file(web: TestClient, desk: Desk) -> None:
    with open_archive(desk.db_path) as db:
        doc, stored = db.execute(
            "SELECT id, stored_path FROM documents WHERE mime = 'pdf' LIMIT 1"
        ).fetchone()
    response = web.get(f"/documents/{doc}/original")
    assert response.status_code == 200
    assert response.content == (desk.root / stored).read_bytes()
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.headers["content-security-policy"] == "sandbox"


def test_writes_need_the_csrf_token(web: TestClient) -> None:
    entry = {"customer": "C001", "kind": "call", "note": "电话催收"}
    assert web.post("/api/log", json=entry).status_code == 403
    assert web.post("/api/log", json=entry, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert web.post("/customers/C001/log", data={"kind": "call", "note": "x"}).status_code == 403
    assert web.post("/inbox/retry", data={"name": "x"}).status_code == 403
    assert web.post("/letters/generate", data={}).status_code == 403


def test_log_through_the_api_is_recorded_with_the_user(web: TestClient, desk: Desk) -> None:
    token = csrf(web)
    entry = {
        "customer": "C002",
        "kind": "promise",
        "note": "答应月底付",
        "promise_amount": "5000",
        "promise_date": (dt.date.today() + dt.timedelta(days=10)).isoformat(),
    }
    response = web.post("/api/log", json=entry, headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer"] == "C002" and body["promise_amount"] == "5000.00"
    assert body["by"] == "本机"
    record = cli_json(desk, "customer", "C002")
    assert isinstance(record, dict)
    assert record["log"][-1]["note"] == "答应月底付"
    with open_archive(desk.db_path) as db:
        last = db.execute("SELECT user, action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last == ("本机", "log add")


def test_bad_log_entries_are_400_with_a_sentence(web: TestClient) -> None:
    token = csrf(web)
    bad = {"customer": "C001", "kind": "promise", "note": "x", "promise_amount": "abc"}
    response = web.post("/api/log", json=bad, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and response.json()["error"]
    missing = {"customer": "NOPE", "kind": "call", "note": "x"}
    assert web.post("/api/log", json=missing, headers={"X-CSRF-Token": token}).status_code == 404
    not_json = web.post("/api/log", content=b"[1,", headers={"X-CSRF-Token": token})
    assert not_json.status_code == 400


def test_hostile_customer_name_prints_literally(web: TestClient) -> None:
    for page in ("/customers", "/customers/X001", "/", "/search?q=HT-X-1"):
        text = web.get(page).text
        assert "<script>alert" not in text, page
    text = web.get("/customers/X001").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; {{7*7}}" in text
    assert "49" not in text.split("<h1>")[1].split("</h1>")[0]


def test_highlight_escapes_and_keeps_document_brackets() -> None:
    plain = "<b>【甲方】</b> 违约金 5%"
    marked = "<b>【甲方】</b> 【违约金】 5%"
    assert str(highlight(marked, plain)) == ("&lt;b&gt;【甲方】&lt;/b&gt; <mark>违约金</mark> 5%")


def test_search_page_marks_hits(web: TestClient) -> None:
    page = web.get("/search", params={"q": "违约金"}).text
    assert "<mark>违约金</mark>" in page
    assert "/documents/" in page
    first = web.get("/search", params={"q": "违约金", "limit": "1"}).text
    assert first.count('class="hit"') == 1 and "limit=2" in first
    assert web.get("/search", params={"q": "违约金", "limit": "lots"}).status_code == 400


def test_reports_download_as_workbooks(web: TestClient) -> None:
    for url in ("/reports/weekly.xlsx", "/reports/legal.xlsx?as_of=2025-06-30"):
        response = web.get(url)
        assert response.status_code == 200
        assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames
    assert web.get("/reports/weekly.xlsx?as_of=yesterday-ish").status_code == 400


def test_pack_generate_download_and_no_path_from_the_url(web: TestClient, desk: Desk) -> None:
    token = csrf(web)
    response = web.post("/api/packs", json={"customers": ["C001"]}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["letters"] and data["letters"][0]["customer"] == "C001"
    name = Path(data["pack"]).name
    assert name in web.get("/letters").text
    page = web.get(f"/letters/packs/{name}")
    assert page.status_code == 200 and data["letters"][0]["ref"] in page.text
    with open_archive(desk.db_path) as db:
        audit = db.execute("SELECT detail FROM audit_log WHERE action = 'pack'").fetchall()
    assert any(row[0].startswith(name) for row in audit)
    zipped = web.get(f"/letters/packs/{name}/pack.zip")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"
    for bad in ("..", "..%2F..", "%2Fetc", name + "x"):
        assert web.get(f"/letters/packs/{bad}/pack.zip").status_code == 404


def test_upload_is_capped_named_safely_and_ingested(web: TestClient, desk: Desk) -> None:
    token = csrf(web, "/inbox")
    big = b"x" * (desk.config.max_upload_mb * 1024 * 1024 + 1)
    files = {"files": ("big.csv", big, "text/csv")}
    assert web.post("/inbox/upload", files=files, data={"csrf": token}).status_code == 413
    csv = "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\nU001,上传公司,FPU001,2025-01-01,2025-02-01,100\n"
    files = {"files": ("../../../etc/上传台账.csv", csv.encode(), "text/csv")}
    response = web.post("/inbox/upload", files=files, data={"csrf": token})
    assert response.status_code == 200  # redirected to the inbox page
    assert not (desk.root.parent / "etc").exists()
    _wait_for(lambda: _archived(desk, "上传台账.csv"))


def _archived(desk: Desk, name: str) -> bool:
    with open_archive(desk.db_path) as db:
        return db.execute("SELECT 1 FROM documents WHERE original_name = ?", [name]).fetchone()


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\wang\\台账.xlsx") == "台账.xlsx"
    assert safe_name(".hidden.pdf") == "hidden.pdf"
    assert safe_name("a\x00b<>.pdf") == "a_b__.pdf"
    assert safe_name("") == "upload"
    assert len(safe_name("长" * 500 + ".pdf")) <= 120


def test_no_accounts_means_this_machine_only(desk: Desk) -> None:
    assert client(desk, host="192.168.1.20").get("/").status_code == 403
    local = client(desk)
    assert local.get("/", headers={"host": "evil.example"}).status_code == 403
    assert local.get("/api/aging", headers={"host": "localhost:8470"}).status_code == 200


def test_aging_follows_every_change_of_the_archive(web: TestClient, desk: Desk) -> None:
    before = {a["customer"] for a in web.get("/api/aging").json()}
    assert "Z001" not in before
    ledger = desk.root.parent / "late.csv"
    ledger.write_text(
        "客户编号,客户名称,发票号码,开票日期,到期日,应收金额\n"
        "Z001,后来的公司,FPZ001,2025-01-01,2025-02-01,10.00\n",
        encoding="utf-8",
    )
    from dunning.ingest.pipeline import ingest_file

    assert ingest_file(desk, ledger, kind="ledger").status == "archived"
    after = web.get("/api/aging").json()
    assert "Z001" in {a["customer"] for a in after}
    assert after == cli_json(desk, "aging")


def test_broken_upload_is_quarantined_shown_and_retried(web: TestClient, desk: Desk) -> None:
    token = csrf(web, "/inbox")
    files = {"files": ("断头合同.pdf", b"%PDF-1.7\n1 0 obj << /Type", "application/pdf")}
    assert web.post("/inbox/upload", files=files, data={"csrf": token}).status_code == 200
    _wait_for(lambda: (desk.failed / "断头合同.pdf").exists())
    status = web.get("/inbox/status").text
    assert "断头合同.pdf" in status and 'class="reason"' in status
    response = web.post("/inbox/retry", data={"csrf": token, "name": "断头合同.pdf"})
    assert response.status_code == 200
    assert (
        web.post("/inbox/retry", data={"csrf": token, "name": "../dunning.toml"}).status_code == 404
    )
    _wait_for(lambda: (desk.failed / "断头合同.pdf").exists())  # ingested again, failed again


def test_bad_pack_requests_are_400(web: TestClient) -> None:
    token = csrf(web)
    for body in ({"customers": "C001"}, {"min_days": "30"}, {"level": True}, {"as_of": "someday"}):
        response = web.post("/api/packs", json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 400, body
        assert response.json()["error"]


def test_unknown_customer_and_status_pages(web: TestClient) -> None:
    assert web.get("/customers/NOPE").status_code == 404
    assert web.get("/api/customers/NOPE").status_code == 404
    token = csrf(web)
    response = web.post("/customers/C001/status", data={"csrf": token, "status": "bankrupt"})
    assert response.status_code == 400 and "bankrupt" in response.text


def test_highlight_without_brackets_in_the_text() -> None:
    assert str(highlight("a <b> 【违约金】 & 【HT】", "a <b> 违约金 & HT")) == (
        "a &lt;b&gt; <mark>违约金</mark> &amp; <mark>HT</mark>"
    )


def test_customer_page_shows_delivery_and_returns(web: TestClient, desk: Desk) -> None:
    record = cli_json(desk, "customer", "C005")
    assert isinstance(record, dict) and record["letters"]
    ref = record["letters"][0]["ref"]
    base = ["--desk", str(desk.root), "letter"]
    runner = CliRunner()
    sent = runner.invoke(main, [*base, "sent", ref, "--via", "ems", "--tracking", "EM123456789CN"])
    assert sent.exit_code == 0, sent.output
    back = runner.invoke(main, [*base, "returned", ref, "--reason", "查无此人 <b>"])
    assert back.exit_code == 0, back.output
    page = web.get("/customers/C005").text
    assert "退回" in page and "查无此人 &lt;b&gt;" in page and "地址可能有误" in page
    assert web.get("/api/customers/C005").json() == cli_json(desk, "customer", "C005")
