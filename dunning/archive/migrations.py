"""Schema migrations: named functions, applied in order, recorded in `_migrations`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", [fn.__name__]).fetchone():
                conn.execute("ROLLBACK")
                continue
            fn(db)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [fn.__name__, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied.append(fn.__name__)
    return applied


def _script(db: sqlite_utils.Database, sql: str) -> None:
    # executescript would COMMIT our transaction; run statement by statement instead.
    for statement in sql.split(";"):
        if statement.strip():
            db.conn.execute(statement)


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        CREATE TABLE customers (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            address TEXT,
            contact TEXT,
            phone TEXT,
            credit_grade TEXT,
            salesperson TEXT,
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'disputed', 'litigation', 'excluded')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX customers_name ON customers(name);
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            original_name TEXT NOT NULL,
            source_path TEXT,
            stored_path TEXT NOT NULL,
            size INTEGER NOT NULL,
            mime TEXT,
            title TEXT,
            customer_code TEXT REFERENCES customers(code),
            contract_no TEXT,
            needs_ocr INTEGER NOT NULL DEFAULT 0,
            pages INTEGER,
            meta TEXT,
            ingested_at TEXT NOT NULL
        );
        CREATE INDEX documents_kind ON documents(kind);
        CREATE INDEX documents_customer ON documents(customer_code);
        CREATE TABLE document_text (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id),
            text TEXT NOT NULL
        );
        CREATE TABLE ledger_imports (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            kind TEXT NOT NULL,
            sheet TEXT,
            header_row INTEGER,
            rows INTEGER NOT NULL,
            inserted INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE contracts (
            id INTEGER PRIMARY KEY,
            contract_no TEXT NOT NULL UNIQUE,
            customer_code TEXT REFERENCES customers(code),
            customer_name TEXT,
            title TEXT,
            amount_fen INTEGER,
            signed_on TEXT,
            document_id INTEGER REFERENCES documents(id)
        );
        CREATE INDEX contracts_customer ON contracts(customer_code);
        CREATE TABLE invoices (
            invoice_no TEXT PRIMARY KEY,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            contract_no TEXT,
            invoice_date TEXT NOT NULL,
            due_date TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            received_fen INTEGER NOT NULL DEFAULT 0,
            import_id INTEGER NOT NULL REFERENCES ledger_imports(id),
            source_row INTEGER
        );
        CREATE INDEX invoices_customer ON invoices(customer_code);
        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            natural_key TEXT NOT NULL UNIQUE,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            paid_on TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            invoice_ref TEXT,
            payment_no TEXT,
            import_id INTEGER NOT NULL REFERENCES ledger_imports(id),
            source_row INTEGER
        );
        CREATE INDEX payments_customer ON payments(customer_code)
        """,
    )


@migration
def m002_collection(db: sqlite_utils.Database) -> None:
    _script(
        db,
        """
        CREATE TABLE letters (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            level INTEGER NOT NULL,
            level_name TEXT NOT NULL,
            manual INTEGER NOT NULL DEFAULT 0,
            as_of TEXT NOT NULL,
            issued_on TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            overdue_fen INTEGER NOT NULL,
            pack_dir TEXT,
            files TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'signed')),
            signed_document_id INTEGER REFERENCES documents(id),
            signed_at TEXT
        );
        CREATE INDEX letters_customer ON letters(customer_code);
        CREATE TABLE collection_log (
            id INTEGER PRIMARY KEY,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            kind TEXT NOT NULL,
            note TEXT NOT NULL,
            by TEXT,
            promise_amount_fen INTEGER,
            promise_date TEXT,
            letter_ref TEXT,
            logged_at TEXT NOT NULL
        );
        CREATE INDEX collection_log_customer ON collection_log(customer_code);
        CREATE TABLE status_changes (
            id INTEGER PRIMARY KEY,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            old_status TEXT NOT NULL,
            new_status TEXT NOT NULL,
            note TEXT,
            changed_at TEXT NOT NULL
        )
        """,
    )


@migration
def m003_search(db: sqlite_utils.Database) -> None:
    # A local import keeps this appended migration self-contained (there is no import cycle).
    from dunning.archive.search_index import create_tables, reindex_all

    create_tables(db.conn)
    # An archive upgraded from m002 already holds documents: make them searchable now.
    reindex_all(db.conn)


@migration
def m004_search_trigram(db: sqlite_utils.Database) -> None:
    # Terms of 3+ characters are looked up in a trigram index: m003 archives get one here.
    from dunning.archive.search_index import add_trigram_index

    add_trigram_index(db.conn)


@migration
def m008_document_pages(db: sqlite_utils.Database) -> None:
    # One row per page of a PDF or scanned image: which extractor or OCR engine produced its
    # text, and the OCR queue's state. `attempts` counts OCR runs started on the page (a
    # kill mid-page leaves it waiting with the attempt counted); `claimed_by` is the process
    # reading it now, so a watcher and `dunning ocr` never read the same page at once.
    _script(
        db,
        """
        CREATE TABLE document_pages (
            document_id INTEGER NOT NULL REFERENCES documents(id),
            page INTEGER NOT NULL CHECK (page >= 1),
            state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('waiting', 'done', 'failed')),
            source TEXT,
            text TEXT NOT NULL DEFAULT '',
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by INTEGER,
            claimed_at TEXT,
            read_at TEXT,
            PRIMARY KEY (document_id, page)
        );
        CREATE INDEX document_pages_state ON document_pages(state, document_id, page)
        """,
    )
