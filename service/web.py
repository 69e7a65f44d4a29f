"""Sign-in, sign-out and the home page."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional
from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from . import db
from .auth import authenticate, current, sign_out, start_session
from .errors import ServiceError
from .jobs.record import JOB_KINDS
from .models import MEMBER_STATUSES, Member
from .jobs.views import recent_jobs
from .permissions import scope_members
from .text import CONTROL_CHARS

bp = Blueprint("web", __name__)


def safe_next(target: str) -> str:
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not (target or "").startswith("/"):
        return url_for("web.index")
    return target


class Outcome:
    """What a ``flashed_errors`` block ended with: false when it ran through, else the caught error."""
    error: Optional[ServiceError] = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def status(self) -> int:
        return self.error.status if self.error else 200


@contextmanager
def flashed_errors(sess, reraise: tuple[int, ...] = (403, 404)) -> Iterator[Outcome]:
    """A page's write: a ServiceError inside the block rolls the session back and is shown to the user
    as an error message (nothing half-applied); the statuses in ``reraise`` go on to the error page.

        with flashed_errors(sess) as failed:
            n = logic.mark_sent(...)
            flash(f"Đã ghi nhận gửi {n} phiếu.", "success")
        if failed:
            return render_template(...), failed.status
    """
    outcome = Outcome()
    try:
        yield outcome
    except ServiceError as err:
        sess.rollback()
        if err.status in reraise:
            raise
        flash(err.message, "error")
        outcome.error = err


@bp.route("/login", methods=["GET", "POST"])
def login():
    demo = current_app.config.get("DEMO_PASSWORD") if current_app.config.get("DEMO_MODE") else None
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            if len(username) > 80 or CONTROL_CHARS.search(username):  # no such user can exist
                raise ServiceError("invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", status=401)
            user = authenticate(db.session(), username, request.form.get("password", ""))
        except ServiceError as err:
            flash(err.message, "error")
            return render_template("login.html", demo=demo, username=username,
                                   next=request.form.get("next", "")), err.status, err.headers
        start_session(user)
        return redirect(safe_next(request.form.get("next", "")))
    return render_template("login.html", demo=demo, next=request.args.get("next", ""))


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out(db.session())  # ends every session of this user, copies of the cookie included
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("web.login"))


@bp.route("/")
@login_required
def index():
    sess, user = db.session(), current()
    scoped = scope_members(sess, user, select(Member.id, Member.status)).subquery()
    total = sess.scalar(select(func.count()).select_from(scoped)) or 0
    by_status = sess.execute(select(scoped.c.status, func.count()).group_by(scoped.c.status)).all()
    from .campaigns.home import needs  # what needs this user now (campaigns, late cells, receipt slips, sheets)
    return render_template("index.html", counts={"members": total, "by_status": sorted(by_status)},
                           statuses=MEMBER_STATUSES, jobs=recent_jobs(sess, user, 10), kinds=JOB_KINDS,
                           needs=needs(sess, user))
