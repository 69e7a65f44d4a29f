"""One vocabulary of member fields: the labels a user reads and the parsers/normalisers of values.

Used by the registry (forms and API) and by the Excel import, so that a card number, a phone or a
date typed in either place becomes the same stored value.

- card numbers: ``22.668517`` (two digits, a dot, six digits), whatever the spelling
  (``22668517``, `` 22 668 517``, ``2668517`` from a number cell that lost its leading zero);
- phones: ``0xxxxxxxxx`` (``+84 930 775 789``, ``0371.695.421``, ``930775789``);
- dates: Excel dates, ``d/m/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``yyyy-mm-dd``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..text import clean, search_key

MAX_TEXT = 200

@dataclass(frozen=True)
class MemberField:
    """One member field: what a user reads, how a value is checked, how long it may be.

    ``kind`` says how a value is parsed (see ``PARSERS_BY_KIND``, and the registry for ``org``);
    ``column`` is the header of the field in a member list (import mapping, export) when it differs
    from the form label; ``record`` is False for a list column that the import turns into record
    fields (the date of birth under "Nam"/"Nữ", the workplace organisation's committee and cell).
    """
    name: str
    label: str
    kind: str = "text"  # text, date, card, phone, gender, status, commune, org, mark (an "x" in a column)
    max_length: Optional[int] = None
    column: Optional[str] = None
    record: bool = True

    @property
    def column_label(self) -> str:
        return self.column or self.label


FIELDS: tuple[MemberField, ...] = (
    MemberField("full_name", "Họ và tên", max_length=200),
    MemberField("card_number", "Số thẻ đảng viên", "card", 32),
    MemberField("date_of_birth", "Ngày sinh", "date"),
    MemberField("date_of_birth_male", "Ngày sinh (cột Nam)", "date", record=False),
    MemberField("date_of_birth_female", "Ngày sinh (cột Nữ)", "date", record=False),
    MemberField("gender", "Giới tính", "gender", 10),
    MemberField("gender_male", "Giới tính (cột Nam, đánh dấu x)", "mark", record=False),
    MemberField("gender_female", "Giới tính (cột Nữ, đánh dấu x)", "mark", record=False),
    MemberField("admission_date", "Ngày vào Đảng", "date"),
    MemberField("full_member_date", "Ngày chính thức", "date"),
    MemberField("workplace_org_id", "Nơi công tác", "org"),
    MemberField("workplace_org", "Đảng bộ/Chi bộ nơi công tác", max_length=MAX_TEXT, record=False),
    MemberField("workplace_committee", "Đảng ủy nơi công tác", max_length=MAX_TEXT, record=False),
    MemberField("workplace_cell", "Chi bộ nơi công tác", max_length=MAX_TEXT, record=False),
    MemberField("employer", "Cơ quan, đơn vị công tác", max_length=255),
    MemberField("party_position", "Chức vụ Đảng", max_length=200),
    MemberField("government_position", "Chức vụ chính quyền", max_length=200),
    MemberField("mass_org_position", "Chức vụ đoàn thể", max_length=200),
    MemberField("house", "Số nhà, đường", max_length=200, column="Số nhà"),
    MemberField("residential_group", "Tổ", max_length=120),
    MemberField("neighbourhood", "Thôn, khu phố, tổ dân phố", max_length=120, column="Khu phố/Thôn/Tổ dân phố"),
    MemberField("commune", "Xã, phường, đặc khu", "commune", 120, column="Xã/Phường"),
    MemberField("province", "Tỉnh, thành phố", max_length=120, column="Tỉnh/Thành phố"),
    MemberField("residence_cell_id", "Chi bộ nơi cư trú", "org"),
    MemberField("residence_cell", "Chi bộ nơi cư trú", max_length=MAX_TEXT, record=False),
    MemberField("phone", "Số điện thoại", "phone", 40),
    MemberField("status", "Tình trạng", "status", 32),
    MemberField("notes", "Ghi chú", max_length=4000),
)
BY_NAME = {f.name: f for f in FIELDS}
# The member record's editable fields (in the order of the member form), with the label a user reads.
RECORD_FIELDS = ("full_name", "date_of_birth", "gender", "card_number", "admission_date", "full_member_date",
                 "workplace_org_id", "employer", "party_position", "government_position", "mass_org_position",
                 "house", "residential_group", "neighbourhood", "commune", "province", "residence_cell_id",
                 "phone", "status", "notes")
MEMBER_LABELS = {name: BY_NAME[name].label for name in RECORD_FIELDS}
# The columns of a member list (import mapping step), with the header a list shows.
COLUMN_LABELS = {f.name: f.column_label for f in FIELDS if f.kind != "org"}
# The columns of an exported list, in order: each re-imports as the same field.
EXPORT_COLUMNS = ("full_name", "card_number", "date_of_birth", "gender", "admission_date", "full_member_date",
                  "workplace_committee", "workplace_cell", "employer", "party_position", "government_position",
                  "mass_org_position", "house", "residential_group", "neighbourhood", "commune", "province",
                  "residence_cell", "phone", "status", "notes")
DATE_FIELDS = tuple(name for name in RECORD_FIELDS if BY_NAME[name].kind == "date")

# What a user reads when a value cannot be stored ({where}: the cell, or the form field).
PROBLEM_TEXT = {
    "invalid_date": "{label} không hợp lệ: {value}",
    "year_only_date": "{label} chỉ ghi năm: {value} ({where}); cần ghi đủ ngày/tháng/năm",
    "invalid_card": "Số thẻ đảng viên không hợp lệ: «{value}» ({where}); số thẻ có 8 chữ số, dạng 22.668517",
    "invalid_phone": "Số điện thoại không hợp lệ: «{value}» ({where}); cần 10 chữ số, dạng 0912345678",
    "unknown_status": "Tình trạng không nhận ra: «{value}» ({where}); ghi một trong: Đang sinh hoạt, "
                      "Miễn sinh hoạt, Miễn giới thiệu, Đã chuyển, Đã ra khỏi Đảng",
    "unknown_gender": "Giới tính không nhận ra: «{value}» ({where}); ghi Nam hoặc Nữ",
    "too_long": "{label} quá dài (tối đa {limit} ký tự)",
    "missing_required": "Thiếu {label_lower}",
}


def problem_message(code: str, field: str, value: Any, where: str = "{where}", label: Optional[str] = None) -> str:
    """The Vietnamese message for a value of ``field`` refused with ``code``."""
    label = label if label is not None else (BY_NAME[field].label if field in BY_NAME else "")
    limit = BY_NAME[field].max_length if field in BY_NAME and BY_NAME[field].max_length else MAX_TEXT
    template = PROBLEM_TEXT.get(code, "{label} không hợp lệ: {value}")
    if "{where}" not in template and code != "too_long":
        template += " ({where})"
    return template.format(label=label, label_lower=label[:1].lower() + label[1:], value=display(value),
                           limit=limit, where=where)


STATUS_WORDS = (  # first match wins; compared with search_key
    ("mien sinh hoat", "exempt_meetings"),
    ("mien gioi thieu", "exempt_introduction"),
    ("da chuyen", "transferred"),
    ("chuyen sinh hoat", "transferred"),
    ("chuyen di", "transferred"),
    ("ra khoi dang", "left"),
    ("da ra khoi", "left"),
    ("xoa ten", "left"),
    ("dang sinh hoat", "active"),
    ("sinh hoat", "active"),
    ("binh thuong", "active"),
)
STATUS_KEYS = {"active", "exempt_meetings", "exempt_introduction", "transferred", "left"}
GENDER_WORDS = {"nam": "male", "male": "male", "m": "male", "nu": "female", "female": "female", "f": "female"}

_DATE_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_YEAR = re.compile(r"^\d{4}$")
_CARD_CHARS = re.compile(r"^[0-9 .,\-]+$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 .\-()]+$")


class ValueProblem(Exception):
    """A cell or form value that cannot be stored; ``code`` is stable, ``reason`` optional Vietnamese."""

    def __init__(self, code: str, reason: str = ""):
        super().__init__(code)
        self.code, self.reason = code, reason


def display(value: Any) -> str:
    """How a raw value is shown back to the user in a message."""
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(value)


def parse_date(value: Any) -> Optional[dt.date]:
    """A date from an Excel date, a serial number or text (d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd)."""
    if value is None or (isinstance(value, str) and not clean(value)):
        return None
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, bool):
        raise ValueProblem("invalid_date")
    elif isinstance(value, (int, float)):
        if float(value).is_integer() and 1900 <= value <= 2100:
            raise ValueProblem("year_only_date")
        if 1 <= value <= 80000:  # an Excel serial date in a cell without a date format
            d = dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        else:
            raise ValueProblem("invalid_date")
    else:
        text = clean(value)
        if _YEAR.match(text):
            raise ValueProblem("year_only_date")
        m = _DATE_DMY.match(text)
        try:
            if m:
                d = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            else:
                m = _DATE_ISO.match(text)
                if not m:
                    raise ValueProblem("invalid_date")
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueProblem("invalid_date") from None
    if not 1900 <= d.year <= 2100:
        raise ValueProblem("invalid_date")
    return d


def parse_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        value = display(value)
    text = clean(value)
    if len(text) > MAX_TEXT:
        raise ValueProblem("too_long")
    return text or None


def parse_card(value: Any) -> Optional[str]:
    """The canonical card number ``NN.NNNNNN``; ValueProblem("invalid_card") when it is not one."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("invalid_card")
    if isinstance(value, float):
        if not value.is_integer():  # 22.668517 typed into a number cell
            text = f"{value:.6f}"
            if re.fullmatch(r"\d{1,2}\.\d{6}", text):
                return text.zfill(9)
            raise ValueProblem("invalid_card")
        value = int(value)
    if isinstance(value, int) and 1000 <= value < 10 ** 8:
        value = f"{value:08d}"  # a number cell drops every leading zero (00.137687 -> 137687)
    text = clean(value)
    if not text:
        return None
    if not _CARD_CHARS.match(text):
        raise ValueProblem("invalid_card")
    digits = re.sub(r"\D", "", text)
    if len(digits) == 7 and "." not in text:  # a number cell dropped the leading zero (01.234567)
        digits = "0" + digits
    elif len(digits) == 7 and re.fullmatch(r"\d\.\d{6}", text.replace(" ", "")):
        digits = "0" + digits
    if len(digits) != 8:
        raise ValueProblem("invalid_card")
    return f"{digits[:2]}.{digits[2:]}"


def canonical_card(value: Any) -> Optional[str]:
    """The canonical card number when ``value`` is one, else the value as typed (cleaned, no spaces)."""
    try:
        return parse_card(value)
    except ValueProblem:
        text = clean(value).replace(" ", "")
        return text or None


def card_spellings(card: str) -> list[str]:
    """The spellings an older record may hold for a canonical card number (for lookups)."""
    digits = card.replace(".", "")
    return [card, digits] if digits != card else [card]


def parse_phone(value: Any) -> Optional[str]:
    """A Vietnamese phone number as ``0xxxxxxxxx`` (10 digits, or 11 for an old landline)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("invalid_phone")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueProblem("invalid_phone")
        value = int(value)
    text = clean(value)
    if not text:
        return None
    if not _PHONE_CHARS.match(text):
        raise ValueProblem("invalid_phone")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+84") or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    elif len(digits) in (9, 10) and not digits.startswith("0"):  # a number cell lost the leading zero
        digits = "0" + digits
    if not (digits.startswith("0") and len(digits) in (10, 11)) or digits.startswith("00"):
        raise ValueProblem("invalid_phone")
    return digits


def parse_status(value: Any) -> Optional[str]:
    text = parse_text(value)
    if not text:
        return None
    if text in STATUS_KEYS:
        return text
    key = search_key(text)
    for word, status in STATUS_WORDS:
        if word in key:
            return status
    raise ValueProblem("unknown_status")


def parse_gender(value: Any) -> Optional[str]:
    text = parse_text(value)
    if not text:
        return None
    g = GENDER_WORDS.get(search_key(text).strip(". "))
    if g is None:
        raise ValueProblem("unknown_gender")
    return g


_COMMITTEE_PREFIX = re.compile(r"^(dang uy|dang bo)\s+", re.I)


def parse_commune(value: Any) -> Optional[str]:
    """The commune as an address part: "Đảng ủy phường Hồng Hà" -> "Phường Hồng Hà"."""
    text = parse_text(value)
    if not text:
        return None
    key = search_key(text)
    m = _COMMITTEE_PREFIX.match(key)
    if m:
        text = text[len(m.group(0)):].strip()
    return text[:1].upper() + text[1:] if text else None


def place_of(ward_name: str) -> str:
    """The place name (địa danh) of a ward: "Đảng ủy phường Hồng Hà" -> "Hồng Hà"."""
    text = clean(ward_name)
    for _ in range(2):
        key = search_key(text)
        for prefix in ("dang uy ", "dang bo ", "phuong ", "xa ", "dac khu ", "thi tran "):
            if key.startswith(prefix):
                text = text[len(prefix):].strip()
                break
    return text


def parse_mark(value: Any) -> Optional[bool]:
    """A column marked with "x" (or ✓, 1, any text): True; an empty cell: None."""
    if value is None or value is False or (isinstance(value, str) and not clean(value)):
        return None
    return True


PARSERS_BY_KIND: dict[str, Callable[[Any], Any]] = {
    "mark": parse_mark,
    "text": parse_text, "date": parse_date, "card": parse_card, "phone": parse_phone, "gender": parse_gender,
    "status": parse_status, "commune": parse_commune,
}
# field -> the parser of a list cell (the import); the registry's form and API use the same parsers.
PARSERS: dict[str, Callable[[Any], Any]] = {f.name: PARSERS_BY_KIND[f.kind] for f in FIELDS if f.kind != "org"}
