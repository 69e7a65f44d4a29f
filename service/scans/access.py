"""Who may see and decide on scanned pages: the uploader, administrators, and those who see the member."""
from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..models import Member, ScanBatch, ScanPage, User
from ..permissions import can_see_member, can_write, get_owned, scope_members


def visible_pages(sess: Session, user: User):
    stmt = select(ScanPage)
    if user.role == "admin":
        return stmt
    members = scope_members(sess, user, select(Member.id))
    return stmt.join(ScanBatch, ScanBatch.id == ScanPage.batch_id).where(
        or_(ScanBatch.created_by == user.id, ScanPage.member_id.in_(members)))


def get_page(sess: Session, user: User, page_id: int) -> ScanPage:
    page = sess.get(ScanPage, page_id)
    if page is None:
        abort(404)
    if user.role == "admin":
        return page
    batch = sess.get(ScanBatch, page.batch_id)
    if batch.created_by == user.id or (page.member is not None and can_see_member(sess, user, page.member)):
        return page
    abort(403)


def get_batch(sess: Session, user: User, batch_id: int) -> ScanBatch:
    return get_owned(sess, user, ScanBatch, batch_id)


def can_decide(sess: Session, user: User, page: ScanPage) -> bool:
    """Apply, undo or reject a page: the one write rule on the page (its member's "return", or for a
    page about no member yet, its uploader and administrators; see permissions.py)."""
    return can_write(sess, user, page)


def page_to_decide(sess: Session, user: User, page_id: int) -> ScanPage:
    """The page ``user`` is about to apply, reject or undo: 404 if unseen, 403 if they may not decide on it."""
    page = get_page(sess, user, page_id)
    if not can_decide(sess, user, page):
        raise ServiceError("forbidden", "Bạn không có quyền duyệt trang này.", status=403)
    return page
