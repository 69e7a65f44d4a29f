"""Registry records -> the plain data dicts docgen renders (keys as in the form definitions)."""
from __future__ import annotations

import re
from typing import Optional

from flask import current_app, has_app_context
from sqlalchemy import extract, select
from sqlalchemy.orm import Session, object_session

from ..errors import ServiceError
from ..models import Attendance, Evaluation, Introduction, Meeting, Member, Organisation
from ..text import clean, search_key

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
    if committee.upper_body_name:  # set on the organisation page
        return committee.upper_body_name
    if committee.parent is not None:
        return committee.parent.name
    if member.province:
        return f"Đảng bộ tỉnh {member.province}"
    raise ServiceError("no_upper_body", f"{committee.name} chưa có cấp ủy cấp trên trong danh mục tổ chức đảng.",
                       {"organisation_id": committee.id})


def _place(*candidates: Optional[str]) -> str:
    return next((c for c in candidates if c), "")


# Unit words that start an administrative name ("phường Hồng Hà"); a document's place (địa danh) is the
# name without them (HD 36: "Hồng Hà, ngày … tháng … năm …"), compared without diacritics.
_PLACE_UNITS = ("thanh pho ", "tinh ", "phuong ", "xa ", "dac khu ", "thi tran ", "thi xa ", "quan ", "huyen ",
                "tp. ", "tp ")
_BODY_PREFIX = re.compile(r"^(đảng (ủy|uỷ|bộ)|chi (bộ|ủy|uỷ))\s+", re.IGNORECASE)


def place_name(text: Optional[str]) -> str:
    """The place name (địa danh) as a date line prints it: "thành phố hạ long" -> "Hạ Long",
    "Đảng ủy phường Hồng Hà" -> "Hồng Hà"."""
    text = _BODY_PREFIX.sub("", clean(text or ""))
    key = search_key(text)
    for unit in _PLACE_UNITS:
        if key.startswith(unit) and len(key) > len(unit):
            text = text[len(unit):].strip()
            break
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def issuing_place(committee: Organisation, member: Member) -> str:
    """The issuing body's place name, or the nearest one set above it, else the member's province."""
    org: Optional[Organisation] = committee
    while org is not None:
        if org.place:
            return place_name(org.place)
        org = org.parent
    return place_name(member.province)


def number_suffix(committee: Organisation) -> str:
    """The body's code after "/" in a document number: as set on the organisation page, else ĐU for a
    đảng ủy and CB for a chi bộ cơ sở."""
    if committee.document_code:
        return committee.document_code
    return "CB" if search_key(committee.name).startswith("chi bo") else "ĐU"


def missing_signer(member: Member) -> Optional[str]:
    """The warning to show before issuing a letter when its body has no signing secretary, else None."""
    try:
        committee = issuing_committee(member)
    except ServiceError:
        return None
    if committee.secretary_name:
        return None
    return (f"{committee.name} chưa có họ tên bí thư (người ký): giấy giới thiệu sẽ in trống tên người ký. "
            "Nhập họ tên bí thư ở trang tổ chức đảng trước khi lập, hoặc ký và ghi tên bằng tay.")


def sheet_place(ward: Organisation, cell: Organisation, member: Member) -> str:
    """The issuing body's place: the ward's (or cell's) own place, else the ward's name without its unit word."""
    return place_name(_place(ward.place, cell.place, ward.name, member.commune, member.province))


PREFILLED_MAX_LINES = 3  # item 7 keeps at least one empty line for the cell's own remarks
# a pre-filled line must stay ONE printed line ("- " + text, 13 pt italic, within the 165 mm text width)
PREFILLED_LINE_MM, PREFILLED_LINE_PT = 158, 13


def absence_remarks(sess: Session, member: Member, year: int) -> list[str]:
    """Item 7's pre-filled lines: the meetings of the member's residence cell in ``year`` the member missed
    (what counts as an absence everywhere: ``meetings.logic.year_absences``), each with whether it is
    excused (only a request certified by the workplace committee excuses it) and the reason given
    (at most :data:`PREFILLED_MAX_LINES` lines; the rest summed up)."""
    if member.residence_cell_id is None or member.id is None:
        return []
    from docgen.textfit import shorten_to_width
    from ..meetings.logic import year_absences
    lines = []
    for absence in year_absences(sess, year, [member.id]).get(member.id, []):
        if absence.meeting.residence_cell_id != member.residence_cell_id:
            continue
        reason = " ".join(((absence.request.reason if absence.request else None) or (absence.attendance.note if absence.attendance else None) or "").split())
        kind = ("có lý do" if absence.excused else "đơn xin vắng chưa được xác nhận" if absence.request is not None
                else "không có lý do")
        line = f"Vắng họp chi bộ ngày {absence.meeting.held_on:%d/%m/%Y} ({kind})" + (f": {reason}" if reason else "")
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
        "letter_code": f"GGT/{number_suffix(committee)}",
        "place": issuing_place(committee, member),
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
        "qr_link_base": current_app.config.get("QR_LINK_BASE", "") if has_app_context() else "",
        "prefilled_remarks": absence_remarks(sess, member, ev.year) if (sess := object_session(member)) else [],
    }
