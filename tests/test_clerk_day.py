"""The clerk's day (issue 22): `dunning today`, every letter step in the web desk, future dates
refused, no letter to a customer without an address, the office's time zone."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from pdf_factory import make_text_pdf
from tooling import require_soffice, require_tool
from web_support import client, copy_desk, csrf

from dunning.archive.db import open_archive, write_transaction
from dunning.cli import main
from dunning.config import load_config
from dunning.dates import office_time, office_today
from dunning.desk import Desk
from dunning.errors import ConfigError
from dunning.letters.delivery import get_delivery, load_deliveries
from dunning.workflow.log import add_entry, list_entries, record_entry
from dunning.workflow.today import SOURCES, Day, TodayItem, today_list


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, plain_demo_template: Desk) -> Desk:
    return copy_desk(plain_demo_template, tmp_path_factory.mktemp("day") / "desk")


@pytest.fixture
def fresh(tmp_path: Path, plain_demo_template: Desk) -> Desk:
    return copy_desk(plain_demo_template, tmp_path / "desk")


def run(desk: Desk, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--desk", str(desk.root), *args])
    assert result.exit_code == code, result.output
    return result


def today() -> dt.date:
    return office_today("Asia/Shanghai")


# --- dunning today --------------------------------------------------------------------------


def test_today_lists_unsent_letters_ranked_by_amount_times_days(demo: Desk) -> None:
    data = json.loads(run(demo, "today", "--json").stdout)
    items = data["items"]
    assert items, "the demo has letters generated and not mailed"
    scores = [float(i["amount"]) * max(i["days"], 1) for i in items]
    assert scores == sorted(scores, reverse=True)
    unsent = [i for i in items if i["kind"] == "letter_unsent"]
    # one line per customer: its newest unsent letter, older ones counted in the sentence
    assert len({i["customer"] for i in unsent}) == len(unsent)
    with open_archive(demo.db_path) as db:
        newest = {d.customer: d.ref for d in load_deliveries(db) if d.status == "issued"}
    assert {i["customer"]: i["letter"] for i in unsent} == newest
    assert all(i["action"] == "mark_sent" and i["action_title"] == "登记寄出" for i in unsent)


def test_today_text_is_chinese_with_separators(demo: Desk) -> None:
    out = run(demo, "today").stdout
    assert "函件待寄出" in out and "登记寄出" in out and "项待办" in out
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2}", out)
    assert not re.search(r"\b(letter|issued|sent|reminder|demand|lawyer)\b", out)


def test_today_refuses_a_future_day_unless_allowed(demo: Desk) -> None:
    later = (today() + dt.timedelta(days=3)).isoformat()
    refused = run(demo, "today", "--as-of", later, code=1)
    assert "晚于今天" in refused.stderr and "--allow-future" in refused.stderr
    assert run(demo, "today", "--as-of", later, "--allow-future", "--json").exit_code == 0


def test_a_promise_due_today_and_a_broken_one_are_on_the_list(fresh: Desk) -> None:
    day = today()
    with open_archive(fresh.db_path) as db:
        record_entry(db, "C004", kind="promise", note="财务说今天付",
                     promise_amount=Decimal("5000"), promise_date=day, on=day)  # fmt: skip
        record_entry(db, "C002", kind="promise", note="说上周付", on=day - dt.timedelta(days=9),
                     promise_amount=Decimal("8000"),
                     promise_date=day - dt.timedelta(days=2))  # fmt: skip
        items = today_list(db, fresh.config, today=day)
    kinds = {(i.kind, i.customer) for i in items}
    assert ("promise_due", "C004") in kinds and ("promise_broken", "C002") in kinds
    # a call after the broken promise takes it off the list
    with open_archive(fresh.db_path) as db:
        record_entry(db, "C002", kind="call", note="已催", on=day)
        items = today_list(db, fresh.config, today=day)
    assert ("promise_broken", "C002") not in {(i.kind, i.customer) for i in items}


def test_a_new_source_is_one_function(demo: Desk) -> None:
    def visits(day: Day) -> list[TodayItem]:
        return [TodayItem("visit", "C001", "x", day.overdue("C001")[0] + 10**9, 1, "上门", "visit")]

    with open_archive(demo.db_path) as db:
        items = today_list(db, demo.config, today=today(), sources=[*SOURCES, visits])
    assert items[0].kind == "visit"


def test_sent_then_proof_moves_a_letter_through_the_list(fresh: Desk, tmp_path: Path) -> None:
    day = today()
    with open_archive(fresh.db_path) as db:
        ref = next(i.ref for i in today_list(db, fresh.config, today=day) if i.ref)
    sent_on = (day - dt.timedelta(days=8)).isoformat()
    run(fresh, "letter", "sent", str(ref), "--via", "ems", "--tracking", "EMS123", "--on", sent_on)
    with open_archive(fresh.db_path) as db:
        found = [i for i in today_list(db, fresh.config, today=day) if i.ref == ref]
    assert [i.kind for i in found] == ["letter_unproven"]
    proof = make_text_pdf(tmp_path / "妥投.pdf", ["EMS 妥投证明 EMS123"])
    run(fresh, "letter", "delivered", str(ref), "--evidence", str(proof))
    with open_archive(fresh.db_path) as db:
        assert not [i for i in today_list(db, fresh.config, today=day) if i.ref == ref]


# --- idempotent steps and Chinese log facts --------------------------------------------------


def test_the_same_letter_sent_twice_is_one_event(fresh: Desk) -> None:
    with open_archive(fresh.db_path) as db:
        ref = next(d.ref for d in load_deliveries(db) if d.status == "issued")
    args = (
        "letter",
        "sent",
        ref,
        "--via",
        "sf",
        "--tracking",
        "SF100",
        "--on",
        today().isoformat(),
    )
    run(fresh, *args)
    again = run(fresh, *args)
    assert "已经登记过" in again.stderr
    with open_archive(fresh.db_path) as db:
        notes = [e.note for e in list_entries(db) if e.letter_ref == ref and "寄出" in e.note]
    assert notes == [f"函件 {ref} 已由顺丰寄出，运单号 SF100"]


# --- the web desk: every step of a letter ---------------------------------------------------


def _notice(page: str) -> list[str]:
    return re.findall(r'class="(?:notice|error)"[^>]*>([^<]*)', page)


def test_web_letter_steps_sent_delivered_with_proof(fresh: Desk, tmp_path: Path) -> None:
    c = client(fresh)
    home = c.get("/")
    assert home.status_code == 200 and 'id="today"' in home.text
    assert home.text.index('id="today"') < home.text.index("账龄分布")  # the first card
    ref = re.findall(r"/letters/ref/(CS-\d{4}-\d{6})", home.text)[0]
    token = csrf(c)
    page = c.get(f"/letters/ref/{ref}")
    assert page.status_code == 200 and "登记寄出" in page.text and "已生成" in page.text
    form = {"csrf": token, "via": "ems", "tracking": "1151234567890"}
    first = c.post(f"/letters/ref/{ref}/sent", data=form, follow_redirects=True)
    assert _notice(first.text) == ["已登记寄出。"]
    second = c.post(f"/letters/ref/{ref}/sent", data=form, follow_redirects=True)
    assert _notice(second.text) == ["这次寄出已经登记过，没有重复记录。"]
    proof = make_text_pdf(tmp_path / "妥投证明.pdf", ["EMS 妥投证明 1151234567890"])
    future = c.post(
        f"/letters/ref/{ref}/delivered",
        data={"csrf": token, "on": "2999-01-01"},
        files={"proof": (proof.name, proof.read_bytes(), "application/pdf")},
    )
    assert future.status_code == 400 and "晚于今天" in future.text
    with open_archive(fresh.db_path) as db:
        assert get_delivery(db, ref).status == "sent"
        documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    done = c.post(
        f"/letters/ref/{ref}/delivered",
        data={"csrf": token},
        files={"proof": (proof.name, proof.read_bytes(), "application/pdf")},
        follow_redirects=True,
    )
    assert _notice(done.text) == ["已登记妥投，妥投证明已归档。"]
    with open_archive(fresh.db_path) as db:
        letter = get_delivery(db, ref)
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == documents + 1
    assert letter.status == "delivered" and letter.evidence_document is not None
    assert f"/documents/{letter.evidence_document}/original" in done.text
    assert not list(fresh.root.glob(".proof-*"))  # the upload's private copy is gone
    row = c.get("/letters", params={"q": ref}).text
    row = row[row.index(f">{ref}<") :]
    assert re.search(r'class="badge delivered">已妥投<', row)  # the status is right everywhere


def test_web_returned_and_reply(fresh: Desk) -> None:
    c = client(fresh)
    token = csrf(c)
    with open_archive(fresh.db_path) as db:
        refs = [d.ref for d in load_deliveries(db) if d.status == "issued"][:2]
    back, answered = refs
    c.post(f"/letters/ref/{back}/sent", data={"csrf": token, "via": "post"})
    page = c.post(
        f"/letters/ref/{back}/returned",
        data={"csrf": token, "reason": "查无此人"},
        follow_redirects=True,
    )
    assert "已登记退回" in page.text and "退回" in page.text
    reply = c.post(
        f"/letters/ref/{answered}/reply", data={"csrf": token, "reply": "agreed"},
        follow_redirects=True,
    )  # fmt: skip
    assert "已登记对账回执：相符。" in reply.text
    with open_archive(fresh.db_path) as db:
        assert get_delivery(db, back).status == "returned"
        assert get_delivery(db, answered).reply == "agreed"
        notes = [e.note for e in list_entries(db) if e.letter_ref in refs]
    assert any("被退回：查无此人" in n for n in notes) and any("回执：相符" in n for n in notes)


def test_web_steps_need_a_clerk_and_a_token(fresh: Desk) -> None:
    c = client(fresh)
    with open_archive(fresh.db_path) as db:
        ref = load_deliveries(db)[0].ref
    assert c.post(f"/letters/ref/{ref}/sent", data={"via": "ems"}).status_code == 403
    assert c.get("/letters/ref/CS-1999-000001").status_code == 404
    evil = c.get("/letters/ref/%3Cscript%3E")
    assert evil.status_code == 404 and "<script>" not in evil.text


def test_letters_register_finds_by_reference_kind_and_customer(demo: Desk) -> None:
    c = client(demo)
    with open_archive(demo.db_path) as db:
        letters = load_deliveries(db)
    ref = letters[0].ref
    assert f">{ref}<" in c.get("/letters", params={"q": ref.lower()}).text
    lawyer = c.get("/letters", params={"q": "律师函"}).text
    found = set(re.findall(r'/letters/ref/(CS-\d{4}-\d{6})"', lawyer))
    assert found == {d.ref for d in letters if d.level_name == "lawyer"}
    by_name = c.get("/letters", params={"q": "申达"}).text
    assert set(re.findall(r'/letters/ref/(CS-\d{4}-\d{6})"', by_name)) == {
        d.ref for d in letters if d.customer == "C004"
    }


def test_the_generate_form_is_there_when_nobody_is_due(demo: Desk) -> None:
    page = client(demo).get("/letters").text
    assert 'id="generate-form"' in page


def test_a_web_pack_dated_in_the_future_is_refused(demo: Desk) -> None:
    c = client(demo)
    token = csrf(c)
    later = (today() + dt.timedelta(days=10)).isoformat()
    response = c.post(
        "/api/packs", json={"dry_run": True, "as_of": later}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 400 and "晚于今天" in response.json()["error"]


# --- packs: future dates, customers without an address --------------------------------------


def test_pack_refuses_a_future_date(demo: Desk) -> None:
    later = (today() + dt.timedelta(days=1)).isoformat()
    refused = run(demo, "pack", "--as-of", later, "--dry-run", code=1)
    assert "晚于今天" in refused.stderr
    assert run(demo, "pack", "--as-of", later, "--dry-run", "--allow-future").exit_code == 0


def test_no_letter_to_a_customer_without_an_address(fresh: Desk) -> None:
    with open_archive(fresh.db_path) as db:
        db.execute("UPDATE customers SET address = '' WHERE code = 'C004'")
        db.conn.commit()
    later = (today() + dt.timedelta(days=30)).isoformat()
    dry = json.loads(run(fresh, "pack", "--as-of", later, "--allow-future", "--dry-run",
                         "--json").stdout)  # fmt: skip
    c004 = next(r for r in dry["customers"] if r["customer"] == "C004")
    assert c004["next_level"] is None and "没有地址" in c004["reason"]
    written = run(fresh, "pack", "--as-of", later, "--allow-future", "--json")
    assert "C004" not in {x["customer"] for x in json.loads(written.stdout)["letters"]}
    assert "未生成：C004" in written.stderr
    allowed = run(fresh, "pack", "--as-of", later, "--allow-future", "--customer", "C004",
                  "--level", "4", "--allow-no-address", "--json")  # fmt: skip
    assert [x["customer"] for x in json.loads(allowed.stdout)["letters"]] == ["C004"]


# --- the office's time zone -------------------------------------------------------------------


def test_timezone_setting_is_read_and_checked(tmp_path: Path, demo: Desk) -> None:
    assert demo.config.timezone == "Asia/Shanghai"
    toml = tmp_path / "dunning.toml"
    toml.write_text('[desk]\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    assert load_config(toml).timezone == "Europe/Paris"
    toml.write_text('[desk]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="timezone"):
        load_config(toml)


def test_the_log_files_an_entry_on_the_offices_day(fresh: Desk) -> None:
    """17:30 UTC on 7 December is 01:30 on the 8th in Shanghai: the entry is the 8th's, and so
    is a row written by an older desk with the server's UTC offset."""
    evening = dt.datetime(2026, 12, 7, 17, 30, tzinfo=dt.UTC)
    with open_archive(fresh.db_path) as db, write_transaction(db) as conn:
        entry = add_entry(conn, "C001", kind="call", note="晚间电话", now=evening)
        conn.execute(
            "INSERT INTO collection_log (customer_code, kind, note, logged_at)"
            " VALUES ('C002', 'call', '旧记录', '2026-12-07T17:45:00+00:00')"
        )
    assert entry.logged_at == "2026-12-08T01:30:00+08:00"
    assert entry.day == dt.date(2026, 12, 8)
    with open_archive(fresh.db_path) as db:
        on_the_8th = list_entries(db, since=dt.date(2026, 12, 8), until=dt.date(2026, 12, 8))
        on_the_7th = list_entries(db, since=dt.date(2026, 12, 7), until=dt.date(2026, 12, 7))
        in_paris = list_entries(
            db, since=dt.date(2026, 12, 7), until=dt.date(2026, 12, 7), zone="Europe/Paris"
        )
    assert {e.note: e.day for e in on_the_8th} == {
        "晚间电话": dt.date(2026, 12, 8),
        "旧记录": dt.date(2026, 12, 8),
    }
    assert [e.note for e in on_the_7th] == []
    assert [(e.note, e.day) for e in in_paris] == [
        ("晚间电话", dt.date(2026, 12, 7)),
        ("旧记录", dt.date(2026, 12, 7)),
    ]


def test_office_time_shows_a_stamp_in_the_office_zone() -> None:
    assert office_time("2026-12-03T18:30:00+00:00") == "2026-12-04 02:30"
    assert office_time("2026-12-04T09:30:00+08:00", "Asia/Shanghai") == "2026-12-04 09:30"
    assert office_time("not a time") == "not a time"


# --- customer lookup ---------------------------------------------------------------------------


def test_customer_by_code_in_any_case_or_part_of_the_name(demo: Desk) -> None:
    assert json.loads(run(demo, "customer", "c004", "--json").stdout)["customer"] == "C004"
    assert json.loads(run(demo, "customer", "申达", "--json").stdout)["customer"] == "C004"
    several = run(demo, "customer", "有限公司", code=1)
    assert "对应多个客户" in several.stderr and "C001" in several.stderr
    assert "您要找的是哪一个" in several.stderr
    assert "没有客户“不存在”" in run(demo, "customer", "不存在", code=1).stderr
    # the same lookup writes to the right customer
    run(demo, "log", "add", "c002", "--kind", "call", "--note", "已电话")
    with open_archive(demo.db_path) as db:
        assert list_entries(db, "C002")[-1].note == "已电话"


def test_search_finds_letters_by_reference_kind_and_customer(demo: Desk) -> None:
    with open_archive(demo.db_path) as db:
        letters = load_deliveries(db)
    first = letters[0]
    by_ref = run(demo, "search", first.ref.lower().replace("-", " - ")).stdout
    assert f"[函件] {first.ref}" in by_ref
    lawyer = run(demo, "search", "律师函").stdout
    assert {ln.split()[1] for ln in lawyer.splitlines() if ln.startswith("[函件]")} == {
        d.ref for d in letters if d.level_name == "lawyer"
    }
    mine = run(demo, "search", "reminder", "--customer", "申达").stdout
    assert {ln.split()[1] for ln in mine.splitlines() if ln.startswith("[函件]")} == {
        d.ref for d in letters if d.level_name == "reminder" and d.customer == "C004"
    }
    several = run(demo, "search", "合同", "--customer", "有限公司", code=1)
    assert "对应多个客户" in several.stderr


def test_search_json_lists_the_letters_after_the_documents(demo: Desk) -> None:
    with open_archive(demo.db_path) as db:
        lawyers = [d for d in load_deliveries(db) if d.level_name == "lawyer"]
    assert lawyers
    found = json.loads(run(demo, "search", "律师函", "--json", "--limit", "500").stdout)
    letters = [h for h in found if h["kind"] == "letter"]
    assert {h["ref"] for h in letters} == {d.ref for d in lawyers}
    assert found[len(found) - len(letters) :] == letters  # documents first, as before
    first = letters[0]
    assert first["document"] is None and first["level"] == "lawyer"
    assert first["title"] == f"律师函 {first['ref']}" and first["contract_no"] is None
    assert first["customer"] and first["ref"] in first["snippet"]
    # The fields every entry had before are all still there, for documents and letters alike.
    keys = {"document", "kind", "title", "contract_no", "customer", "customer_name", "snippet"}
    assert all(keys <= set(h) for h in found)
    by_ref = json.loads(run(demo, "search", first["ref"], "--json").stdout)
    assert [h["ref"] for h in by_ref if h["kind"] == "letter"] == [first["ref"]]
    contracts = json.loads(run(demo, "search", "律师函", "--kind", "contract", "--json").stdout)
    assert all(h["kind"] == "contract" for h in contracts)


# --- letter typography: numbers on one line, the slip whole on its cut line's page -----------


def test_printed_pack_keeps_numbers_whole_and_the_slip_on_its_page(demo: Desk) -> None:
    require_soffice()
    require_tool("pdftotext", lambda: shutil.which("pdftotext") is not None,
                 install="apt-get install poppler-utils")  # fmt: skip
    pdfs = sorted(demo.out.glob("*/pack.pdf"))
    assert pdfs, "the demo's pack has a PDF"
    layout = subprocess.run(
        ["pdftotext", "-layout", str(pdfs[-1]), "-"], capture_output=True, text=True, check=True
    ).stdout
    manifest = json.loads((pdfs[-1].parent / "manifest.json").read_text(encoding="utf-8"))
    for letter in manifest:
        # every printed reference is whole: no reference starts at a line's end
        assert f"汇款时请在附言中注明：{letter['ref']}" in layout or letter["level_name"] in (
            "reminder",
        ), letter["ref"]
    broken = re.findall(r"CS-\d{0,4}-?\d{0,5}\s*\n", layout)
    assert not [b for b in broken if not re.fullmatch(r"CS-\d{4}-\d{6}\s*\n", b)]
    assert layout.count("1202 0000 0000 0000 000") >= len(manifest)
    for page in layout.split("\f"):
        if "请沿此线剪下" in page:
            assert "对账单回执" in page and "核对意见" in page and "客户确认" in page
    fonts = subprocess.run(["pdffonts", str(pdfs[-1])], capture_output=True, text=True).stdout
    assert "NotoSerifCJK" in fonts  # Chinese in a serif beside the Latin serif


# --- lists: salesperson filter, totals, pages, export -----------------------------------------


def test_customer_list_filters_by_salesperson_totals_and_exports(demo: Desk) -> None:
    c = client(demo)
    with open_archive(demo.db_path) as db:
        people = dict(db.execute("SELECT code, salesperson FROM customers").fetchall())
    someone = next(p for p in people.values() if p)
    page = c.get("/customers", params={"salesperson": someone}).text
    shown = set(re.findall(r'<a href="/customers/([^"]+)">', page))
    assert shown == {code for code, p in people.items() if p == someone}
    assert "合计" in page and "第 1 / 1 页" in page
    export = c.get("/customers.xlsx", params={"salesperson": someone, "sort": "code"})
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert values[0][:2] == ["客户编号", "客户名称"]
    assert [v[0] for v in values[1:-1]] == sorted(shown)
    assert values[-1][0] == "合计"
    assert Decimal(str(values[-1][4])) == sum(Decimal(str(v[4])) for v in values[1:-1])
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"


def test_customer_list_pages(fresh: Desk) -> None:
    with open_archive(fresh.db_path) as db:
        db["customers"].insert_all(
            [
                {
                    "code": f"Z{n:04d}",
                    "name": f"测试客户{n}",
                    "status": "active",
                    "created_at": "2026-01-01T00:00:00+08:00",
                    "updated_at": "2026-01-01T00:00:00+08:00",
                }
                for n in range(120)
            ],
        )
    c = client(fresh)
    first = c.get("/customers", params={"sort": "code"}).text
    assert "第 1 / 3 页" in first and "下一页" in first
    last = c.get("/customers", params={"sort": "code", "page": "3"}).text
    assert "第 3 / 3 页" in last and "上一页" in last
    assert c.get("/customers", params={"page": "99999999999"}).status_code == 200


def test_today_lists_a_customer_blocked_by_a_missing_address(fresh: Desk) -> None:
    with open_archive(fresh.db_path) as db:
        db.execute("UPDATE customers SET address = NULL WHERE code = 'C005'")
        db.conn.commit()
        later = today() + dt.timedelta(days=20)
        items = today_list(db, fresh.config, today=later)
    blocked = [i for i in items if i.kind == "no_address"]
    # C007 of the demo has no address either
    assert {(i.customer, i.action) for i in blocked} == {
        ("C005", "add_address"),
        ("C007", "add_address"),
    }


def test_a_sent_letter_supersedes_older_unsent_ones(fresh: Desk) -> None:
    with open_archive(fresh.db_path) as db:
        waiting = [d for d in load_deliveries(db) if d.customer == "C004" and d.status == "issued"]
    assert len(waiting) > 1
    run(fresh, "letter", "sent", waiting[-1].ref, "--via", "ems")
    with open_archive(fresh.db_path) as db:
        items = today_list(db, fresh.config, today=today())
    assert not [i for i in items if i.customer == "C004" and i.kind == "letter_unsent"]


# --- printable reports --------------------------------------------------------------------------


def test_weekly_list_prints_across_pages_with_code_and_name_repeated(
    fresh: Desk, tmp_path: Path
) -> None:
    long_note = "财务部王经理说这笔款要等甲方的项目验收之后才能支付，" * 4
    run(fresh, "log", "add", "C004", "--kind", "call", "--note", long_note)
    out = tmp_path / "weekly.xlsx"
    run(fresh, "report", "weekly", "--out", str(out))
    sheet = openpyxl.load_workbook(out)["逾期客户名单"]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is False  # full size, not one page
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.print_title_cols == "$A:$B" and sheet.print_title_rows
    row = next(c.row for c in sheet["A"] if c.value == "C004")
    assert (sheet.row_dimensions[row].height or 0) >= 45  # tall enough for the wrapped note
    other = next(c.row for c in sheet["A"] if c.value == "C005")
    assert (sheet.row_dimensions[other].height or 15) < 45


@pytest.mark.parametrize(
    "args", [["aging"], ["customer", "C004"], ["log", "list"], ["limitation"],
             ["report", "weekly"], ["report", "legal"]], ids=" ".join,
)  # fmt: skip
def test_every_as_of_refuses_a_future_day_unless_allowed(
    demo: Desk, args: list[str], tmp_path: Path
) -> None:
    later = (today() + dt.timedelta(days=5)).isoformat()
    refused = run(demo, *args, "--as-of", later, code=1)
    assert "晚于今天" in refused.stderr and refused.stderr.count("\n") == 1
    out = ["--out", str(tmp_path / "r.xlsx")] if args[0] == "report" else []
    run(demo, *args, "--as-of", later, "--allow-future", *out)


# --- adversarial: what a hurried clerk or a hostile page might send ---------------------------


def test_hostile_letter_steps_change_nothing(fresh: Desk, tmp_path: Path) -> None:
    c = client(fresh)
    token = csrf(c)
    with open_archive(fresh.db_path) as db:
        ref = next(d.ref for d in load_deliveries(db) if d.status == "issued")
        before = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    bad = [
        ("sent", {"via": "ems", "tracking": "=cmd|' /C calc'!A0"}, "不是运单号"),
        ("sent", {"via": "pigeon"}, "没有“pigeon”这种寄送方式"),
        ("sent", {"via": "ems", "on": "2026-13-45"}, "寄出日期"),
        ("returned", {"reason": "查无此人"}, "只有已寄出的函件"),
    ]
    for step, form, message in bad:
        response = c.post(f"/letters/ref/{ref}/{step}", data={"csrf": token, **form})
        assert response.status_code == 400 and message in response.text, (step, form)
    fake = tmp_path / "proof.pdf"
    fake.write_text("<html><script>alert(1)</script></html>", encoding="utf-8")
    c.post(f"/letters/ref/{ref}/sent", data={"csrf": token, "via": "ems"})
    refused = c.post(
        f"/letters/ref/{ref}/delivered",
        data={"csrf": token},
        files={"proof": ("../../妥投.pdf", fake.read_bytes(), "application/pdf")},
    )
    assert refused.status_code == 400 and "不是 PDF 或扫描图片" in refused.text
    with open_archive(fresh.db_path) as db:
        assert get_delivery(db, ref).status == "sent"
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == before
    assert not list(fresh.root.glob(".proof-*"))


def test_today_on_an_empty_desk(tmp_path: Path) -> None:
    from dunning.desk import init_desk

    empty = init_desk(tmp_path / "empty")
    assert "今天没有待办事项" in run(empty, "today").stdout
    assert json.loads(run(empty, "today", "--json").stdout)["items"] == []


@pytest.mark.parametrize("wanted", ["%", "_", "'", "", "   ", "C00%", "c0_4"])
def test_customer_lookup_takes_no_wildcards(demo: Desk, wanted: str) -> None:
    result = CliRunner().invoke(main, ["--desk", str(demo.root), "customer", wanted])
    assert result.exit_code != 0 and "Traceback" not in result.output
