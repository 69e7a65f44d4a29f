"""Evaluation sheets: one live sheet (one serial) per member and year; voiding and replacing is recorded."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ServiceError
from ..text import checked_text
from ..models import Evaluation, Member, User, utcnow
from .contexts import check_documentable, issuing_committee, residence_of
from .templates_store import active_template, form_definition

KIND = "evaluation_sheet"


def live_sheet(sess: Session, member_id: int, year: int) -> Optional[Evaluation]:
    return sess.scalar(select(Evaluation).where(Evaluation.member_id == member_id, Evaluation.year == year,
                                                Evaluation.status != "voided"))


def _serial(member: Member, year: int, n: int) -> str:
    return f"{year}-{member.id:06d}-{n}"


def sheet_variant(member: Member) -> str:
    """The variant of the evaluation sheet a member is given: exempt from meetings or standard."""
    return "exempt" if member.status == "exempt_meetings" else "standard"


def sheet_snapshot(ev: Evaluation) -> dict:
    return {"member_id": ev.member_id, "year": ev.year, "sheet_serial": ev.sheet_serial, "variant": ev.variant,
            "template_version": ev.template_version, "replaces_id": ev.replaces_id, **ev.snapshot()}


def ensure_sheet(sess: Session, member: Member, year: int, *, commit: bool = True, user: Optional[User] = None,
                 job_id: Optional[int] = None, source: Optional[str] = None) -> Evaluation:
    """The member's sheet for ``year``: the live one, or a new one with its serial."""
    check_documentable(member, "phiếu nhận xét")
    existing = live_sheet(sess, member.id, year)
    if existing is not None:
        return existing
    residence_of(member)
    issuing_committee(member)
    template = active_template(sess, KIND)
    n = (sess.scalar(select(func.count()).select_from(Evaluation)
                     .where(Evaluation.member_id == member.id, Evaluation.year == year)) or 0) + 1
    ev = Evaluation(member_id=member.id, year=year, sheet_serial=_serial(member, year, n),
                    variant=sheet_variant(member), template_version=template.version,
                    definition_hash=template.definition_hash or form_definition(template).hash, status="issued")
    sess.add(ev)
    sess.flush()
    audit.record(sess, "evaluation", ev, "issue", None, sheet_snapshot(ev), user=user, job_id=job_id, source=source)
    if commit:
        sess.commit()
    return ev


def void_and_replace(sess: Session, user: User, ev: Evaluation, reason: str) -> Evaluation:
    """Void a sheet (lost, spoiled) and issue its replacement with a new serial; both are kept."""
    if ev.status == "voided":
        raise ServiceError("already_voided", f"Phiếu số {ev.sheet_serial} đã bị hủy trước đó.")
    if ev.status == "returned":
        raise ServiceError("sheet_returned", f"Phiếu số {ev.sheet_serial} đã được nhận lại, không thể hủy.")
    reason = checked_text(reason, 500, "Lý do hủy phiếu", field="reason")
    if not reason:
        raise ServiceError("reason_required", "Cần ghi lý do hủy phiếu.")
    before = sheet_snapshot(ev)
    ev.status, ev.voided_reason, ev.voided_by, ev.voided_at = "voided", reason, user.id, utcnow()
    sess.flush()
    audit.record(sess, "evaluation", ev, "void", before, {**sheet_snapshot(ev), "voided_reason": ev.voided_reason},
                 user=user)
    new = ensure_sheet(sess, ev.member, ev.year, commit=False, user=user)
    new.replaces_id = ev.id
    audit.record(sess, "evaluation", new, "replace", None, sheet_snapshot(new), user=user)
    sess.commit()
    return new
