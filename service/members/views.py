"""Member pages: list with search and filters, a member's page with full history, edit, export."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select
import io

from .. import db
from ..documents.letters import issue_warnings, reference
from ..auth import current
from ..web import flashed_errors
from .export import export_members
from ..models import GENDERS, MEMBER_STATUSES, Attendance, AuditEntry, Evaluation, Introduction, Meeting
from ..permissions import can_edit_member, get_member
from .registry import (FIELD_LABELS, MemberFilters, all_members, create_member, list_members, organisations_for,
                        update_member)

bp = Blueprint("members", __name__, url_prefix="/members")


def _filter_choices(sess, user):
    return {
        "workplaces": organisations_for(sess, user, ("workplace_committee", "workplace_cell")),
        "cells": organisations_for(sess, user, ("residence_cell",)),
        "wards": organisations_for(sess, user, ("ward_committee",)),
        "statuses": MEMBER_STATUSES,
    }


@bp.route("/")
@login_required
def index():
    sess, user = db.session(), current()
    f = MemberFilters.from_args(request.args, current_app.config["PAGE_SIZE"])
    items, total = list_members(sess, user, f)
    pages = max((total + f.per_page - 1) // f.per_page, 1)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("members/list.html", items=items, total=total, f=f, pages=pages, args=args,
                           **_filter_choices(sess, user))


@bp.route("/export.xlsx")
@login_required
def export():
    sess, user = db.session(), current()
    members = all_members(sess, user, MemberFilters.from_args(request.args))
    data = export_members(members)
    name = f"danh-sach-dang-vien-{dt.date.today():%Y%m%d}.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/<int:member_id>")
@login_required
def detail(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    intros = sess.scalars(select(Introduction).where(Introduction.member_id == member.id)
                          .order_by(Introduction.issued_on.desc())).all()
    attendance = sess.execute(select(Attendance, Meeting).join(Meeting).where(Attendance.member_id == member.id)
                              .order_by(Meeting.held_on.desc())).all()
    evaluations = sess.scalars(select(Evaluation).where(Evaluation.member_id == member.id)
                               .order_by(Evaluation.year.desc(), Evaluation.id.desc())).all()
    audit = sess.scalars(select(AuditEntry).where(AuditEntry.member_id == member.id)
                         .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).all()
    from ..meetings.logic import unexcused_absences, year_absences
    from ..reports.results import member_results
    flagged = unexcused_absences(sess, user, dt.date.today().year, member.id) \
        if current_app.config.get("ABSENCE_RULE", True) else []
    absences = {a.meeting.id: a for year in {mt.held_on.year for _a, mt in attendance}
                for rows in year_absences(sess, year, [member.id]).values() for a in rows}
    return render_template("members/detail.html", m=member, absence_flag=flagged[0][1] if flagged else 0, intros=intros, attendance=attendance,
                           evaluations=evaluations, audit=audit, labels=FIELD_LABELS, absences=absences,
                           results=member_results(sess, member.id),
                           intro_refs={i.id: reference(i) for i in intros},
                           issue_warnings=issue_warnings(member) if can_edit_member(sess, user, member) else [],
                           can_edit=can_edit_member(sess, user, member), this_year=dt.date.today().year)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    sess, user = db.session(), current()
    if user.role not in ("admin", "workplace_staff"):
        abort(403)
    if request.method == "POST":
        with flashed_errors(sess, reraise=()) as failed:
            member = create_member(sess, user, request.form.to_dict(), source="ui")
        if failed:
            return _form_page(sess, user, None, request.form, failed)
        flash(f"Đã thêm đảng viên {member.full_name}.", "success")
        return redirect(url_for("members.detail", member_id=member.id))
    return _form_page(sess, user, None, {})


def _form_page(sess, user, member, form, failed=None):
    """The member form: blank, the record's values, or what was typed with the error's fields marked."""
    page = render_template("members/form.html", m=member, form=form, errors=(failed.error.details or {}) if failed else {},
                           genders=GENDERS, labels=FIELD_LABELS, **_filter_choices(sess, user))
    return (page, failed.status) if failed else page


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    if not can_edit_member(sess, user, member):
        abort(403)
    if request.method == "POST":
        with flashed_errors(sess, reraise=()) as failed:
            update_member(sess, user, member, request.form.to_dict(), source="ui")
        if failed:
            return _form_page(sess, user, member, request.form, failed)
        flash("Đã lưu thay đổi.", "success")
        return redirect(url_for("members.detail", member_id=member.id))
    form = {k: (v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else (v or ""))
            for k, v in ((f, getattr(member, f)) for f in FIELD_LABELS)}
    return _form_page(sess, user, member, form)
