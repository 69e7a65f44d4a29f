"""A sheet answered online: stored as a page of source "digital" and decided like a scanned page.

The answer is a ``ScanPage`` in a one-page ``ScanBatch`` (no image): the review screen, the
decision (duplicate, conflict, voided sheet, another sheet of the year), the apply with its audit
entry and undo are those of scans.  Nothing is in doubt in a typed answer, so it is applied at
once unless the decision finds a conflict, which waits for a person in the review queue.
"""
from __future__ import annotations

import uuid
from typing import Any, Optional

from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..models import AnswerCode, Evaluation, ScanBatch, ScanFile, ScanPage, User, utcnow
from ..permissions import can_write
from ..scans.decide import apply_page, check_answers, initial_status
from ..scans.remarks import MAX_LENGTH, clean_text

FILE_NAME = "Trả lời trực tuyến"


def may_answer(sess: Session, user: Optional[User], ev: Evaluation) -> bool:
    """Signed in and allowed to write the member's return (the cell secretary of the member's
    residence cell, the member's workplace committee, administrators)."""
    return user is not None and getattr(user, "is_authenticated", True) and can_write(sess, user, ev.member, "return")


def submit(sess: Session, ev: Evaluation, answers: dict[str, Any], other_remarks: object, *,
           user: Optional[User] = None, code: Optional[AnswerCode] = None) -> ScanPage:
    """Record the online answer to sheet ``ev`` by ``user`` (signed in) or the holder of ``code``.

    Every item must have one of its options; the remark is optional.  Bad input changes nothing.
    The answer is applied as the signed-in user, or for a code as the person who issued it (the
    audit entry names the code); a conflict leaves it for review."""
    if user is None and code is None:
        raise ServiceError("forbidden", "Cần đăng nhập hoặc nhập mã trả lời để gửi phiếu.", status=403)
    if user is not None and not may_answer(sess, user, ev):
        raise ServiceError("forbidden", "Bạn không có quyền trả lời phiếu của đảng viên này.", status=403)
    if ev.status == "voided":
        raise ServiceError("sheet_voided", f"Phiếu số {ev.sheet_serial} đã bị hủy và thay bằng phiếu khác.", status=409)
    clean = check_answers(sess, ev, answers)
    remark = clean_text(other_remarks)
    if len(remark) > MAX_LENGTH:
        raise ServiceError("remarks_too_long", f"«Nhận xét khác» dài {len(remark)} ký tự, vượt quá {MAX_LENGTH} ký tự.",
                           {"field": "other_remarks", "limit": MAX_LENGTH})
    acting = user if user is not None else code.issuer
    batch = ScanBatch(created_by=acting.id, auto_apply=True, page_count=1, summary={"source": "digital"})
    sess.add(batch)
    sess.flush()
    sfile = ScanFile(batch_id=batch.id, stored_file_id=None, name=FILE_NAME, page_count=1)
    sess.add(sfile)
    sess.flush()
    by = (f"{user.full_name or user.username} (đăng nhập)" if user is not None
          else f"người giữ mã trả lời do {code.issuer.full_name or code.issuer.username} cấp")
    reading = {"kind": "evaluation_sheet", "source": "digital", "qr_valid": True, "answers": clean,
               "answer_confidence": {k: 1.0 for k in clean}, "other_remarks": remark or None,
               "fields": [], "problems": [], "submitted_by": by,
               "submitted_at": utcnow().isoformat(timespec="seconds")}
    page = ScanPage(batch_id=batch.id, scan_file_id=sfile.id, page_no=1, source_key=f"digital:{uuid.uuid4().hex}",
                    kind="evaluation_sheet", reading=reading, crops={}, sheet_serial=ev.sheet_serial,
                    member_id=ev.member_id, year=ev.year, status="review", problems=[])
    sess.add(page)
    sess.flush()
    status, problems = initial_status(sess, page, reading)
    page.status, page.problems = status, problems
    if code is not None:
        code.used_at, code.page_id = utcnow(), page.id
    sess.commit()
    if status == "review" and not problems:
        apply_page(sess, page, acting, clean, remark or None)
    return page


def outcome_message(page: ScanPage) -> str:
    """What the person who answered is told."""
    if page.status == "applied":
        return "Đã ghi nhận phiếu nhận xét. Cảm ơn đồng chí."
    if page.status == "duplicate":
        return "Phiếu này đã được gửi trước đó với cùng nội dung: không cần gửi lại."
    return ("Đã nhận phiếu. Phiếu này đã có nội dung khác (từ bản giấy hoặc lần gửi trước): đảng ủy nơi công tác "
            "sẽ xem xét và liên hệ nếu cần.")

