"""Reading a member workbook (.xlsx): bytes in, parsed rows out. Pure: no database, no Flask.

Real secretaries' files put title rows above the header, spell the headers in many ways, type
dates as text, store card numbers as numbers and mix NFC/NFD. This module finds the header,
maps columns to fields and turns every cell into a clean Python value, collecting row errors
(with row number, column letter and header) instead of stopping at the first one.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Optional

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..errors import ServiceError
from ..safe_files import check_upload, unreadable_workbook_errors
from ..text import clean, search_key

HEADER_SCAN_ROWS = 30
MAX_COLUMNS = 256  # columns read from a sheet (Excel 2003's limit; a member list has about 25)
MAX_TEXT = 200

# field -> Vietnamese label used in messages (and by the exporter as the column header)
FIELD_LABELS: dict[str, str] = {
    "full_name": "Họ và tên",
    "card_number": "Số thẻ đảng viên",
    "date_of_birth": "Ngày sinh",
    "gender": "Giới tính",
    "admission_date": "Ngày vào Đảng",
    "full_member_date": "Ngày chính thức",
    "workplace_committee": "Đảng ủy nơi công tác",
    "workplace_cell": "Chi bộ nơi công tác",
    "party_position": "Chức vụ Đảng",
    "government_position": "Chức vụ chính quyền",
    "mass_org_position": "Chức vụ đoàn thể",
    "house": "Số nhà",
    "residential_group": "Tổ",
    "neighbourhood": "Khu phố/Thôn/Tổ dân phố",
    "commune": "Xã/Phường",
    "province": "Tỉnh/Thành phố",
    "residence_cell": "Chi bộ nơi cư trú",
    "phone": "Số điện thoại",
    "status": "Tình trạng",
    "notes": "Ghi chú",
}
REQUIRED = ("full_name", "card_number")
DATE_FIELDS = ("date_of_birth", "admission_date", "full_member_date")
IGNORED = "_ignored"

# Header spellings, compared after _header_key() (no diacritics, lower case, punctuation -> space).
_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ho va ten dang vien", "ho ten dang vien", "ten dang vien",
                  "ho va ten khai sinh", "ho va ten thuong dung"),
    "card_number": ("so the dang vien", "so the", "so the dv", "so the dang", "the dang vien", "so the dang vien so",
                    "ma the dang vien", "so the d v"),
    "date_of_birth": ("ngay sinh", "ngay thang nam sinh", "sinh ngay", "nam sinh", "ngay sinh dang vien"),
    "gender": ("gioi tinh", "nam nu", "gioi", "phai"),
    "admission_date": ("ngay vao dang", "ngay ket nap", "ngay ket nap dang", "ngay ket nap vao dang",
                       "ngay vao dang du bi", "ngay ket nap du bi"),
    "full_member_date": ("ngay chinh thuc", "ngay cong nhan chinh thuc", "ngay dang vien chinh thuc",
                         "ngay chuyen chinh thuc", "ngay vao dang chinh thuc"),
    "workplace_committee": ("don vi cong tac", "dang uy noi cong tac", "dang uy co so noi cong tac",
                            "noi cong tac", "co quan cong tac", "dang bo noi cong tac", "co quan don vi cong tac",
                            "dang uy co so"),
    "workplace_cell": ("chi bo noi cong tac", "chi bo cong tac", "chi bo dang sinh hoat", "chi bo sinh hoat"),
    "party_position": ("chuc vu dang",),
    "government_position": ("chuc vu chinh quyen", "chuc vu", "chuc vu cong tac", "chuc vu chuyen mon"),
    "mass_org_position": ("chuc vu doan the",),
    "house": ("so nha", "dia chi", "so nha duong", "so nha duong pho", "dia chi noi cu tru", "noi o hien nay",
              "cho o hien nay"),
    "residential_group": ("to", "to so"),
    "neighbourhood": ("khu pho thon to dan pho", "khu pho", "thon", "to dan pho", "thon to dan pho", "khu pho thon",
                      "thon khu pho", "thon ban to dan pho", "thon ban khu pho", "ap khom", "thon xom",
                      "thon ban", "khu pho to dan pho", "thon ban khu pho to dan pho"),
    "commune": ("xa phuong", "phuong xa", "xa", "phuong", "xa phuong dac khu", "xa phuong thi tran",
                "phuong xa thi tran"),
    "province": ("tinh thanh pho", "tinh", "tinh tp", "tinh thanh", "thanh pho"),
    "residence_cell": ("chi bo noi cu tru", "chi bo cu tru", "chi bo noi cu tru sinh hoat", "chi bo o noi cu tru"),
    "phone": ("so dien thoai", "dien thoai", "sdt", "dt", "so dt", "dien thoai lien he", "dien thoai di dong"),
    "status": ("tinh trang", "trang thai", "tinh trang sinh hoat", "trang thai sinh hoat",
               "tinh trang sinh hoat noi cu tru"),
    "notes": ("ghi chu",),
    IGNORED: ("stt", "tt", "so tt", "so thu tu"),
}
_EXACT: dict[str, str] = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
# prefixes ("ngay sinh (dd/mm/yyyy)") only for aliases of two words or more, longest first
_PREFIXES = sorted(((a, f) for a, f in _EXACT.items() if " " in a), key=lambda p: -len(p[0]))

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _header_key(value: Any) -> str:
    return _NON_ALNUM.sub(" ", search_key(value)).strip()


def match_header(value: Any) -> Optional[str]:
    """The field a header cell names, IGNORED for an STT column, None if unknown."""
    key = _header_key(value)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    for alias, fld in _PREFIXES:
        if key.startswith(alias + " "):
            return fld
    return None


# --- values ---------------------------------------------------------------------------------

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


class ValueProblem(Exception):
    def __init__(self, code: str, reason: str = ""):
        super().__init__(code)
        self.code, self.reason = code, reason


def display(value: Any) -> str:
    """How a raw cell value is shown back to the user in a message."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(value)


def parse_date(value: Any) -> Optional[dt.date]:
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
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem("invalid_card")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueProblem("invalid_card")
        value = int(value)
    text = clean(value).replace(" ", "")
    if not text:
        return None
    if len(text) > 32:
        raise ValueProblem("invalid_card")
    return text


def parse_phone(value: Any) -> Optional[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer():
            digits = str(int(value))
            # a number cell drops the leading zero of a Vietnamese phone number (0912 345 678)
            return "0" + digits if len(digits) == 9 else digits
    text = parse_text(value)
    if text and len(text) > 40:
        raise ValueProblem("too_long")
    return text


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


PARSERS = {f: parse_text for f in FIELD_LABELS}
PARSERS.update({f: parse_date for f in DATE_FIELDS})
PARSERS.update(card_number=parse_card, phone=parse_phone, status=parse_status, gender=parse_gender)

_PROBLEM_TEXT = {
    "invalid_date": "{label} không hợp lệ: {value}",
    "year_only_date": "{label} chỉ ghi năm: {value} ({where}); cần ghi đủ ngày/tháng/năm",
    "invalid_card": "Số thẻ đảng viên không hợp lệ: {value}",
    "unknown_status": "Tình trạng không nhận ra: «{value}» ({where}); ghi một trong: Đang sinh hoạt, "
                      "Miễn sinh hoạt, Miễn giới thiệu, Đã chuyển, Đã ra khỏi Đảng",
    "unknown_gender": "Giới tính không nhận ra: «{value}» ({where}); ghi Nam hoặc Nữ",
    "too_long": "{label} quá dài (tối đa {limit} ký tự)",
    "missing_required": "Thiếu {label_lower}",
}


def where(row: int, letter: Optional[str]) -> str:
    return f"dòng {row}, cột {letter}" if letter else f"dòng {row}"


def row_error(code: str, row: int, fld: Optional[str], column: Optional["Column"], value: Any = None,
              message: Optional[str] = None) -> dict:
    label = FIELD_LABELS.get(fld or "", "")
    if message is None:
        template = _PROBLEM_TEXT.get(code, "{label} không hợp lệ: {value}")
        limit = 40 if fld == "phone" else (32 if fld == "card_number" else MAX_TEXT)
        message = template.format(label=label, label_lower=label[:1].lower() + label[1:], value=display(value),
                                  limit=limit, where="{where}")
    place = where(row, column.letter if column else None)
    message = message.replace("{where}", place) if "{where}" in message else f"{message} ({place})"
    return {"column": column.letter if column else None, "header": column.header if column else label,
            "value": display(value), "code": code, "message": clean(message)}


# --- workbook -------------------------------------------------------------------------------

@dataclass
class Column:
    index: int  # 0-based
    letter: str
    header: str


@dataclass
class ParsedRow:
    row: int
    values: dict[str, Any]
    errors: list[dict] = field(default_factory=list)


@dataclass
class ParsedSheet:
    file_name: str
    sheet: str
    header_row: int
    columns: dict[str, Column]
    rows: list[ParsedRow]
    skipped: list[dict] = field(default_factory=list)

    def columns_json(self) -> dict:
        return {f: {"letter": c.letter, "header": c.header} for f, c in self.columns.items()}


def display_name(filename: str) -> str:
    name = clean(os.path.basename((filename or "").replace("\\", "/")))
    return name or "tệp tải lên"


def open_workbook(data: bytes, filename: str):
    """The openpyxl workbook (read-only), or ServiceError("not_xlsx")."""
    name = display_name(filename)
    bad = ServiceError(
        "not_xlsx",
        f"Tệp «{name}» không phải tệp Excel .xlsx. Hãy mở tệp bằng Excel và lưu lại dưới dạng "
        "“Sổ làm việc Excel (*.xlsx)” rồi tải lên lại (tệp .xls, .csv hay .pdf không dùng được).",
        {"file_name": name})
    if not data.startswith(b"PK\x03\x04"):
        raise bad
    try:
        check_upload(data, label=name)  # zip bombs, nested zips, unsafe names, DTDs: before any parsing
    except ServiceError as exc:
        if exc.code == "zip_invalid":
            raise bad from None
        raise
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
        if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
            raise bad
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for ws in wb.worksheets:
            # read-only rows are as wide as the declared dimension or the row's last cell: a cell in
            # column XFD would make every row 16,384 values. No member list is wider than this.
            if ws.max_column is None or ws.max_column > MAX_COLUMNS:
                ws._max_column = MAX_COLUMNS
        return wb
    except ServiceError:
        raise
    except Exception:
        raise bad from None


def _find_header(rows: list[tuple]) -> Optional[tuple[int, dict[str, Column]]]:
    """(0-based row index, columns) of the row naming the most known fields among ``rows``."""
    best: Optional[tuple[int, dict[str, Column]]] = None
    best_score = 0
    for i, row in enumerate(rows):
        cols: dict[str, Column] = {}
        for j, value in enumerate(row):
            if value is None or not isinstance(value, str):
                continue
            fld = match_header(value)
            if fld and fld != IGNORED and fld not in cols:
                cols[fld] = Column(j, get_column_letter(j + 1), clean(value))
        score = len(cols) + (10 if all(r in cols for r in REQUIRED) else 0)
        if score > best_score:
            best, best_score = (i, cols), score
    if best and all(r in best[1] for r in REQUIRED):
        return best
    return None


_TOTAL_ROW = re.compile(r"^(tong cong|tong so|tong|cong)\b")


def parse_workbook(data: bytes, filename: str, max_rows: Optional[int] = None) -> ParsedSheet:
    """Parse the member sheet of a workbook. File-level problems raise ServiceError."""
    name = display_name(filename)
    wb = open_workbook(data, filename)
    try:
        searched: list[str] = []
        any_content = False
        for ws in wb.worksheets:
            searched.append(ws.title)
            it = ws.iter_rows(values_only=True)
            head: list[tuple] = []
            for row in it:
                head.append(row)
                if len(head) >= HEADER_SCAN_ROWS:
                    break
            if any(v is not None and clean(v) for r in head for v in r):
                any_content = True
            found = _find_header(head)
            if not found:
                continue
            hidx, columns = found
            parsed = ParsedSheet(name, ws.title, hidx + 1, columns, [])
            rowno = hidx + 1
            for row in head[hidx + 1:]:
                rowno += 1
                _take_row(parsed, rowno, row, max_rows)
            for row in it:
                rowno += 1
                _take_row(parsed, rowno, row, max_rows)
            if not parsed.rows:
                raise ServiceError(
                    "empty_workbook",
                    f"Trang tính «{ws.title}» của tệp «{name}» có dòng tiêu đề (dòng {parsed.header_row}) "
                    "nhưng không có dòng đảng viên nào bên dưới.",
                    {"file_name": name, "sheet": ws.title, "header_row": parsed.header_row})
            return parsed
        if not any_content:
            raise ServiceError("empty_workbook", f"Tệp «{name}» không có dữ liệu.", {"file_name": name})
        required = ", ".join(f"«{FIELD_LABELS[r]}»" for r in REQUIRED)
        sheets = ", ".join(f"«{s}»" for s in searched)
        raise ServiceError(
            "no_header",
            f"Không tìm thấy dòng tiêu đề trong tệp «{name}»: đã tìm trong {HEADER_SCAN_ROWS} dòng đầu của "
            f"trang tính {sheets}. Dòng tiêu đề phải có các cột {required}.",
            {"file_name": name, "sheets": searched, "required": [FIELD_LABELS[r] for r in REQUIRED],
             "rows_searched": HEADER_SCAN_ROWS})
    except unreadable_workbook_errors() as exc:  # a sheet's XML is read lazily, only here
        raise ServiceError(
            "xlsx_unreadable",
            f"Tệp «{name}» bị hỏng hoặc có nội dung XML không hợp lệ/không an toàn nên không đọc được. "
            "Hãy mở tệp bằng Excel, lưu lại dưới dạng .xlsx rồi tải lên lại.",
            {"file_name": name, "reason": f"{type(exc).__name__}: {str(exc)[:200]}"}) from None
    finally:
        wb.close()


def _cell(row: tuple, col: Column) -> Any:
    v = row[col.index] if col.index < len(row) else None
    if isinstance(v, str) and not clean(v):
        return None
    return v


def _take_row(parsed: ParsedSheet, rowno: int, row: tuple, max_rows: Optional[int]) -> None:
    raw = {f: _cell(row, c) for f, c in parsed.columns.items()}
    filled = {f: v for f, v in raw.items() if v is not None}
    if not filled:
        return  # blank row (an STT number alone counts as blank)
    if raw.get("card_number") is None:
        first = next((clean(v) for v in row if v is not None and clean(v)), "")
        if _TOTAL_ROW.match(search_key(first)):
            parsed.skipped.append({"row": rowno, "text": first, "reason": "total"})
            return
        if raw.get("full_name") is None and len(filled) < 3:
            parsed.skipped.append({"row": rowno, "text": first, "reason": "no_member"})
            return
        if list(filled) == ["full_name"] and isinstance(raw["full_name"], str):
            parsed.skipped.append({"row": rowno, "text": clean(raw["full_name"]), "reason": "heading"})
            return
    if max_rows is not None and len(parsed.rows) >= max_rows:
        raise ServiceError(
            "too_many_rows",
            f"Tệp «{parsed.file_name}» có quá nhiều dòng: tối đa {max_rows} đảng viên mỗi lần nhập. "
            "Hãy chia tệp thành nhiều tệp nhỏ hơn.",
            {"file_name": parsed.file_name, "max_rows": max_rows})
    out = ParsedRow(rowno, {})
    for fld, col in parsed.columns.items():
        value = raw[fld]
        try:
            out.values[fld] = PARSERS[fld](value)
        except ValueProblem as exc:
            out.values[fld] = None
            out.errors.append(row_error(exc.code, rowno, fld, col, value))
    for fld in REQUIRED:
        if out.values.get(fld) is None and not any(e["column"] == parsed.columns[fld].letter for e in out.errors):
            out.errors.append(row_error("missing_required", rowno, fld, parsed.columns[fld], None))
    parsed.rows.append(out)
