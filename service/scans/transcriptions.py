"""The transcription queue of item 7: the crop of a handwritten remark, type it, next."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import func, select

from .. import db, storage
from ..auth import current
from ..web import flashed_errors
from ..models import Evaluation, StoredFile
from ..permissions import can_see_member
from . import remarks

bp = Blueprint("transcriptions", __name__, url_prefix="/scans/transcriptions")


def remark_crop_response(ev_id: int):
    """The stored crop of an evaluation's handwritten remark, for whoever may see the member."""
    sess, user = db.session(), current()
    ev = sess.get(Evaluation, ev_id)
    if ev is None or ev.remarks_file_id is None:
        abort(404)
    if not can_see_member(sess, user, ev.member):
        abort(403)
    row = sess.get(StoredFile, ev.remarks_file_id)
    return send_file(io.BytesIO(storage.read(row)), mimetype="image/png")


@bp.route("/")
@login_required
def queue():
    sess, user = db.session(), current()
    after = request.args.get("after", type=int) or 0
    stmt = remarks.pending(sess, user)
    ev = sess.scalars(stmt.where(Evaluation.id > after).limit(1)).first() or sess.scalars(stmt.limit(1)).first()
    waiting = sess.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return render_template("scans/transcribe.html", ev=ev, waiting=waiting)


@bp.route("/<int:ev_id>/crop.png")
@login_required
def crop(ev_id: int):
    return remark_crop_response(ev_id)


@bp.route("/<int:ev_id>", methods=["POST"])
@login_required
def save(ev_id: int):
    return _settle(ev_id, lambda sess, ev, user: remarks.transcribe(sess, ev, user, request.form.get("text"), source="ui"),
                   "Đã lưu «Nhận xét khác» của phiếu số {serial}.", "success")


@bp.route("/<int:ev_id>/unreadable", methods=["POST"])
@login_required
def unreadable(ev_id: int):
    """«Không đọc được»: the crop stays on the record and the remark no longer waits."""
    return _settle(ev_id, lambda sess, ev, user: remarks.mark_unreadable(sess, ev, user, source="ui"),
                   "Đã ghi «Nhận xét khác» của phiếu số {serial} là không đọc được (giữ ảnh trên hồ sơ).", "info")


def _settle(ev_id: int, action, done: str, category: str):
    """Transcribe or give up on a remark, then the next one in the queue (the same one again on an error)."""
    sess, user = db.session(), current()
    ev = sess.get(Evaluation, ev_id)
    if ev is None:
        abort(404)
    with flashed_errors(sess, reraise=(403,)) as failed:
        action(sess, ev, user)
    if failed:
        return redirect(url_for("transcriptions.queue", after=ev_id - 1))
    flash(done.format(serial=ev.sheet_serial), category)
    return redirect(url_for("transcriptions.queue", after=ev_id))
