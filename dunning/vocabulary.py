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
}


def title(words: Mapping[str, str], code: str | None) -> str:
    """The Chinese title of `code`, else the code itself (never an empty cell)."""
    if code is None:
        return ""
    return words.get(code, code)
