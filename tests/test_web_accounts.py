"""Accounts of the web desk: `dunning user`, login, roles, the desk lock and the host check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from web_support import client

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.errors import DunningError
from dunning.ingest.pipeline import ingest_file
from dunning.watcher.lock import DeskBusyError, DeskLock
from dunning.web.server import ServeRefusedError, check_host
from dunning.web.users import authenticate, list_users

PASSWORDS = {"vera": "viewer-pass-1", "carl": "clerk-pass-22", "mona": "manager-pass-333"}


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


def login(c: TestClient, name: str, password: str | None = None) -> str:
    page = c.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = c.post(
        "/login",
        data={"csrf": token.group(1), "name": name, "password": password or PASSWORDS[name]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = c.get("/").text
    found = re.search(r'name="csrf-token" content="([^"]+)"', home)
    assert found
    return found.group(1)


def test_user_commands(staffed: Desk, runner: CliRunner) -> None:
    base = ["--desk", str(staffed.root), "user"]
    listed = runner.invoke(main, [*base, "list", "--json"])
    assert [u["name"] for u in __import__("json").loads(listed.stdout)] == ["carl", "mona", "vera"]
    again = runner.invoke(main, [*base, "add", "carl", "--role", "viewer"], input="another-pass\n")
    assert again.exit_code == 1 and "已经存在" in again.stderr
    short = runner.invoke(main, [*base, "add", "neo", "--role", "viewer"], input="short\n")
    assert short.exit_code == 1 and "密码至少要 8 个字符" in short.stderr
    changed = runner.invoke(main, [*base, "passwd", "carl"], input="new-clerk-pass\n")
    assert changed.exit_code == 0
    with open_archive(staffed.db_path) as db:
        assert authenticate(db, "carl", "new-clerk-pass") is not None
        assert authenticate(db, "carl", PASSWORDS["carl"]) is None
        assert authenticate(db, "nobody", "whatever-pass") is None
        stored = db.execute("SELECT password_hash, salt, scrypt_n FROM users").fetchall()
    assert all(len(h) == 32 and len(s) == 16 and n >= 2**14 for h, s, n in stored)
    assert runner.invoke(main, [*base, "remove", "vera"]).exit_code == 0
    assert runner.invoke(main, [*base, "remove", "vera"]).exit_code == 1
    with open_archive(staffed.db_path) as db:
        assert [u.name for u in list_users(db)] == ["carl", "mona"]


def test_with_accounts_everything_needs_a_login(staffed: Desk) -> None:
    c = client(staffed, host="192.168.1.20")  # accounts: other machines may come in
    response = c.get("/customers", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert c.get("/api/aging").status_code == 401
    assert c.get("/documents/1/original", follow_redirects=False).status_code == 303
    page = c.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    wrong = c.post("/login", data={"csrf": token.group(1), "name": "carl", "password": "nope-nope"})
    assert wrong.status_code == 401 and "用户名或密码不对" in wrong.text
    no_token = c.post("/login", data={"name": "carl", "password": PASSWORDS["carl"]})
    assert no_token.status_code == 403
    login(c, "carl")
    assert c.get("/api/aging").status_code == 200


def test_session_cookie_is_signed_httponly_strict(staffed: Desk) -> None:
    c = client(staffed)
    response = c.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    c.cookies.set("dunning_session", "forged.cookie.value")
    assert c.get("/api/aging").status_code == 401


def test_viewer_reads_only(staffed: Desk) -> None:
    c = client(staffed)
    token = login(c, "vera")
    assert c.get("/customers/C001").status_code == 200
    assert "添加记录" not in c.get("/customers/C001").text
    entry = {"customer": "C001", "kind": "call", "note": "x"}
    assert c.post("/api/log", json=entry, headers={"X-CSRF-Token": token}).status_code == 403
    form = {"csrf": token, "kind": "call", "note": "x"}
    assert c.post("/customers/C001/log", data=form).status_code == 403
    assert (
        c.post("/api/packs", json={"dry_run": True}, headers={"X-CSRF-Token": token}).status_code
        == 403
    )


def test_clerk_writes_but_manager_sets_litigation(staffed: Desk) -> None:
    c = client(staffed)
    token = login(c, "carl")
    form = {"csrf": token, "kind": "call", "note": "打了电话"}
    assert c.post("/customers/C001/log", data=form).status_code == 200
    sue = {"csrf": token, "status": "litigation", "note": "起诉"}
    assert c.post("/customers/C001/status", data=sue).status_code == 403
    dispute = {"csrf": token, "status": "disputed", "note": "对金额有异议"}
    assert c.post("/customers/C001/status", data=dispute).status_code == 200
    m = client(staffed)
    token = login(m, "mona")
    assert m.post("/customers/C001/status", data={**sue, "csrf": token}).status_code == 200
    with open_archive(staffed.db_path) as db:
        log = db.execute(
            "SELECT by, note FROM collection_log WHERE customer_code = 'C001' AND kind = 'call'"
        ).fetchall()
        audit = db.execute(  # the web's writes (the accounts were added at the CLI)
            "SELECT user, action FROM audit_log WHERE action NOT LIKE 'user %' ORDER BY id"
        ).fetchall()
        status = db.execute("SELECT status FROM customers WHERE code = 'C001'").fetchone()[0]
    assert log == [("carl", "打了电话")]
    assert audit == [("carl", "log add"), ("carl", "set-status"), ("mona", "set-status")]
    assert status == "litigation"


def test_removed_user_loses_the_session(staffed: Desk, runner: CliRunner) -> None:
    c = client(staffed)
    login(c, "carl")
    assert c.get("/api/aging").status_code == 200
    runner.invoke(main, ["--desk", str(staffed.root), "user", "remove", "carl"])
    assert c.get("/api/aging").status_code == 401


def test_login_next_stays_on_the_desk(staffed: Desk) -> None:
    c = client(staffed)
    page = c.get("/login?next=//evil.example/x").text
    assert 'name="next" value="/"' in page


def test_other_hosts_need_accounts(desk: Desk) -> None:
    with pytest.raises(ServeRefusedError, match=r"没有账户时不能在 0\.0\.0\.0 上提供服务"):
        check_host(desk, "0.0.0.0")
    check_host(desk, "127.0.0.1")
    check_host(desk, "::1")


def test_one_watcher_per_desk(desk: Desk) -> None:
    with DeskLock(desk), pytest.raises(DeskBusyError, match="already running"):
        DeskLock(desk).acquire()
    DeskLock(desk).acquire().release()  # free again once released
    assert issubclass(DeskBusyError, DunningError)


def test_watch_refuses_while_serve_holds_the_desk(desk: Desk, runner: CliRunner) -> None:
    with DeskLock(desk):
        result = runner.invoke(main, ["--desk", str(desk.root), "watch", "--once"])
    assert result.exit_code == 1
    assert "already running" in result.stderr


def test_only_managers_manage_users_on_the_web(staffed: Desk) -> None:
    clerk = client(staffed)
    token = login(clerk, "carl")
    assert clerk.get("/users").status_code == 403
    add = {"csrf": token, "action": "add", "name": "newbie", "role": "viewer", "password": "x" * 9}
    assert clerk.post("/users", data=add).status_code == 403
    manager = client(staffed)
    token = login(manager, "mona")
    assert "carl" in manager.get("/users").text
    assert manager.post("/users", data={**add, "csrf": token}).status_code == 200
    trail = manager.get("/users").text  # the audit trail names the action in Chinese
    assert "<td>添加账户</td><td>newbie</td>" in trail and "user add" not in trail
    short = {**add, "csrf": token, "name": "shorty", "password": "short"}
    response = manager.post("/users", data=short)
    assert response.status_code == 400 and "密码至少要 8 个字符" in response.text
    me = {"csrf": token, "action": "remove", "name": "mona"}
    assert "不能删除自己" in manager.post("/users", data=me).text
    newbie = client(staffed)
    login(newbie, "newbie", "x" * 9)
    assert newbie.get("/api/aging").status_code == 200
    with open_archive(staffed.db_path) as db:
        last = db.execute("SELECT user, action, detail FROM audit_log ORDER BY id DESC").fetchone()
    assert last == ("mona", "user add", "newbie")


def test_a_taken_port_is_one_sentence(desk: Desk, runner: CliRunner) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["--desk", str(desk.root), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"无法在 127.0.0.1:{port} 上提供服务" in result.stderr
    assert "Traceback" not in result.output
