"""The desk, the archive database and its migrations, the store, verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from dunning.archive import store
from dunning.archive.db import open_archive, write_transaction
from dunning.archive.migrations import MIGRATIONS, migrate, prepare
from dunning.archive.search.query import search
from dunning.cli import main
from dunning.config import load_config
from dunning.desk import Desk, find_desk, init_desk
from dunning.errors import DeskExistsError, NotADeskError
from dunning.workflow.verify import verify


def test_init_creates_the_desk_layout(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "d")
    for name in (
        "inbox",
        "inbox/contracts",
        "inbox/ledgers",
        "inbox/receipts",
        "store",
        "failed",
        "out",
        "templates",
    ):
        assert (desk.root / name).is_dir(), name
    assert desk.db_path.is_file()
    config = load_config(desk.config_path)
    assert config.bucket_edges == (30, 60, 90)
    assert [lv.min_days for lv in config.levels] == [1, 30, 60, 90]
    assert str(config.tolerance) == "100.00"


def test_init_never_clobbers_an_existing_desk(tmp_path: Path) -> None:
    desk = init_desk(tmp_path / "d")
    desk.config_path.write_text(desk.config_path.read_text() + "\n# mine\n", encoding="utf-8")
    with pytest.raises(DeskExistsError):
        init_desk(tmp_path / "d")
    assert desk.config_path.read_text().endswith("# mine\n")


def test_desk_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = init_desk(tmp_path / "a")
    b = init_desk(tmp_path / "b")
    nested = a.root / "inbox" / "contracts"
    assert find_desk(cwd=nested).root == a.root
    monkeypatch.setenv("DUNNING_DESK", str(b.root))
    assert find_desk(cwd=nested).root == b.root
    assert find_desk(a.root, cwd=nested).root == a.root
    monkeypatch.delenv("DUNNING_DESK")
    with pytest.raises(NotADeskError, match="不是工作台"):
        find_desk(cwd=tmp_path)


def test_cli_outside_a_desk_exits_2_with_one_sentence(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["aging"])
    assert result.exit_code == 2
    assert "这里不是工作台：请先运行 `dunning init`" in result.stderr
    assert "Traceback" not in result.output


def test_cli_init_then_init_again(tmp_path: Path, runner: CliRunner) -> None:
    first = runner.invoke(main, ["init", str(tmp_path / "d")])
    assert first.exit_code == 0, first.output
    assert "已建立工作台" in first.stdout
    again = runner.invoke(main, ["init", str(tmp_path / "d")])
    assert again.exit_code == 1
    assert "已经是工作台，什么也没有改变" in again.stderr


def test_database_is_wal_with_foreign_keys(desk: Desk) -> None:
    db = open_archive(desk.db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db) as conn:
        conn.execute(
            "INSERT INTO invoices (invoice_no, customer_code, invoice_date, due_date, amount_fen,"
            " import_id) VALUES ('X', 'nobody', '2025-01-01', '2025-01-31', 100, 1)"
        )
    db.close()


def test_migrations_on_a_blank_database(tmp_path: Path) -> None:
    db = open_archive(tmp_path / "blank.db")
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == sorted(fn.__name__ for fn in MIGRATIONS)
    assert migrate(db) == []  # idempotent
    db.close()


def test_upgrade_from_an_old_database_keeps_its_rows(tmp_path: Path) -> None:
    db = open_archive(tmp_path / "old.db", migrate_schema=False)
    conn = db.conn
    prepare(conn)
    MIGRATIONS[0](db)
    conn.execute("INSERT INTO _migrations VALUES ('m001_initial', '2025-01-01')")
    conn.execute(
        "INSERT INTO customers (code, name, created_at, updated_at)"
        " VALUES ('C1', '老客户', 'x', 'x')"
    )
    db.close()
    upgraded = open_archive(tmp_path / "old.db")
    applied = [r[0] for r in upgraded.execute("SELECT name FROM _migrations")]
    assert set(applied) == {fn.__name__ for fn in MIGRATIONS}
    assert upgraded.execute("SELECT name FROM customers").fetchone()[0] == "老客户"
    assert "letters" in upgraded.table_names()
    upgraded.close()


def test_store_put_is_content_addressed_and_read_only(tmp_path: Path) -> None:
    src = tmp_path / "a.PDF"
    src.write_bytes(b"%PDF-1.4 hello")
    sha = store.sha256_file(src)
    target = store.put(tmp_path / "store", src, sha)
    assert target.name == f"{sha}.pdf"
    assert target.parent.name == sha[:2]
    assert target.read_bytes() == src.read_bytes()
    assert not target.stat().st_mode & 0o222
    assert store.put(tmp_path / "store", src, sha) == target  # idempotent
    assert not list((tmp_path / "store").glob("??/.tmp-*"))


def test_store_refuses_a_file_that_changed_under_it(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("x")
    with pytest.raises(store.ChangedWhileCopying, match="在复制过程中被改动"):
        store.put(tmp_path / "store", src, "0" * 64)
    assert store.iter_stored(tmp_path / "store") == []


def test_verify_finds_missing_altered_and_unrecorded(desk: Desk, invoice_csv: Path) -> None:
    from dunning.ingest.pipeline import ingest_paths

    report = ingest_paths(desk, [invoice_csv])
    assert len(report.of("archived")) == 1
    db = open_archive(desk.db_path)
    assert verify(desk, db).ok
    stored = desk.root / db.execute("SELECT stored_path FROM documents").fetchone()[0]
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")
    stray = desk.store / "ff" / ("f" * 64 + ".pdf")
    stray.parent.mkdir()
    stray.write_bytes(b"x")
    kinds = sorted(p.kind for p in verify(desk, db).problems)
    assert kinds == ["altered", "unrecorded"]
    stored.unlink()
    assert sorted(p.kind for p in verify(desk, db).problems) == ["missing", "unrecorded"]
    db.close()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("buckets = [30, 60, 90]", 'buckets = ["a"]'), "[aging] buckets must be"),
        (
            ("default_terms_days = 30", 'default_terms_days = "x"'),
            "default_terms_days must be a number",
        ),
        (('reference_prefix = "CS"', 'reference_prefix = "cs-1"'), "reference_prefix must be"),
        (("# dunning desk settings.", "watch = 5\n# x"), "cannot read the settings"),
    ],
)
def test_a_bad_setting_is_one_sentence_naming_it(
    desk: Desk, runner: CliRunner, edit: tuple[str, str], message: str
) -> None:
    text = desk.config_path.read_text(encoding="utf-8")
    assert edit[0] in text
    desk.config_path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    result = runner.invoke(main, ["--desk", str(desk.root), "aging"])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_an_unwritable_target_is_one_sentence(tmp_path: Path, runner: CliRunner) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = runner.invoke(main, ["init", str(blocker / "desk")])
    assert result.exit_code == 1
    assert "afile" in result.stderr and "Traceback" not in result.output


def test_a_setting_section_written_as_a_value(desk: Desk, runner: CliRunner) -> None:
    text = desk.config_path.read_text(encoding="utf-8").replace("[watch]", "[old_watch]")
    desk.config_path.write_text("watch = 5\n" + text, encoding="utf-8")
    result = runner.invoke(main, ["--desk", str(desk.root), "aging"])
    assert result.exit_code == 1
    assert "[watch] must be a section of settings" in result.stderr


def test_m005_upgrades_an_m004_archive_with_its_rows(tmp_path: Path) -> None:
    """A database built by the migrations up to m004, holding the shapes m005 must convert."""
    db = open_archive(tmp_path / "m004.db", migrate_schema=False)
    conn = db.conn
    prepare(conn)
    for fn in MIGRATIONS[:4]:
        fn(db)
        conn.execute("INSERT INTO _migrations VALUES (?, '2025-01-01')", [fn.__name__])
    assert MIGRATIONS[3].__name__ == "m004_search_trigram"
    conn.executescript(
        """
        INSERT INTO customers (code, name, created_at, updated_at) VALUES
            ('KH014', 'KH014', 'x', 'x'), ('KH001', '厦门鹭岛贸易有限公司', 'x', 'x');
        INSERT INTO documents (sha256, kind, original_name, stored_path, size, ingested_at)
            VALUES ('ab', 'ledger', 'p.csv', 'store/ab', 1, 'x');
        INSERT INTO ledger_imports (document_id, kind, rows, inserted, updated, imported_at)
            VALUES (1, 'payments', 2, 2, 0, 'x');
        INSERT INTO payments (natural_key, customer_code, paid_on, amount_fen, payment_no,
            import_id) VALUES ('no|KH001|LS1', 'KH001', '2025-01-01', 100, 'LS1', 1),
            ('KH014|2025-01-02|100|1', 'KH014', '2025-01-02', 100, NULL, 1);
        """
    )
    db.close()
    upgraded = open_archive(tmp_path / "m004.db")
    keys = [r[0] for r in upgraded.execute("SELECT natural_key FROM payments ORDER BY id")]
    # Numbered payments now carry their row's place among the rows with that number.
    assert keys == ["no|KH001|LS1|1", "KH014|2025-01-02|100|1"]
    sources = dict(upgraded.execute("SELECT code, name_source FROM customers").fetchall())
    assert sources == {"KH014": "placeholder", "KH001": "ledger"}
    kinds = {r[0] for r in upgraded.execute("SELECT kind FROM payments")}
    assert kinds == {"payment"}
    upgraded.close()


R1_ARCHIVE = Path(__file__).parent / "fixtures" / "archive-r1.db"


def test_an_archive_made_by_the_first_release_upgrades(tmp_path: Path) -> None:
    """`fixtures/archive-r1.db` was written by release 1's own code (commit 2df7127: m001-m004,
    its search index built by the code of the day), holding a ledger, a payment list with a
    payment number and a contract."""
    path = tmp_path / "archive.db"
    path.write_bytes(R1_ARCHIVE.read_bytes())
    db = open_archive(path)
    applied = {r[0] for r in db.execute("SELECT name FROM _migrations")}
    assert applied == {fn.__name__ for fn in MIGRATIONS}
    keys = [r[0] for r in db.execute("SELECT natural_key FROM payments")]
    assert keys == ["no|KH002|LS001|1"]
    names = dict(db.execute("SELECT code, name_source FROM customers").fetchall())
    assert names == {"KH001": "ledger", "KH002": "placeholder"}
    assert [h.document for h in search(db, "违约金")] == [3]
    assert 3 in [h.document for h in search(db, "HT-2025-0001")]
    db.close()
