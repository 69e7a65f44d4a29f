"""Who sees which members and organisations. Used by pages and API alike."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from .errors import Forbidden, NotFound
from .models import Meeting, Member, Organisation, ScanBatch, ScanPage, User


def subtree_ids(sess: Session, root_id: int) -> list[int]:
    """The organisation and all its descendants (recursive CTE, works on SQLite and PostgreSQL)."""
    tree = select(Organisation.id).where(Organisation.id == root_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return list(sess.scalars(select(tree.c.id)))


def scope_members(sess: Session, user: User, stmt: Select) -> Select:
    """Restrict a SELECT over Member to what ``user`` may see."""
    if user.role == "admin":
        return stmt
    if user.organisation_id is None:
        return stmt.where(false())
    ids = subtree_ids(sess, user.organisation_id)
    if user.role == "workplace_staff":
        return stmt.where(Member.workplace_org_id.in_(ids))
    if user.role == "cell_secretary":
        return stmt.where(Member.residence_cell_id.in_(ids))
    return stmt.where(false())


def get_member(sess: Session, user: User, member_id: int) -> Member:
    """The member if ``user`` may see it. Outside the user's scope: 403, revealing nothing."""
    member = sess.get(Member, member_id)
    if member is None:
        raise NotFound("Không tìm thấy đảng viên.")
    if not can_see_member(sess, user, member):
        raise Forbidden()
    return member


def can_see_member(sess: Session, user: User, member: Member) -> bool:
    if user.role == "admin":
        return True
    if user.organisation_id is None:
        return False
    ids = set(subtree_ids(sess, user.organisation_id))
    if user.role == "workplace_staff":
        return member.workplace_org_id in ids
    if user.role == "cell_secretary":
        return member.residence_cell_id in ids
    return False


def can_edit_member(sess: Session, user: User, member: Member) -> bool:
    """Administrators and the member's workplace committee staff change records; cells only read."""
    return can_write(sess, user, member)


# --- the one rule for writes ------------------------------------------------------------
#
# Every write (page, API, job, automatic scan apply) asks ``require_write(sess, user, target,
# action)`` about its target before changing anything; there is no second way.
#
# Members ("edit": create, update, delete, issue and void documents, mark a letter received by
# hand): administrators, and the staff of the member's workplace committee (the member's workplace
# organisation is in their subtree; for a new or moved member, the workplace it will have).
#
# Members ("return": apply, undo or reject a scanned returned page about the member): the same,
# and the secretary of the member's residence cell. A residence-cell secretary may upload scans of
# the sheets and receipt slips their cell returns: pages about members of their cell are applied
# as the cell's return (automatically when confidently read, or in review by them); pages about
# anyone else are never applied and say so without naming the member. The scan apply also checks
# the uploader: a page is only applied when the member is in the write scope of whoever uploaded it.
#
# Members ("absence"): record an absence request (đơn xin vắng) of the member: the staff of the
# member's workplace committee and the secretary of the member's residence cell, who receives it.
# Members ("certify_absence"): certify it: the staff of the member's workplace committee only.
#
# Organisations ("edit"): administrators. ("campaign": run a workplace committee's year-end campaign):
# administrators and that committee's staff. ("contact": a residence cell's secretary name and phone):
# administrators, that cell's secretary, and staff of a committee with members living in the cell.
# ("meetings": record a meeting and its attendance):
# administrators and the secretary of that residence cell. ("documents": send documents in the name of
# a workplace committee, e.g. the per-cell packets): administrators and that committee's staff. Users,
# templates: administrators.
# API tokens ("own_tokens" on a user): the user themselves, and administrators.

MEMBER_ACTIONS = ("edit", "return", "absence", "certify_absence")


def _in_subtree(sess: Session, user: User, org_id: Optional[int]) -> bool:
    return user.organisation_id is not None and org_id is not None and \
        org_id in set(subtree_ids(sess, user.organisation_id))


def can_write(sess: Session, user: Optional[User], target, action: str = "edit") -> bool:
    """May ``user`` make the change ``action`` on ``target``? (See the rule above.)"""
    if user is None or not user.active:
        return False
    if isinstance(target, ScanPage):  # deciding on a page: about its member, or (no member yet) its uploader
        if target.member_id is not None:
            member = target.member or sess.get(Member, target.member_id)
            return member is not None and can_write(sess, user, member, "return")
        batch = sess.get(ScanBatch, target.batch_id)
        return user.role == "admin" or (batch is not None and batch.created_by == user.id
                                        and user.role in ("workplace_staff", "cell_secretary"))
    if user.role == "admin":
        return True
    if isinstance(target, Member):
        if action not in MEMBER_ACTIONS:
            return False
        if user.role == "workplace_staff":
            return _in_subtree(sess, user, target.workplace_org_id)
        if user.role == "cell_secretary" and action in ("return", "absence"):
            return _in_subtree(sess, user, target.residence_cell_id)
        return False
    if isinstance(target, Organisation) and action == "campaign":  # a committee's year-end campaign
        return user.role == "workplace_staff" and target.kind == "workplace_committee" and \
            _in_subtree(sess, user, target.id)
    if isinstance(target, Organisation) and action == "contact":  # a residence cell's contact for returns
        return target.kind == "residence_cell" and (
            (user.role == "cell_secretary" and _in_subtree(sess, user, target.id))
            or (user.role == "workplace_staff" and user.organisation_id is not None and sess.scalar(
                select(Member.id).where(Member.residence_cell_id == target.id,
                                        Member.workplace_org_id.in_(subtree_ids(sess, user.organisation_id)))
                .limit(1)) is not None))
    if isinstance(target, Meeting):
        target, action = target.residence_cell or sess.get(Organisation, target.residence_cell_id), "meetings"
    if isinstance(target, Organisation) and action == "documents":
        return user.role == "workplace_staff" and target.kind == "workplace_committee" and \
            _in_subtree(sess, user, target.id)
    if isinstance(target, Organisation) and action == "meetings":
        return user.role == "cell_secretary" and target.kind == "residence_cell" and _in_subtree(sess, user, target.id)
    if isinstance(target, User) and action == "own_tokens":
        return target.id == user.id
    return False  # organisations, users, templates: administrators only


def require_write(sess: Session, user: Optional[User], target, action: str = "edit",
                  message: str = "Bạn không có quyền thay đổi dữ liệu này.") -> None:
    """Refuse (403, naming nothing of the target) unless ``can_write``."""
    if not can_write(sess, user, target, action):
        raise Forbidden(message)


def visible_org_ids(sess: Session, user: User) -> Optional[set[int]]:
    """Organisations the user may open (None = all). Their own subtree plus the organisations of members they see."""
    if user.role == "admin":
        return None
    if user.organisation_id is None:
        return set()
    return set(subtree_ids(sess, user.organisation_id))


def require_admin(user: User) -> None:
    """For admin-only pages that change nothing (lists); writes use ``require_write``."""
    if user.role != "admin":
        raise Forbidden("Chỉ quản trị viên được thực hiện thao tác này.")


def can_import(user: User) -> bool:
    return user.role in ("admin", "workplace_staff")


def get_organisation(sess: Session, user: User, org_id: int) -> Organisation:
    """The organisation if ``user`` may open it (404 / 403 otherwise)."""
    org = sess.get(Organisation, org_id)
    if org is None:
        raise NotFound("Không tìm thấy tổ chức đảng.")
    ids = visible_org_ids(sess, user)
    if ids is not None and org.id not in ids:
        raise Forbidden()
    return org


def get_owned(sess: Session, user: User, model, row_id: int, owner_attr: str = "created_by"):
    """A row that only its creator and administrators may open (an import, a job, a scan batch)."""
    row = sess.get(model, row_id)
    if row is None:
        raise NotFound()
    if user.role != "admin" and getattr(row, owner_attr) != user.id:
        raise Forbidden()
    return row


def own_rows(user: User, stmt: Select, model, owner_attr: str = "created_by") -> Select:
    return stmt if user.role == "admin" else stmt.where(getattr(model, owner_attr) == user.id)
