"""Residence meetings and attendance, and the year-end absence flag (a setting, on by default)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ServiceError
from ..members.fields import ValueProblem, parse_date
from ..models import ATTENDANCE, Attendance, Meeting, Member, Organisation, User
from ..permissions import can_write, require_write, scope_members, subtree_ids
from ..text import checked_text, vi_sorted_names


def cells_for(sess: Session, user: User) -> list[Organisation]:
    stmt = select(Organisation).where(Organisation.kind == "residence_cell").order_by(Organisation.search_name)
    if user.role == "cell_secretary":
        stmt = stmt.where(Organisation.id.in_(subtree_ids(sess, user.organisation_id)))
    elif user.role != "admin":
        return []
    return vi_sorted_names(sess.scalars(stmt))


def can_record(sess: Session, user: User, cell_id: int) -> bool:
    cell = sess.get(Organisation, cell_id)
    return cell is not None and can_write(sess, user, cell, "meetings")


def create_meeting(sess: Session, user: User, cell_id: int, held_on: str, title: str) -> Meeting:
    cell = sess.get(Organisation, cell_id)
    if cell is None or cell.kind != "residence_cell":
        raise ServiceError("invalid_cell", "Cần chọn chi bộ nơi cư trú.", {"field": "cell_id"})
    require_write(sess, user, cell, "meetings",
                  message="Chỉ bí thư chi bộ nơi cư trú ghi nhận buổi sinh hoạt của chi bộ mình.")
    try:
        day = parse_date(held_on)
    except ValueProblem:
        day = None
    if day is None:
        raise ServiceError("invalid_date", f"Ngày sinh hoạt không hợp lệ: {held_on} (ghi ngày/tháng/năm, ví dụ 02/09/2026, hoặc chọn trên lịch).")
    meeting = Meeting(residence_cell_id=cell_id, held_on=day,
                      title=checked_text(title, 255, "Tiêu đề buổi sinh hoạt", field="title") or None)
    sess.add(meeting)
    audit.record(sess, "meeting", meeting, "create", None,
                 {"residence_cell_id": cell_id, "held_on": day, "title": meeting.title}, user=user)
    sess.commit()
    return meeting


def attendees(sess: Session, meeting: Meeting) -> list[Member]:
    return list(sess.scalars(select(Member).where(Member.residence_cell_id == meeting.residence_cell_id,
                                                  Member.status.in_(("active", "exempt_meetings")))
                             .order_by(Member.sort_name, Member.id)))


def record_attendance(sess: Session, user: User, meeting: Meeting, marks: dict[int, tuple[str, str]]) -> int:
    """marks: member id -> (status, note). Members not of the meeting's cell are refused."""
    require_write(sess, user, meeting, message="Chỉ bí thư chi bộ nơi cư trú ghi nhận điểm danh của chi bộ mình.")
    allowed = {m.id for m in attendees(sess, meeting)}
    existing = {a.member_id: a for a in meeting.attendances}
    for member_id, (status, note) in marks.items():
        if member_id not in allowed:
            raise ServiceError("not_in_cell", f"Đảng viên mã {member_id} không sinh hoạt tại chi bộ này.")
        if status not in ATTENDANCE:
            raise ServiceError("invalid_attendance", f"Trạng thái tham dự không hợp lệ: {status}.")
        row = existing.get(member_id) or Attendance(meeting_id=meeting.id, member_id=member_id)
        before = {"meeting_id": meeting.id, "status": row.status, "note": row.note} if row.id else None
        row.status, row.note = status, checked_text(note, 2000, "Ghi chú điểm danh", field=f"n_{member_id}") or None
        sess.add(row)
        audit.record(sess, "attendance", row, "update" if before else "create", before,
                     {"meeting_id": meeting.id, "status": row.status, "note": row.note}, user=user,
                     member_id=member_id)
    sess.commit()
    return len(marks)


def unexcused_absences(sess: Session, user: User, year: int, member_id: Optional[int] = None) -> list[tuple[Member, int]]:
    """Members absent without reason at least once in ``year``: they cannot be rated
    'Hoàn thành tốt nhiệm vụ' or higher (the absence rule; the service flags, it does not rate)."""
    stmt = (select(Member, func.count(Attendance.id)).join(Attendance, Attendance.member_id == Member.id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Attendance.status == "absent", extract("year", Meeting.held_on) == year)
            .group_by(Member.id).order_by(Member.sort_name, Member.id))
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    stmt = scope_members(sess, user, stmt)
    return [(m, n) for m, n in sess.execute(stmt).all()]
