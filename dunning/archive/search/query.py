"""Exact full-text search over the archive: every term must occur as a substring.

The index itself (tokens, tables, maintenance) lives in `search_index`; this module turns a
clerk's query into an FTS5 expression, ranks, filters and cuts snippets.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from dunning.archive.cjk import normalize_text
from dunning.archive.search.index import (
    COLUMNS,
    TRIGRAM_MIN,
    fold,
    index_document,
    reindex_all,
    remove_document,
    term_expression,
    trigram_expression,
)
from dunning.errors import DunningError

__all__ = [
    "EmptyQueryError",
    "SearchHit",
    "index_document",
    "parse_terms",
    "reindex_all",
    "remove_document",
    "search",
    "search_ids",
    "unsearchable_count",
]

SNIPPET_CHARS = 60
_SNIPPET_LEAD = 20  # characters of context shown before the first match
MARK_OPEN, MARK_CLOSE = "【", "】"
# Only the newest this-many matches (after filters) are ranked: a term found in nearly every
# document (合同, 公司) would otherwise cost a pass over the whole archive for 20 results.
# Queries with fewer matches are ranked exactly. See benchmarks/search.py.
RANK_CANDIDATES = 100
_K1, _B = 1.2, 0.75  # BM25's usual term-frequency saturation and length normalisation
# documents (id, kind, title, contract_no, customer code), customer name, file name, and the
# indexed fields in COLUMNS order (body first).
_Row = tuple[
    int, str, str | None, str | None, str | None, str | None, str | None, str, str, str, str, str
]


class EmptyQueryError(DunningError):
    """The query holds no search term."""


@dataclass(frozen=True)
class SearchHit:
    """One matching document, best first; `snippet` marks matches as 【match】."""

    document: int
    kind: str
    title: str | None
    contract_no: str | None
    customer: str | None  # customer code
    customer_name: str | None
    snippet: str
    score: float
    plain_snippet: str = ""  # the same text without marks, for --json

    def to_json(self) -> dict[str, object]:
        """The shape of one `search --json` result (and of `GET /api/search`)."""
        return {
            "document": self.document,
            "kind": self.kind,
            "title": self.title,
            "contract_no": self.contract_no,
            "customer": self.customer,
            "customer_name": self.customer_name,
            "snippet": self.plain_snippet or self.snippet,
            "highlighted": self.snippet,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class _Filters:
    kind: str | None
    customer: str | None
    since: dt.date | None
    until: dt.date | None

    def sql(self) -> tuple[str, list[object]]:
        """WHERE clauses over `d` (documents) and `c` (customers), and their parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.kind is not None:
            clauses.append("d.kind = ?")
            params.append(self.kind)
        if self.customer is not None:
            clauses.append("(d.customer_code = ? OR c.name = ?)")
            params.extend([self.customer, self.customer])
        if self.since is not None:
            clauses.append("d.ingested_at >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            # ingested_at is a timestamp: the whole `until` day is included.
            clauses.append("d.ingested_at < ?")
            params.append((self.until + dt.timedelta(days=1)).isoformat())
        return "".join(f" AND {c}" for c in clauses), params


def parse_terms(query: str) -> list[str]:
    """The folded, distinct terms of a query; terms contained in another term are implied.

    Each term gets the normalisation extracted text got (ＨＴ－２０２５ → HT-2025), term by
    term: normalising the whole query would glue "质保金 退还" into one term.
    """
    normalised = (normalize_text(term) for term in query.split())
    terms = sorted({t for n in normalised for t in fold(n).split()}, key=len, reverse=True)
    kept: list[str] = []
    for term in terms:
        if not any(term in longer for longer in kept):
            kept.append(term)
    if not kept:
        raise EmptyQueryError("搜索内容为空：请输入至少一个要查找的词或数字。")
    return kept


@dataclass(frozen=True)
class _Match:
    """Which index answers the query, and the MATCH text asking it for every term."""

    table: str
    terms: tuple[str, ...]

    @classmethod
    def of(cls, terms: Sequence[str]) -> _Match:
        # Trigrams are far more selective than bigrams, but cannot find 1-2 character terms.
        trigram = all(len(t) >= TRIGRAM_MIN for t in terms)
        return cls("search_tri" if trigram else "search_fts", tuple(terms))

    def _term(self, term: str) -> str:
        if self.table == "search_tri":
            return trigram_expression(term)
        return term_expression(term)

    def every_term(self) -> str:
        return " AND ".join(self._term(t) for t in self.terms)


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    kind: str | None = None,
    customer: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Documents holding every term of `query`, best first, with a highlighted snippet.

    Ranking: a term found in the contract number, title, customer or file name puts the
    document in a higher tier (see `metadata_tier`); within a tier, term frequency in the
    text (see `relevance`). Only a bounded set of candidates is ranked (see `_candidates`).
    """
    terms = parse_terms(query)
    match = _Match.of(terms)
    conn: sqlite3.Connection = db.conn
    rows = _candidates(conn, match, _Filters(kind, customer, since, until), limit)
    avg_len = sum(len(_fields(row)[0]) for row in rows) / len(rows) if rows else 0.0
    raw = not _needs_folding(terms)
    scored = [(_score(row, terms, avg_len, raw), row) for row in rows]
    scored.sort(key=lambda pair: (pair[0], pair[1][0]), reverse=True)
    return [_hit(row, score, terms) for score, row in scored[:limit]]


def _candidates(
    conn: sqlite3.Connection, match: _Match, filters: _Filters, limit: int
) -> list[_Row]:
    """The newest matches (after filters): the ones ranked.

    FTS5 yields rowids newest first and stops after the window, so a term found in nearly
    every document (合同, HT-2025) costs a window, not the archive. Queries with fewer
    matches than the window are ranked exactly. (A window of the matches with a term in
    their metadata would cost a walk over every match: FTS5 filters columns per row.)
    """
    where, params = filters.sql()
    window = max(RANK_CANDIDATES, limit)
    expression = match.every_term()
    select = f"""
        SELECT d.id, d.kind, d.title, d.contract_no, d.customer_code, c.name, d.original_name,
               {", ".join(f"s.{column}" for column in COLUMNS)}
    """
    if match.table == "search_tri" and not where:
        # Walking a trigram phrase newest first costs about twice the walk oldest first, and
        # a rare phrase of common trigrams (HT-2025-0005) walks whole doclists: so ask oldest
        # first for one more than the window, which stops early when the matches are many.
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT rowid FROM search_tri WHERE search_tri MATCH ? ORDER BY rowid LIMIT ?",
                [expression, window + 1],
            )
        ]
        if len(ids) <= window:  # every match: no need for the newest-first walk
            sql = f"""{select}
                FROM documents d
                LEFT JOIN customers c ON c.code = d.customer_code
                JOIN search_source s ON s.document_id = d.id
                WHERE d.id IN (SELECT value FROM json_each(?))
                ORDER BY d.id DESC
            """
            # One JSON parameter: a large `limit` may allow more ids than SQL variables.
            return list(conn.execute(sql, [json.dumps(ids)])) if ids else []
    sql = f"""{select}
        FROM {match.table} f
        CROSS JOIN documents d ON d.id = f.rowid
        LEFT JOIN customers c ON c.code = d.customer_code
        JOIN search_source s ON s.document_id = d.id
        WHERE {match.table} MATCH ?{where}
        ORDER BY f.rowid DESC
        LIMIT ?
    """
    # CROSS JOIN keeps FTS5 the outer loop: probing it once per document row (which the
    # planner may choose when the kind index looks attractive) costs seconds.
    return list(conn.execute(sql, [expression, *params, window]))


def metadata_tier(
    terms: Sequence[str], contract_no: str, title: str, customer: str, file_name: str
) -> int:
    """How strongly the terms hit the document's identity: each term counts its best field."""
    tier = 0
    for term in terms:
        if term == contract_no:
            tier += 8
        elif term in contract_no:
            tier += 4
        elif term in title:
            tier += 3
        elif term in customer:
            tier += 2
        elif term in file_name:
            tier += 1
    return tier


def relevance(body: str, terms: Sequence[str], avg_len: float) -> float:
    """BM25's term-frequency part over the (folded) text, summed over the terms.

    No IDF: every candidate holds every term, so IDF would only weigh the terms against each
    other, and counting the documents of a common long phrase costs a scan of all of them.
    """
    norm = _K1 * (1 - _B + _B * len(body) / avg_len) if avg_len else _K1
    score = 0.0
    for term in terms:
        tf = body.count(term)
        score += tf * (_K1 + 1) / (tf + norm)
    return score


def _score(row: _Row, terms: Sequence[str], avg_len: float, raw: bool) -> float:
    """The tier plus relevance squashed into [0, 1): a better tier always ranks first.

    `raw`: the terms need no folding of the text to be found (see `_needs_folding`).
    """
    # The indexed fields are these same values, joined as the index joined them.
    fields = _fields(row)
    body, title, contract_no, customer, meta = fields if raw else (fold(f) for f in fields)
    tier = metadata_tier(terms, contract_no, title, customer, meta)
    rel = relevance(body, terms, avg_len)
    return tier + rel / (1.0 + rel)


def _needs_folding(terms: Sequence[str]) -> bool:
    """Whether finding `terms` in fold(text) can differ from finding them in the text itself.

    Every character fold() changes becomes a lower-case one (checked over all of Unicode), so
    a term with no lower-case character (hanzi, digits) matches a folded character only where
    the character was already itself. Folding ~800 characters of hanzi costs ~3 us, and
    every ranked candidate would pay it. (Ranking only: which documents match is the index's.)
    """
    return any(c.islower() for term in terms for c in term)


def search_ids(
    db: sqlite_utils.Database,
    query: str,
    *,
    kind: str | None = None,
    customer: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[int]:
    """Every matching document id, ascending, unranked (counts, checks, exports)."""
    match = _Match.of(parse_terms(query))
    where, params = _Filters(kind, customer, since, until).sql()
    joins = """
        CROSS JOIN documents d ON d.id = f.rowid
        LEFT JOIN customers c ON c.code = d.customer_code
    """
    sql = f"""
        SELECT f.rowid FROM {match.table} f {joins if where else ""}
        WHERE {match.table} MATCH ?{where}
        ORDER BY f.rowid
    """
    conn: sqlite3.Connection = db.conn
    return [row[0] for row in conn.execute(sql, [match.every_term(), *params])]


def unsearchable_count(db: sqlite_utils.Database) -> int:
    """Documents whose text is not extracted yet (image-only scans waiting for OCR)."""
    conn: sqlite3.Connection = db.conn
    row = conn.execute("SELECT count(*) FROM documents WHERE needs_ocr = 1").fetchone()
    return int(row[0])


def _hit(row: _Row, score: float, terms: Sequence[str]) -> SearchHit:
    doc_id, kind, title, contract_no, code, name = row[:6]
    marked, plain = make_snippet(_fields(row), terms)
    return SearchHit(
        document=doc_id,
        kind=str(kind),
        title=_opt_str(title),
        contract_no=_opt_str(contract_no),
        customer=_opt_str(code),
        customer_name=_opt_str(name),
        snippet=marked,
        score=score,
        plain_snippet=plain,
    )


def _fields(row: _Row) -> tuple[str, str, str, str, str]:
    """The indexed fields of a candidate row, in COLUMNS order (body first)."""
    return row[7], row[8], row[9], row[10], row[11]


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def make_snippet(fields: Sequence[str], terms: Sequence[str]) -> tuple[str, str]:
    """(marked, plain) text around the first match, taken from the first field holding one.

    `fields` are in index order: body first, then title and the metadata fields.
    """
    for field in fields:
        flat = " ".join(field.split("\n"))  # keeps offsets: fold() and this are length-true
        folded = fold(flat)
        starts = [i for t in terms if (i := folded.find(t)) >= 0]
        if starts:
            return _window(flat, folded, min(starts), terms)
    fallback = next((" ".join(f.split()) for f in fields[1:] if f.strip()), "")
    return fallback[:SNIPPET_CHARS], fallback[:SNIPPET_CHARS]


def _window(text: str, folded: str, first: int, terms: Sequence[str]) -> tuple[str, str]:
    start = max(0, first - _SNIPPET_LEAD)
    end = min(len(text), start + SNIPPET_CHARS)
    start = max(0, min(start, end - SNIPPET_CHARS))
    spans = _match_spans(folded, start, end, terms)
    marked: list[str] = ["…"] if start > 0 else []
    pos = start
    for s, e in spans:
        marked += [text[pos:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        pos = e
    marked.append(text[pos:end])
    tail = "…" if end < len(text) else ""
    head = "…" if start > 0 else ""
    return "".join(marked) + tail, head + text[start:end] + tail


def _match_spans(folded: str, start: int, end: int, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Every occurrence of any term within [start, end), clipped and merged."""
    spans: list[tuple[int, int]] = []
    for term in terms:
        i = folded.find(term, max(0, start - len(term) + 1))
        while 0 <= i < end:
            spans.append((max(i, start), min(i + len(term), end)))
            i = folded.find(term, i + 1)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged
