"""User administration shared by pages, API and CLI."""
from __future__ import annotations

import re
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, db, sign_in_throttle
from ..auth import check_password_strength, end_sessions, hash_password
from ..errors import ServiceError
from ..models import ROLES, Organisation, User
from ..text import checked_text, clean

USERNAME = re.compile(r"^[a-z0-9._-]{3,80}$")
ROLE_ORG_KINDS = {"workplace_staff": ("workplace_committee", "workplace_cell", "party_body"),
                  "cell_secretary": ("residence_cell", "ward_committee")}


def _check_role(sess: Session, role: str, organisation_id: Optional[int]) -> None:
    if role not in ROLES:
        raise ServiceError("invalid_role", "Vai trò không hợp lệ.", {"field": "role"})
    if role == "admin":
        return
    org = sess.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.kind not in ROLE_ORG_KINDS[role]:
        raise ServiceError("invalid_organisation",
                           "Cần chọn tổ chức đảng phù hợp với vai trò (đảng ủy nơi công tác hoặc chi bộ nơi cư trú).",
                           {"field": "organisation_id"})


def user_snapshot(user: User) -> dict:
    """What the audit log keeps of a user (never the password hash)."""
    return {"username": user.username, "full_name": user.full_name, "role": user.role,
            "organisation_id": user.organisation_id, "active": user.active}


def create_user(sess: Session, username: str, password: str, role: str, organisation_id: Optional[int] = None,
                full_name: str = "", *, by: Optional[User] = None) -> User:
    """A new user; ``by`` is the administrator creating it (None from the command line)."""
    username = clean(username).lower()
    if not USERNAME.match(username):
        raise ServiceError("invalid_username", "Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch (3–80 ký tự).",
                           {"field": "username"})
    if sess.scalar(select(User).where(User.username == username)):
        raise ServiceError("username_taken", f"Tên đăng nhập {username} đã được dùng.", {"field": "username"}, status=409)
    check_password_strength(password)
    _check_role(sess, role, organisation_id)
    user = User(username=username, password_hash=hash_password(password), role=role,
                organisation_id=organisation_id if role != "admin" else None, full_name=checked_text(full_name, 200, "Họ và tên", field="full_name"))
    sess.add(user)
    sess.flush()
    audit.record(sess, "user", user, "create", None, user_snapshot(user), user=by)
    sess.commit()
    return user


def update_user(sess: Session, user: User, role: str, organisation_id: Optional[int], active: bool,
                full_name: str, password: str = "", *, by: Optional[User] = None) -> User:
    """Role, organisation, active, name and (when given) a new password. Audited: a password
    change shows as ``password_changed: true``, never the hash."""
    _check_role(sess, role, organisation_id)
    organisation_id = organisation_id if role != "admin" else None
    before = user_snapshot(user)
    if password:
        check_password_strength(password)
    if password or (role, organisation_id, active) != (user.role, user.organisation_id, user.active):
        end_sessions(user)  # what the user may do changed: sign in again
    if password:
        user.password_hash = hash_password(password)
    user.role, user.active = role, active
    user.full_name = checked_text(full_name, 200, "Họ và tên", field="full_name")
    user.organisation_id = organisation_id
    after = user_snapshot(user)
    if password:
        before["password_changed"], after["password_changed"] = False, True
    audit.record(sess, "user", user, "update", before, after, user=by)
    sess.commit()
    if password:
        sign_in_throttle.forget_account(db.engine(), user.username)  # a locked-out user can sign in again
    return user
