"""Payer names matched to customers: exactly, or nearly when one customer remains.

Exactly: width-folded, without spaces, case-folded (南京同创(集团) is 南京同创（集团）). Nearly:
the legal form folded (有限责任公司, 股份有限公司, 有限公司 → 公司), brackets of either width and
punctuation ignored, and a branch suffix cut (杭州甲有限公司上海分公司, （华东分部）, 北京办事处) —
the branch still decides between two branches of one company. A key that is only a legal form
names no one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping


def name_key(name: str) -> str:
    """A customer name as matched exactly: width-folded, without spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


# 杭州甲有限公司上海分公司, 杭州甲公司(华东分部), 杭州甲有限公司北京办事处: the part after 公司.
_BRANCH = re.compile(r"(?<=公司)[^公]{0,12}?(?:分公司|分部|分厂|分店|办事处|营业部|经营部)$")
_FORMS = (
    ("有限责任公司", "公司"),
    ("股份有限公司", "公司"),
    ("有限公司", "公司"),
    ("股份公司", "公司"),
)
_BRACKETS = str.maketrans("", "", "()[]{}<>〔〕【】〈〉《》「」『』")
_PUNCT = re.compile(r"[\s,.;:、，。；：·・\-_]+")


def payer_key(name: str, *, branch: bool = False) -> str:
    """A payer name as matched loosely: width, brackets, spaces and punctuation ignored, the
    legal form (有限公司, 有限责任公司, 股份有限公司) folded to 公司 and, unless `branch`, a
    branch suffix cut (上海分公司, 华东分部, 北京办事处)."""
    key = _PUNCT.sub("", unicodedata.normalize("NFKC", name).translate(_BRACKETS)).casefold()
    if not branch:
        key = _BRANCH.sub("", key)
    for long, short in _FORMS:
        key = key.replace(long, short)
    return key


def _distinct(key: str) -> bool:
    """A key that says more than a legal form: 公司 or 有限公司 alone names no one."""
    return len(key.replace("公司", "")) >= 2


class NameIndex:
    """Customers' names (code → name) indexed for near and loose payer-name matching."""

    def __init__(self, customers: Mapping[str, str]) -> None:
        self.exact: dict[str, list[str]] = {}  # branch kept: 甲公司上海分公司 ≠ 甲公司北京分公司
        self.near: dict[str, list[str]] = {}  # branch cut
        self._loose: dict[str, list[str]] = {}
        for code, name in customers.items():
            self.add(code, name)

    def add(self, code: str, name: str) -> None:
        self.exact.setdefault(payer_key(name, branch=True), []).append(code)
        self.near.setdefault(payer_key(name), []).append(code)
        self._loose.clear()

    def near_candidates(self, name: str) -> list[str]:
        """Customers whose name nearly matches `name` (the branch decides between branches)."""
        with_branch = payer_key(name, branch=True)
        if not _distinct(with_branch):
            return []
        found = self.exact.get(with_branch, [])
        if len(found) == 1:
            return list(found)
        key = payer_key(name)
        return sorted(set(found) | set(self.near.get(key, []))) if _distinct(key) else []

    def loose_candidates(self, name: str) -> list[str]:
        """Customers a clerk might mean when nothing nearly matches: one name holds the other."""
        wanted = payer_key(name).removesuffix("公司")
        if len(wanted) < 2:
            return []
        if wanted not in self._loose:
            found = {
                code
                for key, codes in self.near.items()
                if len(short := key.removesuffix("公司")) >= 2
                and (wanted in short or short in wanted)
                for code in codes
            }
            self._loose[wanted] = sorted(found)
        return list(self._loose[wanted])


def near_candidates(name: str, customers: Mapping[str, str]) -> list[str]:
    """The customers (code → name) whose name nearly matches `name`, by code."""
    return NameIndex(customers).near_candidates(name)


def loose_candidates(name: str, customers: Mapping[str, str]) -> list[str]:
    return NameIndex(customers).loose_candidates(name)
