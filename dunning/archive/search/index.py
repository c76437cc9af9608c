"""The full-text index of the archive: tables `search_fts`, `search_tri` and `search_source`.

SQLite's tokenizers cannot give substring semantics for Chinese (unicode61 keeps a run of
hanzi as one token, trigram misses 1-2 character terms), and Python cannot register an FTS5
tokenizer. So the text is tokenized here: every adjacent pair of (case-folded) characters
becomes one bigram token, and the last character of each whitespace-separated run becomes a
unigram token. Tokens are the characters' code points in fixed-width base 36, which FTS5's
`ascii` tokenizer keeps whole and never folds. A term of n >= 2 characters is then the FTS5
phrase of its n-1 bigrams (consecutive positions == a contiguous substring) and a single
character is a prefix query that matches the bigrams starting with it and its unigram.

Bigram phrases are slow when every bigram of a term is in nearly every document (HT-2025-0005:
"ht", "t-", "-2", "20"... are in all contracts). So `search_tri`, a trigram index of the same
fields, answers queries whose terms all have 3+ characters: the trigram tokenizer indexes every
3 characters (whitespace included), so a quoted term is matched as an exact substring.
It indexes our `fold()` of the text with `case_sensitive 1`: folding stays ours, identical
for both indexes and the snippets.

Both indexes are contentless (the token text would be ~8x the text), so deleting a document's
rows needs the exact values it was indexed from: `search_source` keeps them.
SQLite 3.43's `contentless_delete=1` would make that copy unnecessary.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from dunning.errors import NotFoundError

# Column order of search_fts, search_tri and search_source.
COLUMNS = ("body", "title", "contract_no", "customer", "meta")
INDEXES = ("search_fts", "search_tri")  # bigram tokens; trigrams of the folded text

TRIGRAM_MIN = 3  # the shortest term `search_tri` can find

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_WIDTH = 4  # 36**4 > 0x10FFFF: every code point fits


def fold(text: str) -> str:
    """Lower-case `text` one character at a time, keeping its length (offsets stay valid)."""
    lowered = text.lower()
    # str.lower() is per character except where a letter grows (İ) or for final sigma.
    if len(lowered) == len(text) and "Σ" not in text:
        return lowered
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    lowered = c.lower()
    # "İ".lower() is two characters; keep such rare letters as they are.
    return lowered if len(lowered) == 1 else c


@lru_cache(maxsize=1 << 16)  # indexing calls this per character; the alphabet is small
def encode_char(c: str) -> str:
    """The fixed-width base-36 code of one character."""
    n = ord(c)
    out = []
    for _ in range(_WIDTH):
        n, r = divmod(n, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out))


def tokens(text: str) -> str:
    """The token string FTS5 indexes for one field (space-separated bigrams and unigrams)."""
    out: list[str] = []
    # Query terms never hold whitespace, so pairs spanning it are never asked for.
    for run in fold(text).split():
        codes = [encode_char(c) for c in run]
        out.extend(a + b for a, b in pairwise(codes))
        out.append(codes[-1])
    return " ".join(out)


def term_expression(term: str) -> str:
    """The `search_fts` expression matching exactly the fields that hold `term` (folded)."""
    codes = [encode_char(c) for c in term]
    if len(codes) == 1:
        return f'"{codes[0]}"*'
    return '"' + " ".join(a + b for a, b in pairwise(codes)) + '"'


def trigram_expression(term: str) -> str:
    """The `search_tri` expression for a folded term of 3+ characters: a quoted string."""
    if len(term) < TRIGRAM_MIN:
        raise ValueError(f"The trigram index cannot find {term!r}: it is too short.")
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class Source:
    """The searchable fields of one document, exactly as they were indexed."""

    body: str
    title: str
    contract_no: str
    customer: str
    meta: str

    def values(self) -> tuple[str, str, str, str, str]:
        return (self.body, self.title, self.contract_no, self.customer, self.meta)


_SOURCE_SQL = """
SELECT d.title, d.contract_no, d.customer_code, c.name, d.original_name, d.kind, t.text
FROM documents d
LEFT JOIN customers c ON c.code = d.customer_code
LEFT JOIN document_text t ON t.document_id = d.id
"""


def _source_from_row(row: tuple[str | None, ...]) -> Source:
    title, contract_no, code, name, original_name, kind, text = (v or "" for v in row)
    # Newlines split runs, so no term can match across two joined values.
    return Source(
        body=text,
        title=title,
        contract_no=contract_no,
        customer=f"{code}\n{name}",
        meta=f"{original_name}\n{kind}",
    )


def read_source(conn: sqlite3.Connection, document_id: int) -> Source:
    row = conn.execute(_SOURCE_SQL + "WHERE d.id = ?", [document_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Document {document_id} does not exist, so it cannot be indexed.")
    return _source_from_row(row)


def index_document(conn: sqlite3.Connection, document_id: int) -> None:
    """(Re)build the index rows of one document; run inside the caller's write transaction."""
    source = read_source(conn, document_id)
    remove_document(conn, document_id)
    _insert(conn, document_id, source)


def remove_document(conn: sqlite3.Connection, document_id: int) -> None:
    """Drop one document from the index (no-op if absent); inside a write transaction."""
    row = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM search_source WHERE document_id = ?", [document_id]
    ).fetchone()
    if row is None:
        return
    old = Source(*row)
    for table, values in _index_values(old):
        conn.execute(
            f"INSERT INTO {table} ({table}, rowid, {', '.join(COLUMNS)}) "
            "VALUES ('delete', ?, ?, ?, ?, ?, ?)",
            [document_id, *values],
        )
    conn.execute("DELETE FROM search_source WHERE document_id = ?", [document_id])


def reindex_all(conn: sqlite3.Connection) -> int:
    """Rebuild the whole index; inside a write transaction. Returns the documents indexed."""
    for table in INDEXES:
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    conn.execute("DELETE FROM search_source")
    rows = conn.execute(_SOURCE_SQL.replace("SELECT", "SELECT d.id,", 1) + "ORDER BY d.id")
    return index_many(conn, ((row[0], _source_from_row(row[1:])) for row in rows))


def index_many(conn: sqlite3.Connection, sources: Iterable[tuple[int, Source]]) -> int:
    """Insert documents known not to be indexed yet (bulk loads); inside a write transaction."""
    count = 0
    for document_id, source in sources:
        _insert(conn, document_id, source)
        count += 1
    return count


def _insert(conn: sqlite3.Connection, document_id: int, source: Source) -> None:
    placeholders = ", ".join("?" * len(COLUMNS))
    conn.execute(
        f"INSERT INTO search_source (document_id, {', '.join(COLUMNS)}) VALUES (?, {placeholders})",
        [document_id, *source.values()],
    )
    for table, values in _index_values(source):
        conn.execute(
            f"INSERT INTO {table} (rowid, {', '.join(COLUMNS)}) VALUES (?, {placeholders})",
            [document_id, *values],
        )


def _index_values(source: Source) -> list[tuple[str, list[str]]]:
    """What each index table gets for one document: bigram tokens, folded text."""
    return [
        ("search_fts", [tokens(v) for v in source.values()]),
        ("search_tri", [fold(v) for v in source.values()]),
    ]
