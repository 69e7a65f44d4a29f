"""Introduction letters (mẫu 1-213): issue with the next number, reprint with the same one."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..models import Introduction, Member, User
from .contexts import check_documentable, issuing_committee, missing_signer, number_suffix, residence_of
from .numbering import next_number
from .templates_store import active_template

KIND = "introduction_letter"


def current_introduction(sess: Session, member: Member, year: int) -> Optional[Introduction]:
    committee = issuing_committee(member)
    return sess.scalar(select(Introduction).where(Introduction.member_id == member.id,
                                                  Introduction.issuing_org_id == committee.id,
                                                  Introduction.year == year)
                       .order_by(Introduction.id.desc()))


def reference(intro: Introduction) -> str:
    """The letter's number as printed: "01-GGT/ĐU" (two digits at least, the issuing body's suffix)."""
    return f"{intro.number:02d}-GGT/{number_suffix(intro.issuing_org)}"


def issue_warnings(member: Member) -> list[dict]:
    """What the person issuing a letter should know first (nothing blocks the issue)."""
    message = missing_signer(member)
    return [{"code": "no_signer", "message": message}] if message else []


def intro_snapshot(intro: Introduction) -> dict:
    return {"member_id": intro.member_id, "issuing_org_id": intro.issuing_org_id, "year": intro.year,
            "number": intro.number, "issued_on": intro.issued_on, "residence_cell_id": intro.residence_cell_id,
            "received_on": intro.received_on, "template_version": intro.template_version}


def issue_introduction(sess: Session, user: Optional[User], member: Member, issued_on: Optional[dt.date] = None,
                       *, reuse: bool = True, commit: bool = True, job_id: Optional[int] = None) -> Introduction:
    """The member's introduction letter for the year: an existing one (a reprint keeps its number) or a new number."""
    check_documentable(member, "giấy giới thiệu")
    issued_on = issued_on or dt.date.today()
    committee = issuing_committee(member)
    ward, cell = residence_of(member)
    if reuse:
        existing = current_introduction(sess, member, issued_on.year)
        if existing is not None:
            return existing
    template = active_template(sess, KIND)
    number = next_number(sess, committee.id, KIND, issued_on.year)
    intro = Introduction(member_id=member.id, issuing_org_id=committee.id, year=issued_on.year, number=number,
                         issued_on=issued_on, ward_org_id=ward.id, residence_cell_id=cell.id,
                         template_version=template.version, created_by=user.id if user else None)
    sess.add(intro)
    sess.flush()
    audit.record(sess, "introduction", intro, "issue", None, intro_snapshot(intro), user=user, job_id=job_id)
    if commit:
        sess.commit()
    return intro


def mark_received(sess: Session, user: Optional[User], intro: Introduction, received_on: dt.date, *,
                  source: Optional[str] = None, source_ref: Optional[str] = None, commit: bool = True,
                  job_id: Optional[int] = None) -> Introduction:
    """The residence cell received the letter on ``received_on`` (by hand, or from a scanned receipt slip)."""
    before = {"received_on": intro.received_on}
    intro.received_on = received_on
    audit.record(sess, "introduction", intro, "received", before, {"received_on": received_on}, user=user,
                 job_id=job_id, source=source, source_ref=source_ref)
    if commit:
        sess.commit()
    return intro
