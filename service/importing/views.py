"""The import wizard, one screen per step: upload -> column mapping -> preview -> confirm (-> undo)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db, importing
from ..auth import current
from ..web import flashed_errors
from ..models import ImportBatch
from ..permissions import can_import, get_owned
from .headers import FIELD_LABELS as SHEET_FIELDS
from ..members.registry import FIELD_LABELS

bp = Blueprint("imports", __name__, url_prefix="/import")


def get_batch(sess, user, batch_id: int) -> ImportBatch:
    return get_owned(sess, user, ImportBatch, batch_id)


@bp.route("/", methods=["GET", "POST"])
@login_required
def upload():
    sess, user = db.session(), current()
    if not can_import(user):
        abort(403)
    if request.method == "POST":
        upload_file = request.files.get("file")
        if upload_file is None or not upload_file.filename:
            flash("Chưa chọn tệp Excel (.xlsx) để nhập.", "error")
            return render_template("imports/upload.html"), 400
        with flashed_errors(sess, reraise=()) as failed:
            batch = importing.preview_upload(sess, user, upload_file.read(), upload_file.filename)
        if failed:
            return render_template("imports/upload.html", error=failed.error), failed.status
        return redirect(url_for("imports.mapping", batch_id=batch.id))
    recent = sess.scalars(select(ImportBatch).where(ImportBatch.created_by == user.id)
                          .order_by(ImportBatch.id.desc()).limit(10)).all()
    return render_template("imports/upload.html", recent=recent)


@bp.route("/<int:batch_id>")
@login_required
def preview(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    show = request.args.get("show", "all")
    rows = batch.preview.get("rows", [])
    if show != "all":
        rows = [r for r in rows if r.get("action") == show]
    return render_template("imports/preview.html", batch=batch, p=batch.preview, rows=rows, show=show,
                           labels={**FIELD_LABELS, **batch.preview.get("field_labels", {})})


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@login_required
def mapping(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    if request.method == "POST":
        chosen = {c["letter"]: request.form.get(f"col_{c['letter']}", "")
                  for c in batch.preview.get("all_columns", [])}
        with flashed_errors(sess, reraise=()) as failed:
            importing.remap(sess, user, batch, chosen)
        if failed:
            return render_template("imports/mapping.html", batch=batch, p=batch.preview, fields=SHEET_FIELDS,
                                   chosen=chosen), failed.status
        return redirect(url_for("imports.preview", batch_id=batch.id))
    return render_template("imports/mapping.html", batch=batch, p=batch.preview, fields=SHEET_FIELDS,
                           chosen=batch.preview.get("mapping", {}))


@bp.route("/<int:batch_id>/places", methods=["POST"])
@login_required
def places(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    given = {k[len("place_"):]: v for k, v in request.form.items() if k.startswith("place_")}
    with flashed_errors(sess, reraise=()):
        importing.set_places(sess, user, batch, given)
        flash("Đã lưu địa danh của các đảng ủy xã, phường sẽ tạo mới.", "success")
    return redirect(url_for("imports.preview", batch_id=batch.id))


@bp.route("/<int:batch_id>/undo", methods=["POST"])
@login_required
def undo(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    with flashed_errors(sess, reraise=()) as failed:
        result = importing.undo_import(sess, user, batch)
    if failed:
        return redirect(url_for("imports.preview", batch_id=batch.id))
    flash(f"Đã hoàn tác lần nhập #{batch.id}: xóa {result['members_deleted']} đảng viên thêm mới, khôi phục "
          f"{result['members_restored']} hồ sơ, xóa {result['organisations_deleted']} tổ chức đảng tạo mới.", "success")
    return redirect(url_for("imports.preview", batch_id=batch.id))


@bp.route("/<int:batch_id>/confirm", methods=["POST"])
@login_required
def confirm(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    job = importing.confirm(sess, user, batch)
    flash("Đã bắt đầu nhập dữ liệu. Theo dõi tiến độ bên dưới.", "success")
    return redirect(url_for("jobs.detail", job_id=job.id))
