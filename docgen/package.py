"""The parts of a .docx package as a renderer sees them, and what a template package must not hold.

* :func:`main_part` finds the main document the way Word, python-docx and docxtpl do: the
  ``officeDocument`` relationship of ``_rels/.rels`` (not the name ``word/document.xml``),
  with its content type from ``[Content_Types].xml``.
* :func:`template_parts` lists the main part and the headers, footers and footnotes it
  references: every part the renderer fills.
* :func:`package_findings` lists what is refused in a template: external or ``file:``
  relationships, embedded objects (OLE, ActiveX, ``altChunk``, ``embeddings/``), fields that
  fetch or run something (INCLUDETEXT, INCLUDEPICTURE, DDE, DDEAUTO, LINK, IMPORT), macros, and
  parts over :data:`MAX_PART_BYTES`.
* :func:`strip_external_relationships` removes external relationships from a rendered .docx
  (defence in depth before LibreOffice converts it).

Every member is read with a size bound (:func:`read_member`).
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from . import safexml
from .ziputil import make_entry, write_zip

MAX_PART_BYTES = 4 * 1024 * 1024  # one part; the real templates' biggest is ~200 kB
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_DOCUMENT = "/officeDocument"
MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
}
TEMPLATE_REL_SUFFIXES = ("/header", "/footer", "/footnotes")
EMBEDDING_REL_SUFFIXES = ("/oleObject", "/package", "/control", "/aFChunk", "/subDocument", "/frame",
                          "/activeXControlBinary", "/attachedTemplate")
MACRO_MARKERS = ("macroEnabled", "vbaProject", "vbaData", "ms-office.activeX")
DANGEROUS_FIELDS = re.compile(r"\b(INCLUDETEXT|INCLUDEPICTURE|INCLUDE|DDEAUTO|DDE|LINK|IMPORT)\b", re.I)
EMBEDDED_ELEMENTS = {"object", "OLEObject", "altChunk", "control", "objectEmbed", "objectLink"}
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


class PackageError(Exception):
    """The package cannot be read as a Word document (code ``not_docx`` or ``oversize_part``)."""

    def __init__(self, code: str, detail: str, part: str | None = None):
        super().__init__(detail)
        self.code, self.detail, self.part = code, detail, part


@dataclass(frozen=True)
class Finding:
    code: str        # external_relationship, embedded_object, macro_enabled, oversize_part
    part: str        # the zip member it is in
    what: str        # the target, element or field (for the message)


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_PART_BYTES) -> bytes:
    """A member's bytes, never more than ``limit`` (beyond it: PackageError oversize_part)."""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise PackageError("oversize_part", f"{name} is larger than {limit} bytes", name)
    return data


def parse_xml_member(zf: zipfile.ZipFile, name: str) -> etree._Element:
    try:
        return safexml.parse(read_member(zf, name))
    except etree.XMLSyntaxError as exc:
        raise PackageError("not_docx", f"{name} is not well-formed XML: {exc}", name) from None


def rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def relationships(zf: zipfile.ZipFile, part: str, names: set[str]) -> list[tuple[str, str, str]]:
    """(type, target, target mode) of every relationship of ``part`` ('' = the package)."""
    rn = "_rels/.rels" if part == "" else rels_name(part)
    if rn not in names:
        return []
    root = parse_xml_member(zf, rn)
    return [(r.get("Type") or "", r.get("Target") or "", r.get("TargetMode") or "Internal")
            for r in root.iter(f"{{{RELS_NS}}}Relationship")]


def content_types(zf: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    root = parse_xml_member(zf, "[Content_Types].xml")
    defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iter(f"{{{CT_NS}}}Default")}
    overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in root.iter(f"{{{CT_NS}}}Override")}
    return defaults, overrides


def content_type_of(part: str, defaults: dict, overrides: dict) -> str:
    if part in overrides:
        return overrides[part]
    return defaults.get(part.rsplit(".", 1)[-1].lower(), "")


def main_part(zf: zipfile.ZipFile) -> str:
    """The main document part the renderer will use (through ``_rels/.rels``)."""
    names = {i.filename for i in zf.infolist()}
    if "[Content_Types].xml" not in names or "_rels/.rels" not in names:
        raise PackageError("not_docx", "no [Content_Types].xml or _rels/.rels")
    mains = [resolve_target("", t) for ty, t, mode in relationships(zf, "", names)
             if ty.endswith(OFFICE_DOCUMENT) and mode != "External"]
    if len(mains) != 1 or mains[0] not in names:
        raise PackageError("not_docx", f"main document relationship points to {mains!r}")
    defaults, overrides = content_types(zf)
    ct = content_type_of(mains[0], defaults, overrides)
    if ct not in MAIN_TYPES and not any(m in ct for m in MACRO_MARKERS):
        raise PackageError("not_docx", f"main part {mains[0]} has content type {ct!r}", mains[0])
    return mains[0]


def template_parts(zf: zipfile.ZipFile, main: str) -> list[str]:
    """The main part and the headers, footers and footnotes it references, in that order."""
    names = {i.filename for i in zf.infolist()}
    parts = [main]
    for ty, target, mode in relationships(zf, main, names):
        if mode == "External" or not ty.endswith(TEMPLATE_REL_SUFFIXES):
            continue
        part = resolve_target(main, target)
        if part in names and part not in parts:
            parts.append(part)
    return parts


def _is_external(target: str, mode: str) -> bool:
    t = target.strip()
    return mode.lower() == "external" or bool(_URL_SCHEME.match(t)) or t.startswith(("//", "\\\\"))


def package_findings(zf: zipfile.ZipFile, max_part: int = MAX_PART_BYTES) -> list[Finding]:
    """Everything a template package holds that could fetch, embed or run something, or is too big."""
    infos = zf.infolist()
    names = {i.filename for i in infos}
    found: list[Finding] = []
    for info in infos:
        n, low = info.filename, info.filename.lower()
        if info.file_size > max_part:
            found.append(Finding("oversize_part", n, f"{info.file_size / 1024 / 1024:.1f}"))
        if low.endswith("vbaproject.bin") or "vbadata" in low:
            found.append(Finding("macro_enabled", n, "vbaProject"))
        elif "/embeddings/" in low or "/activex/" in low or low.endswith((".bin", ".ole")):
            found.append(Finding("embedded_object", n, posixpath.basename(n)))
    ct_xml = read_member(zf, "[Content_Types].xml").decode("utf-8", "replace")
    for marker in MACRO_MARKERS:
        if marker in ct_xml:
            found.append(Finding("macro_enabled", "[Content_Types].xml", marker))
            break
    for info in infos:
        n = info.filename
        if info.file_size > max_part:
            continue
        if n.endswith(".rels"):
            source = "" if n == "_rels/.rels" else posixpath.join(posixpath.dirname(posixpath.dirname(n)),
                                                                  posixpath.basename(n)[:-len(".rels")])
            for ty, target, mode in relationships(zf, source, names):
                if _is_external(target, mode):
                    found.append(Finding("external_relationship", n, target[:200]))
                elif ty.endswith(EMBEDDING_REL_SUFFIXES):
                    found.append(Finding("embedded_object", n, ty.rsplit("/", 1)[-1]))
        elif n.lower().endswith(".xml") and n != "[Content_Types].xml":
            root = parse_xml_member(zf, n)
            found.extend(_xml_findings(root, n))
    return found


def _xml_findings(root, part: str) -> list[Finding]:
    found: list[Finding] = []
    instr: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in EMBEDDED_ELEMENTS:
            found.append(Finding("embedded_object", part, local))
        elif local == "instrText" and el.text:
            instr.append(el.text)
        elif local == "fldSimple":
            instr.append(next((v for k, v in el.attrib.items() if k == "instr" or k.endswith("}instr")), ""))
        elif local in ("ddeLink", "oleLink"):
            found.append(Finding("embedded_object", part, local))
    # Word splits field codes over runs at will ("INCL" + "UDETEXT"): look at both joins.
    m = (DANGEROUS_FIELDS.search("".join(instr)) or DANGEROUS_FIELDS.search(" ".join(instr))) if instr else None
    if m:
        found.append(Finding("embedded_object", part, m.group(1).upper()))
    return found


def strip_external_relationships(docx: bytes) -> bytes:
    """The same .docx without any external relationship (targets with a scheme or TargetMode External).

    Used before a rendered document is handed to LibreOffice, so that nothing it converts can make
    it fetch a URL or read a local file, whatever the template held."""
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        infos = zf.infolist()
        changed: dict[str, bytes] = {}
        for info in infos:
            if not info.filename.endswith(".rels"):
                continue
            root = safexml.parse(read_member(zf, info.filename))
            drop = [r for r in root.iter(f"{{{RELS_NS}}}Relationship")
                    if _is_external(r.get("Target") or "", r.get("TargetMode") or "")]
            for r in drop:
                r.getparent().remove(r)
            if drop:
                changed[info.filename] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        if not changed:
            return docx
        entries = [make_entry(i.filename, changed.get(i.filename) or read_member(zf, i.filename, 1 << 30))
                   for i in infos]
    return write_zip(entries)
