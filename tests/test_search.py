"""Exact full-text search over the archive: results equal a substring scan."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import examples

from dunning.archive.db import open_archive, write_transaction
from dunning.archive.migrations import MIGRATIONS, prepare
from dunning.archive.search.query import (
    EmptyQueryError,
    index_document,
    reindex_all,
    remove_document,
    search,
    search_ids,
    unsearchable_count,
)
from dunning.errors import DunningError


@dataclass
class Doc:
    text: str = ""
    kind: str = "contract"
    title: str | None = None
    contract_no: str | None = None
    customer: str | None = None
    original_name: str = "scan.pdf"
    ingested_at: str = "2025-03-01T09:00:00+00:00"
    needs_ocr: int = 0
    extra: dict[str, str] = field(default_factory=dict)


CUSTOMERS = {"C001": "杭州华盛机械有限公司", "C002": "苏州恒通电子有限公司"}


def _add_customers(db: sqlite_utils.Database, customers: dict[str, str]) -> None:
    with write_transaction(db) as conn:
        for code, name in customers.items():
            conn.execute(
                "INSERT INTO customers (code, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [code, name, "2025-01-01", "2025-01-01"],
            )


def add(db: sqlite_utils.Database, doc: Doc) -> int:
    """Insert one document the way ingest does, and index it in the same transaction."""
    with write_transaction(db) as conn:
        cur = conn.execute(
            "INSERT INTO documents (sha256, kind, original_name, stored_path, size, title,"
            " customer_code, contract_no, needs_ocr, ingested_at)"
            " VALUES (lower(hex(randomblob(32))), ?, ?, 'store/x', 1, ?, ?, ?, ?, ?)",
            [doc.kind, doc.original_name, doc.title, doc.customer, doc.contract_no,
             doc.needs_ocr, doc.ingested_at],
        )  # fmt: skip
        doc_id = cur.lastrowid
        assert doc_id is not None
        conn.execute("INSERT INTO document_text VALUES (?, ?)", [doc_id, doc.text])
        index_document(conn, doc_id)
    return doc_id


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    archive = open_archive(tmp_path / "archive.db")
    _add_customers(archive, CUSTOMERS)
    return archive


def ids(db: sqlite_utils.Database, query: str, **filters: object) -> set[int]:
    return {hit.document for hit in search(db, query, limit=1000, **filters)}  # type: ignore[arg-type]


def test_two_character_chinese_terms_match_only_contiguous_occurrences(
    db: sqlite_utils.Database,
) -> None:
    hangzhou = add(db, Doc("货物送达杭州市西湖区。"))
    apart = add(db, Doc("杭城东站，州府路一号。"))  # 杭 and 州, not together
    contract = add(db, Doc("本合同一式四份。"))
    add(db, Doc("合格后同意付款。"))
    assert ids(db, "杭州") == {hangzhou}
    assert ids(db, "合同") == {contract}
    assert apart not in ids(db, "杭州")


def test_three_and_more_characters(db: sqlite_utils.Database) -> None:
    penalty = add(db, Doc("逾期付款的，应按日支付违约金。"))
    add(db, Doc("双方互不承担违约责任。"))
    assert ids(db, "违约金") == {penalty}
    assert ids(db, "逾期付款的，应按日") == {penalty}
    assert ids(db, "违约") == {penalty, penalty + 1}


def test_single_characters_anywhere_including_the_last(db: sqlite_utils.Database) -> None:
    middle = add(db, Doc("提交仲裁委员会"))
    last = add(db, Doc("本条款由甲方解释仲"))
    alone = add(db, Doc("仲"))
    add(db, Doc("协商解决"))
    assert ids(db, "仲") == {middle, last, alone}
    assert ids(db, "会") == {middle}


def test_contract_numbers_and_their_parts(db: sqlite_utils.Database) -> None:
    own = add(db, Doc("购销合同正文", contract_no="HT-2025-0005"))
    cites = add(db, Doc("本协议为HT-2025-0005号合同的补充协议。"))
    other = add(db, Doc("合同编号：HT-2025-0050", contract_no="HT-2025-0050"))
    older = add(db, Doc("合同编号：HT-2024-0005"))
    assert ids(db, "HT-2025-0005") == {own, cites}
    assert ids(db, "T-2025") == {own, cites, other}
    assert ids(db, "0005") == {own, cites, older}
    assert ids(db, "2025-005") == {other}  # 2025-0050
    assert ids(db, "2025-05") == set()


def test_mixed_latin_and_chinese(db: sqlite_utils.Database) -> None:
    lamps = add(db, Doc("乙方供应LED灯具200套，符合GB/T 9468-2008。"))
    add(db, Doc("LED 灯具"))  # a space breaks the term
    assert ids(db, "LED灯具") == {lamps}
    assert ids(db, "GB/T") == {lamps}
    assert ids(db, "灯具200套") == {lamps}


def test_every_term_must_occur(db: sqlite_utils.Database) -> None:
    both = add(db, Doc("质保金于质保期满后三十日内退还。"))
    add(db, Doc("质保金为合同总额的百分之五。"))
    add(db, Doc("多付款项应予退还。"))
    assert ids(db, "质保金 退还") == {both}
    assert ids(db, "  退还\u3000质保金  ") == {both}  # any whitespace separates terms


@pytest.mark.parametrize(
    "query",
    ['AND', 'OR', 'NOT', '-', '"', '*', '(', ')', ':', 'body:合同', 'NEAR(合同', '"合同',
     '合同*', '-违约金', '(质保金)', '^合同', 'a OR b', '{title}', '%', '_'],
)  # fmt: skip
def test_fts_operators_in_input_are_literal(db: sqlite_utils.Database, query: str) -> None:
    texts = [
        "合同 AND OR NOT",
        "body:合同 (质保金) -违约金",
        '"合同* NEAR(合同 ^合同',
        "{title} % _",
    ]
    doc_ids = [add(db, Doc(t)) for t in texts]
    expected = {
        i
        for i, t in zip(doc_ids, texts, strict=True)
        if all(q in t.lower() for q in query.lower().split())
    }
    assert ids(db, query) == expected
    assert set(search_ids(db, query)) == expected


def test_literal_operator_words_are_found(db: sqlite_utils.Database) -> None:
    doc = add(db, Doc("terms AND conditions (第三条) -附件-"))
    add(db, Doc("terms and"))
    assert ids(db, "AND") == {doc, doc + 1}
    assert ids(db, "(第三条)") == {doc}
    assert ids(db, "-附件-") == {doc}


def test_latin_is_case_insensitive(db: sqlite_utils.Database) -> None:
    doc = add(db, Doc("Payment Terms: Net 30", contract_no="HT-2025-0007"))
    assert ids(db, "payment") == {doc}
    assert ids(db, "NET") == {doc}
    assert ids(db, "ht-2025-0007") == {doc}


def test_full_width_queries_find_normalised_text(db: sqlite_utils.Database) -> None:
    doc = add(db, Doc("合同编号：HT-2025-0009"))
    assert ids(db, "ＨＴ－２０２５－０００９") == {doc}
    assert ids(db, "ht－2025") == {doc}


def test_metadata_is_searchable(db: sqlite_utils.Database) -> None:
    doc = add(
        db,
        Doc("", title="年度框架协议", contract_no="HT-2025-0100", customer="C002",
            original_name="框架协议-扫描件.pdf", kind="ledger"),
    )  # fmt: skip
    add(db, Doc("无关内容"))
    for query in ["框架协议", "HT-2025-0100", "C002", "恒通电子", "扫描件", "ledger"]:
        assert ids(db, query) == {doc}, query


def test_terms_do_not_match_across_fields(db: sqlite_utils.Database) -> None:
    add(db, Doc("同意", title="合"))
    add(db, Doc("甲方", customer="C001"))  # code C001, name 杭州华盛…: "1杭" spans both
    assert ids(db, "合同") == set()
    assert ids(db, "1杭") == set()


def test_filters(db: sqlite_utils.Database) -> None:
    march = add(db, Doc("违约金条款", customer="C001", ingested_at="2025-03-31T23:59:00+00:00"))
    april = add(db, Doc("违约金条款", customer="C002", ingested_at="2025-04-01T00:00:00+00:00"))
    letter = add(db, Doc("违约金催告", kind="letter", customer="C001"))
    assert ids(db, "违约金", kind="letter") == {letter}
    assert ids(db, "违约金", customer="C001") == {march, letter}
    assert ids(db, "违约金", customer="苏州恒通电子有限公司") == {april}
    assert ids(db, "违约金", customer="C999") == set()
    assert ids(db, "违约金", since=dt.date(2025, 4, 1)) == {april}
    assert ids(db, "违约金", until=dt.date(2025, 3, 31)) == {march, letter}
    assert set(search_ids(db, "违约金", kind="contract", customer="C002")) == {april}


def test_ranking_prefers_metadata_and_frequent_matches(db: sqlite_utils.Database) -> None:
    for n in range(6):  # documents without the term give it a meaningful IDF
        add(db, Doc(f"其他文件{n}", title=f"其他说明{n}"))
    filler = "货物验收合格后付款。" * 8
    once = add(db, Doc(filler + "违约金"))
    often = add(db, Doc(filler.replace("付款", "违约金")))
    titled = add(db, Doc(filler + "违约金", title="违约金计算说明"))
    order = [hit.document for hit in search(db, "违约金")]
    assert order == [titled, often, once]
    scores = [hit.score for hit in search(db, "违约金")]
    assert scores == sorted(scores, reverse=True)


def test_contract_number_column_ranks_first(db: sqlite_utils.Database) -> None:
    citing = [add(db, Doc(f"第{n}号补充协议，依据HT-2025-0042号合同。")) for n in range(5)]
    contract = add(db, Doc("购销合同", contract_no="HT-2025-0042"))
    hits = search(db, "HT-2025-0042")
    assert hits[0].document == contract
    assert {h.document for h in hits[1:]} == set(citing)


def test_limit_keeps_the_best(db: sqlite_utils.Database) -> None:
    for n in range(30):
        add(db, Doc(f"第{n}份文件，含合同。"))
    assert len(search(db, "合同", limit=7)) == 7
    assert len(search_ids(db, "合同")) == 30


def test_only_the_newest_matches_are_ranked_beyond_the_window(
    db: sqlite_utils.Database,
) -> None:
    # Trigram queries first ask for the oldest window+1 matches; past the window, the newest
    # window of matches is ranked, as for every other query.
    from dunning.archive.search.query import RANK_CANDIDATES

    with write_transaction(db) as conn:
        conn.executemany(
            "INSERT INTO documents (id, sha256, kind, original_name, stored_path, size,"
            " ingested_at) VALUES (?, ?, 'contract', 'scan.pdf', 'store/x', 1, ?)",
            [(n, f"{n:064x}", "2025-03-01T09:00:00+00:00") for n in range(1, 106)],
        )
        conn.executemany(
            "INSERT INTO document_text VALUES (?, ?)",
            # The oldest documents mention the term most often: they would rank first.
            [(n, "违约金" * (200 - n)) for n in range(1, 106)],
        )
        reindex_all(conn)
    for query in ("违约金", "约金 违约"):  # trigram, bigram
        hits = search(db, query, limit=5)
        oldest_ranked = 105 - RANK_CANDIDATES + 1
        assert [h.document for h in hits] == list(range(oldest_ranked, oldest_ranked + 5))
        everything = search(db, query, limit=10**6)
        assert [h.document for h in everything] == list(range(1, 106))


def test_snippet_highlights_the_match_around_it(db: sqlite_utils.Database) -> None:
    text = "甲" * 100 + "逾期付款应支付违约金，按日计算" + "乙" * 100
    add(db, Doc(text, title="购销合同", contract_no="HT-1", customer="C001"))
    (hit,) = search(db, "违约金")
    assert "【违约金】" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert 55 <= len(hit.plain_snippet) <= 65
    assert hit.plain_snippet == hit.snippet.replace("【", "").replace("】", "")
    assert (hit.title, hit.contract_no, hit.customer, hit.customer_name) == (
        "购销合同", "HT-1", "C001", "杭州华盛机械有限公司",
    )  # fmt: skip
    assert hit.kind == "contract"


def test_snippet_marks_every_term_and_keeps_original_case(db: sqlite_utils.Database) -> None:
    add(db, Doc("Invoice INV-7 质保金 to be returned; 质保金 returned"))
    (hit,) = search(db, "inv 质保金")
    assert hit.snippet == "【Inv】oice 【INV】-7 【质保金】 to be returned; 【质保金】 returned"


def test_snippet_falls_back_to_metadata(db: sqlite_utils.Database) -> None:
    add(db, Doc("正文无关", title="2025年度框架协议", customer="C002"))
    (hit,) = search(db, "框架")
    assert hit.snippet == "2025年度【框架】协议"
    (by_name,) = search(db, "恒通")
    assert "【恒通】" in by_name.snippet


def test_reindex_after_text_changes(db: sqlite_utils.Database) -> None:
    doc = add(db, Doc("旧文本：违约金"))
    with write_transaction(db) as conn:
        conn.execute(
            "UPDATE document_text SET text = '新文本：质保金' WHERE document_id = ?", [doc]
        )
        conn.execute("UPDATE documents SET title = '补充协议' WHERE id = ?", [doc])
        index_document(conn, doc)
    assert ids(db, "违约金") == set()
    assert ids(db, "质保金") == {doc}
    assert ids(db, "补充协议") == {doc}
    assert search(db, "质保金")[0].snippet == "新文本：【质保金】"


def test_reindex_all_rebuilds_the_same_index(db: sqlite_utils.Database) -> None:
    docs = [add(db, Doc(t)) for t in ["合同甲", "合同乙", "违约金"]]
    before = [(h.document, h.score) for h in search(db, "合同")]
    with write_transaction(db) as conn:
        assert reindex_all(conn) == len(docs)
    assert [(h.document, h.score) for h in search(db, "合同")] == before
    assert ids(db, "违约金") == {docs[2]}


def test_remove_document(db: sqlite_utils.Database) -> None:
    gone, kept = add(db, Doc("质保金条款")), add(db, Doc("质保金条款"))
    with write_transaction(db) as conn:
        remove_document(conn, gone)
        remove_document(conn, gone)  # removing twice is harmless
    assert ids(db, "质保金") == {kept}
    assert ids(db, "条款") == {kept}


def test_index_document_rolls_back_with_the_callers_transaction(
    db: sqlite_utils.Database,
) -> None:
    doc = add(db, Doc("旧条款"))
    with pytest.raises(RuntimeError), write_transaction(db) as conn:
        conn.execute("UPDATE document_text SET text = '新条款' WHERE document_id = ?", [doc])
        index_document(conn, doc)
        raise RuntimeError("ingest failed later")
    assert ids(db, "旧条款") == {doc}
    assert ids(db, "新条款") == set()


def test_index_document_of_a_missing_document(db: sqlite_utils.Database) -> None:
    with pytest.raises(DunningError, match="999"), write_transaction(db) as conn:
        index_document(conn, 999)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_a_clear_error(db: sqlite_utils.Database, query: str) -> None:
    with pytest.raises(EmptyQueryError, match="搜索内容为空"):
        search(db, query)
    assert issubclass(EmptyQueryError, DunningError)


def test_unsearchable_count(db: sqlite_utils.Database) -> None:
    add(db, Doc("", needs_ocr=1, original_name="scan1.pdf"))
    add(db, Doc("", needs_ocr=1, original_name="scan2.pdf"))
    add(db, Doc("合同", original_name="合同.pdf"))
    assert unsearchable_count(db) == 2
    assert len(ids(db, "scan")) == 2  # still found by file name


def old_archive(path: Path, upto: str, texts: list[tuple[str, str | None]]) -> list[int]:
    """A real archive built by the migrations up to `upto`, holding documents as then stored."""
    db = open_archive(path, migrate_schema=False)
    conn = db.conn
    prepare(conn)
    for fn in MIGRATIONS:
        fn(db)
        conn.execute("INSERT INTO _migrations VALUES (?, '2025-01-01')", [fn.__name__])
        if fn.__name__ == upto:
            break
    ids = []
    for text, contract in texts:
        cur = conn.execute(
            "INSERT INTO documents (sha256, kind, original_name, stored_path, size,"
            " contract_no, ingested_at) VALUES (lower(hex(randomblob(32))), 'contract',"
            " 'a.pdf', 'store/x', 1, ?, '2025-01-01')",
            [contract],
        )
        conn.execute("INSERT INTO document_text VALUES (?, ?)", [cur.lastrowid, text])
        ids.append(int(cur.lastrowid or 0))
    db.conn.close()
    return ids


def test_migration_indexes_documents_already_in_an_older_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    (doc,) = old_archive(path, "m002_collection", [("旧档案里的合同", None)])
    upgraded = open_archive(path)
    assert ids(upgraded, "合同") == {doc}
    assert ids(upgraded, "旧档案") == {doc}


def test_migration_adds_the_trigram_index_to_an_m003_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    doc, other = old_archive(
        path, "m003_search", [("旧档案里的合同", "HT-2024-0007"), ("新的补充协议", None)]
    )
    upgraded = open_archive(path)
    assert ids(upgraded, "ht-2024-0007") == {doc}
    assert ids(upgraded, "合同") == {doc}
    with write_transaction(upgraded) as conn:  # the new index is maintained from now on
        remove_document(conn, doc)
    assert ids(upgraded, "旧档案") == set()
    assert search_ids(upgraded, "补充协议") == [other]


def test_terms_of_three_or_more_characters_use_the_trigram_index(
    db: sqlite_utils.Database,
) -> None:
    quoted = add(db, Doc('他说"HT-2025"和*号', contract_no="HT-2025-0001"))
    add(db, Doc("HT-2024 HT 2025"))
    assert ids(db, "ht-2025") == {quoted}
    assert ids(db, '"ht-2025"和*') == {quoted}
    assert ids(db, "ht-2025 说") == {quoted}  # mixed lengths: the bigram index
    assert search(db, "HT-2025-0001")[0].document == quoted


# --- the property: search equals a brute-force substring scan --------------------------------

ALPHABET = "杭州合同违约金质保退还aAbBzZ019-"
TEXT = st.text(alphabet=ALPHABET + " \n", max_size=40)
DOCS = st.lists(
    st.tuples(
        TEXT, st.none() | st.text(ALPHABET, max_size=8), st.sampled_from([None, "C001", "C002"])
    ),
    min_size=1,
    max_size=8,
)


def _fold(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def brute_force(docs: dict[int, list[str]], query: str) -> set[int]:
    terms = _fold(query).split()
    return {
        doc_id
        for doc_id, fields in docs.items()
        if all(any(t in _fold(f) for f in fields) for t in terms)
    }


@pytest.fixture(scope="module")
def shared_db() -> Iterator[sqlite_utils.Database]:
    with tempfile.TemporaryDirectory() as tmp:
        archive = open_archive(Path(tmp) / "archive.db")
        _add_customers(archive, CUSTOMERS)
        yield archive
        archive.conn.close()


def _replace_all(
    db: sqlite_utils.Database, docs: list[tuple[str, str | None, str | None]]
) -> dict[int, list[str]]:
    with write_transaction(db) as conn:
        for (old,) in conn.execute("SELECT id FROM documents").fetchall():
            remove_document(conn, old)
        conn.execute("DELETE FROM document_text")
        conn.execute("DELETE FROM documents")
    fields: dict[int, list[str]] = {}
    for n, (text, title, customer) in enumerate(docs):
        name = f"f{n}.pdf"
        doc_id = add(db, Doc(text, title=title, customer=customer, original_name=name))
        fields[doc_id] = [
            text,
            title or "",
            name,
            "contract",
            customer or "",
            CUSTOMERS.get(customer or "", ""),
        ]
    return fields


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(docs=DOCS, data=st.data())
def test_search_equals_a_substring_scan(
    shared_db: sqlite_utils.Database,
    docs: list[tuple[str, str | None, str | None]],
    data: st.DataObject,
) -> None:
    fields = _replace_all(shared_db, docs)
    texts = [t for t, _, _ in docs if t.strip()]
    drawn = (
        st.sampled_from(texts).flatmap(
            lambda t: st.tuples(st.integers(0, len(t) - 1), st.integers(1, 6)).map(
                lambda ij: t[ij[0] : ij[0] + ij[1]]
            )
        )
        if texts
        else st.nothing()
    )
    term = drawn | st.text(ALPHABET, min_size=1, max_size=4)
    terms = data.draw(st.lists(term, min_size=1, max_size=3))
    query = " ".join(terms)
    if not query.split():
        return
    expected = brute_force(fields, query)
    assert {hit.document for hit in search(shared_db, query, limit=1000)} == expected
    assert set(search_ids(shared_db, query)) == expected
