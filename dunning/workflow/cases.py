"""Court cases: one per claim brought against a customer, with its stages and its costs.

This module owns the `cases`, `case_stages` and `case_costs` tables. Opening a case moves the
customer to litigation (through `workflow.status.set_status`, so the change is in its history
and log). Stages (立案, 保全, 开庭, 判决, 执行, 结案) carry a date and optionally an archived
document; costs (诉讼费, 保全费, 律师费, 差旅费 …) are the case's 办案费用. What was recovered is
read from the ledger: the customer's payments from the day the case was opened.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import get_customer
from dunning.archive.db import write_transaction
from dunning.dates import office_today
from dunning.errors import DunningError, NotFoundError
from dunning.money import from_fen, to_fen
from dunning.receivables import ZERO
from dunning.vocabulary import CASE_COSTS, CASE_KINDS, CASE_STAGES, choices
from dunning.workflow.interest import JUDGMENT_DAILY_PERCENT
from dunning.workflow.log import add_entry
from dunning.workflow.status import set_status

KINDS = tuple(CASE_KINDS)
STAGES = tuple(CASE_STAGES)
COST_KINDS = tuple(CASE_COSTS)
MAX_NOTE = 500


class CaseError(DunningError):
    """A case step that does not make sense; nothing was changed."""


@dataclass(frozen=True)
class Stage:
    stage: str
    on: dt.date
    note: str | None
    document: int | None

    @property
    def title(self) -> str:
        return CASE_STAGES[self.stage]

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "title": self.title,
            "on": self.on.isoformat(),
            "note": self.note,
            "document": self.document,
        }


@dataclass(frozen=True)
class Cost:
    kind: str
    amount: Decimal
    on: dt.date
    note: str | None

    @property
    def title(self) -> str:
        return CASE_COSTS[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "amount": f"{self.amount:.2f}",
            "on": self.on.isoformat(),
            "note": self.note,
        }


@dataclass(frozen=True)
class Case:
    id: int
    customer: str
    name: str
    kind: str
    opened_on: dt.date
    as_of: dt.date
    principal: Decimal
    interest: Decimal
    court_fee: Decimal
    folder: str | None
    note: str | None
    stages: tuple[Stage, ...] = ()
    costs: tuple[Cost, ...] = ()
    recovered: Decimal = ZERO

    @property
    def claim(self) -> Decimal:
        return self.principal + self.interest

    @property
    def stage(self) -> Stage | None:
        """The latest stage reached (by date, then by the order of the stages)."""
        if not self.stages:
            return None
        return max(self.stages, key=lambda s: (s.on, STAGES.index(s.stage)))

    @property
    def closed(self) -> bool:
        return any(s.stage == "closed" for s in self.stages)

    @property
    def after_judgment(self) -> str:
        """What runs once judgment is given (民事诉讼法 art. 264), when it has been."""
        judged = [s for s in self.stages if s.stage == "judgment"]
        if not judged:
            return ""
        return (
            f"{judged[-1].on.isoformat()}判决：被告未按判决指定期间履行的，应加倍支付迟延履行期间的"
            f"债务利息，加倍部分按日{JUDGMENT_DAILY_PERCENT}%计算（《民事诉讼法》第二百六十四条；"
            "请与律师确认）。"
        )

    @property
    def total_costs(self) -> Decimal:
        return sum((c.amount for c in self.costs), ZERO)

    def to_json(self) -> dict[str, Any]:
        stage = self.stage
        return {
            "case": self.id,
            "customer": self.customer,
            "name": self.name,
            "kind": self.kind,
            "kind_title": CASE_KINDS[self.kind],
            "opened_on": self.opened_on.isoformat(),
            "as_of": self.as_of.isoformat(),
            "principal": f"{self.principal:.2f}",
            "interest": f"{self.interest:.2f}",
            "claim": f"{self.claim:.2f}",
            "court_fee": f"{self.court_fee:.2f}",
            "folder": self.folder,
            "note": self.note,
            "stage": stage.stage if stage else None,
            "stage_title": stage.title if stage else "未立案",
            "stages": [s.to_json() for s in self.stages],
            "costs": [c.to_json() for c in self.costs],
            "total_costs": f"{self.total_costs:.2f}",
            "recovered": f"{self.recovered:.2f}",
            "closed": self.closed,
            "after_judgment": self.after_judgment or None,
        }


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise CaseError(f"备注有 {len(text)} 个字，太长：请缩短到 {MAX_NOTE} 个字以内。")
    return text or None


def _check_day(what: str, day: dt.date) -> None:
    if day > office_today():
        raise CaseError(
            f"{what} {day.isoformat()} 在今天之后：只能记录已经发生的事，请改为今天或以前的日期。"
        )


def open_case(
    db: sqlite_utils.Database,
    code: str,
    *,
    kind: str,
    as_of: dt.date,
    principal: Decimal,
    interest: Decimal,
    court_fee: Decimal,
    folder: str | None = None,
    note: str | None = None,
    opened_on: dt.date | None = None,
) -> Case:
    """Record a new case and move the customer to litigation."""
    if kind not in KINDS:
        raise CaseError(f"没有“{kind}”这种案件类型：请用 {choices(CASE_KINDS)}。")
    opened = opened_on or office_today()
    _check_day("立案日期", opened)
    note = _note(note)
    customer = get_customer(db, code)
    set_status(db, customer.code, "litigation", note=f"{CASE_KINDS[kind]}（案件材料已生成）")
    with write_transaction(db) as conn:
        cur = conn.execute(
            "INSERT INTO cases (customer_code, kind, opened_on, as_of, principal_fen,"
            " interest_fen, court_fee_fen, folder, note, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [customer.code, kind, opened.isoformat(), as_of.isoformat(), to_fen(principal),
             to_fen(interest), to_fen(court_fee), folder, note, _now()],
        )  # fmt: skip
        case_id = int(cur.lastrowid or 0)
        add_entry(conn, customer.code, kind="legal", note=f"案件 #{case_id}：{CASE_KINDS[kind]}")
    return get_case(db, case_id)


def set_folder(db: sqlite_utils.Database, case_id: int, folder: str) -> None:
    with write_transaction(db) as conn:
        conn.execute("UPDATE cases SET folder = ? WHERE id = ?", [folder, case_id])


def _case_id(conn: sqlite3.Connection | sqlite_utils.Database, ref: str | int) -> int:
    """A case by number, or a customer's latest case by its code or name."""
    text = str(ref).strip()
    if text.isdigit() and len(text) < 12:
        row = conn.execute("SELECT id FROM cases WHERE id = ?", [int(text)]).fetchone()
        if row:
            return int(row[0])
    try:
        customer = get_customer(conn, text).code
    except NotFoundError:
        customer = None
    row = conn.execute(
        "SELECT id FROM cases WHERE customer_code = ? ORDER BY id DESC LIMIT 1", [customer]
    ).fetchone()
    if row is None:
        raise NotFoundError(f"没有案件“{text}”：用 `dunning case list` 查看案件编号。")
    return int(row[0])


def add_stage(
    db: sqlite_utils.Database,
    ref: str | int,
    stage: str,
    *,
    on: dt.date,
    note: str | None = None,
    document: int | None = None,
) -> Case:
    """Record that a case reached a stage on a day (with the court's document, if archived)."""
    if stage not in STAGES:
        raise CaseError(f"没有“{stage}”这个案件阶段：请用 {choices(CASE_STAGES)}。")
    _check_day("阶段日期", on)
    note = _note(note)
    with write_transaction(db) as conn:
        case_id = _case_id(conn, ref)
        opened, customer = conn.execute(
            "SELECT opened_on, customer_code FROM cases WHERE id = ?", [case_id]
        ).fetchone()
        if on < dt.date.fromisoformat(opened):
            raise CaseError(f"{on.isoformat()} 早于立案日期 {opened}：请核对阶段日期。")
        if (
            document is not None
            and not conn.execute("SELECT 1 FROM documents WHERE id = ?", [document]).fetchone()
        ):
            raise NotFoundError(f"没有文档 {document}：用 `dunning search` 查看文档编号。")
        conn.execute(
            "INSERT INTO case_stages (case_id, stage, on_day, note, document_id, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [case_id, stage, on.isoformat(), note, document, _now()],
        )
        if stage == "closed":
            conn.execute("UPDATE cases SET closed_on = ? WHERE id = ?", [on.isoformat(), case_id])
        add_entry(
            conn, customer, kind="legal", note=f"案件 #{case_id}：{CASE_STAGES[stage]}", on=on
        )
    return get_case(db, case_id)


def add_cost(
    db: sqlite_utils.Database,
    ref: str | int,
    kind: str,
    amount: Decimal,
    *,
    on: dt.date,
    note: str | None = None,
) -> Case:
    """Record one cost of a case (办案费用)."""
    if kind not in COST_KINDS:
        raise CaseError(f"没有“{kind}”这种费用：请用 {choices(CASE_COSTS)}。")
    if amount <= 0:
        raise CaseError(f"费用金额必须大于零，不能是 {amount}。")
    _check_day("费用日期", on)
    note = _note(note)
    with write_transaction(db) as conn:
        case_id = _case_id(conn, ref)
        conn.execute(
            "INSERT INTO case_costs (case_id, kind, amount_fen, on_day, note, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [case_id, kind, to_fen(amount), on.isoformat(), note, _now()],
        )
    return get_case(db, case_id)


_CASE_COLUMNS = (
    "k.id, k.customer_code, c.name, k.kind, k.opened_on, k.as_of, k.principal_fen,"
    " k.interest_fen, k.court_fee_fen, k.folder, k.note"
)


def get_case(db: sqlite_utils.Database | sqlite3.Connection, ref: str | int) -> Case:
    case_id = _case_id(db, ref)
    row = db.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases k JOIN customers c ON c.code = k.customer_code"
        " WHERE k.id = ?",
        [case_id],
    ).fetchone()
    return _case(db, row)


def list_cases(db: sqlite_utils.Database, code: str | None = None) -> list[Case]:
    """Every case (of one customer), newest first."""
    where, params = ("", [])
    if code is not None:
        where, params = " WHERE k.customer_code = ?", [get_customer(db, code).code]
    rows = db.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases k JOIN customers c ON c.code = k.customer_code"
        f"{where} ORDER BY k.id DESC",
        params,
    ).fetchall()
    return [_case(db, r) for r in rows]


def _case(db: sqlite_utils.Database | sqlite3.Connection, row: Any) -> Case:
    case_id = int(row[0])
    stages = tuple(
        Stage(s[0], dt.date.fromisoformat(s[1]), s[2], s[3])
        for s in db.execute(
            "SELECT stage, on_day, note, document_id FROM case_stages WHERE case_id = ?"
            " ORDER BY on_day, id",
            [case_id],
        ).fetchall()
    )
    costs = tuple(
        Cost(c[0], from_fen(c[1]), dt.date.fromisoformat(c[2]), c[3])
        for c in db.execute(
            "SELECT kind, amount_fen, on_day, note FROM case_costs WHERE case_id = ?"
            " ORDER BY on_day, id",
            [case_id],
        ).fetchall()
    )
    recovered = db.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM payments WHERE customer_code = ?"
        " AND paid_on >= ? AND kind = 'payment'",
        [row[1], row[4]],
    ).fetchone()[0]
    return Case(
        id=case_id,
        customer=row[1],
        name=row[2],
        kind=row[3],
        opened_on=dt.date.fromisoformat(row[4]),
        as_of=dt.date.fromisoformat(row[5]),
        principal=from_fen(row[6]),
        interest=from_fen(row[7]),
        court_fee=from_fen(row[8]),
        folder=row[9],
        note=row[10],
        stages=stages,
        costs=costs,
        recovered=from_fen(int(recovered)),
    )


def case_folders(db: sqlite_utils.Database) -> list[Path]:
    """The folders in which cases keep their papers (out/案件-…), resolved."""
    try:
        rows = db.execute("SELECT folder FROM cases WHERE folder IS NOT NULL").fetchall()
    except sqlite3.OperationalError:  # a read-only desk from before cases existed
        return []
    return [Path(r[0]).resolve() for r in rows]
