"""JSON API of introduction letters, evaluation sheets and templates (under /api/, registered by service.api)."""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, jsonify, request
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import current
from ..errors import ServiceError
from ..permissions import get_member, require_admin, require_write
from ..api_models import documents as doc_models, misc, packets as packet_models
from ..api_schema import operation
from ..text import clean
from ..jobs.views import job_to_dict
from ..models import DocumentTemplate
from . import bulk, letters, packets, sheets
from .templates_store import sync_builtin, upload_template
from .views import get_introduction, get_sheet, preview, require_issue, send_record

bp = Blueprint("documents", __name__)


def _intro_dict(i) -> dict:
    return {"id": i.id, "member_id": i.member_id, "number": i.number, "year": i.year,
            "reference": letters.reference(i), "issued_on": i.issued_on.isoformat(),
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
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    out = _intro_dict(letters.issue_introduction(sess, user, member))
    out["warnings"] = letters.issue_warnings(member)
    return jsonify(out), 201


@bp.get("/members/<int:member_id>/introductions/check")
@login_required
@operation("Kiểm tra trước khi lập giấy giới thiệu (ví dụ: tổ chức chưa có bí thư ký văn bản)",
           ok_schema=doc_models.IssueCheckOut)
def introduction_check(member_id: int):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    return jsonify({"warnings": letters.issue_warnings(member)})


@bp.get("/introductions/<int:intro_id>/document")
@login_required
@operation("Tải giấy giới thiệu (giữ nguyên số)", query=doc_models.FormatQuery, binary=doc_models.DOCUMENT_TYPES)
def introduction_document(intro_id: int, query: doc_models.FormatQuery):
    sess = db.session()
    return send_record(sess, get_introduction(sess, current(), intro_id), query.format or "docx")


@bp.post("/members/<int:member_id>/evaluations")
@login_required
@operation("Lập phiếu nhận xét của năm (mỗi năm một số phiếu)", body=doc_models.SheetInput, body_required=False,
           ok=201, ok_schema=doc_models.SheetOut)
def evaluation_issue(member_id: int, body: doc_models.SheetInput):
    sess, user = db.session(), current()
    member = get_member(sess, user, member_id)
    require_issue(sess, user, member)
    year = body.year or dt.date.today().year
    return jsonify(_sheet_dict(sheets.ensure_sheet(sess, member, year, user=user))), 201


@bp.get("/evaluations/<int:ev_id>/document")
@login_required
@operation("Tải phiếu nhận xét", query=doc_models.FormatQuery, binary=doc_models.DOCUMENT_TYPES)
def evaluation_document(ev_id: int, query: doc_models.FormatQuery):
    sess = db.session()
    return send_record(sess, get_sheet(sess, current(), ev_id), query.format or "docx")


@bp.post("/evaluations/<int:ev_id>/void")
@login_required
@operation("Hủy phiếu và lập phiếu thay thế", body=doc_models.VoidInput, ok=201, ok_schema=doc_models.VoidOut)
def evaluation_void(ev_id: int, body: doc_models.VoidInput):
    sess, user = db.session(), current()
    ev = get_sheet(sess, user, ev_id)
    require_issue(sess, user, ev.member)
    new = sheets.void_and_replace(sess, user, ev, clean(body.reason))
    return jsonify({"voided": _sheet_dict(ev), "replacement": _sheet_dict(new)}), 201


@bp.post("/documents/bulk")
@login_required
@operation("Trộn văn bản hàng loạt (công việc nền)", body=doc_models.BulkInput, ok=202, ok_schema=misc.JobOut)
def documents_bulk(body: doc_models.BulkInput):
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
    return preview()  # reads the same PreviewQuery (the web page's preview shares it)


@bp.get("/templates")
@login_required
@operation("Các phiên bản mẫu văn bản")
def templates_list():
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


def _run_member(m) -> dict:
    return {"id": m.id, "full_name": m.full_name, "residence_cell_id": m.residence_cell_id,
            "residence_cell": m.residence_cell.name if m.residence_cell else None}


@bp.get("/documents/packets/run")
@login_required
@operation("Đảng viên được gửi phiếu nhận xét của năm, theo chi bộ nơi cư trú, và đảng viên được miễn (không gửi)",
           query=packet_models.YearRunQuery, ok_schema=packet_models.YearRunOut)
def packets_run(query: packet_models.YearRunQuery):
    sess, user = db.session(), current()
    committee = packets.workplace_committee(sess, query.committee_id)
    require_write(sess, user, committee, "documents",
                  message=f"Chỉ {committee.name} (hoặc quản trị viên) được gửi bộ phiếu của đảng ủy này.")
    run = packets.members_for_year_run(sess, committee.id, query.year)
    return jsonify({"committee_id": committee.id, "year": run.year, "members": [_run_member(m) for m in run.members],
                    "cells": [{"residence_cell_id": c.id if c else None, "residence_cell": c.name if c else None,
                               "members": len(ms)} for c, ms in run.cells()],
                    "exempt": [_run_member(m) for m in run.exempt]})


@bp.post("/documents/packets")
@login_required
@operation("Lập bộ phiếu gửi từng chi bộ nơi cư trú: phiếu xin ý kiến có số và các phiếu nhận xét, Word và PDF "
           "(công việc nền)", body=packet_models.PacketsInput, ok=202, ok_schema=misc.JobOut)
def packets_start(body: packet_models.PacketsInput):
    sess, user = db.session(), current()
    job = packets.start(sess, user, body.committee_id, body.year, return_deadline=body.return_deadline,
                        sheet_ids=body.sheet_ids, include_exempt=bool(body.include_exempt),
                        answer_codes=bool(body.answer_codes))
    return jsonify(job_to_dict(job)), 202
