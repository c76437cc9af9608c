"""The case file (案件材料) a court takes, built when a case is opened (SPEC §13).

A folder in out/ holding: the 民事起诉状 (principal, interest to date with its formula, the
court fee) or the 支付令申请书 (principal only, 民诉法解释 art. 428(2)); the 证据目录 (each
exhibit's source, what it proves and its pages); and with LibreOffice one merged PDF: the
证据目录, then every exhibit, each page numbered. The documents come from Word templates
(templates/court/ in the desk, copied from the package the first time, so a clerk can edit
them). They name no software: they go to a court or a lawyer.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from dunning.archive.accounts import Customer, aging_report, get_customer
from dunning.config import Config
from dunning.dates import chinese_date
from dunning.desk import PACKAGE_TEMPLATES, Desk
from dunning.errors import DunningError
from dunning.letters.case_evidence import (
    Exhibit,
    gather_exhibits,
    stamp_exhibits,
    table_docx,
    to_pdfs,
)
from dunning.letters.delivery import load_deliveries
from dunning.letters.pdf import convert_to_pdf, merge_pdfs, soffice_path
from dunning.letters.render import render_letter
from dunning.letters.words import amount_in_words
from dunning.money import format_amount
from dunning.safenames import make_unique_dir, safe_name
from dunning.vocabulary import CASE_KINDS
from dunning.workflow.cases import Case, list_cases, open_case, set_folder
from dunning.workflow.court_fees import Fee, acceptance_fee, payment_order_fee
from dunning.workflow.interest import CustomerInterest
from dunning.workflow.interest_rates import customer_interest

COURT_TEMPLATES = ("complaint", "payment_order", "evidence_index")
DOCUMENT_NAMES = {
    "complaint": "民事起诉状",
    "payment_order": "支付令申请书",
    "evidence_index": "证据目录",
}
EVIDENCE_PDF = "证据材料.pdf"
TEMPLATE_FOR = {"lawsuit": "complaint", "payment_order": "payment_order"}

COURT_CONTEXT_DOC: dict[str, str] = {
    "plaintiff": "your company: .name .credit_code .address .representative .phone",
    "defendant": "the customer: .name .credit_code .address .contact .phone .representative",
    "role_plaintiff": "原告 or 申请人",
    "role_defendant": "被告 or 被申请人",
    "plaintiff_short": "原告 or 申请人 (in the facts)",
    "defendant_short": "被告 or 被申请人 (in the facts)",
    "as_of": "the day the claim is computed to, in Chinese",
    "principal": "overdue principal claimed, e.g. 16,409.02",
    "principal_words": "principal in capital numerals",
    "interest": "interest to the as-of day",
    "interest_words": "interest in capital numerals",
    "interest_formula": "how the interest is computed, invoice by invoice, with its basis",
    "interest_basis": "the sentence naming the interest's legal basis",
    "claim": "principal plus interest",
    "claim_words": "claim in capital numerals",
    "court_fee": "the court fee (受理费, or the 支付令 fee)",
    "court_fee_formula": "the fee's formula in words",
    "court_fee_article": "the article the fee follows",
    "contracts_text": "the contracts as a phrase",
    "invoice_count": "number of open invoices",
    "invoiced": "sum of those invoices",
    "demands_text": "the demands made (letters delivered, promises) as a sentence",
    "evidence": "证据目录 rows; each has .no .name .source .proves .pages",
    "evidence_count": "number of exhibits",
    "evidence_pages": "pages in the evidence PDF",
    "copies": "copies for the other side (1)",
}


class CaseFileError(DunningError):
    """The case file cannot be built; nothing about the case was recorded."""


@dataclass
class CaseFile:
    case: Case
    folder: Path
    documents: list[Path]
    exhibits: list[Exhibit]
    pdf: Path | None
    pages: int
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.case.to_json(),
            "folder": str(self.folder),
            "documents": [str(p) for p in self.documents],
            "evidence": [e.to_json() for e in self.exhibits],
            "pdf": str(self.pdf) if self.pdf else None,
            "pages": self.pages,
            "notes": self.notes,
        }


def court_template(desk: Desk, name: str) -> Path:
    """The desk's copy of a court template, copied from the package on first use."""
    own = desk.templates / "court" / f"{name}.docx"
    if not own.is_file():
        own.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_TEMPLATES / "court" / f"{name}.docx", own)
    return own


def _credit_code(conn: sqlite3.Connection | sqlite_utils.Database, code: str) -> str:
    """The customer's 统一社会信用代码 when the archive has learnt it (from its e-invoices)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(customers)").fetchall()}
    for column in ("credit_code", "tax_id", "taxpayer_id"):
        if column in columns:
            row = conn.execute(
                f"SELECT {column} FROM customers WHERE code = ?",
                [code],
            ).fetchone()
            if row and row[0]:
                return str(row[0])
    return "____________________"


def _blank(value: str | None) -> str:
    return value if value else "____________"


def _demands_text(conn: sqlite3.Connection, code: str, as_of: dt.date, promised: int) -> str:
    delivered = [
        d for d in load_deliveries(conn, code) if d.issued_on <= as_of and d.proven_on is not None
    ]
    parts = []
    if delivered:
        days = "、".join(chinese_date(d.proven_on) for d in delivered if d.proven_on)
        parts.append(f"原告分别于{days}向被告送达催款函件")
    if promised:
        parts.append(f"被告曾{promised}次承诺付款")
    if not parts:
        return "经原告多次催收，被告至今未付。"
    return "；".join(parts) + "，但被告至今未付清欠款。"


def _interest_basis(interest: CustomerInterest) -> str:
    bases = {i.rate.basis for i in interest.invoices if i.rate is not None}
    if not bases:
        return ""
    if bases == {"contract"}:
        return "双方合同约定了逾期付款违约金，被告应按约定标准支付；"
    return (
        "合同对逾期付款违约金未作约定的，依据《最高人民法院关于审理买卖合同纠纷案件适用法律问题"
        "的解释》第十八条第四款，原告可以违约行为发生时一年期贷款市场报价利率（LPR）为基础，"
        "加计30%—50%计算逾期付款损失；"
    )


def _money(name: str, amount: Decimal) -> dict[str, str]:
    return {name: format_amount(amount), f"{name}_words": amount_in_words(amount)}


def court_context(
    config: Config,
    customer: Customer,
    credit_code: str,
    *,
    kind: str,
    interest: CustomerInterest,
    fee: Fee,
    exhibits: Sequence[Exhibit],
    pages: int,
    contracts_text: str,
    invoiced: Decimal,
    invoice_count: int,
    demands_text: str,
) -> dict[str, Any]:
    """The template variables of the court papers (COURT_CONTEXT_DOC)."""
    lawsuit = kind == "lawsuit"
    claim_interest = interest.interest if lawsuit else Decimal("0.00")
    company = config.company
    return {
        "plaintiff": {
            "name": company.get("name", ""),
            "credit_code": _blank(company.get("credit_code")),
            "address": _blank(company.get("address")),
            "representative": _blank(company.get("representative")),
            "phone": _blank(company.get("phone")),
        },
        "defendant": {
            "name": customer.name,
            "credit_code": credit_code,
            "address": _blank(customer.address),
            "contact": _blank(customer.contact),
            "phone": _blank(customer.phone),
            "representative": "____________",
        },
        "role_plaintiff": "原告" if lawsuit else "申请人",
        "role_defendant": "被告" if lawsuit else "被申请人",
        "plaintiff_short": "原告" if lawsuit else "申请人",
        "defendant_short": "被告" if lawsuit else "被申请人",
        "as_of": chinese_date(interest.as_of),
        **_money("principal", interest.principal),
        **_money("interest", claim_interest),
        **_money("claim", interest.principal + claim_interest),
        "interest_formula": interest.formula(),
        "interest_basis": _interest_basis(interest),
        "court_fee": format_amount(fee.amount),
        "court_fee_formula": fee.formula,
        "court_fee_article": fee.article,
        "contracts_text": contracts_text,
        "invoice_count": invoice_count,
        "invoiced": format_amount(invoiced),
        "demands_text": demands_text,
        "evidence": [
            {
                "no": n,
                "name": e.name,
                "source": e.source,
                "proves": e.proves,
                # without the evidence PDF there are no page numbers yet
                "pages": e.pages if pages else "待编",
            }
            for n, e in enumerate(exhibits, start=1)
        ],
        "evidence_count": len(exhibits),
        "evidence_pages": pages,
        "copies": 1,
    }


def _contracts_text(conn: sqlite3.Connection, code: str) -> str:
    from dunning.archive.contracts.meta import contracts_of

    contracts = contracts_of(conn, code)
    if not contracts:
        return "买卖合同"
    parts = []
    for c in contracts:
        signed = f"（{chinese_date(c.signed_on)}签订）" if c.signed_on else ""
        parts.append(f"编号为{c.contract_no}的《买卖合同》{signed}")
    return "、".join(parts)


def build_case_file(
    desk: Desk,
    db: sqlite_utils.Database,
    code: str,
    *,
    kind: str = "lawsuit",
    as_of: dt.date,
    pdf: bool = True,
    note: str | None = None,
) -> CaseFile:
    """Open a case for the customer: write its papers, then record it (litigation status)."""
    config = desk.config
    customer = get_customer(db, code)
    interest = customer_interest(
        db, customer.code, as_of=as_of, desk_root=desk.root, markup=config.interest_markup
    )
    if interest.principal <= 0:
        raise CaseFileError(
            f"{customer.code} {customer.name} owes nothing overdue on {as_of.isoformat()};"
            " no case was opened."
        )
    claim = interest.principal + (interest.interest if kind == "lawsuit" else 0)
    fee = acceptance_fee(claim) if kind == "lawsuit" else payment_order_fee(claim)
    [aging] = aging_report(
        db, as_of=as_of, edges=config.bucket_edges, codes=[customer.code], idle=True
    )
    conn: sqlite3.Connection = db.conn
    exhibits = gather_exhibits(conn, desk.root, aging, as_of=as_of)
    open_before = [c for c in list_cases(db, customer.code) if not c.closed]
    templates = [court_template(desk, TEMPLATE_FOR[kind]), court_template(desk, "evidence_index")]
    desk.out.mkdir(parents=True, exist_ok=True)
    folder = make_unique_dir(desk.out, f"案件-{customer.code}-{as_of.isoformat()}")
    notes: list[str] = []
    try:
        made = _write_papers(
            desk, db, customer, kind, interest, fee, exhibits, aging, templates, folder,
            pdf=pdf, notes=notes,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    documents, numbered, evidence_pdf, pages = made
    notes += [f"该客户已有未结案件 #{c.id}（{CASE_KINDS[c.kind]}，{c.opened_on.isoformat()}）"
              for c in open_before]  # fmt: skip
    case = open_case(
        db,
        customer.code,
        kind=kind,
        as_of=as_of,
        principal=interest.principal,
        interest=interest.interest if kind == "lawsuit" else Decimal("0.00"),
        court_fee=fee.amount,
        folder=str(folder),
        note=note,
    )
    set_folder(db, case.id, str(folder))
    result = CaseFile(case, folder, documents, numbered, evidence_pdf, pages, notes)
    (folder / "case.json").write_text(
        json.dumps(result.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return result


def _write_papers(
    desk: Desk,
    db: sqlite_utils.Database,
    customer: Customer,
    kind: str,
    interest: CustomerInterest,
    fee: Fee,
    exhibits: list[Exhibit],
    aging: Any,
    templates: list[Path],
    folder: Path,
    *,
    pdf: bool,
    notes: list[str],
) -> tuple[list[Path], list[Exhibit], Path | None, int]:
    conn: sqlite3.Connection = db.conn
    can_convert = pdf and soffice_path() is not None
    if pdf and not can_convert:
        notes.append("LibreOffice 未安装：未生成证据材料 PDF，页码未编。")
    with tempfile.TemporaryDirectory(prefix="case-") as tmp:
        work = Path(tmp)
        paged = to_pdfs(exhibits, work, convert=can_convert) if can_convert else None
        body = work / "body.pdf"
        numbered = stamp_exhibits(paged, body) if paged else list(exhibits)
        pages = sum((e.last_page or 0) - (e.first_page or 0) + 1 for e in numbered if e.first_page)
        if paged:
            notes += paged.skipped
        promised = sum(1 for e in numbered if e.name.startswith("被告承诺付款"))
        context = court_context(
            desk.config,
            customer,
            _credit_code(conn, customer.code),
            kind=kind,
            interest=interest,
            fee=fee,
            exhibits=numbered,
            pages=pages,
            contracts_text=_contracts_text(conn, customer.code),
            invoiced=sum((a.item.invoice.amount for a in aging.items), Decimal("0.00")),
            invoice_count=len(aging.items),
            demands_text=_demands_text(conn, customer.code, interest.as_of, promised),
        )
        documents = []
        for template in templates:
            name = DOCUMENT_NAMES[template.stem]
            target = folder / f"{name}-{customer.code}.docx"
            target.write_bytes(render_letter(template, context))
            documents.append(target)
        evidence_pdf = None
        if paged:
            converted = convert_to_pdf(documents)
            evidence_pdf = merge_pdfs([converted[-1], body], folder / EVIDENCE_PDF)
        if paged is None:  # no PDF: the lists the case file writes itself, as Word files
            for n, exhibit in enumerate(numbered, start=1):
                if exhibit.table is not None:
                    name = safe_name(f"证据{n}-{exhibit.table.title}-{customer.code}.docx")
                    documents.append(table_docx(exhibit.table, folder / name))
        for exhibit in numbered:
            if exhibit.missing:
                notes.append(f"{exhibit.name}：{exhibit.missing}")
    return documents, numbered, evidence_pdf, pages
