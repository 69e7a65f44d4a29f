"""Residence meetings: record a meeting, mark attendance, see the year-end absence flags."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db
from . import logic
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import ServiceError
from ..models import ATTENDANCE, Meeting

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, user = db.session(), current()
    cells = logic.cells_for(sess, user)
    if request.method == "POST":
        try:
            m = logic.create_meeting(sess, user, int_arg(request.form, "cell_id") or 0,
                                        request.form.get("held_on", ""), request.form.get("title", ""))
        except ServiceError as err:
            sess.rollback()
            if err.status in (403, 404):
                raise
            flash(err.message, "error")
            return redirect(url_for("meetings.index"))
        return redirect(url_for("meetings.detail", meeting_id=m.id))
    rows = sess.scalars(select(Meeting).where(Meeting.residence_cell_id.in_([c.id for c in cells]))
                        .order_by(Meeting.held_on.desc()).limit(200)).all() if cells else []
    year = year_arg(request.args) or dt.date.today().year
    flagged = logic.unexcused_absences(sess, user, year) if current_app.config.get("ABSENCE_RULE", True) else []
    return render_template("meetings/index.html", cells=cells, meetings=rows, flagged=flagged, year=year)


@bp.route("/<int:meeting_id>", methods=["GET", "POST"])
@login_required
def detail(meeting_id: int):
    sess, user = db.session(), current()
    m = sess.get(Meeting, meeting_id) or abort(404)
    if not logic.can_record(sess, user, m.residence_cell_id):
        abort(403)
    people = logic.attendees(sess, m)
    if request.method == "POST":
        marks = {p.id: (request.form.get(f"s_{p.id}", ""), request.form.get(f"n_{p.id}", ""))
                 for p in people if request.form.get(f"s_{p.id}")}
        try:
            n = logic.record_attendance(sess, user, m, marks)
            flash(f"Đã lưu điểm danh {n} đảng viên.", "success")
        except ServiceError as err:
            sess.rollback()
            flash(err.message, "error")
        return redirect(url_for("meetings.detail", meeting_id=m.id))
    marks = {a.member_id: a for a in m.attendances}
    return render_template("meetings/detail.html", m=m, people=people, marks=marks, statuses=ATTENDANCE)
