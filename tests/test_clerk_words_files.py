"""Ingesting files speaks Chinese (issue 22): the archived lines of a bank statement, e-invoices
and ledgers, and every refusal and bad row a clerk reads in `dunning ingest`, its `--json` and
failed/NAME.error.txt hold no English word outside the allow-list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bank_corpus import OUR_ACCOUNT, make_world, write_grid, write_statement
from click.testing import CliRunner
from einvoice_support import LEDGER_CSV, ROWS, table, write_xlsx
from pdf_factory import make_encrypted_pdf
from test_clerk_words import english_words
from test_ledger_detail import KINGDEE_ROWS, xlsx

from dunning.archive.bank.reader import read_statement
from dunning.archive.einvoice.listing import read_invoice_list
from dunning.cli import main
from dunning.desk import Desk, init_desk
from dunning.errors import IngestError
from dunning.ingest.quarantine import list_failed, retry

FIXTURES = Path(__file__).parent / "fixtures" / "einvoice"
# Currency codes, the e-invoice file formats and WPS are names, like XLSX.
NAMES = {"CNY", "USD", "xml", "XML", "OFD", "ofd", "WPS"}
HEAD = "客户编号,客户名称,发票号码,开票日期,应收金额\n"


def chinese_only(text: str) -> list[str]:
    """The English words of `text`, its quoted cell values (the file's own text) left out."""
    plain = re.sub(r"'[^'\n]*'|(?<!\S)/\S+", " ", text)  # values; paths outside the desk
    return [w for w in english_words(plain) if w not in NAMES]


def _bad_files(inbox: Path) -> None:
    """Ledgers and documents a clerk drops that are each refused for another reason."""
    rows = {
        "金额有误.csv": HEAD + "K1,甲公司,F1,2025-01-05,100.00\nK1,甲公司,F2,2025-01-05,十元\n",
        "外币行.csv": HEAD.replace("应收金额", "应收金额,币种")
        + "K1,甲公司,F1,2025-01-05,100.00,人民币\nK1,甲公司,F2,2025-01-06,100.00,USD\n",
        "日期有误.csv": HEAD + "K1,甲公司,F1,2025-13-45,100.00\nK1,甲公司,F2,,100.00\n",
        "核销不符.csv": "客户编号,客户名称,发票号码,开票日期,应收金额,已核销金额,未核销金额\n"
        "K1,甲公司,F1,2025-01-05,100.00,30.00,80.00\n",
        "重复发票.csv": HEAD + "K1,甲公司,F1,2025-01-05,100.00\nK1,甲公司,F1,2025-01-05,200.00\n",
        "没有表头.csv": "名字,电话号码\n甲,1\n",
    }
    for name, text in rows.items():
        (inbox / name).write_text(text, encoding="utf-8")
    kingdee = [row[:] for row in KINGDEE_ROWS]
    kingdee[5][8] = 8200  # printed 8200, but 16300 - 8000 = 8300
    xlsx(inbox / "余额不符.xlsx", ("往来明细账", kingdee))
    (inbox / "打不开.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)  # a cut-off workbook
    make_encrypted_pdf(inbox / "加密合同.pdf", "secret")
    (inbox / "空文件.csv").write_bytes(b"")
    (inbox / "坏发票.xml").write_text(
        '<?xml version="1.0"?><EInvoice><EInvoiceData>', encoding="utf-8"
    )


def _desk(root: Path, tmp_path: Path) -> tuple[Desk, list[list[Path]]]:
    """A fresh desk with a bank account, and the rounds of files to ingest into it."""
    desk = init_desk(root)
    toml = desk.root / "dunning.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("accounts = []", f'accounts = ["{OUR_ACCOUNT}"]'),
        encoding="utf-8",
    )
    desk = Desk(desk.root)
    world = make_world(5, customers=4, receipts=14)
    ledgers = desk.inbox / "台账"
    ledgers.mkdir()
    (ledgers / "应收台账.csv").write_text(world.invoice_csv(), encoding="utf-8")
    (ledgers / "发票台账.csv").write_text(LEDGER_CSV.replace(",C00", ",E00"), encoding="utf-8")
    rest = desk.inbox / "文件"
    rest.mkdir()
    statement = write_statement("icbc02", world.txns, rest / "交易明细.csv")
    (rest / "数电发票.xml").write_bytes((FIXTURES / "goods.xml").read_bytes())
    write_xlsx(rest / "全量发票查询.xlsx", table())
    broken = statement.read_bytes().decode("gbk").splitlines()
    cells = broken[9].split(",")
    cells[-1] = str(float(cells[-1]) + 1)  # a printed balance altered by a yuan
    broken[9] = ",".join(cells)
    (desk.inbox / "bank").mkdir(exist_ok=True)
    (desk.inbox / "bank" / "余额不连续.csv").write_bytes("\n".join(broken).encode("gbk"))
    bad = desk.inbox / "坏文件"
    bad.mkdir()
    _bad_files(bad)
    outside = tmp_path / "外来"  # a file given from outside the desk stays there
    outside.mkdir()
    (outside / "外来台账.csv").write_text(HEAD + "K1,甲公司,F1,2025-01-05,一百\n", encoding="utf-8")
    return desk, [[ledgers], [rest], [bad, desk.inbox / "bank", outside]]


def _ingest(desk: Desk, rounds: list[list[Path]], *extra: str) -> list[str]:
    outputs = []
    for paths in rounds:
        result = CliRunner().invoke(
            main, ["--desk", str(desk.root), "ingest", *extra, *map(str, paths)]
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        outputs.append(result.stdout + result.stderr)
    return outputs


def _error_notes(desk: Desk) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in desk.failed.glob("*.error.txt")}


def test_ingest_text_and_error_files_are_chinese(tmp_path: Path) -> None:
    desk, rounds = _desk(tmp_path / "desk", tmp_path)
    ledgers, documents, inbox = _ingest(desk, rounds)
    assert "已归档" in ledgers and "银行流水" in documents and "电子发票" in documents
    assert "第 3 行「应收金额」" in inbox
    found = {"ledgers": chinese_only(ledgers), "documents": chinese_only(documents)}
    found["inbox"] = chinese_only(inbox)
    notes = _error_notes(desk)
    assert len(notes) == 13, sorted(notes)
    found.update({name: chinese_only(text) for name, text in notes.items()})
    assert {k: v for k, v in found.items() if v} == {}


def test_ingest_json_messages_are_chinese(tmp_path: Path) -> None:
    desk, rounds = _desk(tmp_path / "desk", tmp_path)
    said: list[str] = []
    for out in _ingest(desk, rounds, "--json"):
        report = json.loads(out[: out.rindex("}") + 1])
        said += [o["label"] for o in report["archived"]] + [
            n for o in report["archived"] for n in o["notes"]
        ]
        said += [o["reason"] for o in report["duplicates"]]
        for failed in report["failed"]:
            said.append(failed["reason"])
            said += [row["why"] for row in failed["rows"]]
    assert len(said) > 20
    found = {text: chinese_only(text) for text in said}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("name", ["金额有误.csv", "余额不符.xlsx", "核销不符.csv"])
def test_a_bad_row_names_its_row_and_column_in_chinese(tmp_path: Path, name: str) -> None:
    desk, rounds = _desk(tmp_path / "desk", tmp_path)
    (inbox,) = _ingest(desk, rounds[2:])
    note = (desk.failed / f"{name}.error.txt").read_text(encoding="utf-8")
    rows = [line for line in note.splitlines() if line.startswith("  - ")]
    assert rows and all(re.match(r"  - 第 \d+ 行「[^」]+」", line) for line in rows), rows
    assert rows[0] in inbox


def test_a_bank_row_names_the_statements_own_column_and_a_refusal_is_one_chinese_sentence(
    tmp_path: Path,
) -> None:
    grid: list[list[object]] = [
        ["账号:", OUR_ACCOUNT],
        ["记账日", "对方户名", "对方账号", "摘要", "借方发生额", "贷方发生额", "余额"],
        ["2026-04-01", "甲公司", "1", "货款", "", "1,000.00", "1,000.00"],
        ["四月二日", "乙公司", "2", "货款", "", "500.00", "1,500.00"],
        ["2026-04-03", "丙公司", "3", "货款", "", "一千元", "2,500.00"],
    ]
    with pytest.raises(IngestError) as caught:
        read_statement(write_grid(grid, tmp_path / "流水.csv", encoding="utf-8"))
    rows = [str(p) for p in caught.value.problems]
    assert rows[0] == "第 4 行「记账日」'四月二日'：不是日期"
    assert rows[1].startswith("第 5 行「贷方发生额」'一千元'：")
    assert caught.value.reason == "流水.csv：有 2 行无法读取，整个文件未导入：见下列各行。"
    no_account = write_grid(grid[1:3], tmp_path / "无账号.csv", encoding="utf-8")
    with pytest.raises(IngestError) as refused:
        read_statement(no_account)
    assert chinese_only(str(refused.value)) == [], str(refused.value)


def test_an_einvoice_list_with_bad_rows_says_why_in_chinese(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS[:3]]
    rows[1][3] = "12345"  # not an invoice number
    rows[2][8] = ""  # no 开票日期
    with pytest.raises(IngestError) as caught:
        read_invoice_list(write_xlsx(tmp_path / "清单.xlsx", table(rows)))
    report = caught.value.report()
    assert "第 5 行「数电票号码」'12345'：不是发票号码（应为 20 位，或 8 位并有发票代码）" in report
    assert "第 6 行「开票日期」（空）：日期为空：请填写" in report
    assert chinese_only(report) == [], report


def test_failed_notes_old_and_new_are_read_and_retried_to_their_folder(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    rows = "K1,甲,F1,2025-01-05,100\nK1,甲,F2,2025-01-05,\nK1,甲,F3,2025-01-05,100\n"
    (desk.inbox / "ledgers" / "坏.csv").write_text(HEAD + rows, "utf-8")
    CliRunner().invoke(main, ["--desk", str(desk.root), "ingest", str(desk.inbox)])
    (new,) = list_failed(desk)
    assert new.source == "inbox/ledgers/坏.csv" and new.failed_at is not None
    assert new.rows == ("第 3 行「应收金额」（空）：金额为空：请填写",)
    # A note an earlier version wrote, with English field names, still reads.
    old = desk.failed / "旧.csv"
    old.write_text("x", encoding="utf-8")
    (desk.failed / "旧.csv.error.txt").write_text(
        "bad\n  - row 2, column 'x', value '': bad\n\nsource: inbox/ledgers/旧.csv\n"
        "failed at: 2026-01-02T09:00:00+08:00\n",
        encoding="utf-8",
    )
    listed = {f.name: f for f in list_failed(desk)}
    assert listed["旧.csv"].source == "inbox/ledgers/旧.csv"
    assert listed["旧.csv"].failed_at == "2026-01-02T09:00:00+08:00"
    assert sorted(p.name for p in retry(desk)) == ["坏.csv", "旧.csv"]
    assert (desk.inbox / "ledgers" / "旧.csv").is_file()
    assert (desk.inbox / "ledgers" / "坏.csv").is_file()


def test_a_broken_ofd_and_an_oversized_file_are_refused_in_chinese(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "desk")
    toml = desk.root / "dunning.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("max_file_mb = 100", "max_file_mb = 0"),
        encoding="utf-8",
    )
    (desk.inbox / "发票.ofd").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (desk.inbox / "大台账.csv").write_text(HEAD + "K1,甲,F1,2025-01-05,100\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--desk", str(desk.root), "ingest", str(desk.inbox)])
    assert result.exit_code == 1
    said = result.stdout + result.stderr
    assert "发票.ofd 是损坏或不完整的 OFD 电子发票：请重新下载后再放入。" in said
    assert "超过 0 MB 的上限：请拆分文件，或在 dunning.toml 中调高 `[ingest] max_file_mb`。" in said
    assert chinese_only(said) == [], said
