"""What a page reading means for the records: identify the sheet, detect duplicates and
conflicts, apply (by the machine when everything is confidently read, or by a reviewer),
undo, reject."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from forms.definition import Item
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ServiceError
from .. import audit
from ..text import checked_text, text_problem
from ..models import Evaluation, Introduction, Member, ScanBatch, ScanPage, User, utcnow
from ..permissions import can_write, require_write
from ..documents.letters import mark_received, reference
from ..documents.sheets import ensure_sheet
from ..documents.templates_store import active_template, form_definition, template_version
from ..documents.sheets import sheet_variant
from . import remarks

OPEN = ("review", "conflict")


def sheet_of(sess: Session, page: ScanPage) -> Optional[Evaluation]:
    return sess.scalar(select(Evaluation).where(Evaluation.sheet_serial == page.sheet_serial)) \
        if page.sheet_serial else None


def introduction_of(sess: Session, page: ScanPage) -> Optional[Introduction]:
    """The letter whose receipt slip this page is (its QR names the letter and the member)."""
    serial = page.sheet_serial or ""
    if not serial.startswith("GGT-") or not serial[4:].isdigit():
        return None
    intro = sess.get(Introduction, int(serial[4:]))
    return intro if intro is not None and intro.member_id == page.member_id else None


def items_of(sess: Session, ev: Evaluation) -> tuple[Item, ...]:
    """The items of the form the sheet was printed on: its own template version and variant."""
    return form_definition(template_version(sess, "evaluation_sheet", ev.template_version or 1)).items(ev.variant)


def items_for_page(sess: Session, page: ScanPage, ev: Optional[Evaluation]) -> tuple[Item, ...]:
    """The items a reviewer answers for a page: those of its sheet, else of the form version and variant
    the page was read as, else (nothing says which form) of the sheet its member would be given now."""
    if ev is not None:
        return items_of(sess, ev)
    key = (page.reading or {}).get("layout_key")
    if key:
        return form_definition(template_version(sess, key[0], int(key[1]))).items(key[2])
    member = sess.get(Member, page.member_id) if page.member_id else None
    definition = form_definition(active_template(sess, "evaluation_sheet"))
    variant = sheet_variant(member) if member is not None else None
    return definition.items(variant if variant in definition.variant_names else None)


def initial_status(sess: Session, page: ScanPage, reading: dict) -> tuple[str, list[dict]]:
    """The status a freshly read page starts in, and the service-level problems found."""
    problems: list[dict] = []
    if reading["kind"] == "blank":
        return "skipped", problems
    earlier = sess.scalar(select(ScanPage.id).where(ScanPage.source_key == page.source_key, ScanPage.id != page.id,
                                                    ScanPage.status != "rejected").limit(1))
    if earlier is not None:
        return "duplicate", [{"code": "same_page", "message_vi": f"Trang này đã được tải lên trước đó (trang #{earlier})."}]
    if reading["kind"] == "introduction_receipt" and reading.get("qr_valid"):
        intro = introduction_of(sess, page)
        if intro is None:
            return "review", [{"code": "introduction_unknown",
                               "message_vi": "Không tìm thấy giấy giới thiệu ứng với phần cuống này."}]
        if intro.received_on is not None:
            return "duplicate", [{"code": "already_received", "message_vi":
                                  f"Giấy giới thiệu số {reference(intro)} đã được ghi nhận tiếp nhận ngày "
                                  f"{intro.received_on:%d/%m/%Y}."}]
        return "review", problems
    if reading["kind"] != "evaluation_sheet" or not reading.get("qr_valid"):
        return "review", problems
    ev = sheet_of(sess, page)
    if ev is None:
        return "review", [{"code": "sheet_unknown",
                           "message_vi": f"Không có phiếu số {page.sheet_serial} trong hệ thống."}]
    if ev.member_id != page.member_id:
        return "review", [{"code": "member_mismatch", "message_vi": "Mã QR không khớp với đảng viên của phiếu."}]
    if ev.status == "voided":
        return "conflict", [{"code": "sheet_voided",
                             "message_vi": f"Phiếu số {ev.sheet_serial} đã bị hủy và thay bằng phiếu khác."}]
    if ev.status == "returned":
        if (ev.answers or {}) == (reading.get("answers") or {}):
            return "duplicate", [{"code": "same_sheet", "message_vi": f"Phiếu số {ev.sheet_serial} đã được cập nhật từ một bản quét khác với cùng nội dung."}]
        return "conflict", [{"code": "sheet_already_applied",
                             "message_vi": f"Phiếu số {ev.sheet_serial} đã được cập nhật từ bản quét khác với nội dung khác."}]
    other = sess.scalar(select(Evaluation).where(Evaluation.member_id == ev.member_id, Evaluation.year == ev.year,
                                                 Evaluation.id != ev.id, Evaluation.status == "returned"))
    if other is not None:
        return "conflict", [{"code": "two_sheets", "message_vi": f"Đảng viên đã có phiếu nhận xét năm {ev.year} khác (số {other.sheet_serial})."}]
    return "review", problems


def check_answers(sess: Session, ev: Evaluation, answers: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for item in items_of(sess, ev):
        if not item.is_choice:
            continue
        value = answers.get(item.key)
        keys = item.option_keys
        if value not in keys:
            raise ServiceError("incomplete_answers", f"Mục {item.number} ({item.label}) chưa có lựa chọn hợp lệ.",
                               {"item": item.key, "options": keys})
        clean[item.key] = value
    return clean


def is_digital(page: ScanPage) -> bool:
    """An answer typed online by the residence cell (service.digital), not a scanned page."""
    return (page.reading or {}).get("source") == "digital"


def _source(page: ScanPage) -> str:
    return "digital" if is_digital(page) else "scan"


def _source_ref(page: ScanPage) -> str:
    if is_digital(page):
        return f"Trả lời trực tuyến #{page.id}, phiếu số {page.sheet_serial}"
    return f"Lô quét #{page.batch_id}, tệp {page.scan_file.name}, trang {page.page_no}"


OUTSIDE_SCOPE = {"code": "outside_scope",
                 "message_vi": "Trang này là của một đảng viên ngoài phạm vi quyền của người tải lên: không cập nhật "
                               "và không hiển thị thông tin đảng viên."}


def uploader_of(sess: Session, page: ScanPage) -> Optional[User]:
    batch = sess.get(ScanBatch, page.batch_id)
    return sess.get(User, batch.created_by) if batch is not None and batch.created_by else None


def refuse_if_outside_scope(sess: Session, page: ScanPage, uploader: Optional[User]) -> bool:
    """A page about a member outside the uploader's write scope ("return", see permissions.py) is
    never applied: it is set aside (rejected) with nothing that names the member kept on it."""
    member = sess.get(Member, page.member_id) if page.member_id else None
    if member is None or can_write(sess, uploader, member, "return"):
        return False
    reading = page.reading or {}
    page.reading = {"kind": reading.get("kind"), "qr_valid": reading.get("qr_valid"), "answers": {},
                    "fields": [], "problems": [OUTSIDE_SCOPE]}
    page.member_id, page.sheet_serial, page.year, page.crops = None, None, None, {}
    page.status, page.problems = "rejected", [OUTSIDE_SCOPE]
    return True


def _target_member(sess: Session, page: ScanPage, member_id: Optional[int]) -> Optional[Member]:
    target = member_id or page.member_id
    return sess.get(Member, target) if target else None


def apply_page(sess: Session, page: ScanPage, user: Optional[User], answers: dict[str, Any],
               other_remarks: Optional[str] = None, member_id: Optional[int] = None,
               year: Optional[int] = None, *, job_id: Optional[int] = None,
               received_on: Optional[dt.date] = None, confirm_today: bool = False) -> Optional[Evaluation]:
    """Write a page's answers into the member's evaluation for the year, with audit and undo data.

    ``user`` decides (a reviewer, or for the automatic apply the uploader, with the ``job_id``).
    The member written must be in the write scope ("return") of ``user`` and of the uploader,
    checked by the one rule in permissions.py; otherwise 403 and nothing changes."""
    if page.status not in OPEN:
        raise ServiceError("already_decided", f"Trang này đã được xử lý ({page.status_label}).", status=409)
    reading = page.reading or {}
    if reading.get("qr_text") and not reading.get("qr_valid"):
        raise ServiceError("forged_sheet", "Mã QR của phiếu không hợp lệ (phiếu bị sửa hoặc không do hệ thống phát "
                                           "hành): không thể cập nhật, chỉ có thể loại.", status=409)
    member = _target_member(sess, page, member_id)
    if member is not None:
        require_write(sess, user, member, "return", message="Bạn không có quyền cập nhật phiếu của đảng viên này.")
        require_write(sess, uploader_of(sess, page), member, "return",
                      message="Đảng viên này ngoài phạm vi quyền của người tải trang lên: không thể cập nhật.")
    if page.kind == "introduction_receipt":
        intro = introduction_of(sess, page)
        if intro is None:
            raise ServiceError("introduction_unknown", "Không tìm thấy giấy giới thiệu ứng với phần cuống này.")
        # the date written on the slip (read, or copied by the reviewer); today only when the reviewer says so
        if received_on is None and not confirm_today:
            raise ServiceError("received_date_required", "Cần nhập ngày tiếp nhận ghi trên phiếu báo (hoặc chọn "
                                                         "«lấy ngày hôm nay» nếu phiếu không ghi ngày).",
                               {"field": "received_on"})
        received_on = received_on or dt.date.today()
        if received_on > dt.date.today() or received_on < intro.issued_on:
            raise ServiceError("received_date_implausible",
                               f"Ngày tiếp nhận {received_on:%d/%m/%Y} không hợp lệ: phải từ ngày ký giấy giới thiệu "
                               f"({intro.issued_on:%d/%m/%Y}) đến hôm nay.", {"field": "received_on"})
        mark_receipt(sess, page, intro, received_on, user, job_id=job_id)
        return None
    printed = sheet_of(sess, page)
    if printed is not None and printed.status == "voided":
        # The scan of a voided sheet never writes its replacement (nor any other sheet).
        raise ServiceError("sheet_voided", f"Phiếu số {printed.sheet_serial} đã bị hủy và thay bằng phiếu khác: bản quét "
                                           "của phiếu đã hủy không được cập nhật, hãy loại trang này.", status=409)
    ev = printed if member_id in (None, page.member_id) else None
    if ev is None:
        if member is None:
            raise ServiceError("member_required", "Cần chọn đảng viên cho trang này trước khi cập nhật.")
        ev = ensure_sheet(sess, member, year or page.year or dt.date.today().year, commit=False, user=user,
                          job_id=job_id, source="scan")
    items = items_of(sess, ev)
    answers = check_answers(sess, ev, answers)
    if ev.status == "returned" and ev.source_page_id != page.id and page.status != "conflict":
        page.status = "conflict"
        sess.commit()
        raise ServiceError("conflict", f"Phiếu năm {ev.year} của đảng viên đã được cập nhật từ bản quét khác: "
                                       "trang được chuyển sang mục mâu thuẫn để xem xét.", status=409)
    other_remarks = (other_remarks or "").strip()  # line breaks kept
    problem = text_problem(other_remarks, 2000, "Ý kiến khác")
    if problem:
        raise ServiceError("invalid_text", problem, {"field": "other_remarks"})
    before = ev.snapshot()
    ev.answers, ev.other_remarks = answers, other_remarks or ev.other_remarks
    ev.status, ev.returned_on, ev.source_page_id = "returned", dt.date.today(), page.id
    remarks.attach_from_page(sess, page, ev, items, (other_remarks or "").strip(), user)
    sess.flush()
    audit.record(sess, "evaluation", ev, "evaluation", before, ev.snapshot(), user=user, job_id=job_id,
                 source=_source(page), source_ref=_source_ref(page))
    page.status, page.evaluation_id, page.member_id, page.year = "applied", ev.id, ev.member_id, ev.year
    page.applied_values, page.before_values = ev.snapshot(), before
    page.decided_by, page.decided_at = user.id if user else None, utcnow()
    sess.commit()
    return ev


def undo_page(sess: Session, page: ScanPage, user: User) -> None:
    """Put the evaluation back as it was before this page was applied; the page waits for review again."""
    if page.status != "applied":
        raise ServiceError("not_applied", "Chỉ hoàn tác được trang đã cập nhật.", status=409)
    if page.introduction_id is not None:
        intro = sess.get(Introduction, page.introduction_id)
        before = (page.before_values or {}).get("received_on")
        intro.received_on = dt.date.fromisoformat(before) if before else None
        audit.record(sess, "introduction", intro, "received_undo", page.applied_values, page.before_values,
                     user=user, source=_source(page), source_ref=_source_ref(page))
        page.status, page.applied_values, page.before_values = "review", None, None
        page.decided_by, page.decided_at = user.id, utcnow()
        sess.commit()
        return
    ev = sess.get(Evaluation, page.evaluation_id)
    if ev.source_page_id != page.id:
        raise ServiceError("superseded", "Phiếu đã được cập nhật lại từ bản quét khác sau trang này: không hoàn tác được.",
                           status=409)
    now, before = ev.snapshot(), page.before_values or {}
    ev.answers, ev.other_remarks, ev.status = before.get("answers"), before.get("other_remarks"), before.get("status", "issued")
    ev.returned_on = dt.date.fromisoformat(before["returned_on"]) if before.get("returned_on") else None
    ev.source_page_id = before.get("source_page_id")
    ev.remarks_file_id, ev.remarks_status = before.get("remarks_file_id"), before.get("remarks_status")
    sess.flush()
    audit.record(sess, "evaluation", ev, "evaluation_undo", now, ev.snapshot(), user=user, source=_source(page),
                 source_ref=_source_ref(page))
    page.status, page.applied_values, page.before_values = "review", None, None
    page.decided_by, page.decided_at = user.id, utcnow()
    sess.commit()


def reject_page(sess: Session, page: ScanPage, user: User, reason: str = "") -> None:
    if page.status == "applied":
        raise ServiceError("applied", "Trang đã được cập nhật: hãy hoàn tác trước khi loại.", status=409)
    reason = checked_text(reason, 500, "Lý do loại trang", field="reason")
    before = {"status": page.status}
    page.status, page.decided_by, page.decided_at = "rejected", user.id, utcnow()
    page.problems = (page.problems or []) + ([{"code": "rejected", "message_vi": reason}] if reason else [])
    audit.record(sess, "scan_page", page, "reject", before, {"status": "rejected", "reason": reason or None},
                 user=user, source=_source(page), source_ref=_source_ref(page), member_id=page.member_id)
    sess.commit()


def mark_receipt(sess: Session, page: ScanPage, intro: Introduction, received_on: dt.date,
                 user: Optional[User] = None, *, job_id: Optional[int] = None) -> None:
    """A returned receipt slip: the introduction is received on that date."""
    before = {"received_on": intro.received_on.isoformat() if intro.received_on else None}
    mark_received(sess, user, intro, received_on, source=_source(page), source_ref=_source_ref(page), commit=False,
                  job_id=job_id)
    after = {"received_on": received_on.isoformat()}
    page.status, page.introduction_id, page.member_id = "applied", intro.id, intro.member_id
    page.before_values, page.applied_values = before, after
    page.decided_by, page.decided_at = (user.id if user else None), utcnow()
    sess.commit()
