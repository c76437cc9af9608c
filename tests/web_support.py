"""Shared by the web tests: a demo desk with letters due today, clients that act as a browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from starlette.testclient import TestClient

from dunning.archive.db import open_archive
from dunning.demo import build_demo
from dunning.desk import Desk
from dunning.web.app import create_app
from dunning.web.guard import is_loopback

HOSTILE_NAME = '<script>alert("x")</script> & {{7*7}} 【甲方】'
HOSTILE_CSV = (
    "客户编号,客户名称,合同编号,发票号码,开票日期,到期日,应收金额,已收金额\n"
    f'X001,"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",HT-X-1,FPX001,2025-01-05,2025-02-04,1234.50,0\n'
)


def demo_desk(root: Path, *, hostile: bool = True) -> Desk:
    """The demo desk, its last pack 15 days ago (so letters are due today), plus a hostile name."""
    desk = build_demo(root, as_of=dt.date.today() - dt.timedelta(days=15)).desk
    if not hostile:
        return desk
    from dunning.ingest.pipeline import ingest_file

    ledger = root.parent / "hostile.csv"
    ledger.write_text(HOSTILE_CSV, encoding="utf-8")
    outcome = ingest_file(desk, ledger, kind="ledger")
    assert outcome.status == "archived", outcome.reason
    return desk


def copy_desk(template: Desk, root: Path) -> Desk:
    """A private copy of a desk built once (its database and store: stored paths are relative)."""
    shutil.copytree(template.root, root, symlinks=True)
    return Desk(root.resolve())


def client(desk: Desk, *, watching: bool = False, host: str = "127.0.0.1") -> TestClient:
    with open_archive(desk.db_path):
        pass
    # As `dunning serve --host` makes it: a desk on a LAN address is not loopback-only.
    app = create_app(desk, watching=watching, loopback_only=is_loopback(host))
    return TestClient(app, base_url=f"http://{host}", client=(host, 50000))


def csrf(c: TestClient, page: str = "/") -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', c.get(page).text)
    assert found, "no CSRF token on the page"
    return found.group(1)
