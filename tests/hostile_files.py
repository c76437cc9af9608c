"""Builders of hostile files: zip bombs, XXE, pixel bombs, cyclic and absurd PDFs.

Each writes a small file quickly; what makes it hostile is what a naive parser would do with it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

from dunning.demo import pdf_from_objects

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER = ["客户编号", "发票号码", "开票日期", "应收金额"]


def _sheet(rows: list[list[str]], *, dimension: str | None = None, prolog: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(
        f'<row r="{r}">'
        + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in row)
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {_NS}>{dim}<sheetData>{body}</sheetData></worksheet>'


def write_xlsx(
    path: Path,
    *,
    sheet: str | None = None,
    shared: str | None = None,
    extra: dict[str, bytes] | None = None,
    with_shared: bool = True,
) -> Path:
    """A minimal workbook by hand, so every part can be made hostile."""
    rows = [HEADER, ["C1", "F1", "2025-01-01", "100"]]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet if sheet is not None else _sheet(rows))
        if with_shared:
            z.writestr("xl/sharedStrings.xml", shared or f'<sst {_NS} count="0" uniqueCount="0"/>')
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def giant_shared_string_xlsx(path: Path, megabytes: int) -> Path:
    """One shared string of `megabytes` MB, streamed: the 206 KB file that took 17.9 GB."""
    write_xlsx(path, with_shared=False)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("xl/sharedStrings.xml", "w", force_zip64=True) as member,
    ):
        member.write(f'<sst {_NS} count="1" uniqueCount="1"><si><t>'.encode())
        block = b"A" * (1024 * 1024)
        for _ in range(megabytes):
            member.write(block)
        member.write(b"</t></si></sst>")
    return path


def many_members_xlsx(path: Path, members: int) -> Path:
    write_xlsx(path, extra={f"xl/media/pad{n}.bin": b"" for n in range(members)})
    return path


def xxe_xlsx(path: Path) -> Path:
    prolog = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    rows = [HEADER, ["&xxe;", "F1", "2025-01-01", "100"]]
    return write_xlsx(path, sheet=_sheet(rows, prolog=prolog))


def billion_laughs_xlsx(path: Path) -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    rows = [HEADER, ["&lol9;", "F1", "2025-01-01", "100"]]
    return write_xlsx(path, sheet=_sheet(rows, prolog=f"<!DOCTYPE r [{entities}]>"))


def million_row_dimension_xlsx(path: Path) -> Path:
    rows = [HEADER, ["C1", "F1", "2025-01-01", "100"]]
    return write_xlsx(path, sheet=_sheet(rows, dimension="A1:XFD1048576"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def pixel_bomb_png(path: Path, side: int = 30_000) -> Path:
    """A 1-bit `side`×`side` PNG of zeros: tiny on disk, 900 million pixels decoded."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )
    return path


def signature_only_png(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def cyclic_pdf(path: Path) -> Path:
    """The page tree's only kid is the page tree itself."""
    path.write_bytes(
        pdf_from_objects(
            [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
        )
    )
    return path


def absurd_count_pdf(path: Path) -> Path:
    path.write_bytes(
        pdf_from_objects(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 2000000000 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            ]
        )
    )
    return path


def many_pages_pdf(path: Path, pages: int = 10_000) -> Path:
    kids = " ".join(f"{n} 0 R" for n in range(3, pages + 3)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    path.write_bytes(pdf_from_objects(objects))
    return path
