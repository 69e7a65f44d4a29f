"""JSON API of the organisation tree (under /api/, registered by service.api)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import current
from ..models import Organisation
from ..permissions import get_organisation, visible_org_ids
from ..members.registry import org_to_dict
from ..api_models import organisations as org_models
from ..api_schema import operation
from .views import update_organisation
from .views import create_organisation

bp = Blueprint("organisations", __name__)


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
