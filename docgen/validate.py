"""Checks on an uploaded custom template (.docx) before it is accepted.

``validate_template(data, definition, filename=...)`` returns a list of
:class:`Problem` (empty = acceptable).  Each problem has a stable ``code``:

=====================  =======================================================
not_docx               not a zip, no main document (``_rels/.rels``) or a part is not XML
macro_enabled          .docm/.dotm, ``vbaProject.bin``, macro content types
too_large              the upload is bigger than ``max_bytes``
oversize_part          one part bigger than :data:`docgen.package.MAX_PART_BYTES`
external_relationship  a relationship to a URL, ``file:`` or ``TargetMode="External"``
embedded_object        OLE/ActiveX objects, ``embeddings/``, ``altChunk``, INCLUDETEXT/
                       INCLUDEPICTURE/DDE/DDEAUTO/LINK/IMPORT fields
placeholder_outside    a Jinja tag in a part the renderer does not fill as a form part
forbidden_construct    a Jinja construct outside the allow-list (see :mod:`docgen.template_rules`)
zip_*, xml_dtd         refused by :func:`docgen.container.check_container` (size, ratio,
                       member count, nested zip, unsafe or duplicate names, encryption, DTD)
syntax_error           the Jinja tags do not parse
unknown_placeholder    a name the form definition does not provide
split_placeholder      a ``{{ … }}`` / ``{% … %}`` split over several runs
unclosed_placeholder   ``{{`` or ``{%`` without its closing pair in a paragraph
missing_picture        a picture the definition needs (e.g. the QR) is absent
=====================  =======================================================

The parts checked are the ones the renderer uses: the main document found through
``_rels/.rels`` and the headers, footers and footnotes it references (:mod:`docgen.package`),
and the Jinja source checked is the whole XML of each part as docxtpl sees it.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, meta
from lxml import etree

from . import package, safexml
from .container import DEFAULT_LIMITS, ContainerError, ContainerLimits, check_container
from .definitions import LOOP_NAMES, FormDefinition, as_definition, known_names
from .sandbox import environment
from .template_rules import rule_violations

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
MAX_BYTES = 5 * 1024 * 1024

_TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_OPEN_RE = re.compile(r"\{\{|\{%")
_DOCXTPL_PREFIX = re.compile(r"^(\{[{%])\s*(?:tr|tc|p|r)\s+")

MESSAGES = {
    "not_docx": "Tệp không phải văn bản Word .docx hợp lệ",
    "macro_enabled": "Tệp có chứa macro (VBA) hoặc là tệp .docm: không được chấp nhận",
    "too_large": "Tệp quá lớn (tối đa {limit} MB)",
    "syntax_error": "Mẫu có lỗi cú pháp ở trường trộn: {detail}",
    "unknown_placeholder": "Trường trộn không có trong định nghĩa biểu mẫu: {name} (ở đoạn: “{paragraph}”)",
    "split_placeholder": "Trường trộn {name} bị Word tách thành nhiều đoạn định dạng (ở đoạn: “{paragraph}”); "
                         "hãy gõ lại trường này liền một lần, không đổi định dạng giữa chừng",
    "unclosed_placeholder": "Trường trộn thiếu dấu đóng ở đoạn: “{paragraph}”",
    "missing_picture": "Mẫu thiếu hình {name} (cần cho mã QR hoặc dấu định vị)",
    "forbidden_construct": "Mẫu có lệnh không được phép trong trường trộn (phần {part}): {what}",
    "external_relationship": "Mẫu có liên kết tới tài nguyên bên ngoài “{what}” (phần {part}): không được chấp nhận",
    "embedded_object": "Mẫu có đối tượng nhúng hoặc trường lấy dữ liệu từ ngoài ({what}, phần {part}): "
                       "không được chấp nhận",
    "oversize_part": "Phần {part} của mẫu quá lớn ({what} MB, tối đa {limit} MB)",
    "placeholder_outside": "Trường trộn nằm ngoài nội dung, đầu trang và chân trang (phần {part}): "
                           "không được chấp nhận",
}


@dataclass
class Problem:
    code: str
    message: str           # Vietnamese, for users
    detail: str = ""       # English, for logs
    name: str | None = None
    paragraph: str | None = None
    part: str | None = None
    extra: dict = field(default_factory=dict)


def _problem(code, detail="", **kw) -> Problem:
    fmt = {"limit": "", "detail": detail, "name": kw.get("name") or "", "part": kw.get("part") or "",
           "what": "", "paragraph": (kw.get("paragraph") or "")[:120]}
    fmt.update(kw.pop("fmt", {}))
    return Problem(code, MESSAGES[code].format(**fmt), detail, **kw)


def _paragraphs(root):
    """(paragraph text, [(t-element index per char)]) for every w:p."""
    for p in root.iter(f"{{{W}}}p"):
        chars: list[str] = []
        owners: list[int] = []
        for i, t in enumerate(p.iter(f"{{{W}}}t")):
            if t.text:
                chars.append(t.text)
                owners.extend([i] * len(t.text))
        yield "".join(chars), owners


def _rendered_source(root) -> str:
    """The Jinja source docxtpl (and the bulk renderer) make of a part's XML."""
    return DocxTemplate(None).patch_xml(etree.tostring(root, encoding="unicode"))


def _names_in(tag: str) -> set[str]:
    return set(re.findall(r"(?<![\w.'\"])([A-Za-z_]\w*)", tag))


def validate_template(data: bytes, definition: FormDefinition | dict | None = None, *, filename: str | None = None,
                      max_bytes: int = MAX_BYTES, limits: ContainerLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Validate an uploaded template; return the problems found (empty list = OK).

    The container is checked first by :func:`docgen.container.check_container` (its codes are
    returned as problem codes; a file that is not a zip is ``not_docx``).
    """
    problems: list[Problem] = []
    if filename and filename.lower().endswith((".docm", ".dotm")):
        problems.append(_problem("macro_enabled", f"macro-enabled extension: {filename}"))
    if len(data) > max_bytes:
        problems.append(_problem("too_large", f"{len(data)} bytes > {max_bytes}",
                                 fmt={"limit": f"{max_bytes / 1024 / 1024:g}"}))
        return problems
    try:
        check_container(data, label=filename or "mẫu .docx", limits=limits)
    except ContainerError as exc:
        code = "not_docx" if exc.code == "zip_invalid" else exc.code
        problems.append(Problem(code, exc.message_vi, str(exc), part=exc.member))
        return problems
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    if "[Content_Types].xml" not in names:
        problems.append(_problem("not_docx", "no [Content_Types].xml"))
        return problems
    try:
        main = package.main_part(zf)
        findings = package.package_findings(zf)
        if any(f.code == "macro_enabled" for f in findings):
            f = next(f for f in findings if f.code == "macro_enabled")
            problems.append(_problem("macro_enabled", f"{f.what} in {f.part}", part=f.part))
            return problems
        for f in findings:
            problems.append(_problem(f.code, f"{f.what} in {f.part}", part=f.part,
                                     fmt={"what": f.what, "limit": f"{package.MAX_PART_BYTES / 1024 / 1024:g}"}))
        if any(f.code == "oversize_part" for f in findings):
            return problems  # not read any further
        parts = package.template_parts(zf, main)
        roots = {part: package.parse_xml_member(zf, part) for part in parts}
        for name in sorted(names - set(parts)):
            if name.lower().endswith((".xml", ".rels")) and \
                    re.search(rb"\{\{|\{%|\{#", package.read_member(zf, name)):
                problems.append(_problem("placeholder_outside", f"Jinja tag in {name}", part=name))
    except package.PackageError as exc:
        problems.append(_problem(exc.code, exc.detail, part=exc.part))
        return problems
    except (zipfile.BadZipFile, KeyError, RuntimeError, EOFError, zlib.error) as exc:
        problems.append(_problem("not_docx", f"unreadable part: {exc}"))
        return problems

    occurrences: list[tuple[str, str, str]] = []  # (tag, paragraph, part)
    for part, root in roots.items():
        for text, owners in _paragraphs(root):
            for m in _TAG_RE.finditer(text):
                occurrences.append((m.group(0), text, part))
                if len(set(owners[m.start():m.end()])) > 1:
                    problems.append(_problem("split_placeholder", f"{m.group(0)!r} spans several runs in {part}",
                                             name=m.group(0), paragraph=text, part=part))
            rest = _TAG_RE.sub("", text)
            if _OPEN_RE.search(rest):
                problems.append(_problem("unclosed_placeholder", f"unclosed tag in {part}: {text[:80]!r}",
                                         paragraph=text, part=part))

    source = "".join(_DOCXTPL_PREFIX.sub(r"\1 ", tag) for tag, _, _ in occurrences)
    env = environment()
    undeclared: set[str] = set()
    try:
        env.parse(source)
    except TemplateSyntaxError as exc:
        problems.append(_problem("syntax_error", str(exc.message)))
        return problems
    # The renderer fills the whole XML of each part (attributes included), not only the text a
    # person sees: check exactly that source.
    for part, root in roots.items():
        try:
            tree = env.parse(_rendered_source(root))
        except TemplateSyntaxError as exc:
            problems.append(_problem("syntax_error", f"{part}: {exc.message}", part=part))
            continue
        for en, vi in rule_violations(tree):
            problems.append(_problem("forbidden_construct", f"{en} in {part}", part=part, fmt={"what": vi}))
        try:
            undeclared |= meta.find_undeclared_variables(tree)
        except TemplateSyntaxError:  # e.g. a filter the sandbox does not have: reported just above
            pass
    if definition is not None:
        definition = as_definition(definition)
        unknown = undeclared - known_names(definition) - LOOP_NAMES
        reported = set()
        for tag, paragraph, part in occurrences:
            for name in sorted(_names_in(tag) & unknown):
                if (name, paragraph) in reported:
                    continue
                reported.add((name, paragraph))
                problems.append(_problem("unknown_placeholder", f"unknown name {name!r} in {tag!r}",
                                         name=name, paragraph=paragraph, part=part))
        for name in sorted(unknown - {n for n, _ in reported}):
            problems.append(_problem("unknown_placeholder", f"unknown name {name!r}", name=name))
        pics = set()
        for root in roots.values():
            for c in root.iter(f"{{{PIC}}}cNvPr"):
                pics.update(v for v in (c.get("name"), c.get("descr"), c.get("title")) if v)
        for need in (definition.marks.qr_picture, definition.marks.corner_picture):
            if need and need not in pics:
                problems.append(_problem("missing_picture", f"picture {need!r} not found", name=need))
    return problems
