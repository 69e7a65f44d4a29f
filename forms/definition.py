"""The typed, hashed form definition: one printed form, as data.

A definition file (``templates/<kind>.v<N>.form.json``) beside each Word
template describes one version of one form: its kind and version, the
template file, the context fields (name, Vietnamese label, type, required),
the machine-readable marks it carries (QR code, corner marks: the names of
their pictures in the template) and, for forms with ticked items, one or more
*variants* each listing its items: choice items with their options (best
first) and free-text items with their number of lines.  The kind's short code
in the QR payload (``kind_code``), the geometry of the marks (``marks.box_mm``,
``qr_mm``, ``qr_quiet_modules``, ``corner_mark_mm`` ...) and the line telling
how to correct a mark (``correction_hint``) are data here too; a file without
them (version 1) gets the values its forms were printed with, and its content
and hash stay as released.

:func:`load` / :meth:`FormDefinition.from_dict` validate a definition once and
return a frozen :class:`FormDefinition`; rendering (docgen), the tick-box
layout, scan reading (ocr), review, apply and reports all take this object,
never the raw dict.

Every definition has a content :attr:`FormDefinition.hash` (SHA-256 of its
canonical JSON, the ``notes`` text excepted).  The service stores it with
each template version and each printed sheet: a released version never
changes, a changed form is a new version.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

DEFINITION_SUFFIX = ".form.json"
FIELD_TYPES = ("text", "int", "date", "bool", "enum", "rows")  # rows: a list of {name: text} (a table)
ITEM_TYPES = ("choice", "free_text")
DEFAULT_FREE_TEXT_LINES = 4
# Keys that document a definition without changing any printed or read form: not hashed.
UNHASHED_KEYS = ("notes",)
# Kind codes of the definitions written before ``kind_code`` was a key of the file (version 1 files):
# a definition without the key takes its code from here, so their content (and hash) stays as released.
# A new definition states its own ``kind_code``; an unknown kind without one is written in full.
LEGACY_KIND_CODES = {"evaluation_sheet": "ES", "introduction_letter": "IL", "evaluation_request": "ER"}
KIND_CODE_RE = r"^[A-Z][A-Z0-9]{1,3}$"
# Geometry of the marks (millimetres, QR modules) when a definition does not state it: what the
# version 1 templates were built with.
DEFAULT_GEOMETRY = {"box_mm": 6.0, "label_mm": 47.0, "qr_mm": 22.0, "qr_quiet_modules": 4, "corner_mark_mm": 5.0}
GEOMETRY_LIMITS = {"box_mm": (3.0, 12.0), "label_mm": (20.0, 80.0), "qr_mm": (12.0, 40.0),
                   "qr_quiet_modules": (2, 8), "corner_mark_mm": (3.0, 8.0)}


class DefinitionError(ValueError):
    """A form definition is missing, unreadable or invalid.

    ``str(exc)`` is English (logs); ``exc.message_vi`` is shown to people.
    """

    message_vi = "Định nghĩa biểu mẫu không hợp lệ"

    def __init__(self, message: str, message_vi: str | None = None):
        super().__init__(message)
        if message_vi is not None:
            self.message_vi = message_vi


@dataclass(frozen=True)
class Field:
    """One value the caller supplies to fill the form."""
    name: str
    label: str
    type: str = "text"  # one of FIELD_TYPES
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()  # enum fields
    upper: bool = False


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class Item:
    """A numbered item of a variant: a choice (one tick among its options) or free text."""
    number: int
    key: str
    label: str
    type: str  # one of ITEM_TYPES
    options: tuple[Option, ...] = ()
    lines: int = DEFAULT_FREE_TEXT_LINES  # free-text items: dotted lines printed

    @property
    def is_choice(self) -> bool:
        return self.type == "choice"

    @property
    def option_keys(self) -> list[str]:
        return [o.key for o in self.options]

    @property
    def heading(self) -> str:
        """The item's heading as printed: ``"3. Tham gia ..."``."""
        return f"{self.number}. {self.label}"


@dataclass(frozen=True)
class Variant:
    """One layout of the items (e.g. ``standard``, ``exempt``)."""
    name: str
    label: str
    items: tuple[Item, ...]

    @property
    def choice_items(self) -> list[Item]:
        return [i for i in self.items if i.is_choice]

    @property
    def free_text_items(self) -> list[Item]:
        return [i for i in self.items if not i.is_choice]

    def item(self, key: str) -> Item:
        for i in self.items:
            if i.key == key:
                return i
        raise KeyError(key)


@dataclass(frozen=True)
class Marks:
    """Machine-readable marks printed on the form and the template pictures that carry them."""
    qr: bool | str = False  # True, False or "optional" (a code only when the record has an id)
    qr_picture: str | None = None
    corner_marks: bool = False
    corner_picture: str | None = None
    #: side of a printed tick box and width of its option label (mm)
    box_mm: float = DEFAULT_GEOMETRY["box_mm"]
    label_mm: float = DEFAULT_GEOMETRY["label_mm"]
    #: printed side of the QR picture, quiet zone included (mm), and the quiet zone in modules
    qr_mm: float = DEFAULT_GEOMETRY["qr_mm"]
    qr_quiet_modules: int = DEFAULT_GEOMETRY["qr_quiet_modules"]
    #: side of the four solid corner marks (mm)
    corner_mark_mm: float = DEFAULT_GEOMETRY["corner_mark_mm"]

    @staticmethod
    def pt(mm: float) -> float:
        """Millimetres in PDF points."""
        return mm * 72.0 / 25.4


@dataclass(frozen=True)
class DateBoxes:
    """A date written by hand in comb boxes: two for the day, two for the month, two for the year after
    the printed century (``ngày [_][_] tháng [_][_] năm 20[_][_]``).  The template prints each pair as
    the picture ``picture`` (boxes ``box_mm`` wide, ``gap_mm`` apart); ``field`` names the value read."""
    field: str
    label: str
    box_mm: float = 6.0
    gap_mm: float = 1.0
    century: str = "20"
    picture: str = "date_boxes"
    #: boxes of each group, in reading order: day, month, year
    groups: tuple[int, ...] = (2, 2, 2)

    def pt(self, mm: float) -> float:
        return Marks.pt(mm)


DATE_BOX_LIMITS = {"box_mm": (4.0, 10.0), "gap_mm": (0.0, 3.0)}


@dataclass(frozen=True)
class FormDefinition:
    kind: str
    version: int
    title: str
    template: str
    code: str = ""
    notes: str = ""
    #: the short code of the kind in the QR payload ("ES"); see :data:`LEGACY_KIND_CODES`
    kind_code: str = ""
    #: how to correct a mark, printed under the instruction (Vietnamese; empty: not printed)
    correction_hint: str = ""
    fields: tuple[Field, ...] = ()
    marks: Marks = Marks()
    variants: tuple[Variant, ...] = ()
    #: a date written by hand in comb boxes (the introduction letter's receipt slip), or None
    date_boxes: DateBoxes | None = None
    #: the validated, NFC-normalised file content (what the database stores)
    data: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: SHA-256 (hex) of the canonical content, ``notes`` excepted
    hash: str = ""

    def __hash__(self) -> int:  # the content hash says it all (and ``default`` values may be lists)
        return hash(self.hash)

    # --- construction ---------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<definition>") -> "FormDefinition":
        """Validate a parsed definition (raises :class:`DefinitionError`) and build the typed object."""
        data = _validated(data, source)
        fields = tuple(Field(f["name"], f["label"], f.get("type", "text"), f.get("required", False),
                             f.get("default"), tuple(f.get("choices") or ()), bool(f.get("upper", False)))
                       for f in data["fields"])
        mk = data.get("marks") or {}
        geometry = {k: type(v)(mk.get(k, v)) for k, v in DEFAULT_GEOMETRY.items()}
        marks = Marks(mk.get("qr", False), mk.get("qr_picture"), bool(mk.get("corner_marks", False)),
                      mk.get("corner_picture"), **geometry)
        variants = tuple(
            Variant(name, v.get("label", name), tuple(
                Item(i["number"], i["key"], i["label"], i["type"],
                     tuple(Option(o["key"], o["label"]) for o in i.get("options", ())),
                     i.get("lines", DEFAULT_FREE_TEXT_LINES))
                for i in v["items"]))
            for name, v in (data.get("variants") or {}).items())
        db = data.get("date_boxes")
        date_boxes = DateBoxes(db["field"], db["label"], float(db.get("box_mm", 6.0)), float(db.get("gap_mm", 1.0)),
                               db.get("century", "20"), db.get("picture", "date_boxes")) if db else None
        return cls(kind=data["kind"], version=data["version"], title=data["title"], template=data["template"],
                   code=data.get("code", ""), notes=data.get("notes", ""),
                   kind_code=data.get("kind_code") or LEGACY_KIND_CODES.get(data["kind"], data["kind"]),
                   correction_hint=data.get("correction_hint", ""), fields=fields, marks=marks,
                   variants=variants, date_boxes=date_boxes, data=data, hash=content_hash(data))

    @classmethod
    def coerce(cls, definition: "FormDefinition | Mapping[str, Any]", *, source: str = "<definition>"
               ) -> "FormDefinition":
        """A FormDefinition as is; a parsed definition dict validated into one."""
        if isinstance(definition, FormDefinition):
            return definition
        return cls.from_dict(definition, source=source)

    # --- reading ----------------------------------------------------------
    def to_dict(self) -> dict:
        """A copy of the normalised file content (to store, or to edit into a new version)."""
        return copy.deepcopy(dict(self.data))

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    @property
    def default_variant_name(self) -> str | None:
        """``standard`` when there is one, else the first variant, else None (no items)."""
        names = self.variant_names
        if not names:
            return None
        return "standard" if "standard" in names else names[0]

    def variant(self, name: str | None = None) -> Variant | None:
        """The named variant (default: :attr:`default_variant_name`); None for a form without items.

        An unknown name raises :class:`DefinitionError`.
        """
        if not self.variants:
            return None
        name = name or self.default_variant_name
        for v in self.variants:
            if v.name == name:
                return v
        raise DefinitionError(f"unknown variant {name!r} for {self.kind}", f"Không có loại phiếu {name}")

    def items(self, variant: str | None = None) -> tuple[Item, ...]:
        v = self.variant(variant)
        return v.items if v else ()

    def template_items(self, variant: str | None = None) -> list[dict]:
        """The items of a variant as the template sees them (``item.label``, ``opt.label``...)."""
        v = self.variant(variant)
        return list(self.data["variants"][v.name]["items"]) if v else []


def kind_codes(definitions) -> dict[str, str]:
    """{kind code: kind} of some definitions, for reading QR payloads (see :func:`forms.qrpayload.parse`)."""
    return {d.kind_code: d.kind for d in definitions}


def content_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a normalised definition's canonical JSON, :data:`UNHASHED_KEYS` left out."""
    body = {k: v for k, v in data.items() if k not in UNHASHED_KEYS}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load(path: str | Path) -> FormDefinition:
    """Read and validate a ``*.form.json`` file."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"definition file not found: {path}",
                              f"Không tìm thấy tệp định nghĩa biểu mẫu: {path.name}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read definition {path}: {exc}",
                              f"Không đọc được tệp định nghĩa biểu mẫu: {path.name}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path}: not valid JSON: {exc}",
                              f"Tệp {path.name} không phải JSON hợp lệ (dòng {exc.lineno})") from exc
    return FormDefinition.from_dict(data, source=str(path))


def definition_path_for(template_path: str | Path) -> Path:
    """``x.v1.docx`` -> ``x.v1.form.json`` (same directory)."""
    p = Path(template_path)
    name = p.name[:-5] if p.name.lower().endswith(".docx") else p.stem
    return p.with_name(name + DEFINITION_SUFFIX)


# --- validation ------------------------------------------------------------

def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


def _validated(data: Any, source: str) -> dict:
    """A parsed definition checked and NFC-normalised (a new dict), or DefinitionError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionError(f"{source}: definition must be a JSON object",
                              "Định nghĩa biểu mẫu phải là một đối tượng JSON")
    data = _nfc(copy.deepcopy(data))
    for key, typ in (("kind", str), ("version", int), ("title", str), ("template", str), ("fields", list)):
        if key not in data:
            problems.append(f"missing key '{key}'")
        elif not isinstance(data[key], typ) or isinstance(data[key], bool):
            problems.append(f"'{key}' must be {typ.__name__}")
    for key in ("code", "notes", "correction_hint"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"'{key}' must be str")
    if "kind_code" in data and not (isinstance(data["kind_code"], str) and re.match(KIND_CODE_RE, data["kind_code"])):
        problems.append("'kind_code' must be 2-4 upper-case letters or digits, starting with a letter")
    names: set[str] = set()
    for i, f in enumerate(data.get("fields") if isinstance(data.get("fields"), list) else []):
        where = f"fields[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f.get("name").isidentifier():
            problems.append(f"{where}: 'name' must be an identifier")
            continue
        if f["name"] in names:
            problems.append(f"{where}: duplicate field '{f['name']}'")
        names.add(f["name"])
        if not isinstance(f.get("label"), str) or not f["label"].strip():
            problems.append(f"{where} ({f['name']}): 'label' is required")
        if f.get("type", "text") not in FIELD_TYPES:
            problems.append(f"{where} ({f['name']}): unknown type {f.get('type')!r}")
        if f.get("type") == "enum" and not (isinstance(f.get("choices"), list) and f["choices"]):
            problems.append(f"{where} ({f['name']}): enum needs 'choices'")
        if "required" in f and not isinstance(f["required"], bool):
            problems.append(f"{where} ({f['name']}): 'required' must be true/false")
    marks = data.get("marks", {})
    if not isinstance(marks, dict):
        problems.append("'marks' must be an object")
    else:
        if marks.get("qr", False) not in (True, False, "optional"):
            problems.append("marks: 'qr' must be true, false or \"optional\"")
        if not isinstance(marks.get("corner_marks", False), bool):
            problems.append("marks: 'corner_marks' must be true/false")
        for key in ("qr_picture", "corner_picture"):
            if key in marks and not (isinstance(marks[key], str) and marks[key].strip()):
                problems.append(f"marks: '{key}' must be a picture name")
        for key, (lo, hi) in GEOMETRY_LIMITS.items():
            if key not in marks:
                continue
            v = marks[key]
            ok_type = isinstance(v, int) if isinstance(lo, int) else isinstance(v, (int, float))
            if isinstance(v, bool) or not ok_type or not lo <= v <= hi:
                problems.append(f"marks: '{key}' must be a number from {lo} to {hi}")
    problems += _date_box_problems(data.get("date_boxes"))
    variants = data.get("variants", {})
    if not isinstance(variants, dict):
        problems.append("'variants' must be an object")
        variants = {}
    for vname, variant in variants.items():
        items = variant.get("items") if isinstance(variant, dict) else None
        if not isinstance(items, list) or not items:
            problems.append(f"variant '{vname}': 'items' must be a non-empty list")
            continue
        if "label" in variant and not isinstance(variant["label"], str):
            problems.append(f"variant '{vname}': 'label' must be str")
        numbers, keys = set(), set()
        for j, item in enumerate(items):
            where = f"variant '{vname}' item[{j}]"
            if not isinstance(item, dict):
                problems.append(f"{where}: must be an object")
                continue
            num, key = item.get("number"), item.get("key")
            if not isinstance(num, int) or isinstance(num, bool) or num in numbers:
                problems.append(f"{where}: 'number' must be a unique integer")
            numbers.add(num)
            if not isinstance(key, str) or not key.isidentifier() or key in keys:
                problems.append(f"{where}: 'key' must be a unique identifier")
            keys.add(key)
            if not isinstance(item.get("label"), str) or not item["label"].strip():
                problems.append(f"{where}: 'label' is required")
            itype = item.setdefault("type", "choice" if "options" in item else "free_text")
            if itype not in ITEM_TYPES:
                problems.append(f"{where}: unknown type {itype!r}")
            if itype == "choice":
                opts = item.get("options")
                if not isinstance(opts, list) or len(opts) < 2:
                    problems.append(f"{where}: a choice item needs at least 2 options")
                    continue
                okeys = set()
                for k, opt in enumerate(opts):
                    if not isinstance(opt, dict) or not isinstance(opt.get("key"), str) \
                            or not isinstance(opt.get("label"), str) or not opt["label"].strip():
                        problems.append(f"{where} option[{k}]: needs 'key' and 'label'")
                        continue
                    if opt["key"] in okeys:
                        problems.append(f"{where} option[{k}]: duplicate key {opt['key']!r}")
                    okeys.add(opt["key"])
            else:
                lines = item.get("lines", DEFAULT_FREE_TEXT_LINES)
                if not isinstance(lines, int) or isinstance(lines, bool) or not 0 < lines <= 20:
                    problems.append(f"{where}: 'lines' must be 1..20")
    if problems:
        raise DefinitionError(f"{source}: invalid form definition: " + "; ".join(problems),
                              "Định nghĩa biểu mẫu không hợp lệ: " + "; ".join(problems))
    return data


def _date_box_problems(db: Any) -> list[str]:
    if db is None:
        return []
    if not isinstance(db, dict):
        return ["'date_boxes' must be an object"]
    problems = []
    if not isinstance(db.get("field"), str) or not db["field"].isidentifier():
        problems.append("date_boxes: 'field' must be an identifier")
    if not isinstance(db.get("label"), str) or not db["label"].strip():
        problems.append("date_boxes: 'label' is required")
    for key, (lo, hi) in DATE_BOX_LIMITS.items():
        v = db.get(key, lo)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            problems.append(f"date_boxes: '{key}' must be a number from {lo} to {hi}")
    if not re.fullmatch(r"\d\d", str(db.get("century", "20"))):
        problems.append("date_boxes: 'century' must be two digits")
    if "picture" in db and not (isinstance(db["picture"], str) and db["picture"].strip()):
        problems.append("date_boxes: 'picture' must be a picture name")
    return problems
