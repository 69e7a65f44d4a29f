"""One's own account: change password, API tokens (list, create, revoke)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import (check_own_password, check_password_strength, current, end_sessions, hash_password,
                    new_api_token, revoke_token, start_session)
from ..errors import ServiceError
from ..models import ApiToken, User, utcnow
from ..web import flashed_errors, safe_next

bp = Blueprint("account", __name__, url_prefix="/account")


def token_days(form) -> int | None:
    """The lifetime asked for in a form (blank: the default)."""
    value = (form.get("expires_in_days") or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ServiceError("invalid_token_expiry", "Hạn dùng của mã truy cập phải là một số ngày.",
                           {"field": "expires_in_days"})
    return int(value)


def token_page_context(sess, user: User) -> dict:
    cfg = current_app.config
    tokens = sess.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).all()
    return {"tokens": tokens, "now": utcnow(), "back": request.path,
            "max_days": cfg["TOKEN_DAYS_MAX"], "default_days": cfg["TOKEN_DAYS_DEFAULT"]}


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, me = db.session(), current()
    token = None
    if request.method == "POST":
        f = request.form
        with flashed_errors(sess, reraise=()):
            if f.get("action") == "token":
                token, _row = new_api_token(sess, me, (f.get("token_name") or "API").strip(), token_days(f))
                sess.commit()
                flash("Đã tạo mã truy cập API. Hãy sao chép ngay: mã chỉ hiện một lần.", "success")
            elif f.get("action") == "password":
                check_own_password(me, f.get("current_password", ""))
                check_password_strength(f.get("new_password", ""))
                me.password_hash = hash_password(f["new_password"])
                end_sessions(me)
                sess.commit()
                start_session(me)  # this browser stays signed in; every other session ends
                flash("Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.", "success")
                return redirect(url_for("account.index"))
    return render_template("account/index.html", token=token, **token_page_context(sess, me))


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token_page(token_id: int):
    """Revoke one's own token (administrators: anyone's, from the user's page)."""
    revoke_token(db.session(), current(), token_id)
    flash("Đã thu hồi mã truy cập API.", "success")
    return redirect(safe_next(request.form.get("next", "")))
