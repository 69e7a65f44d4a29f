"""Checks on an uploaded custom template (.docx) before it is accepted.

``validate_template(data, definition, filename=...)`` returns a list of
:class:`Problem` (empty = acceptable).  Each problem has a stable ``code``:

=====================  =======================================================
not_docx               not a zip, or no ``word/document.xml``
macro_enabled          .docm/.dotm, ``vbaProject.bin``, macro content types
too_large              the upload is bigger than ``max_bytes``
zip_*, xml_dtd         refused by :func:`docgen.container.check_container` (size, ratio,
                       member count, nested zip, unsafe or duplicate names, encryption, DTD)
syntax_error           the Jinja tags do not parse
unknown_placeholder    a name the form definition does not provide
split_placeholder      a ``{{ … }}`` / ``{% … %}`` split over several runs
unclosed_placeholder   ``{{`` or ``{%`` without its closing pair in a paragraph
missing_picture        a picture the definition needs (e.g. the QR) is absent
=====================  =======================================================
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from jinja2 import Environment, TemplateSyntaxError, meta
from lxml import etree

from . import safexml
from .container import DEFAULT_LIMITS, ContainerError, ContainerLimits, check_container
from .definitions import LOOP_NAMES, known_names

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
MAX_BYTES = 5 * 1024 * 1024

_TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_OPEN_RE = re.compile(r"\{\{|\{%")
_DOCXTPL_PREFIX = re.compile(r"^(\{[{%])\s*(?:tr|tc|p|r)\s+")
_MACRO_CT = ("macroEnabled", "vbaProject", "vbaData", "ms-office.activeX")

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
    fmt = {"limit": "", "detail": detail, "name": kw.get("name") or "", "paragraph": (kw.get("paragraph") or "")[:120]}
    fmt.update(kw.pop("fmt", {}))
    return Problem(code, MESSAGES[code].format(**fmt), detail, **kw)


def _read_limited(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OverflowError(name)
    return data


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


def _names_in(tag: str) -> set[str]:
    return set(re.findall(r"(?<![\w.'\"])([A-Za-z_]\w*)", tag))


def validate_template(data: bytes, definition: dict | None = None, *, filename: str | None = None,
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
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        problems.append(_problem("not_docx", "no word/document.xml or [Content_Types].xml"))
        return problems
    try:
        ct = _read_limited(zf, "[Content_Types].xml", 1024 * 1024).decode("utf-8", "replace")
        if any(n.lower().endswith("vbaproject.bin") or "vbadata" in n.lower() for n in names) \
                or any(m in ct for m in _MACRO_CT):
            problems.append(_problem("macro_enabled", "vbaProject.bin or macro content type present"))
            return problems
        parts = ["word/document.xml"] + sorted(n for n in names if re.match(r"word/(header|footer)\d*\.xml$", n))
        roots = {}
        for part in parts:
            roots[part] = safexml.parse(zf.read(part))  # sizes bounded by check_container
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, KeyError, RuntimeError, OverflowError) as exc:
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
    env = Environment()
    try:
        undeclared = meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as exc:
        problems.append(_problem("syntax_error", str(exc.message)))
        undeclared = set()
    if definition is not None:
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
        mk = definition.get("marks") or {}
        pics = set()
        for root_name in names:
            if re.match(r"word/(document|header\d*|footer\d*)\.xml$", root_name) and root_name in roots:
                for c in roots[root_name].iter(f"{{{PIC}}}cNvPr"):
                    pics.update(v for v in (c.get("name"), c.get("descr"), c.get("title")) if v)
        for key in ("qr_picture", "corner_picture"):
            need = mk.get(key)
            if need and need not in pics:
                problems.append(_problem("missing_picture", f"picture {need!r} not found", name=need))
    return problems
