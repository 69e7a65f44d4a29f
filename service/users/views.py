"""User administration pages (administrators only)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import current, new_api_token, start_session
from .account import token_days, token_page_context
from ..errors import ServiceError
from ..text import vi_sorted, vi_sorted_names
from ..web import flashed_errors
from ..models import ROLES, Organisation, User
from ..permissions import require_admin, require_write
from .admin import create_user, update_user

bp = Blueprint("users", __name__, url_prefix="/users")


def _orgs(sess):
    return vi_sorted_names(sess.scalars(select(Organisation)))


def _org_id(value: str):
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 9 else None


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, me = db.session(), current()
    require_admin(me)
    if request.method == "POST":
        f = request.form
        with flashed_errors(sess, reraise=()):
            require_write(sess, me, User(), message="Chỉ quản trị viên được thêm người dùng.")
            user = create_user(sess, f.get("username", ""), f.get("password", ""), f.get("role", ""),
                               _org_id(f.get("organisation_id", "")), f.get("full_name", ""), by=me)
            flash(f"Đã tạo người dùng {user.username}.", "success")
            return redirect(url_for("users.index"))
    users = vi_sorted(sess.scalars(select(User)).all(), key=lambda u: u.full_name or u.username)
    return render_template("users/list.html", users=users, roles=ROLES, orgs=_orgs(sess))


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit(user_id: int):
    sess, me = db.session(), current()
    require_admin(me)
    user = sess.get(User, user_id)
    if user is None:
        abort(404)
    token = None
    if request.method == "POST":
        f = request.form
        require_write(sess, me, user, message="Chỉ quản trị viên được sửa người dùng.")
        with flashed_errors(sess, reraise=()):
            if f.get("action") == "token":
                token, _row = new_api_token(sess, user, (f.get("token_name") or "API").strip(), token_days(f), by=me)
                sess.commit()
                flash("Đã tạo mã truy cập API. Hãy sao chép ngay: mã chỉ hiện một lần.", "success")
            else:
                if user.id == me.id and (f.get("role") != "admin" or not f.get("active")):
                    raise ServiceError("cannot_demote_self", "Không thể tự bỏ quyền quản trị hoặc tự khóa tài khoản của mình.")
                update_user(sess, user, f.get("role", ""), _org_id(f.get("organisation_id", "")),
                            bool(f.get("active")), f.get("full_name", ""), f.get("password", ""), by=me)
                if user.id == me.id:
                    start_session(user)  # an administrator changing their own password stays signed in here
                flash("Đã lưu.", "success")
                return redirect(url_for("users.edit", user_id=user.id))
    return render_template("users/edit.html", user=user, roles=ROLES, orgs=_orgs(sess), token=token,
                           **token_page_context(sess, user))
