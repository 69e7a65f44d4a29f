"""JSON API under /api/: the same operations and permissions as the pages."""
from __future__ import annotations

import io

from flask import Blueprint, Flask, abort, jsonify, request, send_file
from flask_login import login_required
from sqlalchemy import select

from .. import db, importing
from ..auth import current, new_api_token
from ..errors import ServiceError
from ..exporting import export_members
from ..jobs import cancel
from ..models import ORG_KINDS, AuditEntry, Organisation
from ..openapi import spec
from ..permissions import get_member, get_organisation, require_admin, visible_org_ids
from ..registry import (MemberFilters, all_members, create_member, list_members, member_to_dict, org_to_dict,
                        update_member)
from ..text import clean
from .imports import get_batch
from .jobs import job_to_dict, recent_jobs, visible_job

bp = Blueprint("api", __name__, url_prefix="/api")


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError("invalid_json", "Nội dung yêu cầu phải là một đối tượng JSON.")
    return data


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.get("/me")
@login_required
def me():
    u = current()
    return jsonify({"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role,
                    "organisation_id": u.organisation_id})


@bp.post("/tokens")
@login_required
def token_create():
    sess, user = db.session(), current()
    token = new_api_token(sess, user, clean(_json_body().get("name")) or "API")
    sess.commit()
    return jsonify({"token": token}), 201


@bp.get("/members")
@login_required
def members_list():
    sess, user = db.session(), current()
    f = MemberFilters.from_args(request.args)
    items, total = list_members(sess, user, f)
    return jsonify({"items": [member_to_dict(m) for m in items], "total": total, "page": f.page,
                    "per_page": f.per_page})


@bp.post("/members")
@login_required
def members_create():
    sess, user = db.session(), current()
    member = create_member(sess, user, _json_body(), source="api")
    return jsonify(member_to_dict(member)), 201


@bp.get("/members/<int:member_id>")
@login_required
def member_get(member_id: int):
    return jsonify(member_to_dict(get_member(db.session(), current(), member_id)))


@bp.patch("/members/<int:member_id>")
@login_required
def member_update(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    update_member(sess, user, member, _json_body(), source="api")
    return jsonify(member_to_dict(member))


@bp.get("/members/<int:member_id>/history")
@login_required
def member_history(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    rows = sess.scalars(select(AuditEntry).where(AuditEntry.member_id == member.id).order_by(AuditEntry.id)).all()
    return jsonify({"items": [{"id": a.id, "action": a.action, "at": a.at.isoformat(), "source": a.source,
                               "source_ref": a.source_ref, "user": a.user.username if a.user else None,
                               "before": a.before, "after": a.after} for a in rows]})


@bp.get("/members/export.xlsx")
@login_required
def members_export():
    sess, user = db.session(), current()
    data = export_members(all_members(sess, user, MemberFilters.from_args(request.args)))
    return send_file(io.BytesIO(data), as_attachment=True, download_name="danh-sach-dang-vien.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/organisations")
@login_required
def orgs_list():
    sess, user = db.session(), current()
    stmt = select(Organisation).order_by(Organisation.search_name)
    ids = visible_org_ids(sess, user)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    kind = request.args.get("kind")
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return jsonify({"items": [org_to_dict(o) for o in sess.scalars(stmt)]})


@bp.get("/organisations/<int:org_id>")
@login_required
def org_get(org_id: int):
    org = get_organisation(db.session(), current(), org_id)
    out = org_to_dict(org)
    out["children"] = [org_to_dict(c) for c in org.children]
    return jsonify(out)


@bp.post("/organisations")
@login_required
def org_create():
    sess, user = db.session(), current()
    require_admin(user)
    data = _json_body()
    name, kind, parent_id = clean(data.get("name")), data.get("kind"), data.get("parent_id")
    if not name or kind not in ORG_KINDS:
        raise ServiceError("invalid_organisation", "Cần tên và loại tổ chức đảng hợp lệ.",
                           {"kinds": list(ORG_KINDS)})
    if parent_id is not None and sess.get(Organisation, parent_id) is None:
        raise ServiceError("invalid_organisation", "Tổ chức cấp trên không tồn tại.", {"field": "parent_id"})
    org = Organisation(kind=kind, parent_id=parent_id, place=clean(data.get("place")) or None)
    org.set_name(name)
    sess.add(org)
    sess.commit()
    return jsonify(org_to_dict(org)), 201


@bp.patch("/organisations/<int:org_id>")
@login_required
def org_update(org_id: int):
    from .organisations import update_organisation
    sess, user = db.session(), current()
    require_admin(user)
    org = sess.get(Organisation, org_id)
    if org is None:
        abort(404)
    return jsonify(org_to_dict(update_organisation(sess, org, _json_body())))


def _batch_to_dict(batch) -> dict:
    return {"id": batch.id, "file_name": batch.file_name, "status": batch.status, "job_id": batch.job_id,
            "preview": batch.preview}


@bp.post("/imports")
@login_required
def import_preview():
    sess, user = db.session(), current()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError("no_file", "Chưa gửi tệp Excel (trường 'file').")
    batch = importing.preview_upload(sess, user, upload.read(), upload.filename)
    return jsonify(_batch_to_dict(batch)), 201


@bp.get("/imports/<int:batch_id>")
@login_required
def import_get(batch_id: int):
    return jsonify(_batch_to_dict(get_batch(db.session(), current(), batch_id)))


@bp.post("/imports/<int:batch_id>/confirm")
@login_required
def import_confirm(batch_id: int):
    sess, user = db.session(), current()
    job = importing.confirm(sess, user, get_batch(sess, user, batch_id))
    return jsonify(job_to_dict(job)), 202


@bp.get("/jobs")
@login_required
def jobs_list():
    return jsonify({"items": [job_to_dict(j) for j in recent_jobs(db.session(), current())]})


@bp.get("/jobs/<int:job_id>")
@login_required
def job_get(job_id: int):
    return jsonify(job_to_dict(visible_job(db.session(), current(), job_id)))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
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
def introduction_issue(member_id: int):
    from ..documents import letters
    from .documents import require_issue
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    return jsonify(_intro_dict(letters.issue_introduction(sess, user, member))), 201


@bp.get("/introductions/<int:intro_id>/document")
@login_required
def introduction_document(intro_id: int):
    from .documents import get_introduction, send_record
    sess = db.session()
    return send_record(sess, get_introduction(sess, current(), intro_id), request.args.get("format", "docx"))


@bp.post("/members/<int:member_id>/evaluations")
@login_required
def evaluation_issue(member_id: int):
    import datetime as dt
    from ..documents import sheets
    from .documents import require_issue
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    body = request.get_json(silent=True) or {}
    year = body.get("year") or dt.date.today().year
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ServiceError("invalid_year", f"Năm không hợp lệ: {year}.")
    return jsonify(_sheet_dict(sheets.ensure_sheet(sess, member, year))), 201


@bp.get("/evaluations/<int:ev_id>/document")
@login_required
def evaluation_document(ev_id: int):
    from .documents import get_sheet, send_record
    sess = db.session()
    return send_record(sess, get_sheet(sess, current(), ev_id), request.args.get("format", "docx"))


@bp.post("/evaluations/<int:ev_id>/void")
@login_required
def evaluation_void(ev_id: int):
    from ..documents import sheets
    from .documents import get_sheet, require_issue
    sess, user = db.session(), current()
    ev = get_sheet(sess, user, ev_id)
    require_issue(sess, user, ev.member)
    new = sheets.void_and_replace(sess, user, ev, str(_json_body().get("reason") or ""))
    return jsonify({"voided": _sheet_dict(ev), "replacement": _sheet_dict(new)}), 201


@bp.post("/documents/bulk")
@login_required
def documents_bulk():
    from ..documents import bulk
    sess, user = db.session(), current()
    body = _json_body()
    if user.role not in ("admin", "workplace_staff"):
        raise ServiceError("forbidden", "Chỉ đảng ủy nơi công tác được trộn văn bản.", status=403)
    year = body.get("year")
    if not isinstance(year, int):
        raise ServiceError("invalid_year", "Cần năm (số nguyên).")
    job = bulk.start(sess, user, str(body.get("kind", "")), year, body.get("selection") or {},
                     list(body.get("outputs") or ["zip"]))
    return jsonify(job_to_dict(job)), 202


@bp.get("/documents/preview")
@login_required
def documents_preview():
    from .documents import preview
    return preview()


@bp.get("/templates")
@login_required
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
def templates_upload():
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
    row = upload_template(sess, user, request.form.get("kind", ""), upload.read(), upload.filename, definition)
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
def scans_upload():
    from ..scans import intake
    from .scans import uploaded_files
    sess, user = db.session(), current()
    auto = request.form.get("auto_apply", "1") not in ("0", "false", "")
    batch = intake.start_batch(sess, user, uploaded_files(), auto_apply=auto)
    return jsonify({"id": batch.id, "job_id": batch.job_id, "page_count": batch.page_count,
                    "file_errors": [f.error for f in batch.files if f.error]}), 202


@bp.get("/scans/<int:batch_id>")
@login_required
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
def scan_pages_list():
    from ..models import ScanPage
    from ..scans.access import visible_pages
    sess, user = db.session(), current()
    stmt = visible_pages(sess, user)
    if request.args.get("status"):
        stmt = stmt.where(ScanPage.status == request.args["status"])
    return jsonify({"items": [_page_dict(p) for p in sess.scalars(stmt.order_by(ScanPage.id).limit(500))]})


@bp.get("/scan-pages/<int:page_id>")
@login_required
def scan_page_get(page_id: int):
    from ..scans.access import get_page
    return jsonify(_page_dict(get_page(db.session(), current(), page_id)))


@bp.post("/scan-pages/<int:page_id>/apply")
@login_required
def scan_page_apply(page_id: int):
    from ..scans.decide import apply_page
    from .scans import _decide
    sess, user, p = _decide(page_id)
    body = _json_body()
    answers = body.get("answers") if body.get("answers") is not None else (p.reading or {}).get("answers") or {}
    apply_page(sess, p, user, answers, body.get("other_remarks"), body.get("member_id"), body.get("year"))
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/reject")
@login_required
def scan_page_reject(page_id: int):
    from ..scans.decide import reject_page
    from .scans import _decide
    sess, user, p = _decide(page_id)
    reject_page(sess, p, user, str((request.get_json(silent=True) or {}).get("reason") or ""))
    return jsonify(_page_dict(p))


@bp.post("/scan-pages/<int:page_id>/undo")
@login_required
def scan_page_undo(page_id: int):
    from ..scans.decide import undo_page
    from .scans import _decide
    sess, user, p = _decide(page_id)
    undo_page(sess, p, user)
    return jsonify(_page_dict(p))


# --- item 7 transcription ----------------------------------------------------------------

@bp.get("/transcriptions")
@login_required
def transcriptions_list():
    from ..scans import remarks
    sess, user = db.session(), current()
    return jsonify({"items": [remarks.to_dict(ev) for ev in sess.scalars(remarks.pending(sess, user).limit(500))]})


@bp.get("/transcriptions/<int:ev_id>/crop")
@login_required
def transcription_crop(ev_id: int):
    from .transcriptions import remark_crop_response
    return remark_crop_response(ev_id)


@bp.post("/transcriptions/<int:ev_id>")
@login_required
def transcription_save(ev_id: int):
    from ..models import Evaluation
    from ..scans import remarks
    sess, user = db.session(), current()
    ev = sess.get(Evaluation, ev_id)
    if ev is None:
        abort(404)
    remarks.transcribe(sess, ev, user, _json_body().get("text"), source="api")
    return jsonify(remarks.to_dict(ev))
