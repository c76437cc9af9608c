"""The e-invoice XML and OFD readers: the same invoice written another way reads the same."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tooling import require_realworld

from dunning.archive.einvoice.ofd import read_ofd
from dunning.archive.einvoice.xmlread import read_invoice_xml

FIXTURES = Path(__file__).parent / "fixtures" / "einvoice"


def _shuffle(element: ET.Element, rng: random.Random) -> None:
    """Siblings in another order; siblings of one tag keep theirs (an invoice's lines)."""
    children = list(element)
    for child in children:
        _shuffle(child, rng)
    by_tag: dict[str, list[ET.Element]] = {}
    for child in children:
        by_tag.setdefault(child.tag, []).append(child)
    tags = list(by_tag)
    rng.shuffle(tags)
    for child in children:
        element.remove(child)
    for tag in tags:
        element.extend(by_tag[tag])


def _namespaced(element: ET.Element, uri: str) -> None:
    for node in element.iter():
        node.tag = f"{{{uri}}}{node.tag}"


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(["goods.xml", "red.xml", "toll.xml"]),
    seed=st.integers(0, 2**16),
    namespace=st.sampled_from([None, "http://www.chinatax.gov.cn/einvoice", "urn:x"]),
    encoding=st.sampled_from(["utf-8", "gb18030", "gbk"]),
    indent=st.booleans(),
)
def test_an_xml_written_another_way_reads_the_same(
    name: str, seed: int, namespace: str | None, encoding: str, indent: bool
) -> None:
    data = (FIXTURES / name).read_bytes()
    baseline = read_invoice_xml(data, name)
    root = ET.fromstring(data)
    _shuffle(root, random.Random(seed))
    if namespace:
        _namespaced(root, namespace)
    if indent:
        ET.indent(root, space="    ")
    else:
        for node in root.iter():
            node.tail = None
            if node.text is not None and not node.text.strip():
                node.text = None
    other = ET.tostring(root, encoding=encoding, xml_declaration=True)
    assert read_invoice_xml(other, name) == baseline


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["20240531141733.ofd", "发票示例.ofd", "fptpl.ofd"]),
    seed=st.integers(0, 2**16),
    stored=st.booleans(),
)
def test_an_ofd_repacked_reads_the_same(tmp_path: Path, name: str, seed: int, stored: bool) -> None:
    source = require_realworld() / "einvoice" / name
    baseline = read_ofd(source)
    with zipfile.ZipFile(source) as original:
        members = [(info.filename, original.read(info)) for info in original.infolist()]
    random.Random(seed).shuffle(members)
    target = tmp_path / f"{seed}-{name}"
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(target, "w", compression=method) as repacked:
        for member, content in members:
            repacked.writestr(member, content)
    other = read_ofd(target)
    assert other.invoices == baseline.invoices
    assert sorted(other.text.split("\n")) == sorted(baseline.text.split("\n"))


_FREE = [
    "电子发票（增值税专用发票）",
    "发票号码：25332000000000000004",
    "开票日期：2025年03月05日",
    "价税合计（大写）陆仟圆整 （小写）¥6,000.00",
    "车牌号码：粤B12345",
]
_PARTIES = [
    "购买方信息 名称：宁波海辰机械有限公司",
    "统一社会信用代码/纳税人识别号：91330200MA28D00022",
    "销售方信息 名称：杭州示例供应链有限公司",
    "统一社会信用代码/纳税人识别号：91330100MA2H000001",
]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    at=st.integers(0, len(_FREE)),
    spaced=st.booleans(),
    half_width=st.booleans(),
    joined=st.booleans(),
)
def test_a_pdf_text_layer_in_another_order_reads_the_same(
    seed: int, at: int, spaced: bool, half_width: bool, joined: bool
) -> None:
    from dunning.archive.einvoice.pdftext import read_invoice_text

    baseline = read_invoice_text("\n".join(_FREE + _PARTIES))
    assert baseline is not None
    free = list(_FREE)
    random.Random(seed).shuffle(free)
    lines = free[:at] + _PARTIES + free[at:]  # the buyer's block stays before the seller's
    if spaced:  # pypdf's spaced-out CJK: a space between two hanzi
        lines = [re.sub(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])", " ", line) for line in lines]
    if half_width:
        lines = [line.replace("：", ":").replace("（", "(").replace("）", ")") for line in lines]
    other = read_invoice_text(("" if joined else "\n").join(lines))
    assert other == baseline
