"""JSON API under /api/: the same operations and permissions as the pages.

This module holds only the OpenAPI document, ``me`` and the caller's tokens; each feature's routes live
in its own ``api`` module (a blueprint nested here, so every route is under /api/ and shares the API
rate limit). Endpoint names are ``api.<feature>.<function>``.
"""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask_login import login_required
from sqlalchemy import select

from . import db
from .auth import current, new_api_token, revoke_token, token_to_dict
from .models import ApiToken
from .openapi import spec
from .api_models import misc
from .api_schema import operation
from .text import clean
from .documents import api as documents_api
from .importing import api as importing_api
from .members import api as members_api
from .organisations import api as organisations_api
from .scans import api as scans_api
from .jobs import api as jobs_api
from .reports import api as reports_api
from .campaigns import api as campaigns_api

bp = Blueprint("api", __name__, url_prefix="/api")


FEATURE_APIS = (members_api, organisations_api, importing_api, jobs_api, documents_api, scans_api,
                reports_api, campaigns_api)
for _feature in FEATURE_APIS:
    bp.register_blueprint(_feature.bp)


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
