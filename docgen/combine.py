"""Several rendered documents in ONE .docx, for one print job.

Bodies are concatenated; a page break run is appended to the last paragraph
of every document but the last (no extra empty paragraph, so no blank
pages).  The styles, numbering, headers/footers and the section (page size,
margins) of the FIRST document are kept: combine documents made from the
same template.  Pictures referenced from the bodies (the per-sheet QR codes)
are copied as separate media parts with fresh relationship ids; drawing ids
(wp:docPr) are renumbered to stay unique.

``CombinedDocxWriter`` streams: bodies go to a spooled temporary file, media
straight into the output zip, so memory stays flat for thousands of sheets.
With ``sections=True`` every document keeps its own last section (a section break instead of a
page break between documents): documents that already hold several sections (a cell's packet:
letter, then sheets) are joined without one's section taking over the next.  ``add(doc,
bookmark=name)`` marks where a document begins (the PDF conversion finds each document's first
page by it, :func:`docgen.pdf.convert_to_pdf`).

``with_cover`` puts a cover letter made from another template in front of a document, in a
section of its own (its page setup, no header or footer), so the sheets after it keep their
header and footer (the corner marks a scan needs).
"""
from __future__ import annotations

import copy
import hashlib
import io
import posixpath
import tempfile
import zipfile
from typing import Iterable

from lxml import etree

from . import safexml
from .errors import DocgenError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
RT_IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
RT_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
RT_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml."
# The cover's own (empty) header and footer: a section without them would take the previous
# section's, i.e. the sheets' corner marks, once packets are joined one after another.
_COVER_PARTS = (("header", "hdr", "word/noicutru-cover-header.xml"),
                ("footer", "ftr", "word/noicutru-cover-footer.xml"))
_SENTINEL = "@@NCT_BODY@@"
_WITH_R_ATTRIBUTE = etree.XPath(f".//*[@*[namespace-uri()='{R}']]")
_IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif",
                "bmp": "image/bmp", "tiff": "image/tiff", "emf": "image/x-emf", "wmf": "image/x-wmf"}


class _Source:
    """Uniform read access to a .docx given as bytes or as a RenderedDocx."""

    def __init__(self, doc):
        if isinstance(doc, (bytes, bytearray)):
            try:
                self._zf = zipfile.ZipFile(io.BytesIO(doc))
            except zipfile.BadZipFile as exc:
                raise DocgenError("not a .docx (bad zip)", "Tệp không phải .docx hợp lệ") from exc
            self.read = self._zf.read
            self.names = self._zf.namelist()
        else:  # RenderedDocx
            self.read = doc.read
            self.names = doc.namelist()

    def main_part(self) -> str:
        rels = safexml.parse(self.read("_rels/.rels"))
        for rel in rels:
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target").lstrip("/")
        return "word/document.xml"


def _rels_name(part: str) -> str:
    d, f = posixpath.split(part)
    return posixpath.join(d, "_rels", f + ".rels")


class CombinedDocxWriter:
    """Stream many .docx documents (same template) into one .docx."""

    def __init__(self, fileobj, *, sections: bool = False):
        self._sections = sections
        self._pending_sect: etree._Element | None = None
        self._out = zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._body = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
        self._pending: etree._Element | None = None  # last body, written once the next arrives
        self._first: _Source | None = None
        self._docpr_id = 0
        self._new_rels: list[tuple[str, str, str, str | None]] = []
        self._media_by_hash: dict[str, str] = {}
        self._extensions: set[str] = set()
        self.count = 0
        self._closed = False

    # -- per document ---------------------------------------------------
    def add(self, doc, *, bookmark: str | None = None) -> None:
        src = _Source(doc)
        main = src.main_part()
        root = safexml.parse(src.read(main))
        body = root.find(f"{{{W}}}body")
        if body is None:
            raise DocgenError("document has no body", "Văn bản không có nội dung")
        if self._first is None:
            self._first = src
            self._taken_names = set(src.names)
            self._main = main
            self._root_template = copy.deepcopy(root)
            self._base_rels = safexml.parse(src.read(_rels_name(main)))
            self._rel_ids = {r.get("Id") for r in self._base_rels}
            self._sectpr = body.find(f"{{{W}}}sectPr")
        else:
            self._remap_relationships(src, main, body)
        sect = body.find(f"{{{W}}}sectPr")
        if sect is not None:
            body.remove(sect)
        for el in body.iter(f"{{{WP}}}docPr"):
            self._docpr_id += 1
            el.set("id", str(self._docpr_id))
        if bookmark:
            _mark_start(body, bookmark, BOOKMARK_ID_BASE + self.count)
        self._flush_pending(page_break=True)
        self._pending = body
        self._pending_sect = sect
        self.count += 1

    def _remap_relationships(self, src: _Source, main: str, body) -> None:
        rels = {r.get("Id"): r for r in safexml.parse(src.read(_rels_name(main)))}
        base_dir = posixpath.dirname(main)
        mapping: dict[str, str] = {}
        owners = _WITH_R_ATTRIBUTE(body)  # found by libxml2: walking every element here was the slow part
        for el in owners:
            for attr, rid in el.attrib.items():
                if not attr.startswith(f"{{{R}}}") or rid in mapping:
                    continue
                rel = rels.get(rid)
                if rel is None:
                    continue
                rtype, target = rel.get("Type"), rel.get("Target")
                if rtype == RT_IMAGE and rel.get("TargetMode") != "External":
                    data = src.read(posixpath.normpath(posixpath.join(base_dir, target)))
                    mapping[rid] = self._add_media(data, target)
                elif rtype == RT_HYPERLINK or rel.get("TargetMode") == "External":
                    new_id = self._new_rel_id()
                    self._new_rels.append((new_id, rtype, target, rel.get("TargetMode")))
                    mapping[rid] = new_id
                # other relationship kinds (styles, numbering, ...) are shared
        if mapping:
            for el in owners:
                for attr, rid in list(el.attrib.items()):
                    if attr.startswith(f"{{{R}}}") and rid in mapping:
                        el.set(attr, mapping[rid])

    def _new_rel_id(self) -> str:
        n = len(self._new_rels) + 1
        rid = f"rIdC{n}"
        while rid in self._rel_ids:
            n += 1
            rid = f"rIdC{n}"
        self._rel_ids.add(rid)
        return rid

    def _add_media(self, data: bytes, target: str) -> str:
        digest = hashlib.sha1(data).hexdigest()
        ext = target.rsplit(".", 1)[-1].lower() if "." in target else "bin"
        if digest not in self._media_by_hash:
            n = len(self._media_by_hash) + 1
            name = f"media/combined_{n}.{ext}"
            while f"word/{name}" in self._taken_names:  # the first document may be a combined one
                n += 1
                name = f"media/combined_{n}.{ext}"
            self._taken_names.add(f"word/{name}")
            self._out.writestr(f"word/{name}", data, compress_type=zipfile.ZIP_STORED)
            rid = self._new_rel_id()
            self._new_rels.append((rid, RT_IMAGE, name, None))
            self._media_by_hash[digest] = rid
            self._extensions.add(ext)
        return self._media_by_hash[digest]

    def _flush_pending(self, page_break: bool) -> None:
        body = self._pending
        if body is None:
            return
        if page_break and self._sections and self._pending_sect is not None:
            _end_section(body, self._pending_sect)  # this document's section ends with it
        elif page_break:
            last = body[-1] if len(body) else None
            if last is None or last.tag != f"{{{W}}}p":
                last = etree.SubElement(body, f"{{{W}}}p")
            run = etree.SubElement(last, f"{{{W}}}r")
            br = etree.SubElement(run, f"{{{W}}}br")
            br.set(f"{{{W}}}type", "page")
        xml = etree.tostring(body, encoding="unicode")
        start = xml.index(">") + 1
        if xml.endswith("/>"):  # empty body
            return
        self._body.write(xml[start:xml.rindex("</")].encode("utf-8"))
        self._pending = None

    # -- finish ---------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._first is None:
            self._out.close()
            raise DocgenError("nothing to combine", "Không có văn bản nào để gộp")
        if self._sections and self._pending_sect is not None:
            self._sectpr = self._pending_sect  # the last document's section closes the body
        self._flush_pending(page_break=False)
        src = self._first
        skip = {self._main, _rels_name(self._main), "[Content_Types].xml"}
        for name in src.names:
            if name not in skip:
                self._out.writestr(name, src.read(name))
        # content types: make sure every media extension has a default
        ct = safexml.parse(src.read("[Content_Types].xml"))
        have = {d.get("Extension", "").lower() for d in ct.findall(f"{{{CT}}}Default")}
        for ext in sorted(self._extensions - have):
            d = etree.SubElement(ct, f"{{{CT}}}Default")
            d.set("Extension", ext)
            d.set("ContentType", _IMAGE_TYPES.get(ext, "application/octet-stream"))
        self._out.writestr("[Content_Types].xml", etree.tostring(ct, encoding="UTF-8", standalone=True))
        rels = self._base_rels
        for rid, rtype, target, mode in self._new_rels:
            r = etree.SubElement(rels, f"{{{PR}}}Relationship")
            r.set("Id", rid)
            r.set("Type", rtype)
            r.set("Target", target)
            if mode:
                r.set("TargetMode", mode)
        self._out.writestr(_rels_name(self._main), etree.tostring(rels, encoding="UTF-8", standalone=True))
        # document.xml = root start + bodies + first document's sectPr + end
        root = self._root_template
        body = root.find(f"{{{W}}}body")
        for child in list(body):
            body.remove(child)
        body.text = _SENTINEL
        if self._sectpr is not None:
            body.append(self._sectpr)
        head, tail = etree.tostring(root, encoding="UTF-8", standalone=True).split(_SENTINEL.encode(), 1)
        with self._out.open(self._main, "w", force_zip64=True) as fh:
            fh.write(head)
            self._body.seek(0)
            while True:
                chunk = self._body.read(1 << 20)
                if not chunk:
                    break
                fh.write(chunk)
            fh.write(tail)
        self._body.close()
        self._out.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *a):
        if exc_type is None:
            self.close()
        else:
            self._closed = True
            self._body.close()
            self._out.close()


BOOKMARK_ID_BASE = 7_000_000  # ids of the bookmarks add() sets: far above any a template holds


def _mark_start(body, name: str, bookmark_id: int) -> None:
    """A bookmark at the start of the first paragraph (in reading order, maybe in a table cell)."""
    para = next(body.iter(f"{{{W}}}p"), None)
    if para is None:
        return  # nothing to mark: the caller notices the missing mark
    start = etree.Element(f"{{{W}}}bookmarkStart")
    start.set(f"{{{W}}}id", str(bookmark_id))
    start.set(f"{{{W}}}name", name)
    end = etree.Element(f"{{{W}}}bookmarkEnd")
    end.set(f"{{{W}}}id", str(bookmark_id))
    at = 1 if len(para) and para[0].tag == f"{{{W}}}pPr" else 0
    para.insert(at, start)
    para.insert(at + 1, end)


def _section_end_props(paragraph):
    """The paragraph's properties, without any section end it had (a paragraph's sectPr ends its section)."""
    ppr = paragraph.find(f"{{{W}}}pPr")
    if ppr is None:
        ppr = etree.Element(f"{{{W}}}pPr")
        paragraph.insert(0, ppr)
    for old in ppr.findall(f"{{{W}}}sectPr"):
        ppr.remove(old)
    return ppr


def _end_section(body, sect) -> None:
    """Make the body's last paragraph end a section with ``sect`` (next page), as Word writes a section break."""
    last = body[-1] if len(body) else None
    if last is None or last.tag != f"{{{W}}}p":
        last = etree.SubElement(body, f"{{{W}}}p")
    ppr = _section_end_props(last)
    sect = copy.deepcopy(sect)
    for old in sect.findall(f"{{{W}}}type"):
        sect.remove(old)
    kind = etree.Element(f"{{{W}}}type")
    kind.set(f"{{{W}}}val", "nextPage")
    at = len(sect.findall(f"{{{W}}}headerReference")) + len(sect.findall(f"{{{W}}}footerReference"))
    sect.insert(at, kind)  # schema order: header/footer references, then the type
    ppr.append(sect)  # a paragraph's sectPr ends its section (after w:rPr, as the schema orders pPr)


def combine_documents(docs: Iterable[bytes]) -> bytes:
    """One .docx holding every document of ``docs`` (page breaks between)."""
    out = io.BytesIO()
    w = CombinedDocxWriter(out)
    for d in docs:
        w.add(d)
    w.close()
    return out.getvalue()


def with_cover(cover: bytes, document: bytes) -> bytes:
    """``document`` with the body of ``cover`` in front, as a first section of its own.

    The cover must use only styles the document has too (the project's templates share them) and
    hold no pictures or links; its section keeps its page setup, with an empty header and footer of its own.
    """
    c_src, d_src = _Source(cover), _Source(document)
    c_root = safexml.parse(c_src.read(c_src.main_part()))
    d_main = d_src.main_part()
    d_root = safexml.parse(d_src.read(d_main))
    c_body, d_body = c_root.find(f"{{{W}}}body"), d_root.find(f"{{{W}}}body")
    if c_body is None or d_body is None:
        raise DocgenError("document has no body", "Văn bản không có nội dung")
    for el in c_body.iter():
        if any(attr.startswith(f"{{{R}}}") for attr in el.attrib) and el.tag != f"{{{W}}}headerReference" \
                and el.tag != f"{{{W}}}footerReference":
            raise DocgenError("a cover with pictures or links cannot be joined",
                              "Trang bìa có hình hoặc liên kết, không ghép được")
    sect = c_body.find(f"{{{W}}}sectPr")
    if sect is not None:
        c_body.remove(sect)
        sect = copy.deepcopy(sect)
    else:
        sect = etree.Element(f"{{{W}}}sectPr")
    for tag in ("headerReference", "footerReference", "titlePg", "type"):
        for el in sect.findall(f"{{{W}}}{tag}"):
            sect.remove(el)
    kind = etree.Element(f"{{{W}}}type")
    kind.set(f"{{{W}}}val", "nextPage")
    sect.insert(0, kind)
    d_rels = safexml.parse(d_src.read(_rels_name(d_main)))
    taken = {r.get("Id") for r in d_rels}
    added = {}
    for n, (what, tag, part) in enumerate(_COVER_PARTS):
        rid = f"rIdCover{n + 1}"
        while rid in taken:
            rid += "x"
        rel = etree.SubElement(d_rels, f"{{{PR}}}Relationship")
        rel.set("Id", rid)
        rel.set("Type", RT_OFFICE + what)
        rel.set("Target", posixpath.relpath(part, posixpath.dirname(d_main)))
        added[part] = f'<w:{tag} xmlns:w="{W}"><w:p/></w:{tag}>'.encode()
        for page in ("even", "default"):  # no inherited header on any page of the cover
            ref = etree.Element(f"{{{W}}}{what}Reference")
            ref.set(f"{{{W}}}type", page)
            ref.set(f"{{{R}}}id", rid)
            sect.insert(0, ref)
    ct = safexml.parse(d_src.read("[Content_Types].xml"))
    for what, _, part in _COVER_PARTS:
        o = etree.SubElement(ct, f"{{{CT}}}Override")
        o.set("PartName", "/" + part)
        o.set("ContentType", f"{CT_WORD}{what}+xml")
    blocks = list(c_body)
    if not blocks or blocks[-1].tag != f"{{{W}}}p":
        blocks.append(etree.Element(f"{{{W}}}p"))
    _section_end_props(blocks[-1]).append(sect)  # a paragraph's sectPr ends its section
    for i, block in enumerate(blocks):
        d_body.insert(i, block)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(document)) as zin, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        for info in zin.infolist():
            if info.filename in added:
                continue
            if info.filename == d_main:
                zout.writestr(info, etree.tostring(d_root, encoding="UTF-8", standalone=True))
            elif info.filename == _rels_name(d_main):
                zout.writestr(info, etree.tostring(d_rels, encoding="UTF-8", standalone=True))
            elif info.filename == "[Content_Types].xml":
                zout.writestr(info, etree.tostring(ct, encoding="UTF-8", standalone=True))
            else:
                zout.writestr(info, zin.read(info.filename))
        for part, xml in added.items():
            zout.writestr(part, xml)
    return out.getvalue()
