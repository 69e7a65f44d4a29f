"""Turn a plain data dict into the render context of a template.

The caller passes plain values (str, int, bool, ``datetime.date`` or ISO
date strings).  ``prepare_context`` checks them against the form definition
(required fields, types, choices), normalises text to NFC, formats dates the
Vietnamese way and adds derived names:

* ``<date field>``        -> ``"05/01/2026"``
* ``<date field>_long``   -> ``"ngày 05 tháng 01 năm 2026"``
* ``<text field>_upper``  -> upper-cased (Vietnamese-aware ``str.upper``)
* ``items``               -> the items of the chosen variant (from the definition)
* ``qr_payload``          -> signed QR payload (evaluation sheets)
* ``correction_hint``     -> how to correct a mark (from the definition)
* ``prefilled_remarks``   -> lines printed ahead of the hand-writing lines of a free-text item

With ``data["preview"] = True`` a missing required value prints as a gap
("……") instead of raising: a preview of a letter not issued yet has no number.

It returns ``(context, images)``; ``images`` maps picture names in the
template (e.g. ``"qr_code"``) to PNG bytes that replace them.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Any, Callable

from forms import qrpayload
from forms.definition import Field, FormDefinition

from . import marks
from .definitions import as_definition
from .errors import DefinitionError, DocgenError, InvalidFieldError, MissingFieldError

BLANK_DATE_LONG = "ngày …… tháng …… năm ……"
PREVIEW_GAP = "……"  # a required value a preview does not have yet (``data["preview"] = True``)
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def clean_text(value: Any) -> str:
    """NFC, no control characters (they are invalid in XML), stripped."""
    s = nfc(str(value))
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _CTRL_RE.sub("", s).strip()


def parse_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        s = value.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                return _dt.datetime.strptime(s, fmt).date()
            except ValueError:
                pass
    raise ValueError(f"not a date: {value!r}")


def format_date(d: _dt.date) -> str:
    """dd/mm/yyyy."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def format_date_long(d: _dt.date) -> str:
    """"ngày 05 tháng 01 năm 2026" (day and month with two digits, HD 36 style)."""
    return f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year:04d}"


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, (list, tuple)) and not v)


def _convert(field: Field, value: Any) -> Any:
    name, label, ftype = field.name, field.label, field.type
    if ftype == "text":
        return clean_text(value)
    if ftype == "int":
        if isinstance(value, bool):
            raise InvalidFieldError(name, label, "expected an integer", "phải là số nguyên")
        try:
            return int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise InvalidFieldError(name, label, f"expected an integer, got {value!r}", "phải là số nguyên") from None
    if ftype == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, str)) and str(value).strip().lower() in ("1", "true", "yes", "có", "0", "false", "no", "không"):
            return str(value).strip().lower() in ("1", "true", "yes", "có")
        raise InvalidFieldError(name, label, f"expected true/false, got {value!r}", "phải là có/không")
    if ftype == "date":
        try:
            return parse_date(value)
        except ValueError:
            raise InvalidFieldError(name, label, f"expected a date, got {value!r}",
                                    "phải là ngày (dd/mm/yyyy)") from None
    if ftype == "enum":
        v = clean_text(value)
        choices = [nfc(c) for c in field.choices]
        if v not in choices:
            raise InvalidFieldError(name, label, f"{v!r} not in {choices}",
                                    f"phải là một trong: {', '.join(choices)}")
        return v
    if ftype == "rows":  # a table the template repeats ({%tr for row in ... %}): cells are cleaned text
        if not isinstance(value, (list, tuple)) or not all(isinstance(r, dict) for r in value):
            raise InvalidFieldError(name, label, "expected a list of rows", "phải là một danh sách các dòng")
        return [{str(k): ("" if v is None else clean_text(v)) for k, v in r.items()} for r in value]
    raise DocgenError(f"unknown field type {ftype!r}")


# Usable width (mm) and size (pt) of the sheet's heading blocks (templates from version 2 print
# ``header_lines``: each block already broken into balanced lines, see docgen.textfit).
SHEET_HEADINGS = {
    "upper_body": ("ward_party_body_name_upper", 74, 14, False),
    "issuing_body": ("residence_cell_name_upper", 74, 14, True),
    "ward_confirm": ("ward_confirm_upper", 81, 14, True),
}


def _derive_evaluation_sheet(ctx: dict, raw: dict, definition: FormDefinition, mark_key, images: dict) -> None:
    from .textfit import balanced_lines
    if not ctx.get("ward_committee_name"):
        body = ctx.get("ward_party_body_name", "")
        name = body
        if body.lower().startswith("đảng bộ"):
            name = ("ĐẢNG ỦY" if body[:7].isupper() else "Đảng ủy") + body[7:]
        ctx["ward_committee_name"] = name
        ctx["ward_committee_name_upper"] = name.upper()
    texts = dict(ctx, ward_confirm_upper="XÁC NHẬN CỦA " + ctx.get("ward_committee_name_upper", ""))
    ctx["header_lines"] = {block: balanced_lines(texts.get(name) or "", width, size, bold=bold)
                           for block, (name, width, size, bold) in SHEET_HEADINGS.items()}


def balanced_lines(text: str, limit: int) -> tuple[str, str]:
    """``text`` on one line when it fits in ``limit`` characters, else on two lines of nearly equal length
    (cut between words, never leaving one word alone when a better cut exists)."""
    words = text.split()
    if len(text) <= limit or len(words) < 2:
        return text, ""
    best = min(range(1, len(words)), key=lambda i: (max(len(" ".join(words[:i])), len(" ".join(words[i:]))),
                                                     -i))
    if best == len(words) - 1 and len(words) > 2:  # a lone last word: move one more word down
        best -= 1
    return " ".join(words[:best]), " ".join(words[best:])


HEADER_LINE_CHARS = {"upper_body": 30, "issuer": 26}  # capitals at 14 pt in the letter's 88 mm block


def _derive_introduction_letter(ctx: dict, raw: dict, definition: FormDefinition, mark_key, images: dict) -> None:
    """Version 2 names: the number zero-padded ("01"), each header block on one or two balanced lines."""
    names = {f.name for f in definition.fields}
    number = ctx.get("letter_number")
    if "letter_number_text" in names and not ctx.get("letter_number_text") and number not in ("", None):
        # a preview of a letter not issued yet has no number: it keeps the gap ("……") as given
        ctx["letter_number_text"] = f"{int(number):02d}" if str(number).isdigit() else str(number)
    for prefix, source in (("upper_body", "upper_body_name_upper"), ("issuer", "issuing_committee_name_upper")):
        if f"{prefix}_line1" in names and not ctx.get(f"{prefix}_line1"):
            ctx[f"{prefix}_line1"], ctx[f"{prefix}_line2"] = balanced_lines(ctx.get(source, ""),
                                                                          HEADER_LINE_CHARS[prefix])


def _make_qr(ctx: dict, definition: FormDefinition, mark_key, images: dict) -> None:
    mk = definition.marks
    if not mk.qr:
        return
    picture = mk.qr_picture or "qr_code"
    payload = ctx.get("qr_payload") or ""
    if not payload and mk.qr == "optional" and not (ctx.get("member_id") and ctx.get("sheet_serial")
                                                    and mark_key is not None):
        images[picture] = marks.blank_png()  # no code rather than a meaningless one
        return
    if not payload:
        if not ctx.get("member_id"):
            raise MissingFieldError("member_id", "Mã đảng viên (để tạo mã QR)")
        if mark_key is None:
            raise DocgenError("mark_key is required to sign the QR payload",
                              "Thiếu khóa bí mật để ký mã QR")
        payload = qrpayload.sign_for(definition, ctx["sheet_serial"], ctx["member_id"], int(ctx["year"]), mark_key)
    ctx["qr_payload"] = payload
    # with a link base (the installation's answer page), a phone camera opens the sheet online
    link_base = ctx.get("qr_link_base")
    images[picture] = marks.qr_png(qrpayload.as_link(payload, link_base) if link_base else payload,
                                   border=mk.qr_quiet_modules)


KIND_HOOKS: dict[str, Callable] = {
    "evaluation_sheet": _derive_evaluation_sheet,
    "introduction_letter": _derive_introduction_letter,
}


def prepare_context(definition: FormDefinition | dict, data: dict, *,
                    mark_key: "qrpayload.KeyLike | None" = None) -> tuple[dict, dict]:
    """Validate ``data`` against ``definition``; return ``(context, images)``.

    Raises MissingFieldError / InvalidFieldError (both DocgenError).
    """
    definition = as_definition(definition)
    if not isinstance(data, dict):
        raise DocgenError("context must be a dict", "Dữ liệu văn bản phải là một từ điển")
    ctx: dict[str, Any] = {}
    preview = data.get("preview") is True
    for field in definition.fields:
        name, ftype = field.name, field.type
        value = data.get(name)
        if _is_empty(value):
            value = field.default
        if _is_empty(value) and field.required and preview:
            # a preview of a document not issued yet: a gap where the number or serial will be
            ctx[name] = ctx[name + "_upper"] = PREVIEW_GAP
            if ftype == "date":
                ctx[name + "_long"] = BLANK_DATE_LONG
            continue
        if _is_empty(value):
            if field.required:
                raise MissingFieldError(name, field.label)
            ctx[name] = False if ftype == "bool" else [] if ftype == "rows" else ""
            if ftype == "date":
                ctx[name + "_long"] = BLANK_DATE_LONG
            if ftype in ("text", "enum"):
                ctx[name + "_upper"] = ""
            continue
        value = _convert(field, value)
        if ftype == "date":
            ctx[name] = format_date(value)
            ctx[name + "_long"] = format_date_long(value)
        else:
            ctx[name] = value
        if ftype in ("text", "enum"):
            ctx[name + "_upper"] = value.upper()
    # extra keys the definition does not know are passed through (cleaned)
    for k, v in data.items():
        if k not in ctx and isinstance(k, str) and k.isidentifier():
            ctx[k] = clean_text(v) if isinstance(v, str) else v
    variant_name = ctx.get("variant") or None
    if definition.variants and variant_name is not None and variant_name not in definition.variant_names:
        raise DefinitionError(f"unknown variant {variant_name!r} for {definition.kind}",
                              f"Không có loại phiếu {variant_name}")
    variant = definition.variant(variant_name)
    ctx["items"] = definition.template_items(variant.name) if variant else []
    if variant:
        ctx["variant"] = variant.name
        ctx["variant_label"] = variant.label
    ctx["form_kind"] = definition.kind
    ctx["form_version"] = definition.version
    ctx["form_code"] = definition.code
    ctx["form_title"] = definition.title
    ctx["correction_hint"] = definition.correction_hint
    remarks = data.get("prefilled_remarks") or []
    if isinstance(remarks, str) or not all(isinstance(r, str) for r in remarks):
        raise InvalidFieldError("prefilled_remarks", "Nội dung ghi sẵn", "expected a list of lines",
                                "phải là danh sách các dòng chữ")
    ctx["prefilled_remarks"] = [clean_text(r) for r in remarks if clean_text(r)]
    images: dict[str, bytes] = {}
    hook = KIND_HOOKS.get(definition.kind)
    if hook:
        hook(ctx, data, definition, mark_key, images)
    _make_qr(ctx, definition, mark_key, images)
    return ctx, images
