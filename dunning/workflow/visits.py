"""上门催收: a visit planned (day, people, materials), approved by a manager, then done.

This module owns the `visits` table. The plan is what the seed asks for (上门催收方案 … 交由
常务副总审批): who goes, when, with which papers; a manager approves or refuses it; the
到访回执单 is printed for the visit from the desk's `visit` template; doing the visit records
a 上门 entry in the collection log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import get_customer
from dunning.archive.db import write_transaction
from dunning.dates import refuse_future
from dunning.desk import Desk
from dunning.errors import DunningError, NotFoundError
from dunning.safenames import safe_name
from dunning.vocabulary import VISIT_STATUS
from dunning.workflow.log import add_entry

MAX_TEXT = 500
DEFAULT_MATERIALS = "对账单、合同复印件、催款函、到访回执单"


class VisitError(DunningError):
    """A visit step that does not fit the visit's state; nothing was changed."""


@dataclass(frozen=True)
class Visit:
    id: int
    customer: str
    planned_on: dt.date
    people: str
    materials: str
    purpose: str
    status: str  # a key of vocabulary.VISIT_STATUS
    planned_by: str | None
    decided_by: str | None
    decision_note: str | None
    done_on: dt.date | None
    outcome: str | None
    receipt_path: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.customer,
            "planned_on": self.planned_on.isoformat(),
            "people": self.people,
            "materials": self.materials,
            "purpose": self.purpose,
            "status": self.status,
            "status_title": VISIT_STATUS[self.status],
            "planned_by": self.planned_by,
            "decided_by": self.decided_by,
            "decision_note": self.decision_note,
            "done_on": self.done_on.isoformat() if self.done_on else None,
            "outcome": self.outcome,
            "receipt": self.receipt_path,
        }


_COLUMNS = (
    "id, customer_code, planned_on, people, materials, purpose, status, planned_by,"
    " decided_by, decision_note, done_on, outcome, receipt_path"
)


def _visit(row: Any) -> Visit:
    return Visit(
        int(row[0]), str(row[1]), dt.date.fromisoformat(row[2]), row[3], row[4], row[5],
        row[6], row[7], row[8], row[9], dt.date.fromisoformat(row[10]) if row[10] else None,
        row[11], row[12],
    )  # fmt: skip


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _text(value: str, what: str, *, required: bool = False) -> str:
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise VisitError(f"请填写{what}。")
    if len(cleaned) > MAX_TEXT:
        raise VisitError(f"{what}最多 {MAX_TEXT} 个字。")
    return cleaned


def get_visit(db: sqlite_utils.Database | Any, visit_id: int) -> Visit:
    row = db.execute(f"SELECT {_COLUMNS} FROM visits WHERE id = ?", [visit_id]).fetchone()
    if row is None:
        raise NotFoundError(f"没有编号为 {visit_id} 的上门催收计划。")
    return _visit(row)


def list_visits(
    db: sqlite_utils.Database, *, code: str | None = None, status: str | None = None
) -> list[Visit]:
    """Visits by planned day (latest first), of one customer or all, of one status or all."""
    where, params = [], []
    if code is not None:
        where.append("customer_code = ?")
        params.append(get_customer(db, code).code)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM visits{clause} ORDER BY planned_on DESC, id DESC", params
    ).fetchall()
    return [_visit(r) for r in rows]


def plan_visit(
    db: sqlite_utils.Database,
    code: str,
    *,
    on: dt.date,
    people: str,
    materials: str = DEFAULT_MATERIALS,
    purpose: str = "",
    by: str | None = None,
    today: dt.date,
) -> Visit:
    """A visit to `code` on `on` (today or later), waiting for a manager's approval."""
    if on < today:
        raise VisitError(f"上门日期 {on.isoformat()} 已经过去：计划今天或以后的日期。")
    who = _text(people, "上门人员", required=True)
    papers = _text(materials, "携带材料") or DEFAULT_MATERIALS
    why = _text(purpose, "上门事由")
    with write_transaction(db) as conn:
        customer = get_customer(conn, code).code
        cursor = conn.execute(
            "INSERT INTO visits (customer_code, planned_on, people, materials, purpose,"
            " planned_by, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [customer, on.isoformat(), who, papers, why, by, _now()],
        )
        visit_id = int(cursor.lastrowid or 0)
    return get_visit(db, visit_id)


def decide_visit(
    db: sqlite_utils.Database, visit_id: int, *, approve: bool, by: str, note: str = ""
) -> Visit:
    """A manager approves (or refuses) a planned visit."""
    with write_transaction(db) as conn:
        visit = get_visit(conn, visit_id)
        if visit.status != "planned":
            raise VisitError(
                f"上门计划 {visit_id} 已是“{VISIT_STATUS[visit.status]}”，不能再审批。"
            )
        conn.execute(
            "UPDATE visits SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?"
            " WHERE id = ?",
            ["approved" if approve else "rejected", by, _now(), _text(note, "审批意见"), visit_id],
        )
    return get_visit(db, visit_id)


def complete_visit(
    db: sqlite_utils.Database,
    visit_id: int,
    *,
    on: dt.date,
    outcome: str,
    by: str | None = None,
    today: dt.date,
    allow_future: bool = False,
) -> Visit:
    """The approved visit took place on `on`: recorded, and logged as 上门 for the customer."""
    refuse_future(on, today, "上门日期", allow=allow_future)
    result = _text(outcome, "上门结果", required=True)
    with write_transaction(db) as conn:
        visit = get_visit(conn, visit_id)
        if visit.status != "approved":
            raise VisitError(
                f"上门计划 {visit_id} 是“{VISIT_STATUS[visit.status]}”：经主管批准后才能登记上门。"
            )
        conn.execute(
            "UPDATE visits SET status = 'done', done_on = ?, outcome = ? WHERE id = ?",
            [on.isoformat(), result, visit_id],
        )
        note = f"上门催收（{visit.people}）：{result}"
        add_entry(conn, visit.customer, kind="visit", note=note, by=by, on=on)
    return get_visit(db, visit_id)


def write_visit_receipt(desk: Desk, db: sqlite_utils.Database, visit_id: int) -> Path:
    """The 到访回执单 for the visit, from the desk's `visit` template, in out/visits/."""
    from dunning.letters import registry
    from dunning.letters.context import build_context
    from dunning.letters.letter_input import contracts_of, letter_input
    from dunning.letters.pack import plan_pack, template_path
    from dunning.letters.render import render_letter

    visit = get_visit(db, visit_id)
    plan = plan_pack(
        db, desk.config, as_of=visit.planned_on, customers=[visit.customer], allow_no_address=True
    )
    if not plan.candidates:
        raise VisitError(f"客户 {visit.customer} 没有应收款，无需打印到访回执单。")
    cand = plan.candidates[0]
    levels = desk.config.levels
    level = levels[max(min(cand.decision.current_level, len(levels)), 1) - 1]
    sent = registry.letters(db, customer=visit.customer)
    ref = sent[-1].ref if sent else "—"
    contracts = contracts_of(db, visit.customer, cand.aging)
    context = build_context(
        letter_input(desk.config, visit.planned_on, cand, level, ref, contracts)
    )
    body = render_letter(template_path(desk, "visit"), context)
    folder = desk.out / "visits"
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(f"到访回执单-{visit.customer}-{visit.planned_on.isoformat()}-{visit.id}")
    target = folder / f"{name}.docx"
    target.write_bytes(body)
    with write_transaction(db) as conn:
        conn.execute(
            "UPDATE visits SET receipt_path = ? WHERE id = ?",
            [target.relative_to(desk.root).as_posix(), visit_id],
        )
    return target
