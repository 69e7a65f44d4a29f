"""Reading a member list (.xlsx): bytes in, parsed rows out. Pure: no database, no Flask.

Real secretaries' files put title rows above the header, spread the header over two rows (merged
cells, a date of birth split under "Nam" / "Nữ"), number the columns "(1) (2) (3)", end with a
signature block, spell the headers in many ways, type dates as text, store card numbers as
numbers and mix NFC/NFD. This module finds the header, proposes a field for every column
(``headers``), applies the secretary's mapping and turns every cell into a clean Python value,
collecting row errors (with row number, column letter and header) instead of stopping at the
first one. Rows that are not members are skipped with a reason.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..errors import ServiceError
from ..members.fields import PARSERS, ValueProblem, display, problem_message
from ..safe_files import check_upload, unreadable_workbook_errors
from ..text import clean, join_clauses, search_key
from .headers import (FIELD_LABELS, IGNORED, REQUIRED, header_key, match_combined, match_header,  # noqa: F401
                      similar_header, suggest_from_values)

HEADER_SCAN_ROWS = 30
MAX_COLUMNS = 256  # columns read from a sheet (Excel 2003's limit; a member list has about 25)
SAMPLE_ROWS = 40  # rows under the header used for value-based suggestions and samples

SKIP_REASONS = {
    "total": "dòng tổng cộng",
    "no_member": "không có họ tên và số thẻ",
    "heading": "dòng tiêu đề nhóm (chỉ có một ô chữ)",
    "column_numbers": "dòng đánh số cột (1), (2), (3)…",
    "signature": "phần ký tên cuối danh sách",
    "repeated_header": "dòng tiêu đề lặp lại",
}



def where(row: int, letter: Optional[str]) -> str:
    return f"dòng {row}, cột {letter}" if letter else f"dòng {row}"


def row_error(code: str, row: int, fld: Optional[str], column: Optional["Column"], value: Any = None,
              message: Optional[str] = None) -> dict:
    label = FIELD_LABELS.get(fld or "", "")
    if message is None:
        message = problem_message(code, fld or "", value, label=label)
    place = where(row, column.letter if column else None)
    message = message.replace("{where}", place) if "{where}" in message else f"{message} ({place})"
    return {"column": column.letter if column else None, "header": column.header if column else label,
            "value": display(value), "code": code, "message": clean(message)}


# --- the sheet --------------------------------------------------------------------------------

@dataclass
class Column:
    index: int  # 0-based
    letter: str
    header: str  # as the secretary reads it: "Ngày sinh / Nữ"
    key: str = ""  # header_key of the header, remembered with a saved mapping
    suggestion: Optional[str] = None  # the proposed field (IGNORED for STT), None: nothing proposed
    how: str = ""  # header, similar, values, remembered
    samples: list[str] = field(default_factory=list)
    field: Optional[str] = None  # the field it fills after the mapping, None: skipped

    def to_json(self) -> dict:
        return {"letter": self.letter, "header": self.header, "key": self.key, "suggestion": self.suggestion,
                "how": self.how, "samples": self.samples, "field": self.field}


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
    columns: dict[str, Column]  # field -> the column that fills it
    rows: list[ParsedRow]
    skipped: list[dict] = field(default_factory=list)
    all_columns: list[Column] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)
    signature: str = ""  # the headers' fingerprint: a saved mapping is proposed again for it
    unmapped: list[dict] = field(default_factory=list)  # skipped columns that have values
    mapping_problems: list[str] = field(default_factory=list)  # a proposed mapping the secretary must complete

    def columns_json(self) -> dict:
        return {f: {"letter": c.letter, "header": c.header} for f, c in self.columns.items()}

    def mapping(self) -> dict[str, str]:
        """letter -> field ("" for a skipped column), as the mapping step submits it."""
        return {c.letter: (c.field or "") for c in self.all_columns}


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


# --- finding the header -----------------------------------------------------------------------

def _text(v: Any) -> str:
    return clean(v) if isinstance(v, str) else ""


def _columns_of(rows: list[tuple], first: int, last: int) -> list[Column]:
    """The columns of a header made of rows ``first..last`` (one or two rows), parent text carried
    over the cells a merged parent spans."""
    width = max((len(rows[i]) for i in range(first, last + 1)), default=0)
    parent = list(rows[first]) + [None] * (width - len(rows[first]))
    child = list(rows[last]) + [None] * (width - len(rows[last])) if last > first else [None] * width
    cols: list[Column] = []
    carried = ""
    for j in range(width):
        p, c = _text(parent[j]), _text(child[j])
        if p:
            carried = p
        elif c and carried and j > 0 and _text(child[j - 1]):
            p = carried  # under a parent merged across several columns
        else:
            carried = ""
        if not p and not c:
            continue
        header = f"{p} / {c}" if p and c else (p or c)
        fld = match_combined(p, c)
        cols.append(Column(j, get_column_letter(j + 1), header, header_key(header), fld, "header" if fld else ""))
    return cols


def _score(cols: list[Column]) -> int:
    fields = {c.suggestion for c in cols if c.suggestion and c.suggestion != IGNORED}
    # the name column makes a header; the card column may still be found from its values
    return len(fields) + (10 if "full_name" in fields else 0) + (5 if "card_number" in fields else 0)


def _find_header(rows: list[tuple]) -> Optional[tuple[int, int, list[Column]]]:
    """(first, last 0-based row index, columns) of the header among ``rows``: one row, or two rows
    when the second adds fields (merged parent over children)."""
    best: Optional[tuple[int, int, list[Column]]] = None
    best_score = 0
    singles = [_score(_columns_of(rows, i, i)) for i in range(len(rows))]
    for i in range(len(rows)):
        cands = [(i, i)]
        if i + 1 < len(rows):
            cands.append((i, i + 1))
        for first, last in cands:
            cols = _columns_of(rows, first, last)
            score = _score(cols)
            if last > first and score <= max(singles[first], singles[last]):
                continue
            if score > best_score:
                best, best_score = (first, last, cols), score
    if best and best_score >= 10:
        _dedupe(best[2])
        return best
    return None


def _dedupe(cols: list[Column]) -> None:
    """One column per field: the first keeps the suggestion, later ones are proposed as skipped."""
    seen: set[str] = set()
    for c in cols:
        if c.suggestion and c.suggestion != IGNORED:
            if c.suggestion in seen or (c.suggestion.startswith("date_of_birth_") and "date_of_birth" in seen) or (
                    c.suggestion == "date_of_birth" and ({"date_of_birth_male", "date_of_birth_female"} & seen)):
                c.suggestion, c.how = None, ""
                continue
            seen.add(c.suggestion)


# --- rows that are not members ----------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TOTAL_ROW = re.compile(r"^(tong cong|tong so|tong|cong)\b")
_NUMBER_CELL = re.compile(r"^\(?\s*(\d{1,2})\s*\)?$")
_SIGNATURE = re.compile(
    r"^(nguoi lap( bieu| danh sach)?|nguoi ky|t ?/ ?m\b|tm\.? |bi thu\b|pho bi thu\b|thu truong\b|xac nhan\b"
    r"|ky ten\b|\(ky\b|ky,|can bo lap|lanh dao|chu tich\b|truong phong\b)|\bngay\b.*\bthang\b.*\bnam\b")


def _column_numbers(row: tuple) -> bool:
    """A row "(1) (2) (3) …" or "1 2 3 …" numbering the columns under the header."""
    nums = []
    for v in row:
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
            nums.append(int(v))
            continue
        m = _NUMBER_CELL.match(clean(v)) if isinstance(v, str) else None
        if not m:
            return False
        nums.append(int(m.group(1)))
    return len(nums) >= 3 and all(b == a + 1 for a, b in zip(nums, nums[1:]))


def _first_text(row: tuple) -> str:
    return next((clean(v) for v in row if isinstance(v, str) and clean(v)), "")


# --- applying a mapping -----------------------------------------------------------------------

def apply_mapping(sheet: ParsedSheet, mapping: Optional[dict[str, str]],
                  remembered: Optional[dict[str, str]] = None) -> None:
    """Set every column's field: the suggestion, then a mapping remembered for the same headers
    (header key -> field), then the secretary's mapping (column letter -> field, "" to skip).
    Raises ServiceError when the result is not usable (unknown field, a field twice, required missing)."""
    by_letter = {c.letter: c for c in sheet.all_columns}
    for c in sheet.all_columns:
        c.field = c.suggestion if c.suggestion != IGNORED else None
    if remembered:
        for c in sheet.all_columns:
            if c.key in remembered:
                c.field = remembered[c.key] or None
                if c.field and c.field != c.suggestion:
                    c.how = "remembered"
    if mapping:
        unknown = [f"{k}: {v}" for k, v in mapping.items()
                   if k not in by_letter or (v and v not in FIELD_LABELS and v != IGNORED)]
        if unknown:
            raise ServiceError("invalid_mapping",
                               "Cách ghép cột không hợp lệ (cột hoặc trường không có): " + ", ".join(unknown[:10]),
                               {"unknown": unknown})
        for letter, fld in mapping.items():
            by_letter[letter].field = (fld or None) if fld != IGNORED else None
    used: dict[str, list[str]] = {}
    for c in sheet.all_columns:
        if c.field:
            used.setdefault(c.field, []).append(c.letter)
    problems = []
    for fld, letters in used.items():
        if len(letters) > 1:
            problems.append(f"trường «{FIELD_LABELS[fld]}» được chọn cho nhiều cột ({', '.join(letters)})")
    if "date_of_birth" in used and ({"date_of_birth_male", "date_of_birth_female"} & set(used)):
        problems.append("«Ngày sinh» và «Ngày sinh (cột Nam/Nữ)» không thể cùng được chọn")
    missing = [FIELD_LABELS[r] for r in REQUIRED if r not in used]
    if missing:
        problems.append("chưa chọn cột cho " + ", ".join(f"«{m}»" for m in missing))
    sheet.columns = {c.field: c for c in sheet.all_columns if c.field}
    if problems and mapping is None and not any("nhiều cột" in p or "cùng được chọn" in p for p in problems):
        sheet.mapping_problems = problems  # only proposed: the mapping step completes it
        return
    if problems:
        raise ServiceError("invalid_mapping", "Cách ghép cột chưa dùng được: " + join_clauses(problems),
                           {"problems": problems, "mapping": sheet.mapping()})
    sheet.columns = {c.field: c for c in sheet.all_columns if c.field}


# --- parsing -------------------------------------------------------------------------------------

def _suggest(cols: list[Column], sample_rows: list[tuple], org_kinds: Optional[dict[str, str]]) -> None:
    taken = {c.suggestion for c in cols if c.suggestion}
    for c in cols:
        values = [r[c.index] for r in sample_rows if c.index < len(r) and r[c.index] is not None]
        c.samples = [display(v) for v in values if display(v)][:3]
        if c.suggestion:
            continue
        fld = similar_header(c.header)
        how = "similar"
        if not fld or fld in taken:
            fld, how = suggest_from_values(values, org_kinds), "values"
        if fld and fld not in taken:
            c.suggestion, c.how = fld, how
            taken.add(fld)
    _dedupe(cols)


def header_signature(cols: list[Column]) -> str:
    return hashlib.sha256("|".join(c.key for c in cols).encode()).hexdigest()[:40]


def parse_workbook(data: bytes, filename: str, max_rows: Optional[int] = None,
                   mapping: Optional[dict[str, str]] = None,
                   recall: Optional[Callable[[str], Optional[dict[str, str]]]] = None,
                   org_kinds: Optional[dict[str, str]] = None) -> ParsedSheet:
    """Parse the member sheet of a workbook. File-level problems raise ServiceError.

    ``mapping`` (column letter -> field) overrides the proposed fields; ``recall(signature)`` gives a
    mapping saved for the same headers (header key -> field); ``org_kinds`` (organisation name key ->
    kind) lets a column be recognised by the organisations it names.
    """
    name = display_name(filename)
    wb = open_workbook(data, filename)
    try:
        return _parse_open(wb, name, max_rows, mapping, recall, org_kinds)
    except unreadable_workbook_errors() as exc:  # a sheet's XML is read lazily, only here
        raise ServiceError(
            "xlsx_unreadable",
            f"Tệp «{name}» bị hỏng hoặc có nội dung XML không hợp lệ/không an toàn nên không đọc được. "
            "Hãy mở tệp bằng Excel, lưu lại dưới dạng .xlsx rồi tải lên lại.",
            {"file_name": name, "reason": f"{type(exc).__name__}: {str(exc)[:200]}"}) from None
    finally:
        wb.close()


def _parse_open(wb, name: str, max_rows, mapping, recall, org_kinds) -> ParsedSheet:
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
        first, last, cols = found
        sample = list(head[last + 1:])
        for row in it:  # a few more rows for the samples; kept to be parsed below
            sample.append(row)
            if len(sample) >= SAMPLE_ROWS:
                break
        _suggest(cols, [r for r in sample if not _column_numbers(r)], org_kinds)
        sheet = ParsedSheet(name, ws.title, last + 1, {}, [], all_columns=cols,
                            header_rows=list(range(first + 1, last + 2)), signature=header_signature(cols))
        apply_mapping(sheet, mapping, recall(sheet.signature) if recall else None)
        if sheet.mapping_problems:
            return sheet  # no rows read until the secretary completes the mapping
        reader = _RowReader(sheet, max_rows)
        rowno = last + 1
        for row in sample:
            rowno += 1
            reader.take(rowno, row)
        for row in it:
            rowno += 1
            reader.take(rowno, row)
        reader.finish()
        if not sheet.rows:
            raise ServiceError(
                "empty_workbook",
                f"Trang tính «{ws.title}» của tệp «{name}» có dòng tiêu đề (dòng {sheet.header_row}) "
                "nhưng không có dòng đảng viên nào bên dưới.",
                {"file_name": name, "sheet": ws.title, "header_row": sheet.header_row})
        return sheet
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


_WORKPLACE_SPLIT = re.compile(r"\s*(?:[,;–]|\s-\s|\bthuộc\b)\s*")


def split_workplace(text: str) -> tuple[Optional[str], Optional[str]]:
    """"Chi bộ Phòng Kế toán - Đảng ủy Sở Tài chính" -> (committee, cell)."""
    committee = cell = None
    for part in _WORKPLACE_SPLIT.split(text):
        part = clean(part)
        if not part:
            continue
        key = search_key(part)
        if key.startswith("chi bo"):
            cell = cell or part
        else:
            committee = committee or part
    return committee, cell


class _RowReader:
    def __init__(self, sheet: ParsedSheet, max_rows: Optional[int]):
        self.sheet, self.max_rows = sheet, max_rows
        self.in_footer = False
        self.header_keys = {header_key(part) for c in sheet.all_columns for part in c.header.split(" / ")} - {""}
        self.unmapped = [c for c in sheet.all_columns if not c.field and c.suggestion != IGNORED]
        self.unmapped_counts = {c.letter: 0 for c in self.unmapped}

    def skip(self, rowno: int, text: str, reason: str) -> None:
        self.sheet.skipped.append({"row": rowno, "text": text[:120], "reason": reason})

    def take(self, rowno: int, row: tuple) -> None:
        sheet = self.sheet
        raw = {f: _cell(row, c) for f, c in sheet.columns.items()}
        filled = {f: v for f, v in raw.items() if v is not None}
        if not filled:
            return  # blank row (an STT number alone counts as blank)
        if _column_numbers(row):
            self.skip(rowno, " ".join(display(v) for v in row if v is not None), "column_numbers")
            return
        first = _first_text(row)
        key = search_key(first)
        if raw.get("card_number") is None and not _TOTAL_ROW.match(key) and (self.in_footer or _SIGNATURE.search(key)):
            self.in_footer = True
            self.skip(rowno, " · ".join(clean(v) for v in row if isinstance(v, str) and clean(v)), "signature")
            return
        texts = [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]
        if len(texts) == 1 and isinstance(texts[0], str) and re.search(r"[^\W\d_]{2}", texts[0]) \
                and _TOTAL_ROW.match(key) is None and not _SIGNATURE.search(key):
            self.skip(rowno, first, "heading")  # a section row ("I. Sở Tài chính") in whatever column
            return
        if raw.get("card_number") is None:
            if _TOTAL_ROW.match(key):
                self.skip(rowno, first, "total")
                return
            if raw.get("full_name") is None and len(filled) < 3:
                self.skip(rowno, first, "no_member")
                return
            if list(filled) == ["full_name"] and isinstance(raw["full_name"], str):
                self.skip(rowno, clean(raw["full_name"]), "heading")
                return
        if _NON_ALNUM.sub(" ", key).strip() in self.header_keys and \
                sum(1 for v in row if isinstance(v, str) and header_key(v) in self.header_keys) >= 3:
            self.skip(rowno, first, "repeated_header")
            return
        if self.max_rows is not None and len(sheet.rows) >= self.max_rows:
            raise ServiceError(
                "too_many_rows",
                f"Tệp «{sheet.file_name}» có quá nhiều dòng: tối đa {self.max_rows} đảng viên mỗi lần nhập. "
                "Hãy chia tệp thành nhiều tệp nhỏ hơn.",
                {"file_name": sheet.file_name, "max_rows": self.max_rows})
        for c in self.unmapped:
            if _cell(row, c) is not None:
                self.unmapped_counts[c.letter] += 1
        sheet.rows.append(self.parse(rowno, raw))

    def parse(self, rowno: int, raw: dict[str, Any]) -> ParsedRow:
        cols = self.sheet.columns
        out = ParsedRow(rowno, {})
        for fld, col in cols.items():
            value = raw[fld]
            try:
                out.values[fld] = PARSERS[fld](value)
            except ValueProblem as exc:
                out.values[fld] = None
                out.errors.append(row_error(exc.code, rowno, fld, col, value))
        v = out.values
        if "gender_male" in cols or "gender_female" in cols:
            _gender_marks(out, cols, raw)
        if "date_of_birth_male" in cols or "date_of_birth_female" in cols:
            _gender_split(out, cols, raw)
        for fld in ("workplace_cell", "workplace_committee"):  # "Chi bộ X - Đảng ủy Y" in one cell
            if v.get(fld) and not v.get("workplace_org") and _WORKPLACE_SPLIT.search(v[fld]):
                committee, cell = split_workplace(v[fld])
                if committee and cell:
                    v["workplace_org"], v[fld] = v[fld], None
        if v.get("workplace_org"):
            committee, cell = split_workplace(v["workplace_org"])
            v.setdefault("workplace_committee", None)
            v.setdefault("workplace_cell", None)
            v["workplace_committee"] = v["workplace_committee"] or committee
            v["workplace_cell"] = v["workplace_cell"] or cell
        v.pop("workplace_org", None)
        for fld in REQUIRED:
            if v.get(fld) is None and not any(e["column"] == cols[fld].letter for e in out.errors):
                out.errors.append(row_error("missing_required", rowno, fld, cols[fld], None))
        return out

    def finish(self) -> None:
        self.sheet.unmapped = [{"letter": c.letter, "header": c.header, "values": self.unmapped_counts[c.letter]}
                               for c in self.unmapped if self.unmapped_counts[c.letter]]


def _gender_marks(out: ParsedRow, cols: dict[str, Column], raw: dict[str, Any]) -> None:
    """Gender as an "x" under "Giới tính" / "Nam" | "Nữ": the gender of the marked column, one column only."""
    v = out.values
    male, female = v.pop("gender_male", None), v.pop("gender_female", None)
    if male and female:
        c = cols["gender_female"]
        out.errors.append(row_error("gender_marks_both", out.row, "gender_female", c, raw.get("gender_female"),
                                    "Giới tính được đánh dấu ở cả cột Nam và cột Nữ; chỉ đánh dấu một cột"))
        return
    if not (male or female):
        return
    implied = "male" if male else "female"
    if v.get("gender") and v["gender"] != implied:
        out.errors.append(row_error("gender_conflict", out.row, "gender", cols.get("gender"), raw.get("gender"),
                                    f"Giới tính «{display(raw.get('gender'))}» không khớp với cột đánh dấu "
                                    f"({'Nam' if implied == 'male' else 'Nữ'})"))
        return
    v["gender"] = implied


def _gender_split(out: ParsedRow, cols: dict[str, Column], raw: dict[str, Any]) -> None:
    """Date of birth under "Nam" / "Nữ": the date from whichever column has it, the gender it implies."""
    v = out.values
    male, female = v.pop("date_of_birth_male", None), v.pop("date_of_birth_female", None)
    bad = any(e["column"] in {cols[f].letter for f in ("date_of_birth_male", "date_of_birth_female") if f in cols}
              for e in out.errors)
    if male and female:
        c = cols["date_of_birth_female"]
        out.errors.append(row_error("gender_split_both", out.row, "date_of_birth_female", c, raw.get(c.field),
                                    "Ngày sinh ghi ở cả cột Nam và cột Nữ; chỉ ghi ở một cột"))
        return
    if bad or not (male or female):
        return
    v["date_of_birth"] = male or female
    implied = "male" if male else "female"
    if v.get("gender") and v["gender"] != implied:
        c = cols.get("gender")
        out.errors.append(row_error("gender_conflict", out.row, "gender", c, raw.get("gender"),
                                    f"Giới tính «{display(raw.get('gender'))}» không khớp với cột ngày sinh "
                                    f"({'Nam' if implied == 'male' else 'Nữ'})"))
        return
    v["gender"] = implied


def _cell(row: tuple, col: Column) -> Any:
    v = row[col.index] if col.index < len(row) else None
    if isinstance(v, str) and not clean(v):
        return None
    return v
