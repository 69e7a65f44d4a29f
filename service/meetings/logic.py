"""Residence meetings and attendance, absence requests and their certification, and the year-end
absence flag (a setting, on by default).

An absence is an attendance mark "absent" (or the older "excused"). It is excused only when the
member's absence request (đơn xin vắng) for that meeting was certified by the member's workplace
committee; every other absence counts for the absence rule (forms-213.md §7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ServiceError
from ..members.fields import ValueProblem, parse_date
from ..models import ATTENDANCE, AbsenceRequest, Attendance, Meeting, Member, Organisation, User, utcnow
from ..permissions import can_write, require_write, scope_members, subtree_ids
from ..text import checked_text, vi_sorted_names

#: the marks a secretary chooses on the attendance page (an absence is excused by a certified request,
#: not by the mark)
MARKS = {"present": "Có mặt", "absent": "Vắng"}
ABSENT_STATUSES = ("absent", "excused")
RULE_TEXT = "không được xếp loại Hoàn thành tốt nhiệm vụ trở lên"


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


def _uncertified():
    """Join condition: the member's certified request for the meeting (absent when NULL)."""
    return and_(AbsenceRequest.meeting_id == Attendance.meeting_id, AbsenceRequest.member_id == Attendance.member_id,
                AbsenceRequest.certified_at.is_not(None))


def unexcused_absences(sess: Session, user: User, year: int, member_id: Optional[int] = None) -> list[tuple[Member, int]]:
    """Members absent without a certified request at least once in ``year``: they cannot be rated
    'Hoàn thành tốt nhiệm vụ' or higher (the absence rule; the service flags, it does not rate)."""
    stmt = (select(Member, func.count(Attendance.id)).join(Attendance, Attendance.member_id == Member.id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .outerjoin(AbsenceRequest, _uncertified())
            .where(Attendance.status.in_(ABSENT_STATUSES), AbsenceRequest.id.is_(None),
                   extract("year", Meeting.held_on) == year)
            .group_by(Member.id).order_by(Member.sort_name, Member.id))
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    stmt = scope_members(sess, user, stmt)
    return [(m, n) for m, n in sess.execute(stmt).all()]


# --- absences of a year -------------------------------------------------------------------

@dataclass(frozen=True)
class Absence:
    """One meeting a member missed, and whether a certified request excuses it."""
    member_id: int
    meeting: Meeting
    attendance: Optional[Attendance]
    request: Optional[AbsenceRequest]

    @property
    def excused(self) -> bool:
        return self.request is not None and self.request.certified

    @property
    def state(self) -> str:
        if self.excused:
            return "Vắng có lý do (đơn xin vắng đã được xác nhận)"
        if self.request is not None:
            return "Vắng không có lý do (đơn xin vắng chưa được xác nhận)"
        return "Vắng không có lý do"

    def describe(self) -> str:
        """One line for reports and item 7: date, excused or not, reason."""
        line = f"Vắng buổi sinh hoạt ngày {self.meeting.held_on:%d/%m/%Y}"
        if self.excused:
            line += f": có đơn xin vắng được đảng ủy nơi công tác xác nhận (lý do: {self.request.reason})"
        elif self.request is not None:
            line += f": không có lý do được xác nhận (đơn chưa được xác nhận; lý do nêu: {self.request.reason})"
        else:
            line += ": không có lý do"
        return line


def year_absences(sess: Session, year: int, member_ids: Optional[Iterable[int]] = None,
                  user: Optional[User] = None) -> dict[int, list[Absence]]:
    """member id -> the meetings of ``year`` the member missed (marked absent), oldest first, each with
    its absence request if any. ``user`` limits it to the members the user may see.

    This is what counts as an absence everywhere (reports, the member's page, item 7 of the sheet):
    an attendance mark "absent"/"excused"; it is excused only by a certified request.
    """
    ids = None if member_ids is None else list(member_ids)
    if ids is not None and not ids:
        return {}
    in_year = extract("year", Meeting.held_on) == year
    marks = (select(Attendance, Meeting).join(Meeting, Meeting.id == Attendance.meeting_id)
             .where(Attendance.status.in_(ABSENT_STATUSES), in_year))
    reqs = select(AbsenceRequest, Meeting).join(Meeting, Meeting.id == AbsenceRequest.meeting_id).where(in_year)
    if ids is not None:
        marks = marks.where(Attendance.member_id.in_(ids))
        reqs = reqs.where(AbsenceRequest.member_id.in_(ids))
    if user is not None:
        marks = scope_members(sess, user, marks.join(Member, Member.id == Attendance.member_id))
        reqs = scope_members(sess, user, reqs.join(Member, Member.id == AbsenceRequest.member_id))
    requests = {(r.meeting_id, r.member_id): r for r, _m in sess.execute(reqs).all()}
    out: dict[int, list[Absence]] = {}
    for a, m in sess.execute(marks).all():
        out.setdefault(a.member_id, []).append(Absence(a.member_id, m, a, requests.get((m.id, a.member_id))))
    for rows in out.values():
        rows.sort(key=lambda x: (x.meeting.held_on, x.meeting.id))
    return out


def flagged(absences: list[Absence]) -> bool:
    """The absence rule applies: at least one absence of the year is not excused."""
    return any(not a.excused for a in absences)


def meeting_counts(sess: Session, meeting_ids: list[int]) -> dict[int, tuple[int, int]]:
    """meeting id -> (present, absent) marks."""
    if not meeting_ids:
        return {}
    rows = sess.execute(select(Attendance.meeting_id,
                               func.sum(case((Attendance.status == "present", 1), else_=0)),
                               func.sum(case((Attendance.status.in_(ABSENT_STATUSES), 1), else_=0)))
                        .where(Attendance.meeting_id.in_(meeting_ids)).group_by(Attendance.meeting_id)).all()
    return {mid: (int(p or 0), int(a or 0)) for mid, p, a in rows}


def requests_for_meeting(sess: Session, meeting: Meeting) -> dict[int, AbsenceRequest]:
    return {r.member_id: r for r in sess.scalars(select(AbsenceRequest).where(AbsenceRequest.meeting_id == meeting.id))}


# --- absence requests ------------------------------------------------------------------------

def record_absence_request(sess: Session, user: User, meeting: Meeting, member_id: int, reason: str,
                           written_on: str = "", certify: bool = False) -> AbsenceRequest:
    """Record (or correct, while not certified) a member's request not to attend ``meeting``."""
    member = sess.get(Member, member_id)
    if member is None or member.residence_cell_id != meeting.residence_cell_id:
        raise ServiceError("not_in_cell", "Đảng viên này không sinh hoạt tại chi bộ của buổi họp.",
                           {"field": "member_id"})
    require_write(sess, user, member, "absence",
                  message="Chỉ đảng ủy nơi công tác của đảng viên hoặc bí thư chi bộ nơi cư trú ghi nhận đơn xin vắng.")
    text = checked_text(reason, 2000, "Lý do xin vắng", field="reason")
    if not text:
        raise ServiceError("reason_required", "Cần ghi lý do xin vắng.", {"field": "reason"})
    day = None
    if (written_on or "").strip():
        try:
            day = parse_date(written_on)
        except ValueProblem:
            day = None
        if day is None:
            raise ServiceError("invalid_date", f"Ngày làm đơn không hợp lệ: {written_on} (dd/mm/yyyy).",
                               {"field": "written_on"})
    row = sess.scalar(select(AbsenceRequest).where(AbsenceRequest.meeting_id == meeting.id,
                                                   AbsenceRequest.member_id == member.id))
    before = row.snapshot() if row is not None else None
    if row is not None and row.certified:
        raise ServiceError("already_certified", "Đơn xin vắng này đã được xác nhận, không sửa được nữa.",
                           status=409)
    if row is None:
        row = AbsenceRequest(meeting_id=meeting.id, member_id=member.id, recorded_by=user.id)
        sess.add(row)
    row.reason, row.written_on = text, day
    sess.flush()
    audit.record(sess, "absence_request", row, "update" if before else "create", before, row.snapshot(),
                 user=user, member_id=member.id)
    if certify:
        certify_absence_request(sess, user, row, commit=False)
    sess.commit()
    return row


def certify_absence_request(sess: Session, user: User, row: AbsenceRequest, commit: bool = True) -> AbsenceRequest:
    """The workplace committee certifies the request: from now on the absence is excused."""
    member = row.member or sess.get(Member, row.member_id)
    require_write(sess, user, member, "certify_absence",
                  message="Chỉ đảng ủy nơi công tác của đảng viên xác nhận đơn xin vắng.")
    if row.certified:
        raise ServiceError("already_certified", "Đơn xin vắng này đã được xác nhận.", status=409)
    before = row.snapshot()
    row.certified_by, row.certified_at = user.id, utcnow()
    sess.flush()
    audit.record(sess, "absence_request", row, "certify", before, row.snapshot(), user=user, member_id=member.id)
    if commit:
        sess.commit()
    return row
