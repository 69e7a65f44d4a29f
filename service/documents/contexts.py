"""Registry records -> the plain data dicts docgen renders (keys as in the form definitions)."""
from __future__ import annotations

import re
from typing import Optional

from sqlalchemy import extract, select
from sqlalchemy.orm import Session, object_session

from ..errors import ServiceError
from ..models import Attendance, Evaluation, Introduction, Meeting, Member, Organisation

WORKPLACE_COMMITTEE_KINDS = ("workplace_committee",)
# Members who get no letter and no sheet, and why (said with their name).
NOT_IN_SCOPE = {
    "exempt_introduction": "thuộc diện miễn giới thiệu về nơi cư trú",
    "transferred": "đã chuyển sinh hoạt đảng",
    "left": "đã ra khỏi Đảng",
}


def check_documentable(member: Member, what: str) -> None:
    if member.status in NOT_IN_SCOPE:
        raise ServiceError("not_documentable", f"Đảng viên {member.full_name} {NOT_IN_SCOPE[member.status]}, không lập {what}.",
                           {"member_id": member.id, "member": member.full_name})


def issuing_committee(member: Member) -> Organisation:
    """The workplace committee that introduces the member: their workplace organisation or the nearest one above."""
    org = member.workplace_org
    while org is not None and org.kind not in WORKPLACE_COMMITTEE_KINDS:
        org = org.parent
    if org is None:
        raise ServiceError("no_workplace_committee",
                           f"Đảng viên {member.full_name} chưa có đảng ủy nơi công tác nên không thể lập văn bản.",
                           {"member_id": member.id, "member": member.full_name})
    return org


def residence_of(member: Member) -> tuple[Organisation, Organisation]:
    """(ward committee, residence cell) the member is addressed to."""
    cell = member.residence_cell
    if cell is None:
        raise ServiceError("no_residence_cell",
                           f"Đảng viên {member.full_name} chưa có chi bộ nơi cư trú nên không thể gửi văn bản đến nơi cư trú.",
                           {"member_id": member.id, "member": member.full_name})
    ward = cell.parent
    while ward is not None and ward.kind != "ward_committee":
        ward = ward.parent
    if ward is None:
        raise ServiceError("no_ward_committee",
                           f"{cell.name} (nơi cư trú của đảng viên {member.full_name}) chưa thuộc đảng ủy xã, phường nào.",
                           {"member_id": member.id, "member": member.full_name})
    return ward, cell


def party_body_name(committee_name: str) -> str:
    """'Đảng ủy phường Hồng Hà' -> 'Đảng bộ phường Hồng Hà' (the body the committee leads)."""
    for prefix in ("Đảng ủy", "Đảng uỷ", "ĐẢNG ỦY", "ĐẢNG UỶ"):
        if committee_name.startswith(prefix):
            return "Đảng bộ" + committee_name[len(prefix):]
    return committee_name


def _upper_body(committee: Organisation, member: Member) -> str:
    if committee.parent is not None:
        return committee.parent.name
    if member.province:
        return f"Đảng bộ tỉnh {member.province}"
    raise ServiceError("no_upper_body", f"{committee.name} chưa có cấp ủy cấp trên trong danh mục tổ chức đảng.",
                       {"organisation_id": committee.id})


def _place(*candidates: Optional[str]) -> str:
    return next((c for c in candidates if c), "")


# Unit words that start an administrative name ("phường Hồng Hà"); a document's place (địa danh) is the
# name without them (HD 36: "Hồng Hà, ngày … tháng … năm …").
_UNIT_WORDS = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "quận", "huyện", "tỉnh", "xã", "tp.", "tp")
_BODY_PREFIX = re.compile(r"^(đảng (ủy|uỷ|bộ)|chi (bộ|ủy|uỷ))\s+", re.IGNORECASE)


def place_name(text: Optional[str]) -> str:
    """'phường Hồng Hà' / 'Đảng ủy phường Hồng Hà' -> 'Hồng Hà': the place as a document's date line prints it."""
    s = " ".join((text or "").split())
    s = _BODY_PREFIX.sub("", s)
    low = s.lower()
    for unit in _UNIT_WORDS:
        if low.startswith(unit + " ") and len(s) > len(unit) + 1:
            s = s[len(unit) + 1:].strip()
            break
    return s[:1].upper() + s[1:]


def sheet_place(ward: Organisation, cell: Organisation, member: Member) -> str:
    """The issuing body's place: the ward's (or cell's) own place, else the ward's name without its unit word."""
    return place_name(_place(ward.place, cell.place, ward.name, member.commune, member.province))


PREFILLED_MAX_LINES = 3  # item 7 keeps at least one empty line for the cell's own remarks
# a pre-filled line must stay ONE printed line ("- " + text, 13 pt italic, within the 165 mm text width)
PREFILLED_LINE_MM, PREFILLED_LINE_PT = 158, 13


def absence_remarks(sess: Session, member: Member, year: int) -> list[str]:
    """Item 7's pre-filled lines: the meetings of the member's residence cell in ``year`` the member missed,
    with the reason recorded (at most :data:`PREFILLED_MAX_LINES` lines; the rest summed up)."""
    if member.residence_cell_id is None or member.id is None:
        return []
    rows = sess.execute(
        select(Meeting.held_on, Attendance.status, Attendance.note).join(Attendance.meeting)
        .where(Attendance.member_id == member.id, Attendance.status.in_(("absent", "excused")),
               Meeting.residence_cell_id == member.residence_cell_id,
               extract("year", Meeting.held_on) == year)
        .order_by(Meeting.held_on)).all()
    from docgen.textfit import shorten_to_width
    lines = []
    for held_on, status, note in rows:
        reason = " ".join((note or "").split())
        kind = "có lý do" if status == "excused" else "không có lý do"
        line = f"Vắng họp chi bộ ngày {held_on:%d/%m/%Y} ({kind})" + (f": {reason}" if reason else "")
        lines.append(shorten_to_width(line, PREFILLED_LINE_MM, PREFILLED_LINE_PT, italic=True))
    if len(lines) > PREFILLED_MAX_LINES:
        rest = len(lines) - (PREFILLED_MAX_LINES - 1)
        lines = lines[:PREFILLED_MAX_LINES - 1] + [f"Vắng thêm {rest} buổi họp chi bộ khác trong năm {year}"]
    return lines


def introduction_data(intro: Introduction) -> dict:
    member = intro.member
    committee = intro.issuing_org
    ward, cell = residence_of(member)
    return {
        "upper_body_name": _upper_body(committee, member),
        "issuing_committee_name": committee.name,
        "letter_number": intro.number,
        "letter_code": "GGT/ĐU",
        "place": _place(committee.place, member.province),
        "issue_date": intro.issued_on,
        "ward_committee_name": ward.name,
        "residence_cell_name": cell.name,
        "member_full_name": member.full_name,
        "member_gender": member.gender_label or None,
        "member_date_of_birth": member.date_of_birth,
        "member_admission_date": member.admission_date,
        "member_full_member_date": member.full_member_date,
        "workplace_cell_name": member.workplace_org.name if member.workplace_org else committee.name,
        "residence_address": member.residence_address,
        "exempt_from_meetings": member.status == "exempt_meetings",
        "signer_name": committee.secretary_name or "",
        # the receipt slip's QR: which letter came back, when the slip is scanned
        "member_id": str(member.id) if intro.id else "",
        "sheet_serial": f"GGT-{intro.id}" if intro.id else "",
        "year": intro.year,
    }


def evaluation_data(ev: Evaluation) -> dict:
    member = ev.member
    ward, cell = residence_of(member)
    committee = issuing_committee(member)
    return {
        "ward_party_body_name": party_body_name(ward.name),
        "ward_committee_name": ward.name,
        "residence_cell_name": cell.name,
        "place": sheet_place(ward, cell, member),
        "year": ev.year,
        "member_full_name": member.full_name,
        "member_date_of_birth": member.date_of_birth,
        "workplace_committee_name": committee.name,
        "workplace_cell_name": member.workplace_org.name if member.workplace_org else committee.name,
        "residence_address": member.residence_address,
        "sheet_serial": ev.sheet_serial,
        "variant": ev.variant,
        "member_id": str(member.id),
        "cell_secretary_name": cell.secretary_name or "",
        "prefilled_remarks": absence_remarks(sess, member, ev.year) if (sess := object_session(member)) else [],
    }
