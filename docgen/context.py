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


def _derive_evaluation_sheet(ctx: dict, raw: dict, definition: FormDefinition, mark_key, images: dict) -> None:
    if not ctx.get("ward_committee_name"):
        body = ctx.get("ward_party_body_name", "")
        name = body
        if body.lower().startswith("đảng bộ"):
            name = ("ĐẢNG ỦY" if body[:7].isupper() else "Đảng ủy") + body[7:]
        ctx["ward_committee_name"] = name
        ctx["ward_committee_name_upper"] = name.upper()


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
        payload = qrpayload.sign(definition.kind, definition.version,
                                 ctx["sheet_serial"], ctx["member_id"], int(ctx["year"]), mark_key)
    ctx["qr_payload"] = payload
    images[picture] = marks.qr_png(payload)


KIND_HOOKS: dict[str, Callable] = {
    "evaluation_sheet": _derive_evaluation_sheet,
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
    for field in definition.fields:
        name, ftype = field.name, field.type
        value = data.get(name)
        if _is_empty(value):
            value = field.default
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
    images: dict[str, bytes] = {}
    hook = KIND_HOOKS.get(definition.kind)
    if hook:
        hook(ctx, data, definition, mark_key, images)
    _make_qr(ctx, definition, mark_key, images)
    return ctx, images
