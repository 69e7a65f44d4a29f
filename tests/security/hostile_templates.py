"""Generator of hostile Word templates (built at test time; no binary is checked in).

``hostile_templates(marker)`` returns ``{name: HostileTemplate}``: each one a real .docx whose
placeholders try to escape the Jinja sandbox (and would create the file ``marker`` if they
could), compute something huge, or smuggle something into the package (a decoy main part,
external relationships, altChunk, an INCLUDETEXT field, a VBA project, an oversize part,
placeholders outside the form parts).  ``code`` is the problem code the template check must
give for it.
"""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from docx import Document

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class HostileTemplate:
    data: bytes
    code: str               # the check's problem code
    escapes: bool = False   # Jinja that tries to run code (the renderer must refuse it too)
    huge: bool = False      # Jinja that tries to compute something huge (the renderer must stop it)


def docx_with(*paragraphs: str) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def rezip(data: bytes, *, replace: dict | None = None, add: dict | None = None, drop: set | None = None) -> bytes:
    """Copy a .docx, with ``replace`` = {member: function(bytes) -> bytes}, extra and dropped members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if drop and info.filename in drop:
                continue
            buf = zin.read(info.filename)
            if replace and info.filename in replace:
                buf = replace[info.filename](buf)
            zout.writestr(info.filename, buf)
        for name, buf in (add or {}).items():
            zout.writestr(name, buf)
    return out.getvalue()


def _add_rel(rel_type: str, target: str, external: bool = True):
    mode = ' TargetMode="External"' if external else ""

    def edit(buf: bytes) -> bytes:
        rel = f'<Relationship Id="rIdHostile" Type="{REL_NS}/{rel_type}" Target="{target}"{mode}/>'
        return buf.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
    return edit


def _in_body(xml: str):
    def edit(buf: bytes) -> bytes:
        return buf.replace(b"<w:body>", b"<w:body>" + xml.encode(), 1)
    return edit


SSTI = {
    # The classic escape: walk object's subclasses to Popen.
    "subclasses": "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'Popen' %}"
                  "{{ c(['touch', '@M@']) }}{% endif %}{% endfor %}",
    "globals": "{{ member_full_name.__init__.__globals__['os'].system('touch @M@') }}",
    "cycler": "{{ cycler.__init__.__globals__.os.popen('touch @M@').read() }}",
    "lipsum": "{{ lipsum.__globals__['os'].popen('touch @M@').read() }}",
    "template_reference": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch @M@') }}",
    "request_config": "{{ request.application.__globals__.__builtins__.__import__('os').system('touch @M@') }}"
                      "{{ config.items() }}",
    "attr_filter": "{{ (member_full_name|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fmro\\x5f\\x5f'))[1]"
                   "|attr('\\x5f\\x5fsubclasses\\x5f\\x5f')() }}",
    "format_filter": "{{ '%s%s'|format(member_full_name.__class__, 1) }}{{ '{0.__class__}'.format(member_full_name) }}",
    "item_lookup": "{{ member_full_name['__class__']['__mro__'] }}",
    "macro": "{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}",
    "import_include": "{% import 'os' as os %}{% include '/etc/passwd' %}",
    "set_provided_name": "{% set member_full_name = 'giả' %}{{ member_full_name }}",
    "method_call": "{{ member_full_name.center(1000000000) }}",
}
HUGE = {
    "repetition": "{{ 'a' * 1000000000 }}",
    "power": "{{ 'a' * 10**9 }}",
    "range": "{% for i in range(1000000000) %}x{% endfor %}",
    "range_power": "{{ range(10**9)|length }}",
}


def hostile_templates(marker: str | os.PathLike) -> dict[str, HostileTemplate]:
    marker = str(marker)
    out: dict[str, HostileTemplate] = {}
    for name, jinja in SSTI.items():
        out[f"ssti_{name}"] = HostileTemplate(docx_with("{{ member_full_name }}", jinja.replace("@M@", marker)),
                                              "forbidden_construct", escapes=True)
    for name, jinja in HUGE.items():
        out[f"huge_{name}"] = HostileTemplate(docx_with("{{ member_full_name }}", jinja), "forbidden_construct",
                                              huge=True)
    good = docx_with("{{ member_full_name }}")
    # A Jinja escape hidden in an XML attribute: not visible text, but still template source.
    out["ssti_in_attribute"] = HostileTemplate(rezip(good, replace={"word/document.xml": _in_body(
        '<w:p><w:pPr><w:pStyle w:val="{{ member_full_name.__class__.__mro__ }}"/></w:pPr></w:p>')}),
        "forbidden_construct", escapes=True)
    # The main part is word/main.xml (through _rels/.rels); word/document.xml is a harmless decoy.
    evil = docx_with("{{ member_full_name }}", SSTI["subclasses"].replace("@M@", marker))
    with zipfile.ZipFile(io.BytesIO(evil)) as zf:
        evil_main, evil_rels = zf.read("word/document.xml"), zf.read("word/_rels/document.xml.rels")
    out["decoy_main_part"] = HostileTemplate(rezip(good, replace={
        "_rels/.rels": lambda b: b.replace(b'Target="word/document.xml"', b'Target="word/main.xml"'),
        "[Content_Types].xml": lambda b: b.replace(b'PartName="/word/document.xml"', b'PartName="/word/main.xml"')
                                          .replace(b"</Types>", b'<Override PartName="/word/document.xml" '
                                                   b'ContentType="application/xml"/></Types>')},
        add={"word/main.xml": evil_main, "word/_rels/main.xml.rels": evil_rels}), "forbidden_construct", escapes=True)
    rels = "word/_rels/document.xml.rels"
    out["external_http"] = HostileTemplate(rezip(good, replace={rels: _add_rel("image", "http://127.0.0.1:9/x.png")}),
                                           "external_relationship")
    out["external_file"] = HostileTemplate(rezip(good, replace={rels: _add_rel("image", "file:///etc/passwd")}),
                                           "external_relationship")
    out["file_without_mode"] = HostileTemplate(
        rezip(good, replace={rels: _add_rel("subDocument", "file:///etc/passwd", external=False)}),
        "external_relationship")
    out["alt_chunk"] = HostileTemplate(rezip(good, replace={
        rels: _add_rel("aFChunk", "afchunk.mht", external=False),
        "word/document.xml": _in_body(f'<w:altChunk xmlns:r="{REL_NS}" r:id="rIdHostile"/>')},
        add={"word/afchunk.mht": b"MIME-Version: 1.0\r\n\r\n<html>x</html>"}), "embedded_object")
    out["includetext_field"] = HostileTemplate(rezip(good, replace={"word/document.xml": _in_body(
        '<w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;/etc/passwd&quot; "><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>')}),
        "embedded_object")
    out["ddeauto_field_split"] = HostileTemplate(rezip(good, replace={"word/document.xml": _in_body(
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DDE</w:instrText></w:r>'
        '<w:r><w:instrText>AUTO c:\\\\windows\\\\system32\\\\cmd.exe "/c calc"</w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')}), "embedded_object")
    out["vba_project"] = HostileTemplate(rezip(good, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 512}),
                                         "macro_enabled")
    out["ole_embedding"] = HostileTemplate(rezip(good, add={"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}),
                                           "embedded_object")
    # 4.5 MB of hex digits: compresses only ~2:1, so it passes the zip limits but not the part limit.
    out["oversize_part"] = HostileTemplate(rezip(good, add={"word/media/image9.png": os.urandom(2_300_000).hex()}),
                                           "oversize_part")
    out["placeholder_in_properties"] = HostileTemplate(rezip(good, replace={"docProps/core.xml": lambda b: b.replace(
        b"</cp:coreProperties>", b"<dc:title>{{ ''.__class__ }}</dc:title></cp:coreProperties>")}),
        "placeholder_outside")
    return out
