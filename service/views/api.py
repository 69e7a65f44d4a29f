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
from ..models import ORG_KINDS, AuditEntry, Job, Organisation
from ..openapi import spec
from ..permissions import get_member, require_admin, visible_org_ids
from ..registry import (MemberFilters, all_members, create_member, list_members, member_to_dict, org_to_dict,
                        update_member)
from ..text import clean
from .imports import get_batch
from .jobs import job_to_dict, visible_job

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
    sess, user = db.session(), current()
    org = sess.get(Organisation, org_id)
    if org is None:
        abort(404)
    ids = visible_org_ids(sess, user)
    if ids is not None and org.id not in ids:
        abort(403)
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
    sess, user = db.session(), current()
    stmt = select(Job).order_by(Job.id.desc()).limit(100)
    if user.role != "admin":
        stmt = stmt.where(Job.created_by == user.id)
    return jsonify({"items": [job_to_dict(j) for j in sess.scalars(stmt)]})


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
