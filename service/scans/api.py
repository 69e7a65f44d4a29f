"""JSON API of scanned sheets (under /api/, registered by service.api)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import current
from ..api_models import scans as scan_models
from ..api_schema import operation
from ..text import clean
from ..models import Evaluation, ScanPage
from . import intake, remarks
from .access import get_batch, get_page, page_to_decide, visible_pages
from .decide import apply_page, reject_page, undo_page
from .transcriptions import remark_crop_response
from .views import uploaded_files

bp = Blueprint("scans", __name__)


# --- scans -----------------------------------------------------------------------------

def _page_dict(p) -> dict:
    r = p.reading or {}
    return {"id": p.id, "batch_id": p.batch_id, "file": p.scan_file.name, "page_no": p.page_no, "kind": p.kind,
            "status": p.status, "member_id": p.member_id, "sheet_serial": p.sheet_serial, "year": p.year,
            "problems": p.problems, "answers": r.get("answers"), "answer_confidence": r.get("answer_confidence"),
            "qr_valid": r.get("qr_valid"), "fields": r.get("fields"), "evaluation_id": p.evaluation_id,
            "applied_values": p.applied_values}


@bp.post("/scans")
@login_required
@operation("Tải lên bản quét (nhiều tệp, trường 'files'); đọc trong công việc nền", multipart=scan_models.UPLOAD,
           form=scan_models.UploadForm, ok=202, errors=(413,))
def scans_upload(form: scan_models.UploadForm):
    sess, user = db.session(), current()
    auto = form.auto_apply not in ("0", "false")
    batch = intake.start_batch(sess, user, uploaded_files(), auto_apply=auto)
    return jsonify({"id": batch.id, "job_id": batch.job_id, "page_count": batch.page_count,
                    "file_errors": [f.error for f in batch.files if f.error]}), 202


@bp.get("/scans/<int:batch_id>")
@login_required
@operation("Một lô quét và các trang")
def scans_batch(batch_id: int):
    sess, user = db.session(), current()
    b = get_batch(sess, user, batch_id)
    pages = sess.scalars(select(ScanPage).where(ScanPage.batch_id == b.id).order_by(ScanPage.id)).all()
    return jsonify({"id": b.id, "job_id": b.job_id, "page_count": b.page_count, "summary": b.summary,
                    "file_errors": [f.error for f in b.files if f.error], "pages": [_page_dict(p) for p in pages]})


@bp.get("/scan-pages")
@login_required
@operation("Các trang đã đọc", query=scan_models.PagesQuery)
def scan_pages_list(query: scan_models.PagesQuery):
    sess, user = db.session(), current()
    stmt = visible_pages(sess, user)
    if query.status:
        stmt = stmt.where(ScanPage.status == query.status)
    return jsonify({"items": [_page_dict(p) for p in sess.scalars(stmt.order_by(ScanPage.id).limit(500))]})


@bp.get("/scan-pages/<int:page_id>")
@login_required
@operation("Một trang: kết quả đọc, độ tin cậy, vị trí")
def scan_page_get(page_id: int):
    return jsonify(_page_dict(get_page(db.session(), current(), page_id)))


@bp.post("/scan-pages/<int:page_id>/apply")
@login_required
@operation("Cập nhật phiếu nhận xét từ trang (có thể sửa, chọn đảng viên khác)", body=scan_models.ApplyInput,
           body_required=False, errors=(409,))
def scan_page_apply(page_id: int, body: scan_models.ApplyInput):
    sess, user = db.session(), current()
    p = page_to_decide(sess, user, page_id)
    answers = body.answers if body.answers is not None else (p.reading or {}).get("answers") or {}
    apply_page(sess, p, user, answers, body.other_remarks, body.member_id, body.year,
               received_on=body.received_on, confirm_today=body.confirm_today)
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/reject")
@login_required
@operation("Loại trang", body=scan_models.RejectInput, body_required=False, errors=(409,))
def scan_page_reject(page_id: int, body: scan_models.RejectInput):
    sess, user = db.session(), current()
    p = page_to_decide(sess, user, page_id)
    reject_page(sess, p, user, clean(body.reason))
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/undo")
@login_required
@operation("Hoàn tác việc cập nhật", errors=(409,))
def scan_page_undo(page_id: int):
    sess, user = db.session(), current()
    p = page_to_decide(sess, user, page_id)
    undo_page(sess, p, user)
    return jsonify(_page_dict(p))


# --- item 7 transcription ----------------------------------------------------------------

@bp.get("/transcriptions")
@login_required
@operation("Các phần «Nhận xét khác» viết tay chờ nhập (trong phạm vi của người dùng)",
           ok_schema=scan_models.TranscriptionList)
def transcriptions_list():
    sess, user = db.session(), current()
    return jsonify({"items": [remarks.to_dict(ev) for ev in sess.scalars(remarks.pending(sess, user).limit(500))]})


@bp.get("/transcriptions/<int:ev_id>/crop")
@login_required
@operation("Ảnh phần «Nhận xét khác» cắt từ phiếu", binary=("image/png",))
def transcription_crop(ev_id: int):
    return remark_crop_response(ev_id)


@bp.post("/transcriptions/<int:ev_id>")
@login_required
@operation("Lưu nội dung đã gõ lại của «Nhận xét khác»", body=scan_models.TranscriptionInput,
           ok_schema=scan_models.TranscriptionOut, errors=(409,))
def transcription_save(ev_id: int, body: scan_models.TranscriptionInput):
    sess, user = db.session(), current()
    ev = sess.get(Evaluation, ev_id)
    if ev is None:
        abort(404)
    remarks.transcribe(sess, ev, user, body.text, source="api")
    return jsonify(remarks.to_dict(ev))


@bp.post("/transcriptions/<int:ev_id>/unreadable")
@login_required
@operation("Đánh dấu «Nhận xét khác» không đọc được (giữ ảnh trên hồ sơ, không còn chờ nhập)",
           ok_schema=scan_models.TranscriptionOut, errors=(409,))
def transcription_unreadable(ev_id: int):
    sess, user = db.session(), current()
    ev = sess.get(Evaluation, ev_id)
    if ev is None:
        abort(404)
    remarks.mark_unreadable(sess, ev, user, source="api")
    return jsonify(remarks.to_dict(ev))
