"""Rendering of .docx templates.

* ``render_document(template_path, data)``: one document through docxtpl
  (the reference path; supports every docxtpl feature).
* ``BulkRenderer``: parses the template and compiles its Jinja source ONCE,
  then for each record renders ``word/document.xml`` (and any header/footer
  that holds placeholders), swaps the per-record pictures (the QR code) and
  writes a new zip re-using every other member's compressed bytes unchanged.
  Its ``word/document.xml`` is byte-identical to docxtpl's for the same
  record (tested).  Limits: InlineImage / Subdoc objects in the context are
  not supported in the bulk path (pictures are swapped by name instead).
* ``combine_documents``: several rendered documents in one .docx (page
  breaks between) for one print job, see :mod:`docgen.combine`.

Data flow: plain dict -> :func:`docgen.context.prepare_context` (checks it
against the form definition) -> render context + picture replacements.
"""
from __future__ import annotations

import copy
import io
import multiprocessing
import os
import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import docx.oxml.ns
from docx.oxml import parse_xml
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from jinja2.sandbox import SecurityError
from lxml import etree

from .context import prepare_context
from . import safexml
from .definitions import FormDefinition, as_definition, definition_for_template
from .errors import DocgenError, TemplateForbiddenError, TemplateRenderError
from .filenames import safe_filename
from .sandbox import SafeTemplateEnvironment, environment
from .ziputil import RawEntry, make_entry, write_zip

_NSMAP = docx.oxml.ns.nsmap
_TAG_RE = re.compile(r"{{|{%")
_DOCPR = "{%s}docPr" % _NSMAP["wp"]


_W = _NSMAP["w"]
_TBL, _TBLGRID, _GRIDCOL = f"{{{_W}}}tbl", f"{{{_W}}}tblGrid", f"{{{_W}}}gridCol"
_TR, _TC, _VAL = f"{{{_W}}}tr", f"{{{_W}}}tc", f"{{{_W}}}val"
_GRIDSPAN_PATH = f"{{{_W}}}tcPr/{{{_W}}}gridSpan"


def _tables_need_fix(tree) -> bool:
    """True if docxtpl's fix_tables would change a table grid (same rules)."""
    for t in tree.iter(_TBL):
        grid = t.find(_TBLGRID)
        if grid is None:
            return True
        ncols = len(grid.findall(_GRIDCOL))
        max_span = 0
        for r in t.iter(_TR):
            cells = r.findall(_TC)
            if len(cells) > ncols:
                return True
            span = 0
            for cell in cells:
                gs = cell.find(_GRIDSPAN_PATH)
                span += int(gs.get(_VAL)) if gs is not None else 1
            if span > max_span:
                max_span = span
        if ncols > max_span:
            return True
    return False


def _fix_tables(tpl, xml: str):
    """docxtpl's fix_tables, skipping its re-parse and loops when nothing changes."""
    try:
        tree = safexml.parse(xml)
    except etree.XMLSyntaxError:
        return tpl.fix_tables(xml)  # docxtpl parses with recover=True
    if _tables_need_fix(tree):
        return tpl.fix_tables(xml)
    return tree


def _jinja_env() -> SafeTemplateEnvironment:
    # Same settings docxtpl uses for render(..., autoescape=True), in the sandbox.
    return environment()


def _forbidden(name: str, exc: Exception) -> TemplateForbiddenError:
    return TemplateForbiddenError(f"template {name} tried something the sandbox refuses: {exc}",
                                  f"Mẫu {name} chứa lệnh không được phép ({exc}); mẫu không được dùng")


def _resolve_definition(template_path, definition, raw):
    if raw:
        return None
    if definition is None:
        return definition_for_template(template_path)
    return as_definition(definition)


def _prepare(definition, data, mark_key):
    if definition is None:
        return dict(data), {}
    return prepare_context(definition, data, mark_key=mark_key)


def render_docxtpl(template_path: str | Path, context: dict, images: dict[str, bytes] | None = None) -> bytes:
    """The naive path: new DocxTemplate, render (autoescape), replace pictures, save."""
    try:
        tpl = DocxTemplate(str(template_path))
        for name, data in (images or {}).items():
            tpl.replace_pic(name, io.BytesIO(data))
        tpl.render(context, jinja_env=_jinja_env(), autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
    except SecurityError as exc:
        raise _forbidden(Path(template_path).name, exc) from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"template error in {Path(template_path).name}: {exc}",
                                  f"Mẫu {Path(template_path).name} có lỗi cú pháp: {exc}") from exc
    except FileNotFoundError as exc:
        raise TemplateRenderError(f"template not found: {template_path}",
                                  f"Không tìm thấy mẫu {Path(template_path).name}") from exc
    return out.getvalue()


def render_document(template_path: str | Path, context: dict, *, definition: FormDefinition | dict | None = None,
                    mark_key=None, raw: bool = False) -> bytes:
    """Render one document and return the .docx bytes.

    ``context`` is the plain data dict (see README of docgen for the keys per
    form kind).  The form definition is ``definition`` or the
    ``*.form.json`` beside the template; with ``raw=True`` (or when no
    definition exists) the dict is passed to the template unchanged.
    ``mark_key`` signs the QR (see :mod:`forms.qrpayload`: a SigningKey, a
    Keyring whose current key signs, or bare bytes for the legacy format).
    """
    definition = _resolve_definition(template_path, definition, raw)
    ctx, images = _prepare(definition, context, mark_key)
    return render_docxtpl(template_path, ctx, images)


# ---------------------------------------------------------------------------
# Bulk renderer
# ---------------------------------------------------------------------------

@dataclass
class RenderedDocx:
    """One rendered document: the template's members plus the replaced ones."""

    compiled: "CompiledTemplate"
    replaced: dict[str, bytes] = field(default_factory=dict)

    def read(self, name: str) -> bytes:
        if name in self.replaced:
            return self.replaced[name]
        return self.compiled.member_data[name]

    def namelist(self) -> list[str]:
        return list(self.compiled.member_names)

    def to_bytes(self) -> bytes:
        return self.compiled.build_zip(self.replaced)


class CompiledTemplate:
    """A docx template parsed and compiled once, rendered many times."""

    def __init__(self, template_path: str | Path, *, level: int = 1):
        self.path = Path(template_path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise TemplateRenderError(f"template not found: {template_path}",
                                      f"Không tìm thấy mẫu {self.path.name}") from None
        self.level = level
        self._lock = threading.Lock()
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            self.member_names = [i.filename for i in zf.infolist()]
            self.member_data = {n: zf.read(n) for n in self.member_names}
        self.entries: dict[str, RawEntry] = {n: make_entry(n, d, level=level) for n, d in self.member_data.items()}

        tpl = DocxTemplate(io.BytesIO(raw))
        tpl.render_init()
        self._tpl = tpl
        self.env = _jinja_env()
        doc_part = tpl.docx.part
        self.document_member = str(doc_part.partname).lstrip("/")
        try:
            self.body_template = self.env.from_string(self._source(tpl.get_xml()))
            self.part_templates = {}
            for rel in doc_part.rels.values():
                if rel.is_external or rel.reltype not in (tpl.HEADER_URI, tpl.FOOTER_URI):
                    continue
                part = rel.target_part
                xml = tpl.get_part_xml(part)
                if _TAG_RE.search(xml):
                    self.part_templates[str(part.partname).lstrip("/")] = \
                        self.env.from_string(self._source(xml))
        except TemplateError as exc:
            raise TemplateRenderError(f"template syntax error in {self.path.name}: {exc}",
                                      f"Mẫu {self.path.name} có lỗi cú pháp: {exc}") from exc
        self.root = tpl.docx._element
        self.picture_members = self._find_pictures(doc_part)
        # document.xml = head + rendered body + tail.  docxtpl moves the new body
        # into the document element (lxml then reconciles namespaces, ~4 ms);
        # serializing the body alone and dropping its namespace declarations
        # (all declared on w:document) gives the same bytes (tested).
        root = copy.deepcopy(self.root)
        body = root.body
        marker = etree.SubElement(root, body.tag)
        marker.text = "@@NCT_BODY@@"
        root.replace(body, marker)
        head, tail = etree.tostring(root, encoding="UTF-8", standalone=True).split(
            b"<w:body>@@NCT_BODY@@</w:body>")
        self._doc_head, self._doc_tail = head, tail
        self._root_ns = set(self.root.nsmap.items())

    def _source(self, xml: str) -> str:
        xml = self._tpl.patch_xml(xml)
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)

    @staticmethod
    def _find_pictures(doc_part) -> dict[str, str]:
        """picture name/descr/title -> zip member of its image part."""
        parts = [doc_part] + [r.target_part for r in doc_part.rels.values()
                              if not r.is_external and r.reltype in (RT.HEADER, RT.FOOTER)]
        found: dict[str, str] = {}
        for part in parts:
            tree = safexml.parse(part.blob)
            for pic in tree.iter("{%s}pic" % _NSMAP["pic"]):
                cnv = pic.find("pic:nvPicPr/pic:cNvPr", _NSMAP)
                blip = pic.find("pic:blipFill/a:blip", _NSMAP)
                if cnv is None or blip is None:
                    continue
                rid = blip.get("{%s}embed" % _NSMAP["r"])
                if not rid or rid not in part.rels:
                    continue
                member = str(part.rels[rid].target_part.partname).lstrip("/")
                for key in (cnv.get("name"), cnv.get("descr"), cnv.get("title")):
                    if key:
                        found.setdefault(key, member)
        return found

    def _render_string(self, template, context) -> str:
        dst = template.render(context)
        dst = re.sub(r"\n<w:p([ >])", r"<w:p\1", dst)
        dst = dst.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if any(c in dst for c in "\n\t\a\f"):
            dst = self._tpl.resolve_listing(dst)
        return dst

    def render_document_xml(self, context: dict) -> bytes:
        body_xml = self._render_string(self.body_template, context)
        tree = _fix_tables(self._tpl, body_xml)
        index = 1000
        for elt in tree.iter(_DOCPR):
            index += 1
            elt.attrib["id"] = str(index)
        if set(tree.nsmap.items()) <= self._root_ns:
            body = etree.tostring(tree, encoding="UTF-8")
            end = body.index(b">")
            if body.startswith(b"<w:body ") and body[end - 1:end] != b"/":
                return self._doc_head + b"<w:body>" + body[end + 1:] + self._doc_tail
        with self._lock:  # general (slower) path, exactly what docxtpl does
            self.root.replace(self.root.body, tree)
            return etree.tostring(self.root, encoding="UTF-8", standalone=True)

    def render(self, context: dict, images: dict[str, bytes] | None = None) -> RenderedDocx:
        try:
            replaced = {self.document_member: self.render_document_xml(context)}
            for member, template in self.part_templates.items():
                xml = self._render_string(template, context)
                replaced[member] = etree.tostring(parse_xml(xml.encode("utf-8")), encoding="UTF-8", standalone=True)
        except SecurityError as exc:
            raise _forbidden(self.path.name, exc) from exc
        except TemplateError as exc:
            raise TemplateRenderError(f"render error in {self.path.name}: {exc}",
                                      f"Lỗi khi điền dữ liệu vào mẫu {self.path.name}: {exc}") from exc
        for name, data in (images or {}).items():
            member = self.picture_members.get(name)
            if member is None:
                raise TemplateRenderError(f"picture {name!r} not found in {self.path.name}",
                                          f"Mẫu {self.path.name} thiếu hình {name}")
            replaced[member] = data
        return RenderedDocx(self, replaced)

    def build_zip(self, replaced: dict[str, bytes]) -> bytes:
        entries = []
        for n in self.member_names:
            if n in replaced:
                entries.append(make_entry(n, replaced[n], level=self.level))
            else:
                entries.append(self.entries[n])
        return write_zip(entries)


def default_zip_name(ctx: dict, index: int) -> str:
    parts = [str(ctx.get(k)) for k in ("sheet_serial", "letter_number", "member_full_name") if ctx.get(k)]
    return safe_filename(" ".join(parts) or f"van-ban-{index:05d}", "docx")


class BulkRenderer:
    """Render many records of one template quickly.

    >>> br = BulkRenderer("templates/evaluation_sheet.v1.docx", mark_key=key)
    >>> docx_bytes = br.render(record)
    >>> br.write_zip(records, open("out.zip", "wb"))
    """

    def __init__(self, template_path: str | Path, definition: FormDefinition | dict | None = None, *,
                 mark_key=None, raw: bool = False, level: int = 1):
        self.template_path = Path(template_path)
        self.definition = _resolve_definition(template_path, definition, raw)
        self.mark_key = mark_key
        self.compiled = CompiledTemplate(template_path, level=level)
        self._name_fn: Callable[[dict, int], str] | None = None

    def prepare(self, data: dict) -> tuple[dict, dict]:
        return _prepare(self.definition, data, self.mark_key)

    def render_parts(self, data: dict) -> tuple[RenderedDocx, dict]:
        ctx, images = self.prepare(data)
        return self.compiled.render(ctx, images), ctx

    def render(self, data: dict) -> bytes:
        return self.render_parts(data)[0].to_bytes()

    def _named(self, item: tuple[int, dict]) -> tuple[str, bytes]:
        i, data = item
        rendered, ctx = self.render_parts(data)
        return (self._name_fn or default_zip_name)(ctx, i), rendered.to_bytes()

    def _rendered_bytes(self, records: Iterable[dict], workers: int | None,
                        name_fn: Callable[[dict, int], str] | None = None) -> Iterator[tuple[str, bytes]]:
        """(name, .docx) per record, in order; rendered by ``workers`` processes when more than one.

        Each worker inherits this compiled template (fork) and renders whole documents, so
        the parent only writes bytes: the per-record CPU work (Jinja, QR, zip) runs on every core.
        """
        self._name_fn = name_fn
        workers = workers if workers is not None else (os.cpu_count() or 1)
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            yield from map(self._named, enumerate(records))
            return
        global _WORKER_RENDERER
        _WORKER_RENDERER = self
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_render_in_worker, enumerate(records), chunksize=8)

    def write_zip(self, records: Iterable[dict], fileobj, *,
                  name_fn: Callable[[dict, int], str] | None = None, workers: int | None = None) -> int:
        """Stream one .docx per record into a ZIP (UTF-8 names). Returns the count.

        ``workers``: rendering processes (default: one per core; 1 renders in this process)."""
        used: set[str] = set()
        n = 0
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, docx_bytes in self._rendered_bytes(records, workers, name_fn):
                base, dot, ext = name.rpartition(".")
                k = 2
                while name.lower() in used:
                    name = f"{base} ({k}).{ext}" if dot else f"{name} ({k})"
                    k += 1
                used.add(name.lower())
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, docx_bytes)
                n += 1
        return n

    def write_combined(self, records: Iterable[dict], fileobj, *, workers: int | None = None) -> int:
        """Stream all records into ONE .docx (page breaks between). Returns the count."""
        from .combine import CombinedDocxWriter
        w = CombinedDocxWriter(fileobj)
        for _name, docx_bytes in self._rendered_bytes(records, workers):
            w.add(docx_bytes)
        w.close()
        return w.count


_WORKER_RENDERER: "BulkRenderer | None" = None


def _render_in_worker(item: tuple[int, dict]) -> tuple[str, bytes]:
    return _WORKER_RENDERER._named(item)
