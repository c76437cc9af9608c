"""Accounts hardened (issue 20, cases 7 and 8): the login throttle per name and per address,
the client address from X-Forwarded-For only behind a trusted proxy, and account names that
cannot pass for one another."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from test_web_accounts import PASSWORDS
from web_support import client

from dunning.archive.db import open_archive
from dunning.cli import main
from dunning.desk import Desk
from dunning.ingest.pipeline import ingest_file
from dunning.web.login_page import ADDRESS_FAILURES, THROTTLE_FAILURES
from dunning.web.users import UserError, add_user, authenticate, skeleton


@pytest.fixture
def staffed(desk: Desk, invoice_csv: Path, runner: CliRunner) -> Desk:
    assert ingest_file(desk, invoice_csv, kind="ledger").status == "archived"
    for name, role in (("carl", "clerk"), ("mona", "manager")):
        result = runner.invoke(
            main,
            ["--desk", str(desk.root), "user", "add", name, "--role", role],
            input=PASSWORDS[name] + "\n",
        )
        assert result.exit_code == 0, result.output
    return desk


def attempt(c: TestClient, name: str, password: str, **headers: str) -> int:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    data = {"csrf": token.group(1), "name": name, "password": password}
    return c.post("/login", data=data, headers=headers, follow_redirects=False).status_code


def proxied(desk: Desk, proxies: str) -> TestClient:
    """The web desk behind a TLS proxy on 127.0.0.1: every request comes from that address."""
    text = desk.config_path.read_text(encoding="utf-8")
    desk.config_path.write_text(
        text.replace("trusted_proxies = []", f"trusted_proxies = {proxies}"), encoding="utf-8"
    )
    return client(Desk(desk.root))


# -- 7. the throttle ------------------------------------------------------------------------------


def test_guessing_a_made_up_name_does_not_lock_the_manager_out(staffed: Desk) -> None:
    """The case as found: 10 wrong logins for a made-up name, everyone behind one address."""
    c = client(staffed)
    codes = [attempt(c, "nobody", f"guess-{i}") for i in range(THROTTLE_FAILURES + 1)]
    assert codes == [401] * THROTTLE_FAILURES + [429]
    assert attempt(c, "mona", PASSWORDS["mona"]) == 303


def test_a_guessed_name_is_locked_from_every_address(staffed: Desk) -> None:
    c = client(staffed)
    for i in range(THROTTLE_FAILURES):
        assert attempt(c, "carl", f"guess-{i}") == 401
    elsewhere = TestClient(c.app, base_url="http://127.0.0.1", client=("127.0.0.9", 50009))
    assert attempt(elsewhere, "carl", PASSWORDS["carl"]) == 429
    # The same name typed another way is the same name.
    assert attempt(elsewhere, "ＣＡＲＬ", PASSWORDS["carl"]) == 429


def test_one_address_trying_many_names_is_locked_by_address(staffed: Desk) -> None:
    c = client(staffed)
    codes = [attempt(c, f"user{i}", "x" * 8) for i in range(ADDRESS_FAILURES + 1)]
    assert codes[:ADDRESS_FAILURES] == [401] * ADDRESS_FAILURES and codes[-1] == 429
    assert attempt(c, "mona", PASSWORDS["mona"]) == 429
    other = TestClient(c.app, base_url="http://127.0.0.1", client=("127.0.0.7", 50007))
    assert attempt(other, "mona", PASSWORDS["mona"]) == 303


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(staffed: Desk) -> None:
    c = client(staffed)
    # A client cannot escape the address throttle by writing a new X-Forwarded-For each time.
    codes = [
        attempt(c, f"user{i}", "x" * 8, **{"X-Forwarded-For": f"10.0.0.{i}"})
        for i in range(ADDRESS_FAILURES + 1)
    ]
    assert codes[-1] == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_address(staffed: Desk) -> None:
    c = proxied(staffed, '["127.0.0.1"]')
    attacker = {"X-Forwarded-For": "203.0.113.5"}
    for i in range(ADDRESS_FAILURES):
        assert attempt(c, f"user{i}", "x" * 8, **attacker) == 401
    assert attempt(c, "mona", PASSWORDS["mona"], **attacker) == 429
    # The manager comes through the same proxy from her own desk: not locked out.
    office = {"X-Forwarded-For": "198.51.100.7"}
    assert attempt(c, "mona", PASSWORDS["mona"], **office) == 303
    # A forged left-most entry does not help: the proxy appends the real client on the right.
    forged = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}
    assert attempt(c, "carl", PASSWORDS["carl"], **forged) == 429


def test_a_bad_trusted_proxy_setting_is_one_sentence(staffed: Desk, runner: CliRunner) -> None:
    text = staffed.config_path.read_text(encoding="utf-8")
    staffed.config_path.write_text(
        text.replace("trusted_proxies = []", 'trusted_proxies = ["proxy.local"]'), encoding="utf-8"
    )
    result = runner.invoke(main, ["--desk", str(staffed.root), "aging"])
    assert result.exit_code == 1
    assert "[web] trusted_proxies must list addresses" in result.stderr


# -- 8. look-alike account names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("саrl", "与已有账户 'carl' 看起来一样"),  # Cyrillic с and а
        ("ｃａｒｌ", "已经存在"),  # full-width: NFKC makes it carl
        ("Carl", "已经存在"),
        ("carI", "与已有账户 'carl' 看起来一样"),  # capital i
        ("rnona", "与已有账户 'mona' 看起来一样"),
        ("car\u200bl", "含有看不见的字符或控制字符"),
        ("carl\u202e", "含有看不见的字符或控制字符"),
        ("pаypal", "混用了拉丁字母与西里尔"),
    ],
)
def test_a_name_that_could_pass_for_another_is_refused(
    staffed: Desk, runner: CliRunner, name: str, why: str
) -> None:
    result = runner.invoke(
        main,
        ["--desk", str(staffed.root), "user", "add", name, "--role", "manager"],
        input="another-pass-1\n",
    )
    assert result.exit_code == 1
    assert why in result.stderr
    assert result.stderr.count("\n") == 1
    with open_archive(staffed.db_path) as db:
        assert [r[0] for r in db.execute("SELECT name FROM users ORDER BY name")] == [
            "carl",
            "mona",
        ]


def test_names_are_stored_normalised_and_chinese_names_are_fine(staffed: Desk) -> None:
    with open_archive(staffed.db_path) as db:
        assert add_user(db, "ＬＩ.Ｗｅｉ", "clerk", "password-1").name == "li.wei"
        assert add_user(db, "张三", "clerk", "password-2").name == "张三"
        with pytest.raises(UserError, match="已经存在"):
            add_user(db, "Li.Wei", "viewer", "password-3")
        user = authenticate(db, "LI.WEI", "password-1")
        assert user is not None and user.name == "li.wei"


def test_skeletons_of_distinct_names_differ() -> None:
    assert len({skeleton(n) for n in ("carl", "mona", "vera", "张三", "李四", "karl")}) == 6


def test_a_desk_without_accounts_refuses_what_a_proxy_forwarded(desk: Desk) -> None:
    """uvicorn no longer rewrites the client from X-Forwarded-For (only `[web] trusted_proxies`
    may): so a request forwarded by a proxy on this machine must not pass for this machine."""
    c = client(desk)
    assert c.get("/api/aging").status_code == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        response = c.get("/api/aging", headers={header: "203.0.113.5"})
        assert response.status_code == 403, header


def test_a_flood_of_names_does_not_lift_a_lock() -> None:
    from dunning.web.login_page import LoginThrottle

    throttle = LoginThrottle()
    for _ in range(THROTTLE_FAILURES):
        throttle.failed("10.0.0.1", "mona")
    assert not throttle.allows("10.0.0.2", "mona")
    # 10,050 made-up names from many addresses: memory stays bounded, mona stays locked.
    for n in range(10_050):
        throttle.failed(f"10.1.{n // 250}.{n % 250}", f"x{n}")
    assert not throttle.allows("10.0.0.3", "mona")
    assert throttle.allows("10.0.0.3", "carl")
    assert len(throttle._failures) <= 10_001
