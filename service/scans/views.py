"""Scanned returns: upload a stack, follow the batch, and the review screen."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db, storage
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import ServiceError
from ..web import flashed_errors
from ..members.fields import ValueProblem, parse_date
from ..text import vi_sorted
from ..models import Evaluation, Job, Member, ScanBatch, ScanFile, ScanPage, ScanPageStatus
from ..permissions import scope_members
from . import intake
from .access import can_decide, get_batch, get_page, page_to_decide, visible_pages
from .decide import apply_page, items_for_page, reject_page, sheet_of, undo_page
from . import review_text
from .policy import slip_warnings

bp = Blueprint("scans", __name__, url_prefix="/scans")
OPEN = ("review", "conflict")


def slip_date_proposal(reading: dict) -> dict:
    """The received date the machine read on a receipt slip (pre-filled for the reviewer), and its digits."""
    fields = {f.get("name"): f for f in reading.get("fields") or []}
    f, digits = fields.get("received_on") or {}, fields.get("received_on_digits") or {}
    return {"value": f.get("value") or "", "confidence": f.get("confidence"), "digits": digits.get("value")}


def uploaded_files():
    return [(f.filename, f.read()) for f in request.files.getlist("files") if f and f.filename]


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, user = db.session(), current()
    if request.method == "POST":
        with flashed_errors(sess, reraise=()) as failed:
            batch = intake.start_batch(sess, user, uploaded_files(), auto_apply=bool(request.form.get("auto_apply")))
        if failed:
            return redirect(url_for("scans.index"))
        flash(f"Đã nhận {batch.page_count} trang; đang đọc.", "success")
        return redirect(url_for("scans.batch", batch_id=batch.id))
    stmt = select(ScanBatch).order_by(ScanBatch.id.desc()).limit(50)
    if user.role != "admin":
        stmt = stmt.where(ScanBatch.created_by == user.id)
    waiting = len(sess.scalars(visible_pages(sess, user).where(ScanPage.status.in_(OPEN))).all())
    return render_template("scans/index.html", batches=sess.scalars(stmt).all(), waiting=waiting)


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    sess, user = db.session(), current()
    b = get_batch(sess, user, batch_id)
    files = sess.scalars(select(ScanFile).where(ScanFile.batch_id == b.id).order_by(ScanFile.id)).all()
    pages = sess.scalars(select(ScanPage).where(ScanPage.batch_id == b.id)
                         .order_by(ScanPage.scan_file_id, ScanPage.page_no)).all()
    job = sess.get(Job, b.job_id) if b.job_id else None  # followed live by static/job_progress.js
    return render_template("scans/batch.html", b=b, files=files, pages=pages, job=job)


@bp.route("/review")
@login_required
def review_next():
    sess, user = db.session(), current()
    after = int_arg(request.args, "after") or 0
    stmt = visible_pages(sess, user).where(ScanPage.status.in_(OPEN))
    page = sess.scalars(stmt.where(ScanPage.id > after).order_by(ScanPage.id).limit(1)).first() or \
        sess.scalars(stmt.order_by(ScanPage.id).limit(1)).first()
    if page is None:
        flash("Không còn trang nào chờ duyệt.", "success")
        return redirect(url_for("scans.index"))
    return redirect(url_for("scans.page", page_id=page.id))


@bp.route("/pages/<int:page_id>")
@login_required
def page(page_id: int):
    sess, user = db.session(), current()
    p = get_page(sess, user, page_id)
    ev = sess.get(Evaluation, p.evaluation_id) if p.evaluation_id else sheet_of(sess, p)
    # the QR's member only, unless the reviewer asks for every member in their scope
    show_all = bool(request.args.get("all_members")) or not p.member_id
    stmt = scope_members(sess, user, select(Member))
    if not show_all:
        stmt = stmt.where(Member.id == p.member_id)
    candidates = vi_sorted(sess.scalars(stmt.order_by(Member.sort_name, Member.id).limit(3000)).all(),
                           key=lambda m: m.full_name)
    answers = (p.applied_values or {}).get("answers") or (p.reading or {}).get("answers") or {}
    doubts = [pr for pr in p.problems or [] if pr.get("item")]
    items = items_for_page(sess, p, ev)
    reading = p.reading or {}
    fields = [{**f, "label": review_text.field_label(f.get("name", ""), items),
               "shown": review_text.field_value(f, items)} for f in reading.get("fields") or []]
    return render_template("scans/page.html", p=p, r=reading, ev=ev, items=items, fields=fields,
                           problem_lines=review_text.problem_lines(
                               slip_warnings(p.problems) if p.kind == "introduction_receipt" else p.problems, items, reading),
                           show_all=show_all, slip_date=slip_date_proposal(reading),
                           answers=answers, candidates=candidates, can_decide=can_decide(sess, user, p),
                           statuses={s.value: s.title for s in ScanPageStatus}, doubt_items={pr["item"] for pr in doubts},
                           doubt_boxes={b for pr in doubts for b in pr.get("boxes") or []})


@bp.route("/pages/<int:page_id>/image.png")
@login_required
def page_image(page_id: int):
    sess, user = db.session(), current()
    p = get_page(sess, user, page_id)
    if not p.image_sha:
        abort(404)
    data = storage.read_sha(p.image_sha)  # JPEG from the reader of our sheets, PNG from older readings
    return send_file(io.BytesIO(data), mimetype="image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png")


@bp.route("/pages/<int:page_id>/crops/<name>.png")
@login_required
def page_crop(page_id: int, name: str):
    sess, user = db.session(), current()
    p = get_page(sess, user, page_id)
    sha = (p.crops or {}).get(name)
    if not sha:
        abort(404)
    return send_file(io.BytesIO(storage.read_sha(sha)), mimetype="image/png")


def _decide(page_id: int):
    sess, user = db.session(), current()
    return sess, user, page_to_decide(sess, user, page_id)


def form_answers(form) -> dict:
    return {k[2:]: v for k, v in form.items() if k.startswith("a_") and v}


@bp.route("/pages/<int:page_id>/apply", methods=["POST"])
@login_required
def apply(page_id: int):
    sess, user, p = _decide(page_id)
    with flashed_errors(sess) as failed:
        received_on = None
        if request.form.get("received_on"):
            try:
                received_on = parse_date(request.form["received_on"])
            except ValueProblem:
                raise ServiceError("invalid_date", "Ngày tiếp nhận ghi trên phiếu báo không hợp lệ: nhập ngày/tháng/năm "
                                                   "hoặc chọn trên lịch.", {"field": "received_on"})
        apply_page(sess, p, user, form_answers(request.form), request.form.get("other_remarks"),
                   int_arg(request.form, "member_id"), year_arg(request.form), received_on=received_on,
                   confirm_today=bool(request.form.get("confirm_today")))
    if failed:
        return redirect(url_for("scans.page", page_id=page_id))
    flash(f"Đã cập nhật phiếu nhận xét từ trang #{page_id}.", "success")
    return redirect(url_for("scans.review_next", after=page_id))


@bp.route("/pages/<int:page_id>/reject", methods=["POST"])
@login_required
def reject(page_id: int):
    sess, user, p = _decide(page_id)
    reject_page(sess, p, user, request.form.get("reason", ""))
    flash(f"Đã loại trang #{page_id}.", "info")
    return redirect(url_for("scans.review_next", after=page_id))


@bp.route("/pages/<int:page_id>/undo", methods=["POST"])
@login_required
def undo(page_id: int):
    sess, user, p = _decide(page_id)
    undo_page(sess, p, user)
    flash("Đã hoàn tác: phiếu nhận xét trở lại như trước, trang chờ duyệt lại.", "success")
    return redirect(url_for("scans.page", page_id=page_id))
