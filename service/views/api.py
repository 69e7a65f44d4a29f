"""JSON API under /api/: the same operations and permissions as the pages."""
from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, jsonify, request, send_file
from flask_login import login_required
from sqlalchemy import select

from .. import db, importing
from ..auth import current, new_api_token, revoke_token, token_to_dict
from ..errors import ServiceError
from ..members.export import export_members
from ..jobs import cancel
from ..models import ApiToken, AuditEntry, Organisation
from ..openapi import spec
from ..permissions import get_member, get_organisation, require_admin, visible_org_ids
from ..members.registry import (MemberFilters, all_members, create_member, list_members, member_to_dict, org_to_dict,
                        update_member)
from ..api_models import documents as doc_models, members as member_models, misc, organisations as org_models
from ..api_models import scans as scan_models
from ..api_schema import operation
from ..text import clean
from ..importing.views import get_batch
from .jobs import job_to_dict, recent_jobs, visible_job
from ..organisations.views import update_organisation

bp = Blueprint("api", __name__, url_prefix="/api")


def register(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/openapi.json")
@operation("Tài liệu OpenAPI này", public=True)
def openapi():
    return jsonify(spec())


@bp.get("/me")
@login_required
@operation("Người dùng hiện tại", errors=(401,))
def me():
    u = current()
    return jsonify({"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role,
                    "organisation_id": u.organisation_id})


@bp.post("/tokens")
@login_required
@operation("Tạo mã truy cập API cho chính mình", body=misc.TokenInput, body_required=False, ok=201,
           ok_schema=misc.TokenOut)
def token_create(body: misc.TokenInput):
    sess, user = db.session(), current()
    secret, row = new_api_token(sess, user, clean(body.name) or "API", body.expires_in_days)
    sess.commit()
    return jsonify({**token_to_dict(row), "token": secret}), 201


@bp.get("/tokens")
@login_required
@operation("Các mã truy cập API của mình (không có mã bí mật)", ok_schema=misc.TokenList)
def tokens_list():
    """The caller's own tokens (never the secret)."""
    sess, user = db.session(), current()
    rows = sess.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return jsonify({"items": [token_to_dict(r) for r in rows]})


@bp.delete("/tokens/<int:token_id>")
@login_required
@operation("Thu hồi mã truy cập (của mình; quản trị viên: mọi mã)", ok_schema=misc.ApiTokenOut)
def token_revoke(token_id: int):
    """Revoke one's own token; administrators may revoke anyone's."""
    return jsonify(token_to_dict(revoke_token(db.session(), current(), token_id)))


@bp.get("/members")
@login_required
@operation("Danh sách đảng viên trong phạm vi của người dùng", query=member_models.MemberFilterQuery,
           ok_schema=member_models.MemberPage)
def members_list(query):
    sess, user = db.session(), current()
    f = MemberFilters.from_args(request.args)
    items, total = list_members(sess, user, f)
    return jsonify({"items": [member_to_dict(m) for m in items], "total": total, "page": f.page,
                    "per_page": f.per_page})


@bp.post("/members")
@login_required
@operation("Thêm đảng viên", body=member_models.MemberInput, ok=201, ok_schema=member_models.MemberOut, errors=(409,))
def members_create(body: member_models.MemberInput):
    sess, user = db.session(), current()
    member = create_member(sess, user, body.model_dump(exclude_unset=True), source="api")
    return jsonify(member_to_dict(member)), 201


@bp.get("/members/<int:member_id>")
@login_required
@operation("Hồ sơ một đảng viên", ok_schema=member_models.MemberOut)
def member_get(member_id: int):
    return jsonify(member_to_dict(get_member(db.session(), current(), member_id)))


@bp.patch("/members/<int:member_id>")
@login_required
@operation("Sửa hồ sơ", body=member_models.MemberPatch, ok_schema=member_models.MemberOut, errors=(409,))
def member_update(member_id: int, body: member_models.MemberPatch):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    update_member(sess, user, member, body.model_dump(exclude_unset=True), source="api")
    return jsonify(member_to_dict(member))


@bp.get("/members/<int:member_id>/history")
@login_required
@operation("Lịch sử thay đổi của hồ sơ")
def member_history(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    rows = sess.scalars(select(AuditEntry).where(AuditEntry.member_id == member.id).order_by(AuditEntry.id)).all()
    return jsonify({"items": [{"id": a.id, "action": a.action, "at": a.at.isoformat(), "source": a.source,
                               "source_ref": a.source_ref, "user": a.user.username if a.user else None,
                               "before": a.before, "after": a.after} for a in rows]})


@bp.get("/members/export.xlsx")
@login_required
@operation("Xuất danh sách (đã lọc) ra Excel", query=member_models.MemberFilterQuery, binary=(misc.XLSX,))
def members_export(query):
    sess, user = db.session(), current()
    data = export_members(all_members(sess, user, MemberFilters.from_args(request.args)))
    return send_file(io.BytesIO(data), as_attachment=True, download_name="danh-sach-dang-vien.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/organisations")
@login_required
@operation("Tổ chức đảng", query=org_models.OrgQuery)
def orgs_list(query: org_models.OrgQuery):
    sess, user = db.session(), current()
    stmt = select(Organisation).order_by(Organisation.search_name)
    ids = visible_org_ids(sess, user)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    if query.kind:
        stmt = stmt.where(Organisation.kind == query.kind)
    return jsonify({"items": [org_to_dict(o) for o in sess.scalars(stmt)]})


@bp.get("/organisations/<int:org_id>")
@login_required
@operation("Một tổ chức đảng")
def org_get(org_id: int):
    org = get_organisation(db.session(), current(), org_id)
    out = org_to_dict(org)
    out["children"] = [org_to_dict(c) for c in org.children]
    return jsonify(out)


@bp.post("/organisations")
@login_required
@operation("Thêm tổ chức đảng (quản trị viên)", body=org_models.OrgInput, ok=201, ok_schema=org_models.OrgOut)
def org_create(body: org_models.OrgInput):
    from ..organisations.views import create_organisation
    sess, user = db.session(), current()
    return jsonify(org_to_dict(create_organisation(sess, user, body.model_dump(exclude_unset=True)))), 201


@bp.patch("/organisations/<int:org_id>")
@login_required
@operation("Sửa tên, địa danh, bí thư ký văn bản, cấp trên (quản trị viên)", body=org_models.OrgPatch,
           ok_schema=org_models.OrgOut)
def org_update(org_id: int, body: org_models.OrgPatch):
    sess, user = db.session(), current()
    org = sess.get(Organisation, org_id)
    if org is None:
        abort(404)
    return jsonify(org_to_dict(update_organisation(sess, user, org, body.model_dump(exclude_unset=True))))


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


@bp.get("/jobs")
@login_required
@operation("Công việc nền")
def jobs_list():
    return jsonify({"items": [job_to_dict(j) for j in recent_jobs(db.session(), current())]})


@bp.get("/jobs/<int:job_id>")
@login_required
@operation("Một công việc và tiến độ", ok_schema=misc.JobOut)
def job_get(job_id: int):
    return jsonify(job_to_dict(visible_job(db.session(), current(), job_id)))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
@operation("Hủy công việc", ok_schema=misc.JobOut)
def job_cancel(job_id: int):
    sess, user = db.session(), current()
    job = visible_job(sess, user, job_id)
    cancel(sess, job)
    sess.commit()
    return jsonify(job_to_dict(job))


# --- documents -------------------------------------------------------------------------

def _intro_dict(i) -> dict:
    return {"id": i.id, "member_id": i.member_id, "number": i.number, "year": i.year,
            "reference": f"{i.number}-GGT/ĐU", "issued_on": i.issued_on.isoformat(),
            "issuing_org_id": i.issuing_org_id, "residence_cell_id": i.residence_cell_id,
            "received_on": i.received_on.isoformat() if i.received_on else None,
            "template_version": i.template_version}


def _sheet_dict(e) -> dict:
    return {"id": e.id, "member_id": e.member_id, "year": e.year, "sheet_serial": e.sheet_serial,
            "variant": e.variant, "status": e.status, "template_version": e.template_version,
            "replaces_id": e.replaces_id, "voided_reason": e.voided_reason}


@bp.post("/members/<int:member_id>/introductions")
@login_required
@operation("Lập giấy giới thiệu (hoặc trả lại giấy đã lập trong năm)", ok=201, ok_schema=doc_models.IntroductionOut)
def introduction_issue(member_id: int):
    from ..documents import letters
    from ..documents.views import require_issue
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    return jsonify(_intro_dict(letters.issue_introduction(sess, user, member))), 201


@bp.get("/introductions/<int:intro_id>/document")
@login_required
@operation("Tải giấy giới thiệu (giữ nguyên số)", query=doc_models.FormatQuery, binary=doc_models.DOCUMENT_TYPES)
def introduction_document(intro_id: int, query: doc_models.FormatQuery):
    from ..documents.views import get_introduction, send_record
    sess = db.session()
    return send_record(sess, get_introduction(sess, current(), intro_id), query.format or "docx")


@bp.post("/members/<int:member_id>/evaluations")
@login_required
@operation("Lập phiếu nhận xét của năm (mỗi năm một số phiếu)", body=doc_models.SheetInput, body_required=False,
           ok=201, ok_schema=doc_models.SheetOut)
def evaluation_issue(member_id: int, body: doc_models.SheetInput):
    import datetime as dt
    from ..documents import sheets
    from ..documents.views import require_issue
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    year = body.year or dt.date.today().year
    return jsonify(_sheet_dict(sheets.ensure_sheet(sess, member, year, user=user))), 201


@bp.get("/evaluations/<int:ev_id>/document")
@login_required
@operation("Tải phiếu nhận xét", query=doc_models.FormatQuery, binary=doc_models.DOCUMENT_TYPES)
def evaluation_document(ev_id: int, query: doc_models.FormatQuery):
    from ..documents.views import get_sheet, send_record
    sess = db.session()
    return send_record(sess, get_sheet(sess, current(), ev_id), query.format or "docx")


@bp.post("/evaluations/<int:ev_id>/void")
@login_required
@operation("Hủy phiếu và lập phiếu thay thế", body=doc_models.VoidInput, ok=201, ok_schema=doc_models.VoidOut)
def evaluation_void(ev_id: int, body: doc_models.VoidInput):
    from ..documents import sheets
    from ..documents.views import get_sheet, require_issue
    sess, user = db.session(), current()
    ev = get_sheet(sess, user, ev_id)
    require_issue(sess, user, ev.member)
    new = sheets.void_and_replace(sess, user, ev, clean(body.reason))
    return jsonify({"voided": _sheet_dict(ev), "replacement": _sheet_dict(new)}), 201


@bp.post("/documents/bulk")
@login_required
@operation("Trộn văn bản hàng loạt (công việc nền)", body=doc_models.BulkInput, ok=202, ok_schema=misc.JobOut)
def documents_bulk(body: doc_models.BulkInput):
    from ..documents import bulk
    sess, user = db.session(), current()
    if user.role not in ("admin", "workplace_staff"):
        raise ServiceError("forbidden", "Chỉ đảng ủy nơi công tác được trộn văn bản.", status=403)
    selection = body.selection.model_dump(exclude_none=True) if body.selection else {}
    job = bulk.start(sess, user, body.kind, body.year, selection, list(body.outputs or ["zip"]))
    return jsonify(job_to_dict(job)), 202


@bp.get("/documents/preview")
@login_required
@operation("Xem trước một văn bản (PDF hoặc PNG), không lập số", query=doc_models.PreviewQuery,
           binary=doc_models.DOCUMENT_TYPES)
def documents_preview(query: doc_models.PreviewQuery):
    from ..documents.views import preview
    return preview()  # reads the same PreviewQuery (the web page's preview shares it)


@bp.get("/templates")
@login_required
@operation("Các phiên bản mẫu văn bản")
def templates_list():
    from ..documents.templates_store import sync_builtin
    from ..models import DocumentTemplate
    sess = db.session()
    sync_builtin(sess)
    rows = sess.scalars(select(DocumentTemplate).order_by(DocumentTemplate.kind, DocumentTemplate.version))
    return jsonify({"items": [{"id": t.id, "kind": t.kind, "version": t.version, "name": t.name, "active": t.active,
                               "builtin": bool(t.builtin_path)} for t in rows]})


@bp.post("/templates")
@login_required
@operation("Tải lên phiên bản mẫu mới (quản trị viên)", multipart=misc.TEMPLATE_UPLOAD, form=misc.TemplateForm,
           ok=201, errors=(413,))
def templates_upload(form: misc.TemplateForm):
    import json
    from ..documents.templates_store import upload_template
    sess, user = db.session(), current()
    require_admin(user)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError("no_file", "Chưa gửi tệp mẫu (trường 'file').")
    definition = None
    if request.files.get("definition"):
        try:
            definition = json.loads(request.files["definition"].read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ServiceError("invalid_definition", "Tệp định nghĩa không phải JSON hợp lệ.")
    row = upload_template(sess, user, form.kind, upload.read(), upload.filename, definition)
    return jsonify({"id": row.id, "kind": row.kind, "version": row.version, "name": row.name}), 201


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
    from ..scans import intake
    from ..scans.views import uploaded_files
    sess, user = db.session(), current()
    auto = form.auto_apply not in ("0", "false")
    batch = intake.start_batch(sess, user, uploaded_files(), auto_apply=auto)
    return jsonify({"id": batch.id, "job_id": batch.job_id, "page_count": batch.page_count,
                    "file_errors": [f.error for f in batch.files if f.error]}), 202


@bp.get("/scans/<int:batch_id>")
@login_required
@operation("Một lô quét và các trang")
def scans_batch(batch_id: int):
    from ..models import ScanPage
    from ..scans.access import get_batch
    sess, user = db.session(), current()
    b = get_batch(sess, user, batch_id)
    pages = sess.scalars(select(ScanPage).where(ScanPage.batch_id == b.id).order_by(ScanPage.id)).all()
    return jsonify({"id": b.id, "job_id": b.job_id, "page_count": b.page_count, "summary": b.summary,
                    "file_errors": [f.error for f in b.files if f.error], "pages": [_page_dict(p) for p in pages]})


@bp.get("/scan-pages")
@login_required
@operation("Các trang đã đọc", query=scan_models.PagesQuery)
def scan_pages_list(query: scan_models.PagesQuery):
    from ..models import ScanPage
    from ..scans.access import visible_pages
    sess, user = db.session(), current()
    stmt = visible_pages(sess, user)
    if query.status:
        stmt = stmt.where(ScanPage.status == query.status)
    return jsonify({"items": [_page_dict(p) for p in sess.scalars(stmt.order_by(ScanPage.id).limit(500))]})


@bp.get("/scan-pages/<int:page_id>")
@login_required
@operation("Một trang: kết quả đọc, độ tin cậy, vị trí")
def scan_page_get(page_id: int):
    from ..scans.access import get_page
    return jsonify(_page_dict(get_page(db.session(), current(), page_id)))


@bp.post("/scan-pages/<int:page_id>/apply")
@login_required
@operation("Cập nhật phiếu nhận xét từ trang (có thể sửa, chọn đảng viên khác)", body=scan_models.ApplyInput,
           body_required=False, errors=(409,))
def scan_page_apply(page_id: int, body: scan_models.ApplyInput):
    from ..scans.decide import apply_page
    from ..scans.views import _decide
    sess, user, p = _decide(page_id)
    answers = body.answers if body.answers is not None else (p.reading or {}).get("answers") or {}
    apply_page(sess, p, user, answers, body.other_remarks, body.member_id, body.year)
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/reject")
@login_required
@operation("Loại trang", body=scan_models.RejectInput, body_required=False, errors=(409,))
def scan_page_reject(page_id: int, body: scan_models.RejectInput):
    from ..scans.decide import reject_page
    from ..scans.views import _decide
    sess, user, p = _decide(page_id)
    reject_page(sess, p, user, clean(body.reason))
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/undo")
@login_required
@operation("Hoàn tác việc cập nhật", errors=(409,))
def scan_page_undo(page_id: int):
    from ..scans.decide import undo_page
    from ..scans.views import _decide
    sess, user, p = _decide(page_id)
    undo_page(sess, p, user)
    return jsonify(_page_dict(p))
