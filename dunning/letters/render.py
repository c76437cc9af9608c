"""Render a letter from a Word template: docxtpl semantics, at a fraction of docxtpl's cost.

`render_letter_plain` is docxtpl itself (load, render, save) and is the reference.
`render_letter` is the fast path: a `CompiledTemplate` is built once per template file (cached by
path, mtime and size) holding

- the body, header, footer and footnote XML already patched by docxtpl's own `patch_xml` and
  compiled by Jinja, which is most of docxtpl's per-letter cost;
- every other part of the package exactly as python-docx would write it for that template
  (taken from one save of the unrendered document), so only the rendered parts change;
- the zip members that hold the QR placeholder picture.

Per letter it renders the compiled templates and applies the same post-processing docxtpl does
(`\\n` before paragraphs, `{_{` escapes, `resolve_listing` for line breaks and tabs, `fix_tables`,
docPr renumbering, re-serialisation of headers and footers), then writes a new zip. A test
checks that every part equals docxtpl's output.

Both paths use one `SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)`: data
prints literally (`A&B <HK> {{ 7*7 }}`), and a misspelt variable is an error, not a blank.
"""

from __future__ import annotations

import copy
import io
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import jinja2
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import oxml_parser, serialize_part_xml
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from dunning.errors import DunningError
from dunning.letters.qr import QR_PICTURE_DESCR
from dunning.letters.sandbox import LetterSandbox, bounded_render, render_limits

QR_CONTEXT_KEY = "qr_png"
_FOOTNOTES_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
# The core properties docxtpl renders as templates (DocxTemplate.render_properties).
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
# Zip entries: "version 2.0" and a fixed 1980-01-01 stamp, so equal letters are equal bytes.
_VERSION, _DOS_TIME, _DOS_DATE = 20, 0, (0 << 9) | (1 << 5) | 1
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
}
# docxtpl's patch/fix helpers are methods that never touch the instance's document: one
# detached instance lends them to the fast path, so its output follows docxtpl's rules exactly.
_DOCXTPL = DocxTemplate(io.BytesIO())
_LISTING_CHARS = "\t\a\n\f"
# The line break docxtpl puts before each paragraph (for error line numbers) and removes again.
_PARAGRAPH_BREAK = re.compile(r"\n(?=<w:p[ >])")
_ESCAPED_BRACES = frozenset({"{{", "}}", "{%", "%}"})  # around the _ of {_{ }_} {_% %_}


def after_render(xml: str) -> str:
    """What DocxTemplate.render_xml_part does to a part's rendered XML, the same in fewer
    passes over it: the paragraph line breaks out, escaped braces back, listings resolved."""
    xml = _PARAGRAPH_BREAK.sub("", xml)
    if _has_escaped_brace(xml):
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%")
        xml = xml.replace("%_}", "%}")
    # resolve_listing only rewrites text holding \t \a \n \f, and is the slowest step
    # of the render: skipping it when none is present leaves the output unchanged.
    if any(char in xml for char in _LISTING_CHARS):  # four scans in C beat one regex
        xml = _DOCXTPL.resolve_listing(xml)
    return str(xml)


def _has_escaped_brace(xml: str) -> bool:
    """Whether `xml` holds {_{ }_} {_% or %_}: the underscores are few, and stepping from one
    to the next is much quicker than four searches of a letter's whole body."""
    at = xml.find("_", 1)
    while at != -1:
        if xml[at - 1] + xml[at + 1 : at + 2] in _ESCAPED_BRACES:
            return True
        at = xml.find("_", at + 1)
    return False


class TemplateError(DunningError):
    """A template cannot be rendered: a Jinja syntax error or a variable the context lacks."""

    def __init__(self, template: Path, problem: str, tag: str = "") -> None:
        where = f"（在 {tag!r} 附近）" if tag else ""
        super().__init__(f"{template.name}：{problem}{where}；请在 Word 中修改模板。")
        self.template = template
        self.problem = problem
        self.tag = tag


def jinja_env() -> SandboxedEnvironment:
    """The environment every letter is rendered with (autoescaped, sandboxed, strict, with
    loop, size and time limits: dunning.letters.sandbox)."""
    return LetterSandbox(autoescape=True, undefined=jinja2.StrictUndefined)


ENV = jinja_env()


# --- the reference path: plain docxtpl -----------------------------------------------------


def render_letter_plain(template: Path, context: dict[str, Any]) -> bytes:
    """Render with docxtpl (load, render, save): slow, and the reference for `render_letter`."""
    tpl = DocxTemplate(str(template))
    try:
        with render_limits():
            tpl.render(context, jinja_env=ENV)
    except jinja2.TemplateError as exc:
        raise _template_error(template, exc, "") from exc
    qr = context.get(QR_CONTEXT_KEY)
    if qr:
        tpl.allow_missing_pics = True  # a clerk may delete the QR picture
        tpl.replace_pic(QR_PICTURE_DESCR, io.BytesIO(qr))
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


# --- the fast path -------------------------------------------------------------------------


@dataclass
class CompiledTemplate:
    """A template ready to render many letters: compiled Jinja and the untouched zip parts."""

    path: Path
    members: list[_Member]
    shell: etree._Element  # w:document with an empty body, to receive each rendered body
    body: jinja2.Template
    xml_parts: dict[str, jinja2.Template] = field(default_factory=dict)
    raw_parts: dict[str, jinja2.Template] = field(default_factory=dict)
    properties: dict[str, jinja2.Template] = field(default_factory=dict)
    qr_members: set[str] = field(default_factory=set)
    core_source: bytes = b""  # core.xml before docxtpl's property pass

    def render(self, context: dict[str, Any]) -> bytes:
        """One letter as .docx bytes, within the sandbox's time and size limits."""
        with render_limits():
            return self._render(context)

    def _render(self, context: dict[str, Any]) -> bytes:
        replaced: dict[str, bytes] = {"word/document.xml": self._render_body(context)}
        for name, template in self.xml_parts.items():
            replaced[name] = self._render_part(template, context)
        for name, template in self.raw_parts.items():
            replaced[name] = self._render_xml(template, context).encode("utf-8")
        if self.properties:
            replaced["docProps/core.xml"] = self._render_properties(context)
        qr = context.get(QR_CONTEXT_KEY)
        if qr:
            replaced.update(dict.fromkeys(self.qr_members, qr))
        return _write_zip(self.members, replaced)

    def _render_body(self, context: dict[str, Any]) -> bytes:
        tree = _fix_tables(self._render_xml(self.body, context))
        _renumber_docpr(tree)
        root = copy.deepcopy(self.shell)
        root.replace(root.find(qn("w:body")), tree)
        return serialize_part_xml(root)

    def _render_part(self, template: jinja2.Template, context: dict[str, Any]) -> bytes:
        """A header or footer, re-serialised as python-docx writes it (docxtpl's way)."""
        xml = self._render_xml(template, context)
        return serialize_part_xml(_parse_part(xml.encode("utf-8")))

    def _render_xml(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """DocxTemplate.render_xml_part after the compile step."""
        try:
            xml = bounded_render(template, context)
        except jinja2.TemplateError as exc:
            raise _template_error(self.path, exc, getattr(template, _SOURCE, "")) from exc
        return after_render(xml)

    def _render_properties(self, context: dict[str, Any]) -> bytes:
        from docx.opc.coreprops import CoreProperties
        from docx.oxml.parser import parse_xml

        # docx.oxml's parser, which gives the element the property setters CoreProperties uses
        element = parse_xml(self.core_source)
        properties = CoreProperties(element)
        for name, template in self.properties.items():
            try:
                setattr(properties, name, template.render(context))
            except jinja2.TemplateError as exc:
                raise _template_error(self.path, exc, "") from exc
        return serialize_part_xml(element)


V = TypeVar("V")


class FileCache(Generic[V]):
    """Values worked out from a file, kept while the file is unchanged: keyed by its identity
    (device, inode), mtime and size, plus any `extra` the value depends on; at most `size`
    of them (the oldest goes first), shared safely between threads."""

    def __init__(self, size: int = 64) -> None:
        self._values: dict[tuple[Hashable, ...], V] = {}
        self._lock = threading.Lock()
        self._size = size

    def get(self, path: Path, make: Callable[[], V], *extra: Hashable) -> V:
        """The value for `path` as it is now, made by `make()` when the file is new or changed.
        Raises OSError when the file cannot be looked at."""
        stat = path.stat()
        # The file's identity rather than its resolved path: resolving a path costs more per
        # letter than the rest of this lookup.
        key = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size, *extra)
        with self._lock:
            hit = self._values.get(key)
        if hit is not None:
            return hit
        value = make()
        with self._lock:
            if len(self._values) >= self._size:
                self._values.pop(next(iter(self._values)))
            self._values[key] = value
        return value


_COMPILED: FileCache[CompiledTemplate] = FileCache()


def compiled_template(template: Path) -> CompiledTemplate:
    """The compiled form of `template`, rebuilt when the file changes (mtime or size)."""
    return _COMPILED.get(template, lambda: compile_template(template))


def render_letter(template: Path, context: dict[str, Any]) -> bytes:
    """Render one letter from a Word template; returns the .docx bytes."""
    return compiled_template(template).render(context)


def compile_template(template: Path) -> CompiledTemplate:
    """Load a template once, patch and compile its XML parts the way docxtpl does."""
    try:
        doc = Document(str(template))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise TemplateError(template, f"不是可读取的 Word 文件（{exc}）") from exc
    accept_revisions(doc.element.body)
    body = _compile(template, _DOCXTPL.xml_to_string(doc.element.body))
    xml_parts: dict[str, jinja2.Template] = {}
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER) and rel.target_part.blob:
            part = rel.target_part
            tree = _parse_part(part.blob)
            accept_revisions(tree)
            source = _DOCXTPL.xml_to_string(tree)
            xml_parts[part.partname.lstrip("/")] = _compile(template, source)
    raw_parts = {
        part.partname.lstrip("/"): _compile(template, part.blob.decode("utf-8"))
        for part in doc.part.package.parts
        if part.content_type == _FOOTNOTES_TYPE
    }
    core_source = serialize_part_xml(doc.core_properties._element)  # before the property pass
    properties = _prepare_properties(template, doc)
    qr_members = _qr_members(doc)
    shell = copy.deepcopy(doc.element)
    shell.find(qn("w:body")).clear()
    saved = io.BytesIO()
    doc.save(saved)
    with zipfile.ZipFile(saved) as package:
        originals = {info.filename: package.read(info) for info in package.infolist()}
    members = [_Member.of(name, data) for name, data in originals.items()]
    compiled = CompiledTemplate(
        template, members, shell, body, xml_parts, raw_parts, properties, qr_members, core_source
    )
    _settle_static_parts(compiled)
    return compiled


_JINJA_MARKS = ("{{", "{%", "{#")


def _settle_static_parts(compiled: CompiledTemplate) -> None:
    """Render once, now, each header or footer that holds no tag (a letterhead, a page footer):
    its text is the same for every letter, so it joins the parts packed once."""
    static = {
        name.encode("utf-8"): _Member.of(name, compiled._render_part(template, {}))
        for name, template in compiled.xml_parts.items()
        if not any(mark in getattr(template, _SOURCE, "{{") for mark in _JINJA_MARKS)
    }
    compiled.xml_parts = {
        name: template
        for name, template in compiled.xml_parts.items()
        if name.encode("utf-8") not in static
    }
    compiled.members = [static.get(member.name, member) for member in compiled.members]


# Track Changes: what is removed on "accept all" (deletions and the record of format changes),
# and what is unwrapped (insertions keep their text). Comment anchors go too.
_REMOVED = tuple(
    qn(f"w:{n}")
    for n in (
        "del", "moveFrom", "rPrChange", "pPrChange", "sectPrChange", "tblPrChange",
        "trPrChange", "tcPrChange", "tblGridChange", "numberingChange", "commentRangeStart",
        "commentRangeEnd", "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart",
        "moveToRangeEnd",
    )
)  # fmt: skip
_UNWRAPPED = (qn("w:ins"), qn("w:moveTo"))


def accept_revisions(tree: etree._Element) -> None:
    """Accept every tracked change and drop comment anchors, in place: a letter carries the
    text as accepted, never a deleted line (`templates check` refuses such a template first;
    this is the second lock)."""
    for element in list(tree.iter(*_REMOVED)):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    for ref in list(tree.iter(qn("w:commentReference"))):
        run = ref.getparent()
        if run is not None and run.getparent() is not None:
            run.getparent().remove(run)
    for element in list(tree.iter(*_UNWRAPPED)):
        parent = element.getparent()
        if parent is None or parent.tag in (qn("w:rPr"), qn("w:trPr")):
            if parent is not None:
                parent.remove(element)  # an inserted paragraph mark or row: keep it plain
            continue
        index = parent.index(element)
        for child in reversed(list(element)):
            parent.insert(index, child)
        parent.remove(element)


def _compile(template: Path, source: str) -> jinja2.Template:
    patched = _DOCXTPL.patch_xml(source)
    patched = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)
    try:
        compiled = ENV.from_string(patched)
    except jinja2.TemplateSyntaxError as exc:
        raise _template_error(template, exc, patched) from exc
    setattr(compiled, _SOURCE, patched)  # to name the tag of an error met while rendering
    return compiled


def _prepare_properties(template: Path, doc: Any) -> dict[str, jinja2.Template]:
    """Do docxtpl's render_properties now when no property holds a tag; else defer it all.

    docxtpl sets every listed property back even without a tag, which writes empty elements
    into core.xml. Without tags that is done here, before the one save; with a tag all six
    are compiled and set per letter, in docxtpl's order, on the template's own core.xml.
    """
    props = doc.core_properties
    compiled: dict[str, jinja2.Template] = {}
    for name in _PROPERTIES:
        value = getattr(props, name)
        try:
            compiled[name] = ENV.from_string(value)
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(template, exc, value) from exc
    if any("{" in getattr(props, name) for name in _PROPERTIES):
        return compiled
    for name, value in compiled.items():
        setattr(props, name, value.render())
    return {}


def _qr_members(doc: Any) -> set[str]:
    """Zip members of pictures named, titled or described `qr` (docxtpl's replace_pic rule)."""
    parts = [doc.part] + [
        rel.target_part for rel in doc.part.rels.values() if rel.reltype in (RT.HEADER, RT.FOOTER)
    ]
    found: set[str] = set()
    for part in parts:
        root = etree.fromstring(part.blob)
        for pic in root.iterfind(".//pic:pic", _NS):
            c_nv_pr = pic.find("pic:nvPicPr/pic:cNvPr", _NS)
            blip = pic.find("pic:blipFill/a:blip", _NS)
            if c_nv_pr is None or blip is None:
                continue
            names = {c_nv_pr.get(a, "") for a in ("name", "title", "descr")}
            rid = blip.get(f"{{{_NS['r']}}}embed")
            if QR_PICTURE_DESCR in names and rid in part.rels:
                found.add(part.rels[rid].target_part.partname.lstrip("/"))
    return found


def _fix_tables(xml: str) -> etree._Element:
    """DocxTemplate.fix_tables, which only changes tables whose rows and grid disagree.

    Its per-cell Python loop is a good part of a render; tables from `{%tr %}` loops never
    need it, so the same parse is checked first and docxtpl is called only when needed.
    """
    try:
        # A rendered body is well-formed XML, and a strict parse of it gives the tree the
        # recovering one does, in two thirds of the time.
        tree = etree.fromstring(xml)
    except etree.XMLSyntaxError:
        tree = etree.fromstring(xml, parser=etree.XMLParser(recover=True))
    for table in tree.iter(_W + "tbl"):
        if _table_needs_fix(table):
            return _DOCXTPL.fix_tables(xml)
    return tree


def _table_needs_fix(table: etree._Element) -> bool:
    """Whether docxtpl's fix_tables would change this table: it has no grid, a row (of it or
    of a table nested in it) has more cells than the grid has columns, or no row spans them
    all. Counted by XPath in C: a statement's tables have many rows."""
    if not _HAS_GRID(table):
        return True  # let docxtpl meet it exactly as the plain path does
    columns = _GRID_COLUMNS(table)
    if _ROW_WIDER_THAN(table, n=columns):
        return True
    return bool(columns > 0 and not _ROW_SPANNING(table, n=columns))


_XPATH_NS = {"w": _W[1:-1]}
_HAS_GRID = etree.XPath("boolean(w:tblGrid)", namespaces=_XPATH_NS)
_GRID_COLUMNS = etree.XPath("count(w:tblGrid[1]/w:gridCol)", namespaces=_XPATH_NS)
_ROW_WIDER_THAN = etree.XPath("boolean(.//w:tr[count(w:tc) > $n])", namespaces=_XPATH_NS)
# A row's width: its cells, plus (span - 1) for each merged one.
_ROW_SPANNING = etree.XPath(
    "boolean(.//w:tr[count(w:tc) + sum(w:tc/w:tcPr/w:gridSpan/@w:val)"
    " - count(w:tc/w:tcPr/w:gridSpan) >= $n])",
    namespaces=_XPATH_NS,
)


def _parse_part(data: bytes) -> etree._Element:
    """docx.opc.oxml.parse_xml (python-docx's parser for parts), typed for bytes."""
    return etree.fromstring(data, oxml_parser)


def _renumber_docpr(tree: etree._Element) -> None:
    """DocxTemplate.fix_docpr_ids: pictures in the body get ids from 1001, in order."""
    for number, element in enumerate(tree.iterfind(".//wp:docPr", _NS), start=1001):
        element.attrib["id"] = str(number)


@dataclass(frozen=True)
class _Member:
    """A zip member compressed once: its raw deflate stream, CRC and sizes."""

    name: bytes
    crc: int
    size: int
    deflated: bytes

    @classmethod
    def of(cls, name: str, data: bytes, level: int = 6) -> _Member:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        deflated = packer.compress(data) + packer.flush()
        return cls(name.encode("utf-8"), zlib.crc32(data), len(data), deflated)


def _write_zip(members: list[_Member], replaced: dict[str, bytes]) -> bytes:
    """A deflated zip of `members`, with the `replaced` ones (by name) compressed afresh.

    zipfile can only write by compressing again; the untouched parts are the bulk of every
    letter, so they are kept deflated and copied as they are.
    """
    out = bytearray()
    central = bytearray()
    for member in members:
        data = replaced.get(member.name.decode("utf-8"))
        if data is not None:
            # Per-letter parts: fast compression; the shared parts were packed once at level 6.
            member = _Member.of(member.name.decode("utf-8"), data, level=1)
        offset = len(out)
        fixed = (_VERSION, 0x800, 8, _DOS_TIME, _DOS_DATE, member.crc, len(member.deflated),
                 member.size, len(member.name))  # fmt: skip
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fixed, 0) + member.name
        out += member.deflated
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, _VERSION, *fixed, 0, 0, 0, 0,
                               0, offset) + member.name  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(out), 0)  # fmt: skip
    return bytes(out + central + end)


_SOURCE = "_dunning_source"


def _template_line(exc: BaseException) -> int | None:
    """The template line a runtime error was raised on (Jinja maps its frames to it)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _template_error(template: Path, exc: jinja2.TemplateError, source: str) -> TemplateError:
    """Name the file and the offending tag: the paragraph text around the error's line."""
    tag = ""
    lineno = getattr(exc, "lineno", None) or _template_line(exc)
    if source and lineno:
        lines = source.splitlines()
        if 0 < lineno <= len(lines):
            tag = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip()[:120]
    return TemplateError(template, _problem(exc), tag)


_UNDEFINED = re.compile(r"'([^']*)' is undefined")
_UNSAFE = re.compile(r"access to attribute '([^']*)' of '[^']*' object is unsafe")


def _problem(exc: jinja2.TemplateError) -> str:
    """Jinja's reason as a clerk reads it: the two a letter meets named in Chinese."""
    text = str(exc.message or exc)
    if match := _UNDEFINED.search(text):
        return (
            f"变量 '{match.group(1)}' 不存在（用 `dunning templates list --context`"
            " 查看可用的变量）"
        )
    if match := _UNSAFE.search(text):
        return f"访问了不安全的属性 '{match.group(1)}'：函件模板中不允许"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"语法错误：{text}"
    return text
