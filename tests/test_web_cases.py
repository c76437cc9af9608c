"""The web desk's 案件 pages: open a case, record stages and costs, open the evidence PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from tooling import require_soffice
from web_support import HOSTILE_NAME, client, copy_desk, csrf

from dunning.archive.db import open_archive
from dunning.dates import office_today
from dunning.desk import Desk


@pytest.fixture(scope="module")
def desk_dir(tmp_path_factory: pytest.TempPathFactory, demo_template: Desk) -> Path:
    require_soffice()
    return copy_desk(demo_template, tmp_path_factory.mktemp("webcases") / "desk").root


def test_open_a_case_and_follow_it(desk_dir: Path) -> None:
    from dunning.desk import Desk

    desk = Desk(desk_dir)
    c = client(desk)
    token = csrf(c, "/cases")
    assert "还没有案件" in c.get("/cases").text
    refused = c.post("/cases/open", data={"customer": "X001", "kind": "lawsuit"})
    assert refused.status_code == 403  # no CSRF token
    opened = c.post(
        "/cases/open",
        data={"csrf": token, "customer": "X001", "kind": "lawsuit"},
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    page_url = opened.headers["location"]
    page = c.get(page_url)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    number = page_url.rsplit("/", 1)[-1]
    pdf = c.get(f"/cases/{number}/evidence.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with open_archive(desk.db_path) as db:
        status = db.execute("SELECT status FROM customers WHERE code = 'X001'").fetchone()[0]
    assert status == "litigation"

    today = office_today().isoformat()
    stage = c.post(
        f"/cases/{number}/stage",
        data={"csrf": token, "stage": "filed", "on": today, "note": HOSTILE_NAME},
        follow_redirects=False,
    )
    assert stage.status_code == 303
    cost = c.post(
        f"/cases/{number}/cost",
        data={"csrf": token, "kind": "lawyer", "amount": "￥8,000.00", "on": today},
        follow_redirects=False,
    )
    assert cost.status_code == 303
    bad = c.post(f"/cases/{number}/cost", data={"csrf": token, "kind": "lawyer", "amount": "x"})
    assert bad.status_code == 400 and "金额无法识别" in bad.text
    future = c.post(
        f"/cases/{number}/stage",
        data={"csrf": token, "stage": "closed", "on": "2999-01-01"},
    )
    assert future.status_code == 400 and "在今天之后" in future.text
    page = c.get(page_url).text
    assert "立案" in page and "8,000.00" in page and "&lt;script&gt;" in page
    listed = c.get("/api/cases").json()
    [case] = [x for x in listed if x["customer"] == "X001"]
    assert case["stage"] == "filed" and case["total_costs"] == "8000.00"


def test_unknown_cases_are_404(desk_dir: Path) -> None:
    from dunning.desk import Desk

    c = client(Desk(desk_dir))
    for url in ("/cases/999", "/cases/abc", "/cases/999/evidence.pdf", "/cases/1%2F..%2F..%2Fx"):
        assert c.get(url).status_code == 404, url


def test_opening_a_case_for_nobody_overdue_says_why(desk_dir: Path) -> None:
    from dunning.desk import Desk

    c = client(Desk(desk_dir))
    token = csrf(c, "/cases")
    answer = c.post("/cases/open", data={"csrf": token, "customer": "NOPE", "kind": "lawsuit"})
    assert answer.status_code == 400 and "NOPE" in answer.text
