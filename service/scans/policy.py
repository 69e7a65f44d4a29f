"""When the machine may apply a page by itself, and why a page waits for a person.

The rule (issue 9, item 1): a page of our own evaluation sheet is applied without a
person only when nothing is in doubt:

* the QR is valid and names a live sheet of that member (checked by ``decide.initial_status``:
  unknown, voided/replaced or already returned sheets never get here);
* every choice item has exactly one marked box, read with confidence (reader status ``ok``);
* no problem on the page blocks (table :data:`BLOCKING` below; a code not in the table
  blocks: a new doubt the reader learns to report is a doubt until someone says otherwise);
* the name printed on the page (and the date of birth, where the reader reads one) is the QR
  member's.  Identity of the name (see :func:`name_check`):

  - read with confidence and close to the member's name (diacritics folded, fuzzy): confirmed;
  - read with confidence and clearly another name: ``name_mismatch`` (a genuine QR pasted
    onto another member's sheet);
  - anything else (nothing read, a low-confidence read that does not match, a partial
    match): ``name_unconfirmed``.  It is not a mismatch, but it is not a confirmation
    either, so the page goes to review.  A low-confidence read that nevertheless matches
    the member's name closely *is* a confirmation: OCR noise does not produce the right
    name by chance.

Anything else goes to review, each doubtful item named (``Mục 3 (...): ...``) with the
boxes to look at, which the review screen outlines.  Corrections (a cancelled box) are
never resolved by the machine: it proposes the remaining mark, a person decides.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Optional

from forms.definition import Item
from ocr.result import CONFIDENT
from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from ..models import Member, ScanPage
from ..text import search_key

# Problem code -> True when it blocks automatic apply.  Codes not listed block.
BLOCKING: dict[str, bool] = {
    # reader: identification and alignment
    "qr_missing": True,
    "qr_invalid": True,
    "qr_unknown_form": True,
    "marks_missing": True,
    "layout_mismatch": True,
    "foreign_form": True,
    "member_not_found": True,
    "unreadable": True,
    "not_our_kind": True,
    "blank": True,
    "ocr_failed": True,
    # reader: the marks
    "item_unsure": True,
    "item_cancelled": True,  # a correction: a person decides
    "item_corrected": True,  # a box scribbled out and another marked: the machine only proposes
    "item_ambiguous": True,  # two marked boxes
    "item_circled": True,  # a stroke around a box
    "item_faint": True,  # a faint (pencil) mark
    # service: identity and sheet state
    "name_mismatch": True,
    "name_unconfirmed": True,
    "dob_mismatch": True,
    "member_mismatch": True,
    "sheet_unknown": True,
    "sheet_voided": True,
    "sheet_already_applied": True,
    "two_sheets": True,
    "same_page": True,
    "same_sheet": True,
    "item_doubt": True,
    # informative only
    "text_layer": False,  # answers typed on a computer, read from the PDF text
    "signature_missing": False,
    "stamp_missing": False,
    "remarks_pending": False,  # item 7 waits for transcription; the answers do not depend on it
}

# Reader item status -> what the reviewer is told about the item.
ITEM_DOUBT_VI = {
    "cancelled": "có ô bị gạch xóa (sửa chữa): người duyệt quyết định ô nào được chọn",
    "corrected": "có ô bị gạch xóa (sửa chữa): máy chỉ đề xuất ô còn lại, người duyệt quyết định",
    "circled": "có ô được khoanh tròn: người duyệt quyết định",
    "faint": "dấu mờ (có thể bằng bút chì): người duyệt xác nhận",
    "multiple": "có nhiều ô được đánh dấu",
    "none": "không có ô nào được đánh dấu",
    "unsure": "dấu không rõ (mờ, khoanh tròn hoặc tràn ô)",
}
ITEM_DOUBT_DEFAULT_VI = "không đọc chắc chắn"

# Name comparison on diacritic-folded names (rapidfuzz ratio, 0..100).
NAME_CONFIDENT = 0.6  # OCR confidence (0..1) of the name line at which a read counts as a read
NAME_MATCH = 85  # at or above: the same name
NAME_MISMATCH = 60  # below, on a confident read: another member's name
# An answer read below the reader's own confidence bar is a doubt even when the reader says "ok".
ANSWER_CONFIDENT = CONFIDENT


def blocks(code: str) -> bool:
    """Whether a problem code stops automatic apply (unknown codes do)."""
    return BLOCKING.get(code, True)


def blocking_codes(problems: Iterable[dict]) -> list[str]:
    return [p.get("code", "") for p in problems if blocks(p.get("code", ""))]


def _field(reading: dict, name: str) -> Optional[dict]:
    return next((f for f in reading.get("fields") or [] if f.get("name") == name), None)


def name_check(reading: dict, member: Member) -> Optional[dict]:
    """None when the printed name confirms the QR's member, else the problem to raise."""
    f = _field(reading, "member_full_name")
    text = search_key((f or {}).get("value") or "")
    conf = float((f or {}).get("confidence") or 0.0)
    expected = search_key(member.full_name)
    if not text:
        return {"code": "name_unconfirmed",
                "message_vi": "Không đọc được họ tên in trên phiếu: chưa xác nhận phiếu là của "
                              f"đảng viên {member.full_name} (theo mã QR)."}
    score = max(fuzz.ratio(text, expected), fuzz.token_sort_ratio(text, expected))
    if score >= NAME_MATCH:
        return None
    if conf >= NAME_CONFIDENT and score < NAME_MISMATCH:
        return {"code": "name_mismatch",
                "message_vi": f"Họ tên in trên phiếu («{f['value']}») không khớp với đảng viên theo mã QR "
                              f"({member.full_name}): có thể mã QR bị dán từ phiếu khác.",
                "read": f["value"], "expected": member.full_name, "score": round(score)}
    return {"code": "name_unconfirmed",
            "message_vi": f"Họ tên in trên phiếu đọc không chắc chắn («{f['value']}»): chưa xác nhận phiếu là "
                          f"của đảng viên {member.full_name} (theo mã QR).",
            "read": f["value"], "expected": member.full_name, "score": round(score)}


_DATE = re.compile(r"(\d{1,2})\D+(\d{1,2})\D+(\d{4})")


def dob_check(reading: dict, member: Member) -> Optional[dict]:
    """Where the reader reads a printed date of birth with confidence, it must be the member's."""
    f = _field(reading, "member_date_of_birth")
    if not f or not f.get("value") or float(f.get("confidence") or 0) < NAME_CONFIDENT \
            or member.date_of_birth is None:
        return None
    m = _DATE.search(str(f["value"]))
    try:
        read = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None
    except ValueError:
        read = None
    if read is None or read == member.date_of_birth:
        return None
    return {"code": "dob_mismatch",
            "message_vi": f"Ngày sinh in trên phiếu ({f['value']}) khác ngày sinh của đảng viên theo mã QR "
                          f"({member.date_of_birth:%d/%m/%Y})."}


def item_doubts(reading: dict, items: Iterable[Item]) -> list[dict]:
    """One problem per choice item not read as exactly one confident mark, named as printed."""
    status = reading.get("item_status") or {}
    answers = reading.get("answers") or {}
    conf = reading.get("answer_confidence") or {}
    boxes = {f["name"]: f.get("box") for f in reading.get("fields") or [] if f.get("kind") == "tickbox"}
    marked = {f["name"] for f in reading.get("fields") or []
              if f.get("kind") == "tickbox" and f.get("value") not in (None, "empty", False)}
    states = {f["name"]: f.get("value") for f in reading.get("fields") or [] if f.get("kind") == "tickbox"}
    out = []
    for item in items:
        if not item.is_choice:
            continue
        st, ans = status.get(item.key), answers.get(item.key)
        others_empty = all(states.get(f"{item.key}.{o}") in (None, "empty") for o in item.option_keys if o != ans)
        if st == "ok" and ans is not None and float(conf.get(item.key, 0)) >= ANSWER_CONFIDENT and others_empty:
            continue
        if st == "ok":
            why = ITEM_DOUBT_DEFAULT_VI if others_empty else "một ô khác cũng có vết mực"
        else:
            why = ITEM_DOUBT_VI.get(st or "", ITEM_DOUBT_DEFAULT_VI)
        names = [f"{item.key}.{o}" for o in item.option_keys]
        outlined = [n for n in names if n in marked] or names
        out.append({"code": "item_doubt", "item": item.key, "status": st,
                    "message_vi": f"Mục {item.number} ({item.label}): {why}.",
                    "boxes": [n for n in outlined if boxes.get(n)]})
    return out


def review_reasons(reading: dict, items: Iterable[Item], member: Optional[Member]) -> list[dict]:
    """The service's own doubts about a page of our sheet whose QR is valid (added to the page's problems)."""
    problems = item_doubts(reading, items)
    if member is not None:
        problems += [p for p in (name_check(reading, member), dob_check(reading, member)) if p]
    return problems


def may_apply_automatically(reading: dict, problems: Iterable[dict]) -> bool:
    """All the page's problems (reader's and service's) known and harmless, and every item one sure mark."""
    problems = list(problems)
    if reading.get("kind") != "evaluation_sheet" or not reading.get("qr_valid") or not reading.get("answers"):
        return False
    if blocking_codes(problems):
        return False
    status = reading.get("item_status") or {}
    conf = reading.get("answer_confidence") or {}
    return all(v is not None and status.get(k) == "ok" and float(conf.get(k, 0)) >= ANSWER_CONFIDENT
               for k, v in reading["answers"].items())


def review_reasons_for_page(sess: Session, page: ScanPage, reading: dict) -> list[dict]:
    """:func:`review_reasons` for a stored page whose QR names a live sheet of its member."""
    from .decide import items_of, sheet_of
    ev = sheet_of(sess, page)
    if ev is None:
        return []
    return review_reasons(reading, items_of(sess, ev), sess.get(Member, ev.member_id))


# The letter prints no corner marks (introduction_letter.*.form.json: corner_marks false): the reader
# saying so about its receipt slip is no warning.
NOT_A_SLIP_WARNING = {"marks_missing"}


def slip_warnings(problems) -> list[dict]:
    """The problems of a receipt slip's page that keep it for a person (every one but NOT_A_SLIP_WARNING)."""
    return [p for p in problems or [] if p.get("code") not in NOT_A_SLIP_WARNING]


SLIP_DATE_FIELD = "received_on"


def slip_date_auto() -> bool:
    """Whether a confidently read, plausible slip date may be applied without a person (setting
    ``NOICUTRU_SLIP_DATE_AUTO``, off by default: see bench/slip_dates.py for why)."""
    from flask import current_app, has_app_context
    return bool(has_app_context() and current_app.config.get("SLIP_DATE_AUTO", False))


def slip_date(sess: Session, page: ScanPage, reading: dict, today: Optional[dt.date] = None
              ) -> tuple[Optional[dt.date], list[dict]]:
    """:func:`slip_date_decision` for a stored receipt slip page (the letter's issue date from the record)."""
    from .decide import introduction_of
    intro = introduction_of(sess, page)
    if intro is None:
        return None, []
    return slip_date_decision(reading, intro.issued_on, today or dt.date.today())


def slip_date_decision(reading: dict, issued_on: dt.date, today: dt.date) -> tuple[Optional[dt.date], list[dict]]:
    """The received date of a receipt slip that may be applied without a person, and the service's doubts.

    The date is the one written on the slip and read by ``ocr.slip``: applied only when read with
    confidence (every digit at or above ``ocr.slip.DIGIT_CONFIDENT``, the reader raised no doubt) AND
    plausible: not before the letter was issued, not after today.  Otherwise None: the page waits for a
    person, with the date read (if any) pre-filled.  Never a date the slip does not carry."""
    from ocr.slip import DIGIT_CONFIDENT
    f = _field(reading, SLIP_DATE_FIELD)
    codes = {p.get("code") for p in reading.get("problems") or []}
    if f is None:
        if codes & {"date_blank", "date_unsure", "date_not_found"}:
            return None, []
        return None, [{"code": "received_date_missing", "message_vi":
                       "Phiếu báo không có ô ghi ngày máy đọc được (mẫu cũ): người duyệt nhập ngày tiếp nhận ghi trên "
                       "phiếu."}]
    if not f.get("value"):
        return None, []  # blank or not read: the reader's problem says which
    read = dt.date.fromisoformat(f["value"])
    if read < issued_on or read > today:
        return None, [{"code": "received_date_implausible", "message_vi":
                       f"Ngày tiếp nhận đọc được trên phiếu báo ({read:%d/%m/%Y}) "
                       + (f"trước ngày ký giấy giới thiệu ({issued_on:%d/%m/%Y})" if read < issued_on
                          else "sau ngày hôm nay")
                       + ": người duyệt kiểm tra lại ngày ghi trên phiếu.", "read": f["value"]}]
    if float(f.get("confidence") or 0) < DIGIT_CONFIDENT or codes & {"date_unsure", "date_blank", "date_not_found"}:
        return None, []
    return read, []
