"""What needs each role now, for the home page and the e-mail digest.

Committee staff (and administrators): the progress of this year's campaigns, the residence cells
late with their sheets, and introduction letters whose receipt slip has not come back after
``RECEIPT_SLIP_DAYS`` days (setting ``NOICUTRU_RECEIPT_SLIP_DAYS``, 30 by default). Residence-cell
secretaries: the sheets of their cell waiting to be filled in, and the meetings of this half-year.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Optional

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Evaluation, Introduction, Meeting, Member, User
from ..permissions import scope_members, subtree_ids
from . import logic

DEFAULT_RECEIPT_SLIP_DAYS = 30
LIMIT = 50  # rows of each list on the page (the counts are complete)


def receipt_slip_days() -> int:
    value = current_app.config.get("RECEIPT_SLIP_DAYS") or os.environ.get("NOICUTRU_RECEIPT_SLIP_DAYS")
    try:
        return max(1, int(value)) if value else DEFAULT_RECEIPT_SLIP_DAYS
    except ValueError:
        return DEFAULT_RECEIPT_SLIP_DAYS


@dataclass
class Needs:
    role: str
    campaigns: list = field(default_factory=list)  # (campaign, title, totals)
    overdue_cells: list = field(default_factory=list)  # (campaign, CellSummary)
    letters_waiting: list = field(default_factory=list)  # Introduction
    letters_waiting_count: int = 0
    slip_days: int = DEFAULT_RECEIPT_SLIP_DAYS
    sheets_to_fill: list = field(default_factory=list)  # Evaluation
    sheets_to_fill_count: int = 0
    meetings: list = field(default_factory=list)  # Meeting
    half_year: tuple = ()

    @property
    def empty(self) -> bool:
        return not (self.campaigns or self.overdue_cells or self.letters_waiting or self.sheets_to_fill
                    or self.role == "cell_secretary")


def half_year_of(day: dt.date) -> tuple[dt.date, dt.date]:
    return (dt.date(day.year, 1, 1), dt.date(day.year, 6, 30)) if day.month <= 6 else \
        (dt.date(day.year, 7, 1), dt.date(day.year, 12, 31))


def needs(sess: Session, user: User, today: Optional[dt.date] = None) -> Needs:
    today = today or dt.date.today()
    out = Needs(role=user.role, slip_days=receipt_slip_days())
    if user.role in ("admin", "workplace_staff"):
        latest: dict[int, object] = {}
        for c in logic.visible_campaigns(sess, user):  # newest year first: one campaign per committee
            latest.setdefault(c.workplace_org_id, c)
        for c in list(latest.values())[:10]:
            rows = logic.sheet_rows(sess, c, today)
            out.campaigns.append((c, logic.title(c), logic.totals(rows)))
            out.overdue_cells += [(c, g) for g in logic.by_cell(sess, rows) if g.overdue]
        members = scope_members(sess, user, select(Member.id))
        cutoff = today - dt.timedelta(days=out.slip_days)
        stmt = (select(Introduction).where(Introduction.received_on.is_(None), Introduction.issued_on <= cutoff,
                                           Introduction.member_id.in_(members))
                .order_by(Introduction.issued_on, Introduction.id))
        waiting = list(sess.scalars(stmt))
        out.letters_waiting, out.letters_waiting_count = waiting[:LIMIT], len(waiting)
    if user.role == "cell_secretary" and user.organisation_id is not None:
        members = scope_members(sess, user, select(Member.id))
        stmt = (select(Evaluation).where(Evaluation.status == "issued", Evaluation.member_id.in_(members),
                                         Evaluation.year >= today.year - 1)
                .order_by(Evaluation.year.desc(), Evaluation.id))
        sheets = list(sess.scalars(stmt))
        out.sheets_to_fill, out.sheets_to_fill_count = sheets[:LIMIT], len(sheets)
        start, end = half_year_of(today)
        out.half_year = (start, end)
        out.meetings = list(sess.scalars(select(Meeting).where(
            Meeting.residence_cell_id.in_(subtree_ids(sess, user.organisation_id)),
            Meeting.held_on >= start, Meeting.held_on <= end).order_by(Meeting.held_on)))
    return out


def digest_text(user: User, n: Needs, base_url: str = "") -> str:
    """The e-mail digest: the same lists as the home page, as plain Vietnamese text."""
    lines = [f"Kính gửi đồng chí {user.full_name or user.username},", "",
             "Nối cư trú (QĐ 213) xin báo các việc đang chờ đồng chí:", ""]
    for _c, title, t in n.campaigns:
        lines.append(f"- {title}: đã nhận lại {t['returned']}/{t['total']} phiếu, đã cập nhật {t['applied']}, "
                     f"quá hạn {t['overdue']}.")
    for c, g in n.overdue_cells:
        who = ", ".join(x for x in (g.contact_name, g.contact_phone) if x)
        lines.append(f"- Chi bộ chậm gửi phiếu năm {c.year}: {g.cell.name if g.cell else 'chưa có chi bộ'} "
                     f"({g.ward.name if g.ward else ''}) còn {g.overdue} phiếu quá hạn" + (f"; liên hệ {who}" if who else "")
                     + ".")
    if n.letters_waiting_count:
        lines.append(f"- {n.letters_waiting_count} giấy giới thiệu chưa nhận lại phiếu báo tiếp nhận sau "
                     f"{n.slip_days} ngày:")
        lines += [f"    · Số {i.number} ngày {i.issued_on:%d/%m/%Y}: {i.member.full_name}" for i in n.letters_waiting]
    if n.role == "cell_secretary":
        lines.append(f"- {n.sheets_to_fill_count} phiếu nhận xét của chi bộ đang chờ điền và gửi lại.")
        lines += [f"    · Phiếu số {e.sheet_serial}: {e.member.full_name} (năm {e.year})" for e in n.sheets_to_fill]
        if n.half_year:
            lines.append(f"- Sinh hoạt chi bộ từ {n.half_year[0]:%d/%m/%Y} đến {n.half_year[1]:%d/%m/%Y}: "
                         f"{len(n.meetings)} buổi đã ghi.")
    if len(lines) == 4:
        lines.append("- Hiện không có việc nào đang chờ.")
    lines.append("")
    if base_url:
        lines.append(f"Xem chi tiết: {base_url.rstrip('/')}/")
    lines.append("Thư gửi tự động, xin đừng trả lời.")
    return "\n".join(lines)
