"""What the review screen says about a reading, in Vietnamese: field labels from the form definition
of the sheet's own version and variant, box states, yes/no, and problems naming the item."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from forms.definition import Item

from .policy import ITEM_DOUBT_DEFAULT_VI, ITEM_DOUBT_VI

# Fields the reader adds beside the items of the form (ocr/sheet.py, ocr/reader.py, ocr/foreign.py).
READER_FIELDS_VI = {
    "member_full_name": "Họ và tên in trên phiếu",
    "member_date_of_birth": "Ngày sinh in trên phiếu",
    "signature_present": "Chữ ký của chi ủy",
    "signature_cell": "Ô chữ ký của chi ủy",
    "stamp_present": "Dấu đỏ của đảng ủy",
    "stamp_ward": "Ô dấu của đảng ủy",
    "proposed_member_id": "Đảng viên máy đề xuất",
    "qr": "Mã QR",
    "received_on": "Ngày tiếp nhận ghi trên phiếu báo (máy đọc)",
    "received_on_digits": "Các chữ số máy đọc trong ô ngày (? là ô đọc không chắc)",
}
# Tick-box classes (ocr.boxes.BOX_CLASSES) and the three states of the first versions.
BOX_STATES_VI = {
    "empty": "Trống",
    "ticked": "Được đánh dấu",
    "filled": "Được tô kín",
    "scribbled": "Bị gạch xóa",
    "circled": "Được khoanh tròn",
    "faint": "Dấu mờ",
    "unsure": "Không rõ",
}
# Reader item status codes (ocr problems carrying ``items``) -> the item status they stand for.
ITEM_PROBLEM_STATUS = {"item_unsure": "unsure", "item_ambiguous": "multiple", "item_corrected": "corrected",
                       "item_circled": "circled", "item_faint": "faint", "item_cancelled": "cancelled"}
COUNT_WORDS_VI = {2: "hai", 3: "ba", 4: "bốn", 5: "năm", 6: "sáu"}
NOTHING = "—"


def _index(items: Iterable[Item]) -> dict[str, Item]:
    return {item.key: item for item in items}


def field_label(name: str, items: Iterable[Item]) -> str:
    """``setting_example.good_example`` -> ``Mục 1, ô "Nêu gương tốt"``; ``other_remarks`` -> the item's label."""
    by_key = _index(items)
    base, _, option = name.partition(".")
    present = base.endswith("_present") and base[:-len("_present")] in by_key
    if present:
        base = base[:-len("_present")]
    item = by_key.get(base)
    if item is not None:
        if option:
            label = next((o.label for o in item.options if o.key == option), None)
            return f"Mục {item.number}, ô «{label}»" if label else f"Mục {item.number}, một ô"
        if present:
            return f"Mục {item.number}. {item.label} (có viết)"
        return f"Mục {item.number}. {item.label}"
    return READER_FIELDS_VI.get(name, "Trường khác của phiếu")


def field_value(field: dict, items: Iterable[Item]) -> str:
    """The value of a reading field as the reviewer reads it (never a code, True/False or None)."""
    value: Any = field.get("value")
    kind = field.get("kind")
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if kind == "tickbox":
        return BOX_STATES_VI.get(str(field.get("box_class") or value), BOX_STATES_VI.get(str(value), NOTHING))
    if kind == "choice":
        item = _index(items).get(field.get("name", ""))
        if item is not None:
            return next((o.label for o in item.options if o.key == value), NOTHING)
        return NOTHING
    if kind == "crop":
        return "Ảnh cắt từ phiếu"
    if field.get("name") == "proposed_member_id":
        return f"Đảng viên số {value}"
    if kind == "date":
        return "/".join(reversed(str(value).split("-")))  # ISO -> dd/mm/yyyy
    return str(value)


def _marked_count(reading: dict, item: Item) -> int:
    states = {f.get("name"): f.get("value") for f in reading.get("fields") or [] if f.get("kind") == "tickbox"}
    return sum(1 for o in item.option_keys if states.get(f"{item.key}.{o}") not in (None, "empty", False))


def item_problem_text(item: Item, status: Optional[str], reading: dict) -> str:
    """``Mục 3 (Tham gia ...): có hai ô được đánh dấu.``"""
    why = ITEM_DOUBT_VI.get(status or "", ITEM_DOUBT_DEFAULT_VI)
    if status == "multiple":
        n = _marked_count(reading, item)
        if n >= 2:
            why = f"có {COUNT_WORDS_VI.get(n, str(n))} ô được đánh dấu"
    return f"Mục {item.number} ({item.label}): {why}."


def problem_lines(problems: Iterable[dict], items: Iterable[Item], reading: dict) -> list[str]:
    """The page's problems as sentences; each doubt about an item names the item, once."""
    by_key = _index(items)
    lines: list[str] = []
    named: set[str] = set()
    problems = list(problems or [])
    for pr in problems:  # the service's own item doubts first: they know the item's status
        key = pr.get("item")
        if pr.get("code") == "item_doubt" and key in by_key and key not in named:
            named.add(key)
            lines.append(item_problem_text(by_key[key], pr.get("status"), reading))
    for pr in problems:
        code = pr.get("code")
        if code == "item_doubt":
            if pr.get("item") not in by_key:
                lines.append(pr.get("message_vi") or "")
            continue
        keys = [k for k in pr.get("items") or [] if k in by_key]
        if code in ITEM_PROBLEM_STATUS and keys:
            for key in keys:
                if key not in named:
                    named.add(key)
                    lines.append(item_problem_text(by_key[key], ITEM_PROBLEM_STATUS[code], reading))
            continue
        text = pr.get("message_vi") or ""
        if text and text not in lines:
            lines.append(text if text.endswith((".", "!", "?", "»", ")")) else text + ".")
    return [line for line in lines if line]
