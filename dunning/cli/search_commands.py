"""Commands to find things again: search, show, open."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from typing import Any

import click

from dunning.archive.contracts.ocr_engines import choose_engine, missing_engine_message
from dunning.archive.contracts.pages import QueueCounts, queue_counts
from dunning.archive.db import open_archive
from dunning.archive.documents import stored_original
from dunning.archive.ledger.rows import RowCounts
from dunning.archive.search.query import search as search_archive
from dunning.archive.search.query import unsearchable_count
from dunning.cli import main
from dunning.cli.output import DATE, DOCUMENT_ID, current_desk, echo_json, json_option
from dunning.vocabulary import (
    DOCUMENT_FIELDS,
    DOCUMENT_KINDS,
    LEDGER_KINDS,
    LETTER_LEVELS,
    PAGE_STATES,
    YES_NO,
    row_summary,
    title,
)
from dunning.workflow.records import document_record


@main.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(["contract", "ledger", "receipt", "letter", "einvoice"]),
    help="Only this kind of document.",
)
@click.option("--customer", help="Only this customer (code or exact name).")
@click.option("--since", type=DATE, help="Archived on or after this day.")
@click.option("--until", type=DATE, help="Archived on or before this day.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@json_option
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    kind: str | None,
    customer: str | None,
    since: dt.date | None,
    until: dt.date | None,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search of contracts, ledgers and letters; every word must occur.

    Chinese works without spaces: 杭州, 违约金, 质保金 退还, HT-2025-0005.

    Example: dunning search 违约金 --customer C001
    """
    from dunning.archive.accounts import get_customer
    from dunning.letters.registry import find_letters, letter_hit_json

    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        # A code in any case or part of a name: one customer, or a "did you mean" error.
        code = get_customer(db, customer).code if customer else None
        letters = (
            []
            if kind not in (None, "letter")
            else find_letters(db, " ".join(query), customer=code, limit=limit)
        )
        hits = search_archive(
            db,
            " ".join(query),
            kind=kind,
            customer=code,
            since=since,
            until=until,
            limit=limit,
        )
        pending = unsearchable_count(db)
        queue = queue_counts(db.conn)
    if as_json:
        # Letters found by reference, kind or customer follow the documents, as extra entries.
        echo_json([h.to_json() for h in hits] + [letter_hit_json(*found) for found in letters])
    else:
        for letter, name in letters:
            kind_title = LETTER_LEVELS.get(letter.level_name, letter.level_name)
            click.echo(
                f"[函件] {letter.ref} · {kind_title} · {letter.customer} {name}"
                f" · {letter.issued_on.isoformat()}"
            )
        for h in hits:
            who = " ".join(filter(None, [h.customer, h.customer_name]))
            head = " · ".join(filter(None, [h.kind, h.contract_no, who, h.title]))
            click.echo(f"[{h.document}] {head}")
            click.echo(f"    {h.snippet}")
        more = "（用 --limit 看更多）" if len(hits) == limit else ""
        click.echo(f"{len(hits)} 个文件" + (f"，{len(letters)} 封函件" if letters else "") + more)
    for note in ocr_notes(pending, queue, desk.config.ocr_engine, desk.config.ocr_languages):
        click.echo(f"说明：{note}", err=True)


@main.command()
@click.argument("document_id", metavar="ID", type=DOCUMENT_ID)
@json_option
@click.pass_context
def show(ctx: click.Context, document_id: int, as_json: bool) -> None:
    """Show an archived document's record: kind, names, hash, customer, contract, text.

    Example: dunning show 12
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        record = document_record(db, desk.root, document_id)
    if as_json:
        echo_json(record)
        return
    keys = (
        "document",
        "kind",
        "title",
        "original_name",
        "customer_code",
        "customer_name",
        "contract_no",
        "pages",
        "needs_ocr",
        "size",
        "sha256",
        "ingested_at",
        "source_path",
        "stored_file",
    )
    for key in keys:
        if record[key] not in (None, ""):
            _field(key, _shown_value(key, record[key]))
    for key, value in record["meta"].items():
        if key == "row_counts" and isinstance(value, dict):
            counts = RowCounts.from_json(value)
            value = row_summary(counts.read, counts.imported, counts.skipped, counts.bad)
        if value not in (None, "", []):
            _field(key, _shown_value(key, value))
    for page in record["page_states"]:
        _field(DOCUMENT_FIELDS["page"].format(page["page"]), _page_line(page))
    if record["signs_letters"]:
        _field("signs_letters", "、".join(record["signs_letters"]))
    if record["text_preview"]:
        click.echo(
            f"\n{record['text_preview']}…"
            if record["text_chars"] > 300
            else f"\n{record['text_preview']}"
        )


def _field(key: str, value: object) -> None:
    """One `标题：值` line of `dunning show`, titles right-aligned (a CJK character is two wide)."""
    name = DOCUMENT_FIELDS.get(key, key)
    pad = max(0, 14 - sum(2 if ord(ch) > 0x2E80 else 1 for ch in name))
    click.echo(f"{' ' * pad}{name}：{value}")


def _shown_value(key: str, value: object) -> object:
    if isinstance(value, bool):
        return YES_NO[value]
    if key == "kind":
        return title(DOCUMENT_KINDS, str(value))
    if key == "ledger_kind":
        return title(LEDGER_KINDS, str(value))
    if key == "parties" and isinstance(value, list):
        return "；".join("：".join(map(str, party)) for party in value)
    return value


def _page_line(page: dict[str, Any]) -> str:
    source = page["source"] or "无文字"
    line = f"{title(PAGE_STATES, page['state'])}，{source}，{page['chars']} 个字符"
    if page["attempts"]:
        line += f"，已识别 {page['attempts']} 次"
    return line + (f"：{page['error']}" if page["error"] else "")


def ocr_notes(pending: int, queue: QueueCounts, engine: str, languages: str) -> list[str]:
    """What `search` says about documents it cannot search (fully) yet."""
    notes = []
    if queue.pages:
        how = (
            "请运行 `dunning ocr`，或让 `dunning watch` 一直运行"
            if choose_engine(engine, languages)
            else missing_engine_message(engine)
        )
        notes.append(
            f"{queue.documents} 份文档有 {queue.pages} 页等待 OCR 识别，暂时不能全文搜索：{how}"
        )
    if queue.failed:
        notes.append(
            f"{queue.failed} 页 OCR 识别失败（用 `dunning show 编号` 查看原因；"
            "`dunning ocr --all` 重新识别）"
        )
    older = pending - queue.documents
    if older > 0 and not queue.failed:
        notes.append(f"另有 {older} 份文档需要 OCR 识别：请运行 `dunning ocr`")
    return notes


@main.command("open")
@click.argument("document_id", metavar="ID", type=DOCUMENT_ID)
@click.option("--path", "path_only", is_flag=True, help="Only print the stored file's path.")
@click.pass_context
def open_document(ctx: click.Context, document_id: int, path_only: bool) -> None:
    """Open a document's stored original (or print its path).

    The store is read-only: save a copy before editing.

    Example: dunning open 12      or      dunning open 12 --path
    """
    desk = current_desk(ctx)
    with open_archive(desk.db_path) as db:
        path = stored_original(db, desk.root, document_id)
    opener = _opener()
    if path_only or opener is None or not sys.stdout.isatty():
        click.echo(str(path))
        return
    subprocess.Popen([*opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    click.echo(f"已打开 {path}")


def _opener() -> list[str] | None:
    if sys.platform == "darwin":
        return ["open"]
    if os.name == "nt":  # pragma: no cover - not exercised on Linux CI
        return ["cmd", "/c", "start", ""]
    found = shutil.which("xdg-open")
    return [found] if found and os.environ.get("DISPLAY") else None
