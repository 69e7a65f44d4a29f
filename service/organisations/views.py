"""Organisation pages: the tree and one organisation with its members."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from .. import audit, db
from ..auth import current
from ..errors import ServiceError
from ..models import ORG_KINDS, Member, Organisation
from ..permissions import get_organisation, require_write, subtree_ids, visible_org_ids
from ..members.registry import MemberFilters, list_members, org_snapshot
from ..text import checked_text, clean, vi_sorted_names

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def _visible(sess, user):
    ids = visible_org_ids(sess, user)
    stmt = select(Organisation).order_by(Organisation.search_name)
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(ids))
    return vi_sorted_names(sess.scalars(stmt))


@bp.route("/")
@login_required
def index():
    sess, user = db.session(), current()
    orgs = _visible(sess, user)
    by_parent: dict = {}
    ids = {o.id for o in orgs}
    for o in orgs:
        by_parent.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    counts = dict(sess.execute(select(Member.workplace_org_id, func.count()).group_by(Member.workplace_org_id)).all())
    counts_res = dict(sess.execute(select(Member.residence_cell_id, func.count()).group_by(Member.residence_cell_id)).all())
    return render_template("orgs/list.html", by_parent=by_parent, kinds=ORG_KINDS,
                           counts=counts, counts_res=counts_res, all_orgs=orgs)


@bp.route("/new", methods=["POST"])
@login_required
def create():
    sess, user = db.session(), current()
    org = create_organisation(sess, user, request.form.to_dict())
    flash(f"Đã thêm {org.name}.", "success")
    return redirect(url_for("organisations.detail", org_id=org.id))


def create_organisation(sess, user, data: dict) -> Organisation:
    """A new organisation (administrators), audited."""
    name, kind = clean(data.get("name")), data.get("kind", "")
    require_write(sess, user, Organisation(kind=kind), message="Chỉ quản trị viên được thêm tổ chức đảng.")
    if not name or kind not in ORG_KINDS:
        raise ServiceError("invalid_organisation", "Cần tên và loại tổ chức đảng hợp lệ.", {"kinds": list(ORG_KINDS)})
    org = Organisation(kind=kind, parent_id=parent_of(sess, data.get("parent_id")),
                       place=org_text(data.get("place"), "place") or None)
    org.set_name(org_text(name, "name"))
    sess.add(org)
    audit.record(sess, "organisation", org, "create", None, org_snapshot(org), user=user)
    sess.commit()
    return org


@bp.route("/<int:org_id>")
@login_required
def detail(org_id: int):
    sess, user = db.session(), current()
    org = get_organisation(sess, user, org_id)
    f = MemberFilters.from_args(request.args)
    if org.kind in ("residence_cell", "ward_committee"):
        f.ward_id = org.id
    else:
        f.workplace_org_id = org.id
    members, total = list_members(sess, user, f)
    return render_template("orgs/detail.html", org=org, members=members, total=total,
                           subtree=len(subtree_ids(sess, org.id)) - 1)


@bp.route("/<int:org_id>/edit", methods=["POST"])
@login_required
def edit(org_id: int):
    sess, user = db.session(), current()
    org = sess.get(Organisation, org_id) or abort(404)
    update_organisation(sess, user, org, request.form.to_dict())
    flash("Đã lưu thông tin tổ chức đảng.", "success")
    return redirect(url_for("organisations.detail", org_id=org.id))


FIELD_LABELS = {"name": "Tên tổ chức đảng", "place": "Địa danh", "secretary_name": "Họ tên bí thư",
                "parent_id": "Tổ chức cấp trên", "upper_body_name": "Tên cấp ủy cấp trên in trên văn bản",
                "document_code": "Ký hiệu cơ quan trong số văn bản"}
DOCUMENT_CODE = re.compile(r"^[A-ZĐ0-9][A-ZĐ0-9\-]{0,19}$")


def org_text(value, field: str) -> str:
    """Cleaned text that fits its column, or 400 invalid_organisation naming the field."""
    return checked_text(value, Organisation.__table__.columns[field].type.length, FIELD_LABELS[field],
                   "invalid_organisation", field)


def parent_of(sess, raw) -> int | None:
    """An existing organisation's id from a form or JSON value ("" or None: no parent)."""
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    parent = sess.get(Organisation, int(text)) if text.isascii() and text.isdigit() and len(text) <= 9 else None
    if parent is None:
        raise ServiceError("invalid_organisation", "Tổ chức cấp trên không tồn tại.", {"field": "parent_id"})
    return parent.id


def update_organisation(sess, user, org: Organisation, data: dict) -> Organisation:
    """Name, place printed on documents, secretary who signs, parent (not under itself). Audited."""
    require_write(sess, user, org, message="Chỉ quản trị viên được sửa tổ chức đảng.")
    before = org_snapshot(org)
    if "name" in data:
        name = org_text(data["name"], "name")
        if not name:
            raise ServiceError("invalid_organisation", "Tên tổ chức đảng không được để trống.")
        org.set_name(name)
    for field in ("place", "secretary_name", "upper_body_name"):
        if field in data:
            setattr(org, field, org_text(data[field], field) or None)
    if "document_code" in data:
        code = org_text(data["document_code"], "document_code").upper()
        if code and not DOCUMENT_CODE.match(code):
            raise ServiceError("invalid_organisation",
                               f"Ký hiệu cơ quan trong số văn bản không hợp lệ: «{code}»; chỉ gồm chữ in hoa và "
                               "chữ số, không dấu cách, không dấu «/», ví dụ ĐU hoặc CB.", {"field": "document_code"})
        org.document_code = code or None
    if "parent_id" in data:
        parent_id = parent_of(sess, data["parent_id"])
        if parent_id is not None and parent_id in subtree_ids(sess, org.id):
            raise ServiceError("invalid_parent", "Không thể đặt tổ chức đảng trực thuộc chính nó hoặc cấp dưới của nó.")
        org.parent_id = parent_id
    audit.record(sess, "organisation", org, "update", before, org_snapshot(org), user=user)
    sess.commit()
    return org
