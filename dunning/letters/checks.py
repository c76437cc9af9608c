"""Check a Word template before it is used: the problems a clerk's edit typically introduces.

- Jinja syntax errors (`{{ customer.name }` , an `{% if %}` without `{% endif %}`);
- variables the letter context does not provide (a typo, or a tag from another product);
- full-width braces `｛｛ ｝｝` typed with a Chinese input method, which Jinja prints as text;
- tags split across Word runs (half of a tag formatted differently, or Word's spell checker
  marks), which docxtpl can only sometimes repair;
- Track Changes (修订) not accepted and comments (批注): a deleted internal note would
  otherwise reach the customer; such a template is refused until the changes are accepted;
- a template saved as .doc/.wps, which the desk never uses (only .docx).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2 import nodes
from lxml import etree

from dunning.letters.context import CONTEXT_DOC
from dunning.letters.render import ENV, FileCache
from dunning.letters.sandbox import MAX_RANGE

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_FULL_WIDTH = re.compile(r"[｛｝][｛｝%％]|[%％][｛｝]|｛\s*[\w.]+\s*｝")
_STORY_PART = re.compile(r"word/(document|header\d*|footer\d*|footnotes)\.xml")
# Loop variables and docxtpl's own helpers are not context variables.
_BUILTIN = {"loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace"}
_DOCXTPL = DocxTemplate(None)
_REVISION = re.compile(r"<w:(ins|del|moveFrom|moveTo)[ >]")
_DELETED_TEXT = re.compile(r"<w:delText[^>]*>([^<]*)</w:delText>")
_COMMENT = re.compile(r"<w:commentReference[ />]")
# Word and WPS formats a clerk may save a template in by mistake: never read by the desk.
NOT_USED_SUFFIXES = (".doc", ".wps", ".dot", ".dotx", ".docm", ".dotm", ".wpt", ".rtf", ".odt")


@dataclass(frozen=True)
class TemplateProblem:
    """One problem in one template, with the tag (or text) where it is."""

    file: str
    tag: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}：{self.problem}（位置：{self.tag!r}）"

    def to_json(self) -> dict[str, str]:
        """As `templates check --json` prints it."""
        return {"file": self.file, "tag": self.tag, "problem": self.problem}


def documented_attributes(doc: dict[str, str] = CONTEXT_DOC) -> dict[str, set[str]]:
    """`customer` → {"code", "name", …}: the `.attr` names each variable's description lists."""
    return {
        name: set(found) for name, text in doc.items() if (found := re.findall(r"\.(\w+)", text))
    }


def check_template(
    path: Path, known: set[str], *, attributes: dict[str, set[str]] | None = None
) -> list[TemplateProblem]:
    """Every problem found in the template at `path`; `known` are the context variables.

    `attributes` (default: from CONTEXT_DOC) lists the fields of dict-like variables, so a
    typo such as `customer.nmae` is caught too; loop variables take their list's fields.
    """
    if attributes is not None:
        return _check(path, known, attributes)
    # Every pack checks its templates; a template file unchanged since (same inode, mtime,
    # size) has the same problems, and docxtpl's variable scan costs tens of milliseconds.
    try:
        found = _CHECKED.get(
            path, lambda: tuple(_check(path, known, documented_attributes())), frozenset(known)
        )
    except OSError:
        return _check(path, known, documented_attributes())
    return list(found)


_CHECKED: FileCache[tuple[TemplateProblem, ...]] = FileCache()


def _check(path: Path, known: set[str], attributes: dict[str, set[str]]) -> list[TemplateProblem]:
    try:
        parts = _story_parts(path)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return [TemplateProblem(path.name, "", f"不是可读取的 Word 文件（{exc}）")]
    problems: list[TemplateProblem] = []
    texts: list[str] = []
    for name, xml in parts.items():
        paragraphs = _paragraph_runs(xml)
        texts.extend("".join(runs) for runs in paragraphs)
        revisions = _revisions(path, name, xml)
        problems += revisions
        problems += _full_width(path, paragraphs)
        if not revisions:  # a tracked change inside a tag is named as what it is
            problems += _split_tags(path, paragraphs)
        problems += _syntax(path, name, xml, attributes)
    if not any(p.problem.startswith("语法错误") for p in problems):
        problems += _unknown_variables(path, known, texts)
    return problems


def _revisions(path: Path, part: str, xml: str) -> list[TemplateProblem]:
    """Track Changes not accepted, and comments: what the customer must never see."""
    found = []
    marks = [m.group(1) for m in _REVISION.finditer(xml)]
    if marks:
        deleted = "".join(_DELETED_TEXT.findall(xml))
        inserted, removed = marks.count("ins") + marks.count("moveTo"), len(marks)
        removed -= inserted
        found.append(
            TemplateProblem(
                path.name,
                deleted[:60] or part,
                f"{part} 中有未接受的修订：插入 {inserted} 处、删除 {removed} 处，"
                "删掉的文字会出现在寄给客户的函件里。请在 Word 中：审阅 → 接受 → 接受所有修订，"
                "关闭修订后保存",
            )
        )
    if _COMMENT.search(xml):
        found.append(
            TemplateProblem(
                path.name,
                part,
                f"{part} 中有批注：批注会随每封函件发出。请在 Word 中：审阅 → 删除 → "
                "删除文档中的所有批注，然后保存",
            )
        )
    return found


def unused_templates(folder: Path) -> list[TemplateProblem]:
    """Templates saved in a format the desk never reads (.doc, .wps …): the built-in .docx of
    the same name is used instead, so the clerk's edit silently goes nowhere."""
    found = []
    for path in sorted(folder.glob("*")):
        if path.suffix.lower() in NOT_USED_SUFFIXES and not path.name.startswith(("~$", ".")):
            docx = path.with_suffix(".docx")
            fallback = (
                f"实际使用的是本工作台的 {docx.name}" if docx.is_file() else "实际使用的是内置模板"
            )
            found.append(
                TemplateProblem(
                    path.name,
                    path.name,
                    f"保存成了 {path.suffix.lower()} 格式，本工作台不读取这种格式（{fallback}）："
                    "请在 Word 或 WPS 中打开，另存为“Word 文档 (*.docx)”",
                )
            )
    return found


def _story_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        return {
            name: package.read(name).decode("utf-8")
            for name in package.namelist()
            if _STORY_PART.fullmatch(name)
        }


def _paragraph_runs(xml: str) -> list[list[str]]:
    """For each paragraph, the texts of its w:t elements, in order."""
    root = etree.fromstring(xml.encode("utf-8"))
    return [[t.text or "" for t in p.iter(_W + "t")] for p in root.iter(_W + "p")]


def _full_width(path: Path, paragraphs: list[list[str]]) -> list[TemplateProblem]:
    found = []
    for runs in paragraphs:
        text = "".join(runs)
        for match in _FULL_WIDTH.finditer(text):
            excerpt = text[max(0, match.start() - 10) : match.end() + 20]
            found.append(
                TemplateProblem(
                    path.name,
                    excerpt,
                    "全角花括号（用中文输入法打出的 ｛ ｝）：请用半角 { } % 重新输入这个标签",
                )
            )
    return found


def _split_tags(path: Path, paragraphs: list[list[str]]) -> list[TemplateProblem]:
    found = []
    for runs in paragraphs:
        bounds, pos = [], 0
        for text in runs:
            pos += len(text)
            bounds.append(pos)
        text = "".join(runs)
        for match in _TAG.finditer(text):
            if any(match.start() < b < match.end() for b in bounds):
                found.append(
                    TemplateProblem(
                        path.name,
                        match.group(0),
                        "标签被拆成了几段（部分格式不同）：请选中整个标签重新输入，或清除它的格式",
                    )
                )
    return found


def _syntax(
    path: Path, part: str, xml: str, attributes: dict[str, set[str]]
) -> list[TemplateProblem]:
    body = xml.split("<w:body>", 1)[-1] if part == "word/document.xml" else xml
    patched = re.sub(r"<w:p([ >])", r"\n<w:p\1", _DOCXTPL.patch_xml(body))
    try:
        tree = ENV.parse(patched)
    except jinja2.TemplateSyntaxError as exc:
        lines = patched.splitlines()
        line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        tag = re.sub(r"<[^>]+>", "", line).strip()[:120]
        return [TemplateProblem(path.name, tag, f"语法错误（{part}）：{exc.message}")]
    return _unknown_attributes(path, tree, attributes) + _unsafe(path, tree)


def _unsafe(path: Path, tree: nodes.Template) -> list[TemplateProblem]:
    """What the sandbox refuses at render time, found before a pack starts."""
    found = []
    for access in tree.find_all(nodes.Getattr):
        if access.attr.startswith("_"):
            found.append(
                TemplateProblem(
                    path.name,
                    f".{access.attr}",
                    f"访问了 Python 内部属性（{access.attr!r}）：函件模板中不允许",
                )
            )
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "range":
            sizes = [a.value for a in call.args if isinstance(a, nodes.Const)]
            if any(isinstance(n, int) and abs(n) > MAX_RANGE for n in sizes):
                found.append(
                    TemplateProblem(
                        path.name,
                        f"range({', '.join(map(str, sizes))})",
                        f"循环超过 {MAX_RANGE:,} 步：对一封函件来说太长",
                    )
                )
    return found


def _unknown_attributes(
    path: Path, tree: nodes.Template, attributes: dict[str, set[str]]
) -> list[TemplateProblem]:
    fields = dict(attributes)
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.target, nodes.Name) and isinstance(loop.iter, nodes.Name):
            fields.setdefault(loop.target.name, attributes.get(loop.iter.name, set()))
    found = []
    for access in tree.find_all(nodes.Getattr):
        owner = access.node
        known = fields.get(owner.name) if isinstance(owner, nodes.Name) else None
        if known and access.attr not in known:
            name = f"{owner.name}.{access.attr}"  # type: ignore[attr-defined]
            fields_known = "、".join(f".{k}" for k in sorted(known))
            problem = f"未知字段 {name!r}：{{{{ {name.split('.')[0]} }}}} 只有 {fields_known}"
            found.append(TemplateProblem(path.name, name, problem))
    return found


def _unknown_variables(path: Path, known: set[str], texts: list[str]) -> list[TemplateProblem]:
    try:
        names = DocxTemplate(str(path)).get_undeclared_template_variables(jinja_env=ENV)
    except jinja2.TemplateSyntaxError as exc:
        return [TemplateProblem(path.name, "", f"语法错误：{exc.message}")]
    found = []
    for name in sorted(set(names) - known - _BUILTIN):
        tag = next(
            (m.group(0) for t in texts for m in _TAG.finditer(t) if name in m.group(0)), name
        )
        found.append(
            TemplateProblem(
                path.name,
                tag,
                f"未知变量 {name!r}：函件内容中没有这个变量"
                "（用 `dunning templates list --context` 查看可用的变量）",
            )
        )
    return found
