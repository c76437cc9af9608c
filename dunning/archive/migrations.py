"""Schema migrations: named functions, applied in order, recorded in `_migrations`."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def prepare(conn: sqlite3.Connection) -> None:
    """The bookkeeping tables: `_migrations` (what ran) and `_maintenance` (work a migration
    asks application code to do after it; an archive made before it existed has none)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    conn.execute("CREATE TABLE IF NOT EXISTS _maintenance (task TEXT PRIMARY KEY)")


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded; returns the names applied."""
    conn = db.conn
    prepare(conn)
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
    """The search index as it was on the day: source columns and a bigram FTS5 table.

    Filling it needs the tokenizer (application code), so the migration only asks for a
    rebuild; `db.open_archive` carries out the `_maintenance` tasks after migrating.
    """
    _script(
        db,
        """
        CREATE TABLE search_source (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id),
            body TEXT NOT NULL,
            title TEXT NOT NULL,
            contract_no TEXT NOT NULL,
            customer TEXT NOT NULL,
            meta TEXT NOT NULL
        );
        CREATE VIRTUAL TABLE search_fts USING fts5(
            body, title, contract_no, customer, meta, content='', tokenize='ascii'
        );
        INSERT OR IGNORE INTO _maintenance (task) VALUES ('reindex')
        """,
    )


@migration
def m004_search_trigram(db: sqlite_utils.Database) -> None:
    """Terms of 3+ characters are looked up in a trigram index, filled by a rebuild."""
    _script(
        db,
        """
        CREATE VIRTUAL TABLE search_tri USING fts5(
            body, title, contract_no, customer, meta, content='',
            tokenize='trigram case_sensitive 1'
        );
        INSERT OR IGNORE INTO _maintenance (task) VALUES ('reindex')
        """,
    )


@migration
def m005_ledger_accounting(db: sqlite_utils.Database) -> None:
    """Row counts per import, credit notes, placeholder names and customer-master history."""
    _script(
        db,
        """
        ALTER TABLE ledger_imports ADD COLUMN rows_read INTEGER;
        ALTER TABLE ledger_imports ADD COLUMN rows_imported INTEGER;
        ALTER TABLE ledger_imports ADD COLUMN rows_skipped TEXT;
        ALTER TABLE ledger_imports ADD COLUMN rows_bad INTEGER;
        ALTER TABLE payments ADD COLUMN kind TEXT NOT NULL DEFAULT 'payment'
            CHECK (kind IN ('payment', 'credit_note', 'opening'));
        ALTER TABLE customers ADD COLUMN name_source TEXT NOT NULL DEFAULT 'ledger'
            CHECK (name_source IN ('placeholder', 'ledger', 'master'));
        UPDATE customers SET name_source = 'placeholder' WHERE name = code;
        UPDATE payments SET natural_key = natural_key || '|1' WHERE natural_key LIKE 'no|%';
        CREATE TABLE customer_changes (
            id INTEGER PRIMARY KEY,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            field TEXT NOT NULL,
            old TEXT,
            new TEXT,
            changed_at TEXT NOT NULL,
            document_id INTEGER REFERENCES documents(id)
        );
        CREATE INDEX customer_changes_customer ON customer_changes(customer_code)
        """,
    )


@migration
def m007_delivery(db: sqlite_utils.Database) -> None:
    # Delivery state lives beside `letters` (whose status CHECK allows only issued/signed):
    # one row per letter once it is sent; owned by dunning.letters.delivery.
    _script(
        db,
        """
        CREATE TABLE letter_delivery (
            letter_id INTEGER PRIMARY KEY REFERENCES letters(id),
            status TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'returned')),
            channel TEXT NOT NULL
                CHECK (channel IN ('ems', 'sf', 'post', 'courier', 'hand', 'email')),
            tracking_no TEXT,
            sent_on TEXT NOT NULL,
            delivered_on TEXT,
            evidence_document_id INTEGER REFERENCES documents(id),
            returned_on TEXT,
            return_reason TEXT,
            reply TEXT CHECK (reply IN ('agreed', 'disputed')),
            reply_on TEXT,
            reply_document_id INTEGER REFERENCES documents(id),
            updated_at TEXT NOT NULL
        );
        CREATE INDEX letter_delivery_tracking ON letter_delivery(tracking_no);
        CREATE TABLE address_flags (
            id INTEGER PRIMARY KEY,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            letter_ref TEXT NOT NULL,
            reason TEXT NOT NULL,
            flagged_on TEXT NOT NULL,
            cleared_at TEXT
        );
        CREATE INDEX address_flags_customer ON address_flags(customer_code)
        """,
    )


@migration
def m006_letter_registry(db: sqlite_utils.Database) -> None:
    # Reference numbers come from a sequence that survives a killed pack (never reused), and
    # every pack run is recorded, so one killed mid-way is found and repaired.
    _script(
        db,
        """
        CREATE TABLE reference_sequence (
            prefix TEXT NOT NULL,
            year INTEGER NOT NULL,
            last INTEGER NOT NULL,
            PRIMARY KEY (prefix, year)
        );
        CREATE TABLE pack_runs (
            id INTEGER PRIMARY KEY,
            pack_dir TEXT NOT NULL,
            first_ref TEXT,
            last_ref TEXT,
            pid INTEGER,
            host TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            state TEXT NOT NULL CHECK (state IN ('writing', 'done', 'abandoned'))
        )
        """,
    )


@migration
def m009_users(db: sqlite_utils.Database) -> None:
    # Web desk accounts (password: scrypt with its own salt and cost parameters, so the cost
    # can rise later without breaking old hashes) and an audit trail of every web write.
    _script(
        db,
        """
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('viewer', 'clerk', 'manager')),
            salt BLOB NOT NULL,
            scrypt_n INTEGER NOT NULL,
            scrypt_r INTEGER NOT NULL,
            scrypt_p INTEGER NOT NULL,
            password_hash BLOB NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log(at)
        """,
    )


@migration
def m010_web_sessions(db: sqlite_utils.Database) -> None:
    # A web session is a row as well as a signed cookie: logging out ends the row, so a copy of
    # the cookie taken before (a shared PC, a proxy log) is dead at once, not in 12 hours.
    _script(
        db,
        """
        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX web_sessions_user ON web_sessions(user)
        """,
    )


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


@migration
def m014_bank(db: sqlite_utils.Database) -> None:
    # Bank statements (SPEC §11). Each imported statement is also a `ledger_imports` row of
    # kind 'bank', so the payments a certain receipt becomes have an import like any other.
    # A receipt is keyed by the bank's serial, else account + time + amount + counterparty:
    # an overlapping statement never adds it twice. `same_key` (account, time, amount, payer's
    # account) finds the row again in an export that gives no serial. `booked_payment_id` is the ERP's own
    # payment row for the same money, once finance has booked it (then the bank's payment
    # rows are gone and the receipt shows both sources).
    _script(
        db,
        """
        CREATE TABLE bank_statements (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            import_id INTEGER NOT NULL REFERENCES ledger_imports(id),
            layout TEXT NOT NULL,
            account TEXT NOT NULL,
            account_name TEXT,
            rows_read INTEGER NOT NULL,
            rows_skipped TEXT NOT NULL,
            receipts_new INTEGER NOT NULL,
            receipts_known INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE bank_receipts (
            id INTEGER PRIMARY KEY,
            dedupe_key TEXT NOT NULL UNIQUE,
            same_key TEXT NOT NULL,
            statement_id INTEGER NOT NULL REFERENCES bank_statements(id),
            source_row INTEGER NOT NULL,
            account TEXT NOT NULL,
            received_on TEXT NOT NULL,
            received_at TEXT,
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            payer_name TEXT NOT NULL DEFAULT '',
            payer_account TEXT NOT NULL DEFAULT '',
            memo TEXT NOT NULL DEFAULT '',
            serial TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('certain', 'probable', 'unmatched', 'confirmed', 'not_customer')),
            customer_code TEXT REFERENCES customers(code),
            grounds TEXT NOT NULL DEFAULT '',
            allocation TEXT NOT NULL DEFAULT '[]',
            applied INTEGER NOT NULL DEFAULT 0,
            booked_payment_id INTEGER REFERENCES payments(id) ON DELETE SET NULL,
            decided_by TEXT,
            decided_at TEXT
        );
        CREATE INDEX bank_receipts_same ON bank_receipts(same_key);
        CREATE INDEX bank_receipts_serial ON bank_receipts(serial);
        CREATE INDEX bank_receipts_booked ON bank_receipts(booked_payment_id);
        CREATE INDEX bank_receipts_status ON bank_receipts(status);
        CREATE INDEX bank_receipts_customer ON bank_receipts(customer_code);
        CREATE TABLE bank_payers (
            kind TEXT NOT NULL CHECK (kind IN ('account', 'name')),
            value TEXT NOT NULL,
            customer_code TEXT NOT NULL REFERENCES customers(code),
            learned_from INTEGER REFERENCES bank_receipts(id),
            learned_at TEXT NOT NULL,
            PRIMARY KEY (kind, value)
        )
        """,
    )
