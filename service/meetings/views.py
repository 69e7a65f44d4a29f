"""Residence meetings: record a meeting, mark attendance (everyone present unless changed), print the
sign-in sheet; absence requests and their certification; the absence list of a year."""
from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select

import docgen
from docgen.pdf import convert_to_pdf

from .. import db
from . import logic
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import NotFound, ServiceError
from ..models import AbsenceRequest, Meeting
from ..web import flashed_errors
from .absences import absence_rows, absences_xlsx
from .signin import signin_docx

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, user = db.session(), current()
    if user.role == "workplace_staff" and request.method == "GET":  # their "Sinh hoạt": the absence list
        return redirect(url_for("meetings.absences"))
    cells = logic.cells_for(sess, user)
    if request.method == "POST":
        with flashed_errors(sess) as failed:
            m = logic.create_meeting(sess, user, int_arg(request.form, "cell_id") or 0,
                                     request.form.get("held_on", ""), request.form.get("title", ""))
        if failed:
            return redirect(url_for("meetings.index"))
        return redirect(url_for("meetings.detail", meeting_id=m.id))
    rows = sess.scalars(select(Meeting).where(Meeting.residence_cell_id.in_([c.id for c in cells]))
                        .order_by(Meeting.held_on.desc()).limit(200)).all() if cells else []
    year = year_arg(request.args) or dt.date.today().year
    flagged = logic.unexcused_absences(sess, user, year) if current_app.config.get("ABSENCE_RULE", True) else []
    return render_template("meetings/index.html", cells=cells, meetings=rows, flagged=flagged, year=year,
                           counts=logic.meeting_counts(sess, [m.id for m in rows]))


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
        with flashed_errors(sess, reraise=()):
            n = logic.record_attendance(sess, user, m, marks)
            flash(f"Đã lưu điểm danh {n} đảng viên.", "success")
        return redirect(url_for("meetings.detail", meeting_id=m.id))
    marks = {a.member_id: a for a in m.attendances}
    requests = logic.requests_for_meeting(sess, m)
    # what each radio starts on: the saved mark; else absent when a request was made; else present
    chosen = {p.id: (marks[p.id].status if p.id in marks else "absent" if p.id in requests else "present")
              for p in people}
    chosen = {k: ("absent" if v == "excused" else v) for k, v in chosen.items()}
    return render_template("meetings/detail.html", m=m, people=people, marks=marks, chosen=chosen,
                           statuses=logic.MARKS, requests=requests, saved=bool(marks))


@bp.route("/<int:meeting_id>/sign-in.<fmt>")
@login_required
def signin(meeting_id: int, fmt: str):
    sess, user = db.session(), current()
    m = sess.get(Meeting, meeting_id) or abort(404)
    if not logic.can_record(sess, user, m.residence_cell_id):
        abort(403)
    if fmt not in ("docx", "pdf"):
        abort(404)
    data = signin_docx(m, logic.attendees(sess, m))
    name = docgen.safe_filename(f"Danh sách ký tên sinh hoạt {m.held_on:%d-%m-%Y} {m.residence_cell.name}", fmt)
    if fmt == "pdf":
        try:
            data = convert_to_pdf([(name, data)])[0]
        except docgen.PdfConversionError as exc:
            raise ServiceError("pdf_failed", exc.message_vi, status=503)
        return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name)
    return send_file(io.BytesIO(data), mimetype=DOCX, as_attachment=True, download_name=name)


@bp.route("/<int:meeting_id>/requests", methods=["POST"])
@login_required
def add_request(meeting_id: int):
    """Record a member's absence request for the meeting (staff may certify it at once)."""
    sess, user = db.session(), current()
    m = sess.get(Meeting, meeting_id) or abort(404)
    member_id = int_arg(request.form, "member_id") or 0
    back = request.form.get("back") == "absences"
    with flashed_errors(sess):
        logic.record_absence_request(sess, user, m, member_id, request.form.get("reason", ""),
                                     request.form.get("written_on", ""), certify=request.form.get("certify") == "1")
        flash("Đã ghi nhận đơn xin vắng.", "success")
    if back:
        return redirect(url_for("meetings.absences", year=m.held_on.year))
    return redirect(url_for("meetings.detail", meeting_id=m.id))


@bp.route("/requests/<int:request_id>/certify", methods=["POST"])
@login_required
def certify(request_id: int):
    sess, user = db.session(), current()
    row = sess.get(AbsenceRequest, request_id)
    if row is None:
        raise NotFound("Không tìm thấy đơn xin vắng.")
    with flashed_errors(sess):
        logic.certify_absence_request(sess, user, row)
        flash(f"Đã xác nhận đơn xin vắng của {row.member.full_name}: buổi vắng ngày "
              f"{row.meeting.held_on:%d/%m/%Y} được tính là vắng có lý do.", "success")
    return redirect(url_for("meetings.absences", year=row.meeting.held_on.year))


@bp.route("/absences")
@login_required
def absences():
    sess, user = db.session(), current()
    year = year_arg(request.args) or dt.date.today().year
    rows, pending = absence_rows(sess, user, year)
    return render_template("meetings/absences.html", year=year, rows=rows, pending=pending,
                           years=range(dt.date.today().year + 1, dt.date.today().year - 6, -1),
                           rule_on=current_app.config.get("ABSENCE_RULE", True))


@bp.route("/absences.xlsx")
@login_required
def absences_export():
    sess, user = db.session(), current()
    year = year_arg(request.args) or dt.date.today().year
    rows, _pending = absence_rows(sess, user, year)
    data = absences_xlsx(rows, year)
    return send_file(io.BytesIO(data), as_attachment=True, mimetype=XLSX,
                     download_name=f"vang-sinh-hoat-{year}.xlsx")
