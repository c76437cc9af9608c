"""The actions layer: one set of rules for log and status writes, whoever calls (CLI, form, API),
and every write audited with its actor (issue 20, case 10)."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_web_accounts import PASSWORDS, login
from web_support import client

from dunning.actors import Actor, os_actor
from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.dates import office_today
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_file
from dunning.vocabulary import RESERVED_LOG_KINDS
from dunning.workflow import actions

CLERK = Actor("carl", "clerk", "web")
MANAGER = Actor("mona", "manager", "web")
VIEWER = Actor("vera", "viewer", "web")


@pytest.fixture
def staffed(desk: Desk, invoice_csv: Path, runner: CliRunner) -> Desk:
    assert ingest_file(desk, invoice_csv, kind="ledger").status == "archived"
    for name, role in (("vera", "viewer"), ("carl", "clerk"), ("mona", "manager")):
        result = runner.invoke(
            main,
            ["--desk", str(desk.root), "user", "add", name, "--role", role],
            input=PASSWORDS[name] + "\n",
        )
        assert result.exit_code == 0, result.output
    return desk


def counts(desk: Desk) -> tuple[int, int, int, str]:
    with open_archive(desk.db_path) as db:
        log = db.execute("SELECT count(*) FROM collection_log").fetchone()[0]
        changes = db.execute("SELECT count(*) FROM status_changes").fetchone()[0]
        audit = db.execute(
            "SELECT count(*) FROM audit_log WHERE action NOT LIKE 'user %'"
        ).fetchone()[0]
        status = db.execute("SELECT status FROM customers WHERE code = 'C001'").fetchone()[0]
    return log, changes, audit, status


# -- the case as found: the customer page's form accepted kind=status ---------------------------


def test_the_log_form_refuses_kind_status_and_the_customer_stays_as_it_was(staffed: Desk) -> None:
    c = client(staffed)
    token = login(c, "carl")
    before = counts(staffed)
    form = {"csrf": token, "kind": "status", "note": "active → litigation"}
    response = c.post("/customers/C001/log", data=form)
    assert response.status_code == 400
    assert "状态变更" in response.text and "不能手工添加" in response.text
    assert counts(staffed) == before


@pytest.mark.parametrize("kind", RESERVED_LOG_KINDS)
def test_every_reserved_kind_is_refused_the_same_way_by_form_api_cli_and_library(
    staffed: Desk, runner: CliRunner, kind: str
) -> None:
    with open_archive(staffed.db_path) as db, pytest.raises(actions.ActionRefused) as refused:
        actions.add_log(db, MANAGER, "C001", kind=kind, note="x")
    sentence = str(refused.value)
    before = counts(staffed)
    c = client(staffed)
    token = login(c, "mona")  # even a manager: these are the desk's own records
    form = c.post("/customers/C001/log", data={"csrf": token, "kind": kind, "note": "x"})
    api = c.post(
        "/api/log",
        json={"customer": "C001", "kind": kind, "note": "x"},
        headers={"X-CSRF-Token": token},
    )
    cli = runner.invoke(
        main, ["--desk", str(staffed.root), "log", "add", "C001", "--kind", kind, "--note", "x"]
    )
    assert (form.status_code, api.status_code, cli.exit_code) == (400, 400, 2)
    assert sentence in form.text
    assert api.json() == {"error": sentence}
    assert sentence in cli.stderr.replace("\n", "")
    assert counts(staffed) == before


@pytest.mark.parametrize("status", ["litigation", "excluded"])
def test_manager_only_statuses_are_refused_to_a_clerk_on_every_path(
    staffed: Desk, status: str
) -> None:
    with open_archive(staffed.db_path) as db:
        with pytest.raises(actions.NotPermitted) as refused:
            actions.set_status(db, CLERK, "C001", status)
        before = counts(staffed)
        c = client(staffed)
        token = login(c, "carl")
        form = c.post("/customers/C001/status", data={"csrf": token, "status": status})
        assert form.status_code == 403
        assert form.text == str(refused.value)
        assert counts(staffed) == before
        # And once a manager set it, a clerk cannot lift it either.
        actions.set_status(db, MANAGER, "C001", status, note="起诉")
        with pytest.raises(actions.NotPermitted):
            actions.set_status(db, CLERK, "C001", "active")
        lifted = c.post("/customers/C001/status", data={"csrf": token, "status": "active"})
        assert lifted.status_code == 403
        assert (
            db.execute("SELECT status FROM customers WHERE code = 'C001'").fetchone()[0] == status
        )


def test_a_viewer_writes_nothing_even_through_the_library(staffed: Desk) -> None:
    with open_archive(staffed.db_path) as db:
        with pytest.raises(actions.NotPermitted):
            actions.add_log(db, VIEWER, "C001", kind="call", note="x")
        with pytest.raises(actions.NotPermitted):
            actions.set_status(db, VIEWER, "C001", "disputed")
    assert counts(staffed)[:3] == (0, 0, 0)


def test_a_log_entry_dated_in_the_future_is_refused_on_every_path(
    staffed: Desk, runner: CliRunner
) -> None:
    tomorrow = office_today() + dt.timedelta(days=1)
    with open_archive(staffed.db_path) as db, pytest.raises(actions.ActionRefused) as refused:
        actions.add_log(db, CLERK, "C001", kind="call", note="x", on=tomorrow)
    assert tomorrow.isoformat() in str(refused.value)
    c = client(staffed)
    token = login(c, "carl")
    body = {"customer": "C001", "kind": "call", "note": "x", "on": tomorrow.isoformat()}
    api = c.post("/api/log", json=body, headers={"X-CSRF-Token": token})
    form = c.post(
        "/customers/C001/log",
        data={"csrf": token, "kind": "call", "note": "x", "on": tomorrow.isoformat()},
    )
    cli = runner.invoke(
        main,
        ["--desk", str(staffed.root), "log", "add", "C001", "--kind", "call", "--note", "x",
         "--on", tomorrow.isoformat()],
    )  # fmt: skip
    assert (api.status_code, form.status_code, cli.exit_code) == (400, 400, 2)
    assert api.json() == {"error": str(refused.value)}
    assert counts(staffed)[:3] == (0, 0, 0)


def test_cli_writes_are_audited_with_the_os_user(staffed: Desk, runner: CliRunner) -> None:
    base = ["--desk", str(staffed.root)]
    assert (
        runner.invoke(
            main, [*base, "log", "add", "C001", "--kind", "call", "--note", "电话"]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(main, [*base, "set-status", "C002", "disputed", "--note", "金额"]).exit_code
        == 0
    )
    me = os_actor()
    assert me.name == getpass.getuser()
    with open_archive(staffed.db_path) as db:
        audit = db.execute(
            "SELECT user, action, detail FROM audit_log WHERE action NOT LIKE 'user %' ORDER BY id"
        ).fetchall()
        accounts = db.execute(
            "SELECT user, action, detail FROM audit_log WHERE action LIKE 'user %' ORDER BY id"
        ).fetchall()
        log = db.execute("SELECT kind, by FROM collection_log ORDER BY id").fetchall()
        changed_by = db.execute("SELECT changed_by FROM status_changes").fetchall()
    assert audit == [
        (me.label, "log add", "C001 电话 #1"),
        (me.label, "set-status", "C002 正常 → 有争议"),
    ]
    assert me.label == f"{me.name}（命令行）"
    # The accounts themselves were added at the CLI: audited with the OS user too.
    assert accounts == [
        (me.label, "user add", "vera (viewer)"),
        (me.label, "user add", "carl (clerk)"),
        (me.label, "user add", "mona (manager)"),
    ]
    assert log == [("call", me.name), ("status", me.name)]
    assert changed_by == [(me.name,)]


def test_a_refused_status_change_leaves_no_audit_or_log_behind(staffed: Desk) -> None:
    with open_archive(staffed.db_path) as db:
        with pytest.raises(actions.NotPermitted):
            actions.set_status(db, CLERK, "C001", "litigation", note="x")
        with pytest.raises(actions.ActionRefused):
            actions.add_log(db, CLERK, "C001", kind="letter", note="x")
    assert counts(staffed) == (0, 0, 0, "active")


def test_web_writes_record_the_account_as_actor(staffed: Desk) -> None:
    c = client(staffed)
    token = login(c, "carl")
    assert (
        c.post(
            "/customers/C001/log", data={"csrf": token, "kind": "visit", "note": "上门"}
        ).status_code
        == 200
    )
    with open_archive(staffed.db_path) as db:
        assert db.execute(
            "SELECT user, action FROM audit_log WHERE action NOT LIKE 'user %'"
        ).fetchall() == [("carl", "log add")]
        assert db.execute("SELECT by FROM collection_log").fetchall() == [("carl",)]


def test_cli_packs_and_letter_steps_are_audited_with_the_os_user(
    desk: Desk, invoice_csv: Path, runner: CliRunner
) -> None:
    assert ingest_file(desk, invoice_csv, kind="ledger").status == "archived"
    base = ["--desk", str(desk.root)]
    packed = runner.invoke(
        main, [*base, "pack", "--as-of", "2025-06-30", "--allow-no-address", "--json"]
    )
    assert packed.exit_code == 0, packed.output
    ref = __import__("json").loads(packed.stdout)["letters"][0]["ref"]
    sent = runner.invoke(
        main, [*base, "letter", "sent", ref, "--via", "ems", "--tracking", "1150000000001",
               "--on", "2025-07-01"],
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    me = os_actor().label
    with open_archive(desk.db_path) as db:
        rows = db.execute("SELECT user, action, detail FROM audit_log ORDER BY id").fetchall()
    assert [(u, a) for u, a, _ in rows] == [(me, "pack"), (me, "letter sent")]
    assert rows[1][2] == f"{ref} ems 1150000000001"
