"""Every clerk-facing word the desk prints: kinds, statuses, channels, reasons, headers.

One place so that the CLI, the web desk, the reports and the letters call a thing by one
Chinese name. Codes (the keys) are the stable contract of the JSON and the database; the
titles are what a clerk reads. Add a word here, not in the module that prints it.
"""

from __future__ import annotations

from collections.abc import Mapping

# Customer status (SPEC §3).
CUSTOMER_STATUS: Mapping[str, str] = {
    "active": "正常",
    "disputed": "有争议",
    "litigation": "诉讼中",
    "excluded": "不催收",
}

# Web desk and actor roles, lowest first: each may do what the ones before it may.
ROLES: tuple[str, ...] = ("viewer", "clerk", "manager")
ROLE_TITLES: Mapping[str, str] = {"viewer": "只读", "clerk": "文员", "manager": "主管"}

# The collection log's kinds. `status`, `letter` and `receipt` are written by the desk itself.
LOG_KINDS: Mapping[str, str] = {
    "call": "电话",
    "visit": "上门",
    "letter": "函件",
    "sms": "短信",
    "promise": "承诺付款",
    "legal": "法务",
    "status": "状态变更",
    "receipt": "回执签回",
}
RESERVED_LOG_KINDS: tuple[str, ...] = ("status", "letter", "receipt")

PROMISE_STATUS: Mapping[str, str] = {
    "kept": "已兑现",
    "broken": "未兑现",
    "pending": "未到期",
}

# A letter's life (SPEC §10): 已生成 → 已寄出 → 已妥投 → 已签回, or 退回.
LETTER_STATUS: Mapping[str, str] = {
    "issued": "已生成",
    "sent": "已寄出",
    "delivered": "已妥投",
    "signed": "已签回",
    "returned": "退回",
}

DELIVERY_CHANNELS: Mapping[str, str] = {
    "ems": "EMS",
    "sf": "顺丰",
    "post": "挂号信",
    "courier": "快递",
    "hand": "专人送达",
    "email": "电子邮件",
}

REPLY_KINDS: Mapping[str, str] = {"agreed": "相符", "disputed": "不符"}

# Letter levels by their policy name (dunning.toml [[policy.levels]] name).
LETTER_LEVELS: Mapping[str, str] = {
    "reminder": "付款提醒函",
    "demand": "催款函",
    "final": "最后催告函",
    "lawyer": "律师函",
}

# The documents a pack holds, by template name.
DOCUMENT_TITLES: Mapping[str, str] = {
    "statement": "对账单",
    "receipt": "签收回执",
    "contract": "合同复印件",
    "visit": "到访回执单",
    **LETTER_LEVELS,
    "evidence": "证据清单",
}

# Archived document kinds.
DOCUMENT_KINDS: Mapping[str, str] = {
    "contract": "合同",
    "ledger": "台账",
    "receipt": "回执",
    "letter": "函件",
    "einvoice": "电子发票",
    "bank": "银行流水",
    "evidence": "妥投证明",
}

# An e-invoice's state as the tax platform's 全量发票查询 export gives it (SPEC §12).
EINVOICE_STATUS: Mapping[str, str] = {
    "normal": "正常",
    "void": "作废",
    "red_flushed": "已红冲",
    "partly_red": "部分红冲",
}

# What an e-invoice disagreed with in the ledger (dunning.archive.einvoice.registry).
EINVOICE_ISSUES: Mapping[str, str] = {
    "amount": "金额不符",
    "buyer": "购买方不符",
    "void_in_ledger": "作废发票仍在台账",
    "red_unlinked": "红字发票未找到原发票",
    "tax_id": "税号不符",
}


def title(words: Mapping[str, str], code: str | None) -> str:
    """The Chinese title of `code`, else the code itself (never an empty cell)."""
    if code is None:
        return ""
    return words.get(code, code)


# An invoice's snapshot state (archive/snapshots.py) and the events that change it.
INVOICE_STATES: Mapping[str, str] = {
    "vanished": "已不在最新导出中（待核实）",
    "voided": "已作废",
    "settled": "已结清（未清项导出不再列出）",
    "kept": "已确认应收",
    "returned": "重新出现在导出中",
}

# A bank receipt's match (SPEC §11): certain ones are applied at once, probable and unmatched
# ones wait for a clerk on 到账核对.
BANK_STATUS: Mapping[str, str] = {
    "certain": "自动核销",
    "probable": "待核对",
    "unmatched": "未匹配",
    "confirmed": "已确认",
    "not_customer": "非客户回款",
}
BANK_SOURCES: Mapping[str, str] = {"bank": "银行流水", "erp": "财务入账"}
UNBOOKED_TITLE = "未入账到款"

# Court cases (SPEC §13): the kind of proceedings, their stages and the costs of a case.
CASE_KINDS: Mapping[str, str] = {"lawsuit": "民事起诉", "payment_order": "支付令申请"}
CASE_STAGES: Mapping[str, str] = {
    "filed": "立案",
    "preservation": "保全",
    "hearing": "开庭",
    "judgment": "判决",
    "enforcement": "执行",
    "closed": "结案",
}
CASE_COSTS: Mapping[str, str] = {
    "court_fee": "诉讼费",
    "preservation_fee": "保全费",
    "lawyer": "律师费",
    "travel": "差旅费",
    "other": "其他费用",
}
INTEREST_PERIODS: Mapping[str, str] = {"day": "日", "month": "月", "year": "年"}

# 今日: the kinds of work on the today list and the one action each offers.
TODAY_KINDS: Mapping[str, str] = {
    "promise_due": "今日承诺付款",
    "promise_broken": "承诺未兑现",
    "letter_unsent": "函件待寄出",
    "letter_unproven": "待上传妥投证明",
    "letter_returned": "函件被退回",
    "no_address": "缺少地址",
    "limitation": "诉讼时效临近",
    "visit": "上门催收",
    "visit_approval": "上门计划待审批",
    "receipt_review": "到账待核对",
}

TODAY_ACTIONS: Mapping[str, str] = {
    "log_call": "记录电话",
    "record_promise": "记录承诺",
    "mark_sent": "登记寄出",
    "upload_proof": "上传妥投证明",
    "check_address": "核实地址",
    "review_receipt": "核对到账",
    "open_case": "查看客户",
    "add_address": "补充地址",
    "visit": "上门催收",
    "approve": "审批",
}

# Column headers clerks read in tables and spreadsheets, by their JSON field name.
HEADERS: Mapping[str, str] = {
    "customer": "客户编号",
    "name": "客户名称",
    "status": "状态",
    "balance": "应收余额",
    "overdue": "逾期金额",
    "max_days_overdue": "最长逾期天数",
    "max days": "最长逾期天数",
    "invoice": "发票号",
    "contract": "合同号",
    "date": "日期",
    "due": "到期日",
    "amount": "金额",
    "received": "已收",
    "open": "未收",
    "days": "逾期天数",
    "ref": "函件编号",
    "level_name": "函件类型",
    "level": "函件类型",
    "channel": "寄送方式",
    "tracking": "运单号",
    "sent_on": "寄出日期",
    "delivered_on": "妥投日期",
    "evidence_document": "妥投证明",
    "signed_on": "签订日期",
    "document": "文件",
    "at": "时间",
    "kind": "类型",
    "note": "内容",
    "by": "记录人",
    "field": "字段",
    "change": "变更",
    "file": "来源文件",
    "salesperson": "业务员",
    "what": "事由",
    "action": "操作",
    "total": "合计",
    "state_title": "状态",
    "reason": "原因",
    "id": "编号",
    "payer": "付款方",
    "einvoice": "电子发票号码",
    "ledger": "台账发票",
}

# 上门催收: a visit's way from plan to done.
VISIT_STATUS: Mapping[str, str] = {
    "planned": "待审批",
    "approved": "已批准",
    "rejected": "未批准",
    "done": "已完成",
}

# What became of a file handed to `dunning ingest` or the watcher (the JSON keeps the codes).
INGEST_OUTCOMES: Mapping[str, str] = {
    "archived": "已归档",
    "duplicate": "重复",
    "failed": "失败",
}

# `dunning show ID`: a document's record, by its JSON field name.
DOCUMENT_FIELDS: Mapping[str, str] = {
    "document": "文档编号",
    "kind": "类型",
    "title": "标题",
    "original_name": "原文件名",
    "customer_code": "客户编号",
    "customer_name": "客户名称",
    "contract_no": "合同号",
    "pages": "页数",
    "needs_ocr": "待识别",
    "size": "大小（字节）",
    "sha256": "SHA-256",
    "ingested_at": "归档时间",
    "source_path": "来源路径",
    "stored_file": "存档文件",
    "ledger_kind": "台账类型",
    "rows": "行数",
    "row_counts": "行数核对",
    "signs_letters": "签回函件",
    "parties": "合同当事人",
    "amount": "合同金额",
    "signed_on": "签订日期",
    "ocr_pages": "识别页数",
    "routed": "按文件夹归类",
    "bank_statement": "银行流水",
    "page": "第 {} 页",
}
LEDGER_KINDS: Mapping[str, str] = {
    "invoices": "发票台账",
    "payments": "回款台账",
    "customers": "客户资料",
    "detail": "明细台账",
}
YES_NO: Mapping[bool, str] = {True: "是", False: "否"}

# `dunning verify`: what can be wrong between the database and the store.
VERIFY_PROBLEMS: Mapping[str, str] = {
    "missing": "存档文件缺失",
    "altered": "存档文件被改动",
    "unrecorded": "存档中有未登记的文件",
    "damaged": "数据库损坏",
    "exposed": "文件权限过宽",
    "unregistered": "未登记的函件文件",
}

# Why a ledger row was not imported (RowCounts.skipped keys, dunning.archive.ledger.rows.SkipKind).
SKIPPED_ROWS: Mapping[str, str] = {
    "blank": "空行",
    "total": "合计行",
    "subtotal": "小计行",
    "header": "重复表头行",
    "duplicate": "重复行",
    "opening": "期初余额行",
    "heading": "客户标题行",
    "page": "分页行",
    "footer": "页脚行",
    "summary": "汇总行",
    "note": "备注行",
    "received by us": "我方收到的发票",
    "invoice line": "发票明细行",
}

# Why a bank statement's row is not a receipt (Statement.skipped keys, archive/bank/reader.py).
SKIPPED_BANK_ROWS: Mapping[str, str] = {
    "blank": "空行",
    "total": "合计行",
    "note": "备注行",
    "neutral": "无收支方向的行",
    "failed": "交易失败的行",
    "foreign": "外币行",
    "zero": "零金额行",
    "outgoing": "支出行",
    "internal": "本单位账户间划转",
}


def row_summary(
    read: int,
    imported: int,
    skipped: Mapping[str, int],
    bad: int,
    *,
    rejected: bool = False,
    kinds: Mapping[str, str] = SKIPPED_ROWS,
) -> str:
    """`读取 18 行：导入 17 行，跳过合计行 1 行` (RowCounts as a clerk reads it); for a rejected
    file, where nothing was imported, `本可导入 17 行`."""
    parts = [f"{'本可导入' if rejected else '导入'} {imported} 行"]
    parts += [f"跳过{title(kinds, k)} {n} 行" for k, n in sorted(skipped.items())]
    if bad:
        parts.append(f"有误 {bad} 行")
    return f"读取 {read} 行：" + "，".join(parts)


# What a file's content is (dunning.archive.sniff), as a refusal names it.
FILE_TYPES: Mapping[str, str] = {
    "pdf": "PDF",
    "png": "PNG 图片",
    "jpeg": "JPEG 图片",
    "tiff": "TIFF 图片",
    "zip": "ZIP 压缩包",
    "xlsx": "XLSX 表格",
    "xls": "XLS 表格",
    "ods": "ODS 表格",
    "docx": "Word 文档",
    "ofd": "OFD 文件",
    "xml": "XML 文件",
    "csv": "CSV 表格",
    "text": "纯文本",
    "empty": "空文件",
    "unknown": "无法识别的内容",
}


# A scanned page's place in the OCR queue (dunning.archive.contracts.pages).
PAGE_STATES: Mapping[str, str] = {"waiting": "待识别", "done": "已读取", "failed": "识别失败"}

# Where a letter template comes from: the desk's own copy or the package default.
TEMPLATE_SOURCES: Mapping[str, str] = {"desk": "本工作台", "default": "默认模板"}


def same_as(document: int | None) -> str:
    """Why a file was not archived again: its content is already document N."""
    return f"内容与已归档的文档 {document} 相同，未再归档"


NO_FAILED_FILES = "failed/ 中没有失败的文件"


def choices(words: Mapping[str, str], codes: tuple[str, ...] | None = None) -> str:
    """The codes a clerk may type, each with its Chinese title: `lawsuit`（民事起诉）、…"""
    return "、".join(f"`{code}`（{title(words, code)}）" for code in codes or tuple(words))


# The audit trail's actions (audit_log.action, a stable code) as the 账户 page names them.
AUDIT_ACTIONS: Mapping[str, str] = {
    "log add": "添加催收记录",
    "set-status": "设置客户状态",
    "pack": "生成函件",
    "letter sent": "记录寄出",
    "letter delivered": "记录妥投",
    "letter returned": "记录退回",
    "letter reply": "记录回执",
    "upload": "上传文件",
    "failed retry": "重试失败文件",
    "invoice keep": "确认仍应收",
    "invoice void": "确认作废",
    "receipt assign": "指定到款客户",
    "receipt dismiss": "忽略未匹配到款",
    "bank accept": "到账核对：确认",
    "bank customer": "到账核对：改为其他客户",
    "bank split": "到账核对：拆分",
    "bank not_customer": "到账核对：不是客户付款",
    "case open": "立案",
    "case stage": "案件阶段",
    "case cost": "案件费用",
    "visit plan": "计划上门催收",
    "visit approve": "批准上门催收",
    "visit reject": "驳回上门催收",
    "visit done": "上门催收完成",
    "user add": "添加账户",
    "user passwd": "修改密码",
    "user remove": "删除账户",
}
