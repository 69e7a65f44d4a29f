"""The year-end campaign of a workplace committee: every sheet from generated to applied.

A campaign is created for (workplace committee, year) with a return deadline. It generates
the sheets through the bulk mail-merge job (``documents.bulk``), leaving out by default the
members exempt from residence meetings (HD 33, status ``exempt_meetings``), who are listed
apart. Each sheet's state is derived from its evaluation where the evaluation records it
(created, returned by scan, answers applied, remark pending) and from ``campaign_sheets``
for what it does not (sent, paper received by hand or digitally).

A sheet counts as applied only when its answers are on the record and no remark
("Nhận xét khác") waits for transcription.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..errors import NotFound, ServiceError
from ..models import (Campaign, CampaignReminder, CampaignSheet, CellContact, Evaluation, Member, Organisation, ScanPage,
                      TitledState, User, utcnow)
from ..permissions import require_write, subtree_ids, visible_org_ids
from ..text import checked_text

IN_CAMPAIGN = ("active",)  # members who get a sheet; exempt ones only when asked
EXEMPT = "exempt_meetings"


class SheetState(TitledState):
    """Where a campaign sheet stands (derived, not stored)."""
    NOT_GENERATED = "not_generated", "Chưa tạo phiếu"
    GENERATED = "generated", "Đã tạo phiếu, chưa gửi"
    SENT = "sent", "Đã gửi, chưa nhận lại"
    RETURNED = "returned", "Đã nhận lại, chưa cập nhật xong"
    APPLIED = "applied", "Đã cập nhật"


RETURN_METHODS = {"scan": "Bản quét", "digital": "Trực tuyến", "hand": "Nhận tay"}


@dataclass
class SheetRow:
    member: Member
    cell: Optional[Organisation]
    ward: Optional[Organisation]
    sheet: CampaignSheet
    ev: Optional[Evaluation]
    state: SheetState
    overdue: bool
    method: Optional[str]
    generated_on: Optional[dt.date]
    sent_on: Optional[dt.date]
    returned_on: Optional[dt.date]
    applied_on: Optional[dt.date]
    remark_pending: bool

    @property
    def returned(self) -> bool:
        return self.state in (SheetState.RETURNED, SheetState.APPLIED)

    @property
    def method_label(self) -> str:
        return RETURN_METHODS.get(self.method or "", "")


@dataclass
class CellSummary:
    cell: Optional[Organisation]
    ward: Optional[Organisation]
    contact_name: str = ""
    contact_phone: str = ""
    total: int = 0
    sent: int = 0
    returned: int = 0
    applied: int = 0
    overdue: int = 0
    rows: list = field(default_factory=list)

    @property
    def late(self) -> bool:
        return self.overdue > 0

    @property
    def percent_returned(self) -> int:
        return round(100 * self.returned / self.total) if self.total else 0


def _ward_of(cell: Optional[Organisation]) -> Optional[Organisation]:
    ward = cell.parent if cell is not None else None
    while ward is not None and ward.kind != "ward_committee":
        ward = ward.parent
    return ward


def _parse_date(value: Any, label: str, field_name: str) -> dt.date:
    from ..members.fields import parse_date
    if isinstance(value, dt.date):
        return value
    try:
        parsed = parse_date(value)
    except Exception:  # members.fields.ValueProblem: said below with the field's name
        parsed = None
    if parsed is None:
        raise ServiceError("invalid_date", f"{label} không hợp lệ: «{value or ''}» (ghi theo dạng ngày/tháng/năm).",
                           {"field": field_name})
    return parsed


def committee_choices(sess: Session, user: User) -> list[Organisation]:
    """The workplace committees whose campaigns ``user`` may run."""
    stmt = select(Organisation).where(Organisation.kind == "workplace_committee").order_by(Organisation.search_name)
    ids = visible_org_ids(sess, user)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    return list(sess.scalars(stmt)) if user.role in ("admin", "workplace_staff") else []


def visible_campaigns(sess: Session, user: User) -> list[Campaign]:
    stmt = select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())
    if user.role != "admin":
        ids = visible_org_ids(sess, user) or set()
        if user.role != "workplace_staff":
            return []
        stmt = stmt.where(Campaign.workplace_org_id.in_(ids))
    return list(sess.scalars(stmt))


def get_campaign(sess: Session, user: User, campaign_id: int) -> Campaign:
    """A campaign its committee's staff (and administrators) may open: 404 / 403 otherwise."""
    campaign = sess.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("Không tìm thấy đợt nhận xét.")
    if user.role != "admin":
        ids = visible_org_ids(sess, user) or set()
        if user.role != "workplace_staff" or campaign.workplace_org_id not in ids:
            from ..errors import Forbidden
            raise Forbidden()
    return campaign


def title(campaign: Campaign) -> str:
    return f"Phiếu nhận xét {campaign.year} — {campaign.workplace_org.name}"


def members_of(sess: Session, org_id: int, include_exempt: bool) -> tuple[list[Member], list[Member]]:
    """(members who get a sheet, exempt members left out), in packet order (cell, then name)."""
    statuses = IN_CAMPAIGN + ((EXEMPT,) if include_exempt else ())
    base = select(Member).where(Member.workplace_org_id.in_(subtree_ids(sess, org_id)))
    chosen = list(sess.scalars(base.where(Member.status.in_(statuses))))
    chosen.sort(key=lambda m: (m.residence_cell_id or 0, m.search_name, m.id))
    exempt = [] if include_exempt else list(sess.scalars(base.where(Member.status == EXEMPT)
                                                         .order_by(Member.search_name, Member.id)))
    return chosen, exempt


def create(sess: Session, user: User, workplace_org_id: Any, year: Any, deadline: Any, *,
           include_exempt: bool = False, answer_codes: bool = False, source: str = "ui") -> Campaign:
    """Create the campaign and enqueue the generation of its sheets (one bulk job). Nothing is
    changed when the input is bad. ``answer_codes``: each cell's request letter prints a one-time
    answer code per sheet (``documents.packets.issue_answer_codes``)."""
    from ..jobs import record as jobs
    from ..documents.packets import answer_link
    try:
        org_id = int(workplace_org_id)
    except (TypeError, ValueError):
        raise ServiceError("invalid_organisation", "Cần chọn đảng ủy nơi công tác.", {"field": "workplace_org_id"})
    org = sess.get(Organisation, org_id)
    if org is None:
        raise ServiceError("invalid_organisation", "Không tìm thấy đảng ủy nơi công tác đã chọn.",
                           {"field": "workplace_org_id"}, status=404)
    require_write(sess, user, org, "campaign", message="Bạn không có quyền lập đợt nhận xét cho đảng ủy này.")
    if org.kind != "workplace_committee":
        raise ServiceError("not_workplace_committee", f"{org.name} không phải là đảng ủy cơ sở nơi công tác.",
                           {"field": "workplace_org_id"})
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", "Năm nhận xét phải từ 2000 đến 2100.", {"field": "year"})
    deadline = _parse_date(deadline, "Hạn gửi lại phiếu", "deadline")
    if deadline.year < year:
        raise ServiceError("invalid_deadline", f"Hạn gửi lại phiếu ({deadline:%d/%m/%Y}) phải sau đầu năm {year}.",
                           {"field": "deadline"})
    if sess.scalar(select(Campaign.id).where(Campaign.workplace_org_id == org.id, Campaign.year == year)):
        raise ServiceError("campaign_exists", f"{org.name} đã có đợt nhận xét năm {year}.", {"field": "year"},
                           status=409)
    chosen, _exempt = members_of(sess, org.id, include_exempt)
    if not chosen:
        raise ServiceError("no_members", f"{org.name} không có đảng viên nào đang sinh hoạt nơi cư trú để gửi phiếu.",
                           {"field": "workplace_org_id"})
    campaign = Campaign(workplace_org_id=org.id, year=year, deadline=deadline, include_exempt=bool(include_exempt),
                        created_by=user.id)
    sess.add(campaign)
    sess.flush()
    for m in chosen:
        sess.add(CampaignSheet(campaign_id=campaign.id, member_id=m.id))
    # the bulk mail-merge job of documents/bulk.py: a combined .docx to print at once, and a packet per cell
    job = jobs.enqueue(sess, "bulk_documents",
                       {"kind": "evaluation_sheet", "year": year, "member_ids": [m.id for m in chosen],
                        "outputs": ["combined", "cell_bundles"], "user_id": user.id,
                        "issued_on": dt.date.today().isoformat(), "title": f"Phiếu nhận xét {year} — {org.name}",
                        "campaign_id": campaign.id, "return_deadline": deadline.isoformat(),
                        **({"answer_codes": True, "answer_link": answer_link()} if answer_codes else {})},
                       user_id=user.id, total=len(chosen))
    campaign.job_id = job.id
    sess.flush()
    audit.record(sess, "campaign", campaign, "create", None,
                 {"workplace_org_id": org.id, "year": year, "deadline": deadline.isoformat(),
                  "include_exempt": bool(include_exempt), "answer_codes": bool(answer_codes), "members": len(chosen),
                  "job_id": job.id},
                 user=user, source=source)
    sess.commit()
    jobs.notify()
    return campaign


def _live_sheets(sess: Session, member_ids: list[int], year: int) -> dict[int, Evaluation]:
    out: dict[int, Evaluation] = {}
    for i in range(0, len(member_ids), 500):
        chunk = member_ids[i:i + 500]
        for ev in sess.scalars(select(Evaluation).where(Evaluation.member_id.in_(chunk), Evaluation.year == year,
                                                        Evaluation.status != "voided")):
            out[ev.member_id] = ev
    return out


def _answered_online(sess: Session, page_ids: list[int]) -> set[int]:
    """Those of the pages that are answers typed online by the cell (service.digital), not scans."""
    out: set[int] = set()
    for i in range(0, len(page_ids), 500):
        for page_id, reading in sess.execute(select(ScanPage.id, ScanPage.reading)
                                             .where(ScanPage.id.in_(page_ids[i:i + 500]))):
            if (reading or {}).get("source") == "digital":
                out.add(page_id)
    return out


def sheet_rows(sess: Session, campaign: Campaign, today: Optional[dt.date] = None) -> list[SheetRow]:
    """Every sheet of the campaign with its state, dates and return method."""
    today = today or dt.date.today()
    sheets = list(sess.scalars(select(CampaignSheet).where(CampaignSheet.campaign_id == campaign.id)
                               .options(selectinload(CampaignSheet.member).selectinload(Member.residence_cell),
                                        selectinload(CampaignSheet.member).selectinload(Member.workplace_org))))
    evs = _live_sheets(sess, [s.member_id for s in sheets], campaign.year)
    online = _answered_online(sess, [ev.source_page_id for ev in evs.values() if ev.source_page_id])
    wards: dict[Optional[int], Optional[Organisation]] = {}
    rows = []
    for s in sheets:
        m, ev = s.member, evs.get(s.member_id)
        cell = m.residence_cell
        if cell is not None and cell.id not in wards:
            wards[cell.id] = _ward_of(cell)
        ward = wards.get(cell.id) if cell is not None else None
        applied = ev is not None and ev.status == "returned" and bool(ev.answers)
        pending = ev is not None and ev.remarks_status == "pending"
        method = (("digital" if ev.source_page_id in online else "scan")
                  if ev is not None and ev.status == "returned" and ev.source_page_id else s.received_via)
        returned_on = (ev.returned_on if ev is not None and ev.status == "returned" else None) or s.received_on
        if ev is None:
            state = SheetState.NOT_GENERATED
        elif applied and not pending:
            state = SheetState.APPLIED
        elif applied or s.received_on:
            state = SheetState.RETURNED
        elif s.sent_on:
            state = SheetState.SENT
        else:
            state = SheetState.GENERATED
        applied_on = None
        if state == SheetState.APPLIED:  # the answers applied, and the remark typed (or closed) if it waited
            dates = [d for d in (ev.returned_on, ev.remarks_transcribed_at.date() if ev.remarks_transcribed_at else None)
                     if d is not None]
            applied_on = max(dates) if dates else None
        overdue = state in (SheetState.GENERATED, SheetState.SENT, SheetState.NOT_GENERATED) and today > campaign.deadline
        rows.append(SheetRow(member=m, cell=cell, ward=ward, sheet=s, ev=ev, state=state, overdue=overdue,
                             method=method if state in (SheetState.RETURNED, SheetState.APPLIED) else None,
                             generated_on=ev.created_at.date() if ev is not None and ev.created_at else None,
                             sent_on=s.sent_on, returned_on=returned_on if state in (SheetState.RETURNED,
                                                                                     SheetState.APPLIED) else None,
                             applied_on=applied_on, remark_pending=pending))
    rows.sort(key=lambda r: ((r.ward.search_name if r.ward else "~"), (r.cell.search_name if r.cell else "~"),
                             r.member.search_name, r.member.id))
    return rows


def totals(rows: list[SheetRow]) -> dict[str, int]:
    out = {"total": len(rows), "generated": sum(r.ev is not None for r in rows),
           "sent": sum(r.sent_on is not None or r.returned for r in rows),
           "returned": sum(r.returned for r in rows), "applied": sum(r.state == SheetState.APPLIED for r in rows),
           "overdue": sum(r.overdue for r in rows), "remarks_pending": sum(r.remark_pending for r in rows)}
    out["percent_returned"] = round(100 * out["returned"] / out["total"]) if out["total"] else 0
    out["percent_applied"] = round(100 * out["applied"] / out["total"]) if out["total"] else 0
    return out


def contacts(sess: Session, cell_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(name, phone) of each cell's secretary: the contact recorded, else the organisation's
    secretary, else the name of the cell's secretary account."""
    out: dict[int, tuple[str, str]] = {}
    if not cell_ids:
        return out
    recorded = {c.residence_cell_id: c for c in sess.scalars(select(CellContact)
                                                             .where(CellContact.residence_cell_id.in_(cell_ids)))}
    accounts = {u.organisation_id: u for u in sess.scalars(select(User).where(
        User.role == "cell_secretary", User.active.is_(True), User.organisation_id.in_(cell_ids)).order_by(User.id))}
    for cid in cell_ids:
        org, c, u = sess.get(Organisation, cid), recorded.get(cid), accounts.get(cid)
        name = (c.name if c and c.name else None) or (org.secretary_name if org else None) or \
            (u.full_name if u else "") or ""
        out[cid] = (name, (c.phone or "") if c else "")
    return out


def _count(groups: dict, key, make, r: SheetRow) -> None:
    g = groups.get(key)
    if g is None:
        g = groups[key] = make()
    g.total += 1
    g.sent += r.sent_on is not None or r.returned
    g.returned += r.returned
    g.applied += r.state == SheetState.APPLIED
    g.overdue += r.overdue
    g.rows.append(r)


def by_workplace_cell(rows: list[SheetRow]) -> list[CellSummary]:
    """Per workplace cell (the member's own workplace organisation: a cell, or the committee for members
    directly under it): sent, returned, applied, overdue and the return rate; cells by name."""
    groups: dict[Optional[int], CellSummary] = {}
    for r in rows:
        org = r.member.workplace_org
        _count(groups, org.id if org else None, lambda: CellSummary(cell=org, ward=None), r)
    return sorted(groups.values(), key=lambda g: g.cell.search_name if g.cell else "~")


def by_cell(sess: Session, rows: list[SheetRow]) -> list[CellSummary]:
    """Per ward and residence cell: sent, returned, applied, overdue, with the secretary's name and phone."""
    groups: dict[Optional[int], CellSummary] = {}
    for r in rows:
        _count(groups, r.cell.id if r.cell else None, lambda: CellSummary(cell=r.cell, ward=r.ward), r)
    found = contacts(sess, [k for k in groups if k is not None])
    for k, g in groups.items():
        if k is not None:
            g.contact_name, g.contact_phone = found.get(k, ("", ""))
    return list(groups.values())


def filter_rows(rows: list[SheetRow], *, cell_id: Optional[int] = None, ward_id: Optional[int] = None,
                state: Optional[str] = None, not_returned: bool = True) -> list[SheetRow]:
    out = []
    if state in ("all", SheetState.RETURNED, SheetState.APPLIED):
        not_returned = False
    for r in rows:
        if not_returned and r.returned:
            continue
        if cell_id and (r.cell is None or r.cell.id != cell_id):
            continue
        if ward_id and (r.ward is None or r.ward.id != ward_id):
            continue
        if state == "overdue" and not r.overdue:
            continue
        if state and state not in ("overdue", "all") and r.state != state:
            continue
        out.append(r)
    return out


def exempt_members(sess: Session, campaign: Campaign) -> list[Member]:
    """Members exempt from residence meetings (HD 33) left out of the campaign."""
    return [] if campaign.include_exempt else members_of(sess, campaign.workplace_org_id, False)[1]


def _campaign_write(sess: Session, user: User, campaign: Campaign) -> None:
    require_write(sess, user, campaign.workplace_org, "campaign",
                  message="Bạn không có quyền thay đổi đợt nhận xét này.")


def mark_sent(sess: Session, user: User, campaign: Campaign, sent_on: Any, *, cell_id: Optional[int] = None,
              source: str = "ui") -> int:
    """Record that the generated sheets (of one cell, or all) were printed and sent. Returns how many."""
    _campaign_write(sess, user, campaign)
    day = _parse_date(sent_on or dt.date.today(), "Ngày gửi", "sent_on")
    rows = [r for r in sheet_rows(sess, campaign) if r.state == SheetState.GENERATED
            and (cell_id is None or (r.cell is not None and r.cell.id == cell_id))]
    if not rows:
        raise ServiceError("nothing_to_send", "Không có phiếu nào đã tạo mà chưa gửi"
                           + (" ở chi bộ này." if cell_id else "."), {"cell_id": cell_id}, status=409)
    for r in rows:
        r.sheet.sent_on = day
    sess.flush()
    audit.record(sess, "campaign", campaign, "campaign_sent", None,
                 {"sent_on": day.isoformat(), "cell_id": cell_id, "members": [r.member.id for r in rows]},
                 user=user, source=source)
    sess.commit()
    return len(rows)


def record_by_hand(sess: Session, user: User, campaign: Campaign, member_id: int, answers: dict[str, Any],
                   other_remarks: Optional[str] = None, received_on: Any = None, *, via: str = "hand",
                   source: str = "ui") -> CampaignSheet:
    """A sheet returned by hand (or digitally): with its answers, it is applied to the evaluation
    (items checked against the sheet's own form); without, the paper is recorded as received."""
    from ..scans.decide import check_answers, items_of
    sheet = sess.scalar(select(CampaignSheet).where(CampaignSheet.campaign_id == campaign.id,
                                                    CampaignSheet.member_id == member_id))
    if sheet is None:
        raise NotFound("Đảng viên này không có phiếu trong đợt nhận xét.")
    member = sheet.member
    require_write(sess, user, member, "return", message="Bạn không có quyền cập nhật phiếu của đảng viên này.")
    if via not in RETURN_METHODS or via == "scan":
        raise ServiceError("invalid_method", "Cách nhận lại phiếu không hợp lệ.", {"field": "via"})
    ev = _live_sheets(sess, [member.id], campaign.year).get(member.id)
    if ev is None:
        raise ServiceError("sheet_not_generated", f"Phiếu của đảng viên {member.full_name} chưa được tạo.", status=409)
    day = _parse_date(received_on or dt.date.today(), "Ngày nhận lại phiếu", "received_on")
    answers = {k: v for k, v in (answers or {}).items() if v}
    if ev.status == "returned" and ev.answers and answers:
        raise ServiceError("already_returned", f"Phiếu số {ev.sheet_serial} của đảng viên {member.full_name} đã được "
                                               "cập nhật trước đó; muốn sửa hãy hoàn tác bản đã cập nhật.", status=409)
    remarks = checked_text(other_remarks or "", 2000, "Nhận xét khác", field="other_remarks") or ""
    if answers:
        clean = check_answers(sess, ev, answers)
        valid_items = {i.key for i in items_of(sess, ev)}
        unknown = sorted(set(answers) - valid_items)
        if unknown:
            raise ServiceError("unknown_item", f"Phiếu không có mục «{unknown[0]}».", {"item": unknown[0]})
        before = ev.snapshot()
        ev.answers, ev.status, ev.returned_on = clean, "returned", day
        if remarks:
            ev.other_remarks = remarks
        sess.flush()
        audit.record(sess, "evaluation", ev, "evaluation", before, ev.snapshot(), user=user, source=source,
                     source_ref=f"{RETURN_METHODS[via]}, đợt nhận xét năm {campaign.year}")
    sheet.received_on, sheet.received_via = day, via
    sess.commit()
    return sheet


def save_contact(sess: Session, user: User, cell: Organisation, name: Any, phone: Any, *, source: str = "ui") -> CellContact:
    require_write(sess, user, cell, "contact", message="Bạn không có quyền sửa liên hệ của chi bộ này.")
    name = checked_text(name or "", 200, "Họ và tên bí thư", field="name") or None
    phone = checked_text(phone or "", 40, "Số điện thoại", field="phone") or None
    if phone and not all(ch.isdigit() or ch in " +.-()" for ch in phone):
        raise ServiceError("invalid_phone", f"Số điện thoại «{phone}» chỉ được gồm chữ số, dấu cách và + . - ( ).",
                           {"field": "phone"})
    row = sess.get(CellContact, cell.id) or CellContact(residence_cell_id=cell.id)
    before = {"name": row.name, "phone": row.phone}
    row.name, row.phone, row.updated_by, row.updated_at = name, phone, user.id, utcnow()
    sess.add(row)
    sess.flush()
    audit.record(sess, "organisation", cell, "cell_contact", before, {"name": name, "phone": phone}, user=user,
                 source=source)
    sess.commit()
    return row


def issue_reminder(sess: Session, user: User, campaign: Campaign, cell_id: int, *,
                   issued_on: Optional[dt.date] = None, source: str = "ui") -> tuple[CampaignReminder, bytes]:
    """A numbered reminder letter to a late residence cell listing its missing sheets (.docx)."""
    from .reminders import render_reminder
    from ..documents.numbering import next_number
    _campaign_write(sess, user, campaign)
    cell = sess.get(Organisation, cell_id)
    if cell is None or cell.kind != "residence_cell":
        raise NotFound("Không tìm thấy chi bộ nơi cư trú.")
    missing = [r for r in sheet_rows(sess, campaign) if r.cell is not None and r.cell.id == cell.id
               and not r.returned and r.ev is not None]
    if not missing:
        raise ServiceError("nothing_missing", f"{cell.name} đã gửi lại đủ phiếu: không cần nhắc.", status=409)
    issued_on = issued_on or dt.date.today()
    number = next_number(sess, campaign.workplace_org_id, "reminder_letter", issued_on.year)
    reminder = CampaignReminder(campaign_id=campaign.id, residence_cell_id=cell.id, number=number,
                                issued_on=issued_on, missing=[r.ev.sheet_serial for r in missing],
                                created_by=user.id)
    sess.add(reminder)
    sess.flush()
    data = render_reminder(sess, campaign, _ward_of(cell), cell, missing, reminder)
    audit.record(sess, "campaign", campaign, "reminder", None,
                 {"cell_id": cell.id, "number": number, "missing": reminder.missing}, user=user, source=source)
    sess.commit()
    return reminder, data


def reminders_of(sess: Session, campaign: Campaign) -> dict[int, list[CampaignReminder]]:
    out: dict[int, list[CampaignReminder]] = {}
    for r in sess.scalars(select(CampaignReminder).where(CampaignReminder.campaign_id == campaign.id)
                          .order_by(CampaignReminder.id)):
        out.setdefault(r.residence_cell_id, []).append(r)
    return out


def to_dict(sess: Session, campaign: Campaign, rows: Optional[list[SheetRow]] = None) -> dict:
    rows = sheet_rows(sess, campaign) if rows is None else rows
    return {"id": campaign.id, "title": title(campaign), "workplace_org_id": campaign.workplace_org_id,
            "year": campaign.year, "deadline": campaign.deadline.isoformat(), "job_id": campaign.job_id,
            "include_exempt": campaign.include_exempt, "totals": totals(rows),
            "cells": [{"cell_id": g.cell.id if g.cell else None, "cell": g.cell.name if g.cell else "",
                       "ward": g.ward.name if g.ward else "", "secretary": g.contact_name, "phone": g.contact_phone,
                       "total": g.total, "sent": g.sent, "returned": g.returned, "applied": g.applied,
                       "overdue": g.overdue} for g in by_cell(sess, rows)],
            "workplace_cells": [{"org_id": g.cell.id if g.cell else None, "name": g.cell.name if g.cell else "",
                                 "total": g.total, "sent": g.sent, "returned": g.returned, "applied": g.applied,
                                 "overdue": g.overdue, "percent_returned": g.percent_returned}
                                for g in by_workplace_cell(rows)]}


def sheet_to_dict(row: SheetRow) -> dict:
    """One campaign sheet as the API gives it."""
    day = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"member_id": row.member.id, "full_name": row.member.full_name,
            "sheet_serial": row.ev.sheet_serial if row.ev is not None else None,
            "residence_cell_id": row.cell.id if row.cell else None, "state": str(row.state),
            "state_title": row.state.title, "method": row.method, "sent_on": day(row.sent_on),
            "returned_on": day(row.returned_on), "applied_on": day(row.applied_on), "overdue": row.overdue,
            "remark_pending": row.remark_pending}


def sheet_row(sess: Session, campaign: Campaign, member_id: int) -> SheetRow:
    row = next((r for r in sheet_rows(sess, campaign) if r.member.id == member_id), None)
    if row is None:
        raise NotFound("Đảng viên này không có phiếu trong đợt nhận xét.")
    return row
