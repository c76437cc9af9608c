"""上门催收 (issue 22): planned with day, people and materials, approved by a manager, the
到访回执单 printed from the desk's template, done and logged as 上门."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient
from web_support import client, copy_desk

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.dates import office_today
from dunning.desk import Desk
from dunning.errors import DunningError
from dunning.web.users import add_user
from dunning.workflow.log import list_entries
from dunning.workflow.today import today_list
from dunning.workflow.visits import complete_visit, decide_visit, plan_visit

PASSWORDS = {"carl": "clerk-pass-2026", "mona": "manager-pass-2026"}


@pytest.fixture
def desk(tmp_path: Path, plain_demo_template: Desk) -> Desk:
    return copy_desk(plain_demo_template, tmp_path / "desk")


def run(desk: Desk, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == code, result.output
    return result


def test_a_visit_from_plan_to_done_on_the_command_line(desk: Desk) -> None:
    day = office_today().isoformat()
    planned = json.loads(run(desk, "visit", "plan", "c004", "--on", day, "--people", "张会计、李律师",
                             "--purpose", "当面对账", "--json").stdout)  # fmt: skip
    assert (planned["status"], planned["customer"]) == ("planned", "C004")
    assert "到访回执单" in planned["materials"]
    refused = run(desk, "visit", "done", str(planned["id"]), "--outcome", "x", code=1)
    assert "经主管批准后才能登记上门" in refused.stderr
    run(desk, "visit", "approve", str(planned["id"]), "--by", "王总", "--note", "同意")
    again = run(desk, "visit", "approve", str(planned["id"]), "--by", "王总", code=1)
    assert "不能再审批" in again.stderr
    printed = run(desk, "visit", "receipt", str(planned["id"])).stdout
    path = Path(printed.split("：", 1)[1].strip())
    text = "\n".join(
        c.text for t in docx.Document(str(path)).tables for r in t.rows for c in r.cells
    )
    assert "上海申达物流有限公司" in text and "到访事由" in text
    assert path.parent == desk.out / "visits"
    future = (office_today() + dt.timedelta(days=2)).isoformat()
    assert "晚于今天" in run(desk, "visit", "done", str(planned["id"]), "--outcome", "x",
                             "--on", future, code=1).stderr  # fmt: skip
    run(desk, "visit", "done", str(planned["id"]), "--outcome", "对方确认欠款，承诺月底付一半")
    with open_archive(desk.db_path) as db:
        visits = [e for e in list_entries(db, "C004") if e.kind == "visit"]
    assert [e.note for e in visits] == ["上门催收（张会计、李律师）：对方确认欠款，承诺月底付一半"]
    listed = run(desk, "visit", "list").stdout
    assert "已完成" in listed and "王总" in listed


def test_plans_in_the_past_or_without_people_are_refused(desk: Desk) -> None:
    today = office_today()
    with open_archive(desk.db_path) as db:
        with pytest.raises(DunningError, match="已经过去"):
            plan_visit(db, "C004", on=today - dt.timedelta(days=1), people="张", today=today)
        with pytest.raises(DunningError, match="上门人员"):
            plan_visit(db, "C004", on=today, people="   ", today=today)
        with pytest.raises(DunningError, match="对应多个客户"):
            plan_visit(db, "有限公司", on=today, people="张", today=today)
        assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0


def test_visits_are_on_the_today_list(desk: Desk) -> None:
    today = office_today()
    with open_archive(desk.db_path) as db:
        waiting = plan_visit(db, "C002", on=today, people="张会计", today=today)
        going = plan_visit(db, "C004", on=today, people="李律师", today=today)
        decide_visit(db, going.id, approve=True, by="王总")
        items = today_list(db, desk.config, today=today)
        kinds = {(i.kind, i.customer) for i in items}
        assert ("visit_approval", "C002") in kinds and ("visit", "C004") in kinds
        complete_visit(db, going.id, on=today, outcome="已面谈", today=today)
        decide_visit(db, waiting.id, approve=False, by="王总", note="先电话催收")
        items = today_list(db, desk.config, today=today)
    assert not [i for i in items if i.kind.startswith("visit")]


def _login(c: TestClient, name: str) -> str:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    c.post("/login", data={"csrf": token.group(1), "name": name, "password": PASSWORDS[name]})
    found = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text)
    assert found
    return found.group(1)


def test_web_visits_need_a_manager_to_approve(desk: Desk) -> None:
    with open_archive(desk.db_path) as db:
        add_user(db, "carl", "clerk", PASSWORDS["carl"])
        add_user(db, "mona", "manager", PASSWORDS["mona"])
    clerk = client(desk)
    token = _login(clerk, "carl")
    day = office_today().isoformat()
    plan = {"csrf": token, "customer": "C004", "on": day, "people": "张会计", "materials": ""}
    page = clerk.post("/visits/plan", data=plan, follow_redirects=True)
    assert page.status_code == 200 and "等待主管审批" in page.text
    assert clerk.post("/visits/1/approve", data={"csrf": token}).status_code == 403
    manager = client(desk)
    boss = _login(manager, "mona")
    approved = manager.post("/visits/1/approve", data={"csrf": boss, "note": "同意"},
                            follow_redirects=True)  # fmt: skip
    assert "已批准" in approved.text and "mona：同意" in approved.text
    receipt = clerk.get("/visits/1/receipt.docx")
    assert receipt.status_code == 200 and receipt.content[:2] == b"PK"
    done = clerk.post("/visits/1/done", data={"csrf": token, "outcome": "面谈完毕"},
                      follow_redirects=True)  # fmt: skip
    assert "已完成" in done.text
    assert clerk.get("/visits/abc/receipt.docx").status_code == 404
    bad = clerk.post("/visits/plan", data={**plan, "on": "2020-01-01"})
    assert bad.status_code == 400 and "已经过去" in bad.text


def test_a_receipt_path_outside_out_visits_is_never_served(desk: Desk) -> None:
    today = office_today()
    with open_archive(desk.db_path) as db:
        visit = plan_visit(db, "C004", on=today, people="张会计", today=today)
        decide_visit(db, visit.id, approve=True, by="王总")
        db.execute(
            "UPDATE visits SET receipt_path = '../../../etc/passwd' WHERE id = ?", [visit.id]
        )
        db.conn.commit()
    response = client(desk).get(f"/visits/{visit.id}/receipt.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    with open_archive(desk.db_path) as db:
        stored = db.execute("SELECT receipt_path FROM visits WHERE id = ?", [visit.id]).fetchone()
    assert stored[0].startswith("out/visits/")
