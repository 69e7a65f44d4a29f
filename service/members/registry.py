"""Member registry operations shared by the web pages and the API (one way to do each thing)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ServiceError
from ..models import GENDERS, MEMBER_STATUSES, Member, Organisation, User
from ..permissions import require_write, scope_members, subtree_ids, visible_org_ids
from ..text import CONTROL_CHARS, clean, join_clauses, search_key, text_problem, vi_sorted_names
from .fields import BY_NAME, MEMBER_LABELS, PARSERS, ValueProblem, canonical_card, card_spellings, problem_message

# Editable member fields, with the Vietnamese label a user reads (the one vocabulary: members.fields).
FIELD_LABELS = MEMBER_LABELS
_ID_TEXT = re.compile(r"^[0-9]{1,9}$")
ORG_FIELDS = {"workplace_org_id": ("workplace_committee", "workplace_cell"), "residence_cell_id": ("residence_cell",)}


@dataclass
class MemberFilters:
    q: str = ""
    workplace_org_id: Optional[int] = None
    residence_cell_id: Optional[int] = None
    ward_id: Optional[int] = None
    status: str = ""
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args, per_page: int = 50) -> "MemberFilters":
        def as_int(name: str) -> Optional[int]:
            v = str(args.get(name, ""))
            return int(v) if _ID_TEXT.match(v) else None  # at most 9 digits: fits every id column
        page = min(as_int("page") or 1, 1_000_000)
        size = min(as_int("per_page") or per_page, 500)
        return cls(q=CONTROL_CHARS.sub("", clean(args.get("q", "")))[:200], workplace_org_id=as_int("workplace_org_id"),
                   residence_cell_id=as_int("residence_cell_id"), ward_id=as_int("ward_id"),
                   status=args.get("status", "") if args.get("status", "") in MEMBER_STATUSES else "",
                   page=max(page, 1), per_page=size)


def member_query(sess: Session, user: User, f: MemberFilters):
    stmt = scope_members(sess, user, select(Member))
    if f.q:
        key = f"%{search_key(f.q)}%"
        stmt = stmt.where(or_(Member.search_name.like(key), Member.card_number.like(f"%{f.q}%"),
                              Member.phone.like(f"%{f.q}%")))
    if f.workplace_org_id:
        stmt = stmt.where(Member.workplace_org_id.in_(subtree_ids(sess, f.workplace_org_id)))
    if f.residence_cell_id:
        stmt = stmt.where(Member.residence_cell_id == f.residence_cell_id)
    if f.ward_id:
        stmt = stmt.where(Member.residence_cell_id.in_(subtree_ids(sess, f.ward_id)))
    if f.status:
        stmt = stmt.where(Member.status == f.status)
    return stmt


def list_members(sess: Session, user: User, f: MemberFilters) -> tuple[list[Member], int]:
    stmt = member_query(sess, user, f)
    total = sess.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(sess.scalars(stmt.order_by(Member.sort_name, Member.id)
                              .offset((f.page - 1) * f.per_page).limit(f.per_page)))
    return items, total or 0


def all_members(sess: Session, user: User, f: MemberFilters) -> list[Member]:
    return list(sess.scalars(member_query(sess, user, f).order_by(Member.sort_name, Member.id)))


def organisations_for(sess: Session, user: User, kinds: tuple[str, ...]) -> list[Organisation]:
    stmt = select(Organisation).where(Organisation.kind.in_(kinds)).order_by(Organisation.search_name)
    ids = visible_org_ids(sess, user)
    if ids is not None and user.role == "workplace_staff":
        stmt = stmt.where(or_(Organisation.id.in_(ids), Organisation.kind.in_(("ward_committee", "residence_cell"))))
    elif ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    return vi_sorted_names(sess.scalars(stmt))


def parse_member_data(sess: Session, data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Validate submitted member fields. Raises ServiceError 'invalid_member' listing every bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, label in FIELD_LABELS.items():
        if field not in data:
            continue
        raw = data[field]
        if raw is not None and not isinstance(raw, (str, int)) or isinstance(raw, bool):
            errors[field] = f"{label} không hợp lệ (cần chữ hoặc số)."
            continue
        text = clean(raw) if not isinstance(raw, int) else raw
        problem = text_problem(text, _max_length(field), label) if isinstance(text, str) else None
        if problem:
            errors[field] = problem
            continue
        kind = BY_NAME[field].kind
        if kind == "org":
            if text in ("", None):
                values[field] = None
                continue
            org = sess.get(Organisation, int(text)) if _ID_TEXT.match(str(text)) else None
            if org is None or org.kind not in ORG_FIELDS[field]:
                errors[field] = f"{label} không hợp lệ."
            else:
                values[field] = org.id
        elif kind == "card":
            values[field] = canonical_card(text)  # 22668517 and 22.668517 are one card
        elif kind == "gender" and text in GENDERS:
            values[field] = text
        elif kind == "status" and text in MEMBER_STATUSES:
            values[field] = text
        elif kind == "text":
            values[field] = text or None  # its length is checked above against its column
        else:  # the parser the import uses: dates in every style, phones as 0xxxxxxxxx, "Nam"/"Nữ"
            try:
                values[field] = PARSERS[field](str(text) if isinstance(text, int) and kind != "phone" else text)
            except ValueProblem as exc:
                errors[field] = clean(problem_message(exc.code, field, text, where=f"ô «{label}»"))
    if "status" in values and values["status"] is None and "status" not in errors:
        errors["status"] = "Tình trạng không hợp lệ."  # a member always has a status
    if not partial or "full_name" in values:
        if not values.get("full_name"):
            errors["full_name"] = "Họ và tên không được để trống."
    if not partial and not values.get("card_number"):
        errors["card_number"] = "Số thẻ đảng viên không được để trống."
    if errors:
        raise ServiceError("invalid_member", "Dữ liệu đảng viên không hợp lệ: " + join_clauses(errors.values()), errors)
    return values


def _max_length(field: str) -> Optional[int]:
    """The column's length for text fields (PostgreSQL refuses longer text); notes are capped at 4000."""
    column = Member.__table__.columns.get(field)
    return getattr(column.type, "length", None) or (4000 if field == "notes" else None)


def _check_card_unique(sess: Session, card: Optional[str], member_id: Optional[int]) -> None:
    if not card:
        return
    other = sess.scalar(select(Member).where(Member.card_number.in_(card_spellings(card))))
    if other is not None and other.id != member_id:
        raise ServiceError("duplicate_card_number", f"Số thẻ đảng viên {card} đã có trong danh sách.",
                           {"field": "card_number"}, status=409)


def _check_scope(sess: Session, user: User, values: dict[str, Any]) -> None:
    """The member as it will be (``values``) must be in the user's write scope."""
    require_write(sess, user, Member(**{k: v for k, v in values.items() if k in Member.AUDITED}),
                  message="Bạn chỉ được thêm hoặc sửa đảng viên có nơi công tác thuộc tổ chức đảng của mình.")


def create_member(sess: Session, user: User, data: dict[str, Any], source: str) -> Member:
    values = parse_member_data(sess, data, partial=False)
    values.setdefault("status", "active")
    _check_scope(sess, user, values)
    _check_card_unique(sess, values.get("card_number"), None)
    member = Member()
    _assign(member, values)
    sess.add(member)
    audit.record(sess, "member", member, "create", None, member.snapshot(), user=user, source=source)
    sess.commit()
    return member


def update_member(sess: Session, user: User, member: Member, data: dict[str, Any], source: str) -> Member:
    require_write(sess, user, member, message="Bạn không có quyền sửa hồ sơ đảng viên này.")
    values = parse_member_data(sess, data, partial=True)
    _check_scope(sess, user, {**member.snapshot(), **values})
    if "card_number" in values:
        _check_card_unique(sess, values["card_number"], member.id)
    before = member.snapshot()
    _assign(member, values)
    audit.record(sess, "member", member, "update", before, member.snapshot(), user=user, source=source)
    sess.commit()
    return member


def _assign(member: Member, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if field == "full_name":
            member.set_name(value)
        else:
            setattr(member, field, value)


def member_to_dict(m: Member) -> dict[str, Any]:
    out = {"id": m.id, **m.snapshot()}
    out["status_label"] = m.status_label
    out["workplace_org_name"] = m.workplace_org.name if m.workplace_org else None
    out["residence_cell_name"] = m.residence_cell.name if m.residence_cell else None
    out["residence_address"] = m.residence_address
    return out


def org_snapshot(o: Organisation) -> dict[str, Any]:
    """What the audit log keeps of an organisation."""
    return {"name": o.name, "kind": o.kind, "parent_id": o.parent_id, "place": o.place,
            "secretary_name": o.secretary_name, "upper_body_name": o.upper_body_name,
            "document_code": o.document_code}


def org_to_dict(o: Organisation) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "kind": o.kind, "kind_label": o.kind_label, "parent_id": o.parent_id,
            "place": o.place, "secretary_name": o.secretary_name, "upper_body_name": o.upper_body_name,
            "document_code": o.document_code}
