"""Bank statements in the pipeline: read and check one (in `_parse_all`), record it (in the
pipeline's write transaction), where the letter references of the archive are at hand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dunning.archive.bank.reader import read_statement
from dunning.archive.bank.receipts import check_account, import_statement
from dunning.archive.bank.statement import Statement
from dunning.config import Config
from dunning.letters.registry import letter_customers


def parse_statement(path: Path, config: Config) -> Statement:
    """Read the statement and refuse it unless the account is one of ours."""
    statement = read_statement(path, own_accounts=config.bank_accounts)
    check_account(statement, config.bank_accounts, path.name)
    return statement


def record_statement(
    conn: sqlite3.Connection, statement: Statement, document_id: int, config: Config
) -> str:
    """Store, match and apply the receipts; returns the outcome's label."""
    result = import_statement(
        conn,
        statement,
        document_id,
        letters=letter_customers(conn),
        fee_tolerance=config.bank_fee_tolerance,
    )
    return result.label()


def searchable_text(statement: Statement) -> str:
    """The statement's account, and each receipt's payer, account and memo, once each."""
    parts = [statement.account, statement.account_name or ""]
    for row in statement.receipts:
        parts += [row.payer_name, row.payer_account, row.memo, row.serial or ""]
    return "\n".join(dict.fromkeys(p for p in parts if p))
