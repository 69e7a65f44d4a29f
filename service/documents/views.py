"""Document pages: issue and reprint letters, sheets, bulk mail-merge, previews, template versions."""
from __future__ import annotations

import datetime as dt
import io
import json

from docgen.pdf import pdf_page_png
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import ServiceError
from ..members.fields import ValueProblem, parse_date
from . import bulk, choose, letters, packets_views, sheets
from .render import DOCX_MIME, file_name, render_preview, render_record, to_pdf
from .templates_store import (KIND_LABELS, active_template, set_template_active, sync_builtin,
                                         upload_template)
from ..models import DocumentTemplate, Evaluation, Introduction
from ..permissions import get_member, require_admin, require_write
from ..members.registry import organisations_for
from ..web import flashed_errors

bp = Blueprint("documents", __name__, url_prefix="/documents")
for _rule, _endpoint, _view, _methods in packets_views.ROUTES:  # the per-cell packets (own module)
    bp.add_url_rule(_rule, _endpoint, _view, methods=list(_methods))


def require_issue(sess, user, member) -> None:
    """Issuing, voiding, marking received: the one write check on the member."""
    require_write(sess, user, member, message="Chỉ đảng ủy nơi công tác của đảng viên được lập văn bản này.")


def send_record(sess, record, fmt: str, *, preview: bool = False):
    docx = render_preview(sess, record) if preview else render_record(sess, record)
    if fmt == "pdf":
        return send_file(io.BytesIO(to_pdf(file_name(record, "docx"), docx)), mimetype="application/pdf",
                         download_name=file_name(record, "pdf"), as_attachment=False)
    if fmt == "png":
        png = pdf_page_png(to_pdf(file_name(record, "docx"), docx))
        return send_file(io.BytesIO(png), mimetype="image/png", download_name=file_name(record, "png"))
    return send_file(io.BytesIO(docx), mimetype=DOCX_MIME, download_name=file_name(record, "docx"), as_attachment=True)


def get_introduction(sess, user, intro_id: int) -> Introduction:
    intro = sess.get(Introduction, intro_id)
    if intro is None:
        abort(404)
    get_member(sess, user, intro.member_id)
    return intro


def get_sheet(sess, user, ev_id: int) -> Evaluation:
    ev = sess.get(Evaluation, ev_id)
    if ev is None:
        abort(404)
    get_member(sess, user, ev.member_id)
    return ev


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, user = db.session(), current()
    if user.role not in ("admin", "workplace_staff"):
        abort(403)
    year = dt.date.today().year
    form, count = request.form, None
    if request.method == "POST":
        # first "Xem số lượng" (step=count): the page shows how many documents; then "Bắt đầu trộn"
        with flashed_errors(sess, reraise=()):
            selection = {k: int_arg(form, k) for k in ("workplace_org_id", "residence_cell_id", "ward_id") if form.get(k)}
            if form.get("members", "").strip():
                selection["member_ids"] = choose.members_named(sess, user, form.get("members", ""))
            if form.get("step") == "start":
                job = bulk.start(sess, user, form.get("kind", ""), year_arg(form) or year, selection,
                                 form.getlist("outputs"))
                flash(f"Đã bắt đầu trộn văn bản cho {job.progress_total} đảng viên.", "success")
                return redirect(url_for("jobs.detail", job_id=job.id))
            count = len(bulk.resolve_selection(sess, user, selection))
    return render_template("documents/index.html", kinds={k: KIND_LABELS[k] for k in bulk.BULK_KINDS},
                           outputs=bulk.OUTPUTS, year=year,
                           form=form, count=count,
                           workplaces=choose.tree_order(organisations_for(sess, user, ("workplace_committee",
                                                                                       "workplace_cell"))),
                           cells=choose.tree_order(organisations_for(sess, user, ("residence_cell",))),
                           wards=choose.tree_order(organisations_for(sess, user, ("ward_committee",))))


@bp.route("/preview")
@login_required
def preview():
    """One document rendered without issuing anything: the member's existing record, or a draft."""
    from ..api_models.documents import PreviewQuery
    from ..api_schema import parse_query
    sess, user = db.session(), current()
    query = parse_query(PreviewQuery)
    kind = query.kind or "evaluation_sheet"
    year = query.year or dt.date.today().year
    member = get_member(sess, user, query.member_id)
    if kind == "introduction_letter":
        record = letters.current_introduction(sess, member, year) or Introduction(
            member=member, issuing_org=letters.issuing_committee(member), year=year, number=0,
            issued_on=dt.date.today(), template_version=active_template(sess, kind).version)
    else:
        record = sheets.live_sheet(sess, member.id, year) or Evaluation(
            member=member, year=year, sheet_serial=f"{year}-{member.id:06d}-0",
            variant=sheets.sheet_variant(member), template_version=active_template(sess, "evaluation_sheet").version)
    try:
        return send_record(sess, record, query.format or "png", preview=True)
    finally:
        sess.rollback()  # a draft is never saved


@bp.route("/members/<int:member_id>/introduction", methods=["POST"])
@login_required
def issue_introduction(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    intro = letters.issue_introduction(sess, user, member)
    flash(f"Giấy giới thiệu số {letters.reference(intro)} năm {intro.year}.", "success")
    for warning in letters.issue_warnings(member):
        flash(warning["message"], "warning")
    return redirect(url_for("members.detail", member_id=member.id))


@bp.route("/introductions/<int:intro_id>.<fmt>")
@login_required
def introduction_file(intro_id: int, fmt: str):
    sess, user = db.session(), current()
    return send_record(sess, get_introduction(sess, user, intro_id), fmt)


@bp.route("/introductions/<int:intro_id>/received", methods=["POST"])
@login_required
def introduction_received(intro_id: int):
    sess, user = db.session(), current()
    intro = get_introduction(sess, user, intro_id)
    require_issue(sess, user, intro.member)
    try:
        day = parse_date(request.form.get("received_on", ""))
    except ValueProblem:
        day = None
    if day is None:  # the page keeps the member's page; nothing is recorded
        flash("Ngày tiếp nhận không hợp lệ: nhập ngày/tháng/năm (ví dụ 02/09/2026) hoặc chọn trên lịch.", "error")
        return redirect(url_for("members.detail", member_id=intro.member_id))
    letters.mark_received(sess, user, intro, day)
    flash("Đã ghi nhận nơi cư trú tiếp nhận.", "success")
    return redirect(url_for("members.detail", member_id=intro.member_id))


@bp.route("/members/<int:member_id>/sheet", methods=["POST"])
@login_required
def issue_sheet(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    ev = sheets.ensure_sheet(sess, member, year_arg(request.form) or dt.date.today().year, user=user)
    flash(f"Phiếu nhận xét năm {ev.year}, số phiếu {ev.sheet_serial}.", "success")
    return redirect(url_for("members.detail", member_id=member.id))


@bp.route("/sheets/<int:ev_id>.<fmt>")
@login_required
def sheet_file(ev_id: int, fmt: str):
    sess, user = db.session(), current()
    return send_record(sess, get_sheet(sess, user, ev_id), fmt)


@bp.route("/sheets/<int:ev_id>/void", methods=["POST"])
@login_required
def void_sheet(ev_id: int):
    sess, user = db.session(), current()
    ev = get_sheet(sess, user, ev_id)
    require_issue(sess, user, ev.member)
    new = sheets.void_and_replace(sess, user, ev, request.form.get("reason", ""))
    flash(f"Đã hủy phiếu {ev.sheet_serial}; phiếu thay thế số {new.sheet_serial}.", "success")
    return redirect(url_for("members.detail", member_id=ev.member_id))


@bp.route("/templates", methods=["GET", "POST"])
@login_required
def templates():
    sess, user = db.session(), current()
    require_admin(user)
    sync_builtin(sess)
    if request.method == "POST":
        upload = request.files.get("file")
        definition = None
        def_file = request.files.get("definition")
        with flashed_errors(sess, reraise=()) as failed:
            if upload is None or not upload.filename:
                raise ServiceError("no_file", "Chưa chọn tệp mẫu .docx.")
            if def_file is not None and def_file.filename:
                try:
                    definition = json.loads(def_file.read().decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise ServiceError("invalid_definition", f"Tệp định nghĩa {def_file.filename} không phải JSON hợp lệ.")
            row = upload_template(sess, user, request.form.get("kind", ""), upload.read(), upload.filename, definition)
            flash(f"Đã thêm mẫu {KIND_LABELS[row.kind]} phiên bản {row.version}.", "success")
        if failed:
            rows = sess.scalars(select(DocumentTemplate).order_by(DocumentTemplate.kind, DocumentTemplate.version)).all()
            return render_template("documents/templates.html", rows=rows, kinds=KIND_LABELS,
                                   error=failed.error), failed.status
        return redirect(url_for("documents.templates"))
    rows = sess.scalars(select(DocumentTemplate).order_by(DocumentTemplate.kind, DocumentTemplate.version)).all()
    return render_template("documents/templates.html", rows=rows, kinds=KIND_LABELS, error=None)


@bp.route("/templates/<int:template_id>/toggle", methods=["POST"])
@login_required
def toggle_template(template_id: int):
    sess, user = db.session(), current()
    row = sess.get(DocumentTemplate, template_id) or abort(404)
    set_template_active(sess, user, row, not row.active)
    return redirect(url_for("documents.templates"))
