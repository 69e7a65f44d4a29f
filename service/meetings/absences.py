"""The absence list of a year for the members a user sees (workplace staff: their members; a cell
secretary: their cell's), with each absence's request and certification; its Excel export."""
from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from ..members.export import FORMULA_STARTS
from ..models import AbsenceRequest, Meeting, Member, User
from ..permissions import can_write, scope_members
from .logic import RULE_TEXT, Absence, year_absences


@dataclass
class AbsenceRow:
    member: Member
    absence: Absence
    can_certify: bool
    can_record: bool
    flag: bool  # the member has at least one unexcused absence this year


def absence_rows(sess: Session, user: User, year: int) -> tuple[list[AbsenceRow], list[AbsenceRequest]]:
    """The year's absences of the members the user sees (by member name, then date), and the requests
    still waiting for certification for meetings with no absence marked (yet)."""
    found = year_absences(sess, year, user=user)
    members = {m.id: m for m in sess.scalars(select(Member).where(Member.id.in_(list(found))))} if found else {}
    rows: list[AbsenceRow] = []
    for mid in sorted(found, key=lambda i: (members[i].search_name, i)):
        m = members[mid]
        cert, rec = can_write(sess, user, m, "certify_absence"), can_write(sess, user, m, "absence")
        flag = any(not a.excused for a in found[mid])
        rows.extend(AbsenceRow(m, a, cert, rec, flag) for a in found[mid])
    marked = {(a.absence.meeting.id, a.member.id) for a in rows}
    stmt = (select(AbsenceRequest).join(Meeting, Meeting.id == AbsenceRequest.meeting_id)
            .join(Member, Member.id == AbsenceRequest.member_id)
            .where(extract("year", Meeting.held_on) == year, AbsenceRequest.certified_at.is_(None))
            .order_by(Meeting.held_on, Member.search_name))
    pending = [r for r in sess.scalars(scope_members(sess, user, stmt)) if (r.meeting_id, r.member_id) not in marked]
    return rows, pending


def _put(ws, row: int, col: int, value):
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type, cell.quotePrefix = "s", True
    return cell


HEADERS = ("STT", "Họ và tên", "Số thẻ đảng viên", "Nơi công tác", "Chi bộ nơi cư trú", "Ngày sinh hoạt",
           "Tình trạng", "Lý do (đơn xin vắng)", "Người xác nhận", "Ngày xác nhận", "Lưu ý khi xếp loại")
WIDTHS = (5, 26, 14, 28, 24, 12, 34, 36, 22, 12, 36)


def absences_xlsx(rows: list[AbsenceRow], year: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"Vắng {year}"
    _put(ws, 1, 1, f"Đảng viên vắng sinh hoạt nơi cư trú năm {year}").font = Font(bold=True, size=13)
    for c, (h, w) in enumerate(zip(HEADERS, WIDTHS), 1):
        _put(ws, 3, c, h).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(c)].width = w
    for i, r in enumerate(rows, 1):
        req = r.absence.request
        certifier = req.certifier if req is not None and req.certified else None
        values = (i, r.member.full_name, r.member.card_number or "",
                  r.member.workplace_org.name if r.member.workplace_org else "",
                  r.absence.meeting.residence_cell.name, r.absence.meeting.held_on.strftime("%d/%m/%Y"),
                  r.absence.state, req.reason if req is not None else "",
                  (certifier.full_name or certifier.username) if certifier else "",
                  req.certified_at.strftime("%d/%m/%Y") if certifier else "",
                  RULE_TEXT[:1].upper() + RULE_TEXT[1:] if r.flag else "")
        for c, v in enumerate(values, 1):
            _put(ws, 3 + i, c, v).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "C4"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
