"""JSON API of members (under /api/, registered by service.api)."""
from __future__ import annotations

import io

from flask import Blueprint, jsonify, request, send_file
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..auth import current
from .export import export_members
from ..models import AuditEntry
from ..permissions import get_member
from .registry import MemberFilters, all_members, create_member, list_members, member_to_dict, update_member
from ..api_models import members as member_models, misc
from ..api_schema import operation

bp = Blueprint("members", __name__)


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
