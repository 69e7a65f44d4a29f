"""Who sees which members and organisations. Used by pages and API alike."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from .errors import Forbidden, NotFound
from .models import Member, Organisation, User


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
    return user.role == "admin" or (user.role == "workplace_staff" and can_see_member(sess, user, member))


def visible_org_ids(sess: Session, user: User) -> Optional[set[int]]:
    """Organisations the user may open (None = all). Their own subtree plus the organisations of members they see."""
    if user.role == "admin":
        return None
    if user.organisation_id is None:
        return set()
    return set(subtree_ids(sess, user.organisation_id))


def require_admin(user: User) -> None:
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
