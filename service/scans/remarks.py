"""Item 7 ("Nhận xét khác") is never lost (issue 9, item 4).

When a scanned sheet is applied and its remark area has writing (or the reader is not sure
it is empty), the crop of that area is stored and attached to the evaluation, which then
says "Nhận xét khác: chờ nhập" until a person types it in the transcription queue
(``/scans/transcriptions``, API ``/api/transcriptions``).  The page's answers do not wait
for it: they are applied (by the machine when nothing is in doubt) while the remark waits.

Transcribing is a write on the member's record: the caller must be allowed to edit the
member, and it is audited (action ``evaluation_remarks``).
"""
from __future__ import annotations

import unicodedata
from typing import Optional

from forms.definition import Item
from ocr.result import CONFIDENT
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .. import audit, storage
from ..errors import ServiceError
from ..models import Evaluation, Member, ScanPage, User, utcnow
from ..permissions import require_write, scope_members

PENDING, TRANSCRIBED, UNREADABLE = "pending", "transcribed", "unreadable"
#: what the record shows for a remark a reviewer could not read (the crop stays on the record)
UNREADABLE_TEXT = "(Không đọc được chữ viết tay, xem ảnh phần «Nhận xét khác» của phiếu)"
MAX_LENGTH = 4000
# A "no writing" reading below the reader's confidence bar still keeps the crop: a person looks.
PRESENCE_CONFIDENT = CONFIDENT


def remark_item(items: tuple[Item, ...]) -> Optional[Item]:
    """The free-text item of the form (item 7 of the standard sheet)."""
    return next((i for i in items if not i.is_choice), None)


def has_writing(reading: dict, item: Item) -> bool:
    """The remark area has writing, or the reader cannot say it has none."""
    f = next((f for f in reading.get("fields") or [] if f.get("name") == f"{item.key}_present"), None)
    if f is None:
        return False
    return bool(f.get("value")) or float(f.get("confidence") or 0) < PRESENCE_CONFIDENT


def attach_from_page(sess: Session, page: ScanPage, ev: Evaluation, items: tuple[Item, ...],
                     typed: Optional[str], user: Optional[User]) -> None:
    """Called while applying a page to ``ev`` (before its audit entry): keep item 7.

    A remark typed by the reviewer is the transcription; otherwise a crop with writing is
    attached and waits for one.
    """
    item = remark_item(items)
    sha = (page.crops or {}).get(item.key) if item is not None else None
    if typed:
        ev.remarks_status = TRANSCRIBED
        ev.remarks_transcribed_by, ev.remarks_transcribed_at = (user.id if user else None), utcnow()
    if sha and has_writing(page.reading or {}, item):
        data = storage.read_sha(sha)
        row = storage.save(sess, data, f"nhan-xet-khac-phieu-{ev.sheet_serial or ev.id}.png", "image/png",
                           user.id if user else None)
        ev.remarks_file_id = row.id
        if not typed:
            ev.remarks_status = PENDING
            ev.remarks_transcribed_by = ev.remarks_transcribed_at = None


def pending(sess: Session, user: User) -> Select:
    """The evaluations whose remark waits for transcription that ``user`` may type, oldest first."""
    members = scope_members(sess, user, select(Member.id))
    stmt = select(Evaluation).where(Evaluation.remarks_status == PENDING, Evaluation.member_id.in_(members))
    if user.role not in ("admin", "workplace_staff"):
        stmt = stmt.where(Evaluation.id.is_(None))
    return stmt.order_by(Evaluation.id)


def clean_text(text: object) -> str:
    """NFC, each line trimmed, no empty lines at the ends."""
    if not isinstance(text, str):
        return ""
    lines = [" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines()]
    return "\n".join(lines).strip()


def transcribe(sess: Session, ev: Evaluation, user: User, text: object, *, source: str = "ui") -> Evaluation:
    """Store the typed remark of ``ev`` (a write: permission check and audit)."""
    require_write(sess, user, ev.member, message="Bạn không có quyền nhập nhận xét cho đảng viên này.")
    if ev.remarks_file_id is None:
        raise ServiceError("no_remark_crop", f"Phiếu số {ev.sheet_serial} không có phần «Nhận xét khác» viết tay "
                                             "cần nhập.", {"evaluation_id": ev.id}, status=409)
    value = clean_text(text)
    if not value:
        raise ServiceError("remarks_empty", "Chưa nhập nội dung «Nhận xét khác» (gõ lại chữ viết tay trong ảnh).",
                           {"field": "text"})
    if len(value) > MAX_LENGTH:
        raise ServiceError("remarks_too_long", f"«Nhận xét khác» dài {len(value)} ký tự, vượt quá {MAX_LENGTH} ký tự.",
                           {"field": "text", "limit": MAX_LENGTH})
    before = ev.snapshot()
    ev.other_remarks, ev.remarks_status = value, TRANSCRIBED
    ev.remarks_transcribed_by, ev.remarks_transcribed_at = user.id, utcnow()
    sess.flush()
    audit.record(sess, "evaluation", ev, "evaluation_remarks", before, ev.snapshot(), user=user, source=source,
                 source_ref=f"Nhập «Nhận xét khác» phiếu số {ev.sheet_serial}")
    sess.commit()
    return ev


def mark_unreadable(sess: Session, ev: Evaluation, user: User, *, source: str = "ui") -> Evaluation:
    """Close a pending remark nobody can read: the crop stays on the record (it is the remark), the
    remark says it could not be read, and the sheet no longer waits (a write: permission and audit)."""
    require_write(sess, user, ev.member, message="Bạn không có quyền nhập nhận xét cho đảng viên này.")
    if ev.remarks_file_id is None:
        raise ServiceError("no_remark_crop", f"Phiếu số {ev.sheet_serial} không có phần «Nhận xét khác» viết tay "
                                             "cần nhập.", {"evaluation_id": ev.id}, status=409)
    if ev.remarks_status != PENDING:
        raise ServiceError("remark_not_pending", f"«Nhận xét khác» của phiếu số {ev.sheet_serial} đã được xử lý.",
                           {"evaluation_id": ev.id}, status=409)
    before = ev.snapshot()
    ev.remarks_status = UNREADABLE
    ev.other_remarks = ev.other_remarks or UNREADABLE_TEXT
    ev.remarks_transcribed_by, ev.remarks_transcribed_at = user.id, utcnow()
    sess.flush()
    audit.record(sess, "evaluation", ev, "evaluation_remarks", before, ev.snapshot(), user=user, source=source,
                 source_ref=f"«Nhận xét khác» phiếu số {ev.sheet_serial}: không đọc được, giữ ảnh")
    sess.commit()
    return ev


def to_dict(ev: Evaluation) -> dict:
    return {"evaluation_id": ev.id, "member_id": ev.member_id, "member_name": ev.member.full_name,
            "year": ev.year, "sheet_serial": ev.sheet_serial, "remarks_status": ev.remarks_status,
            "other_remarks": ev.other_remarks, "source_page_id": ev.source_page_id}
