"""JSON API of Excel import of member lists (under /api/, registered by service.api)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import login_required

from .. import db, importing
from ..auth import current
from ..errors import ServiceError
from ..api_models import misc
from ..api_schema import operation
from .views import get_batch
from ..jobs.views import job_to_dict

bp = Blueprint("importing", __name__)


def _batch_to_dict(batch) -> dict:
    return {"id": batch.id, "file_name": batch.file_name, "status": batch.status, "job_id": batch.job_id,
            "preview": batch.preview}


@bp.post("/imports")
@login_required
@operation("Tải lên tệp Excel và xem trước", multipart=misc.XLSX_UPLOAD, form=misc.ImportForm, ok=201,
           ok_schema=misc.ImportBatchOut, errors=(413,))
def import_preview(form: misc.ImportForm):
    sess, user = db.session(), current()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError("no_file", "Chưa gửi tệp Excel (trường 'file').")
    mapping = None
    if form.mapping:
        import json
        try:
            mapping = json.loads(form.mapping)
        except ValueError:
            raise ServiceError("invalid_mapping", "Trường 'mapping' phải là JSON: {\"cột\": \"trường\"}.") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ServiceError("invalid_mapping", "Trường 'mapping' phải là JSON: {\"cột\": \"trường\"}.")
    batch = importing.preview_upload(sess, user, upload.read(), upload.filename, mapping=mapping)
    return jsonify(_batch_to_dict(batch)), 201


@bp.post("/imports/<int:batch_id>/mapping")
@login_required
@operation("Đổi cách ghép cột với trường rồi xem trước lại", body=misc.ImportMapping, ok_schema=misc.ImportBatchOut,
           errors=(409,))
def import_mapping(batch_id: int, body: misc.ImportMapping):
    sess, user = db.session(), current()
    batch = importing.remap(sess, user, get_batch(sess, user, batch_id), dict(body.mapping))
    return jsonify(_batch_to_dict(batch))


@bp.post("/imports/<int:batch_id>/places")
@login_required
@operation("Địa danh của các đảng ủy xã, phường sẽ được tạo mới", body=misc.ImportPlaces,
           ok_schema=misc.ImportBatchOut, errors=(409,))
def import_places(batch_id: int, body: misc.ImportPlaces):
    sess, user = db.session(), current()
    batch = importing.set_places(sess, user, get_batch(sess, user, batch_id), dict(body.places))
    return jsonify(_batch_to_dict(batch))


@bp.post("/imports/<int:batch_id>/undo")
@login_required
@operation("Hoàn tác một lần nhập đã xác nhận", ok_schema=misc.ImportUndoOut, errors=(409,))
def import_undo(batch_id: int):
    sess, user = db.session(), current()
    batch = get_batch(sess, user, batch_id)
    result = importing.undo_import(sess, user, batch)
    return jsonify({**_batch_to_dict(batch), "undo": result})


@bp.get("/imports/<int:batch_id>")
@login_required
@operation("Kết quả xem trước", ok_schema=misc.ImportBatchOut)
def import_get(batch_id: int):
    return jsonify(_batch_to_dict(get_batch(db.session(), current(), batch_id)))


@bp.post("/imports/<int:batch_id>/confirm")
@login_required
@operation("Xác nhận nhập (chạy thành công việc nền)", ok=202, ok_schema=misc.JobOut, errors=(409,))
def import_confirm(batch_id: int):
    sess, user = db.session(), current()
    job = importing.confirm(sess, user, get_batch(sess, user, batch_id))
    return jsonify(job_to_dict(job)), 202
