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
from typing import Any, Optional

from ..text import clean, search_key

MAX_TEXT = 200

# The member record's editable fields, with the Vietnamese label a user reads.
MEMBER_LABELS = {
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "gender": "Giới tính",
    "card_number": "Số thẻ đảng viên",
    "admission_date": "Ngày vào Đảng",
    "full_member_date": "Ngày chính thức",
    "workplace_org_id": "Nơi công tác",
    "employer": "Cơ quan, đơn vị công tác",
    "party_position": "Chức vụ Đảng",
    "government_position": "Chức vụ chính quyền",
    "mass_org_position": "Chức vụ đoàn thể",
    "house": "Số nhà, đường",
    "residential_group": "Tổ",
    "neighbourhood": "Thôn, khu phố, tổ dân phố",
    "commune": "Xã, phường, đặc khu",
    "province": "Tỉnh, thành phố",
    "residence_cell_id": "Chi bộ nơi cư trú",
    "phone": "Số điện thoại",
    "status": "Tình trạng",
    "notes": "Ghi chú",
}
DATE_FIELDS = ("date_of_birth", "admission_date", "full_member_date")

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
