"""Template versions: the built-in ones from templates/, and administrators' uploads."""
from __future__ import annotations

import copy
import functools
import hashlib
import hmac
from pathlib import Path
from typing import Optional

import docgen
from docgen.render import BulkRenderer
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit, db, storage
from ..permissions import require_write
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from ..errors import NotFound, ServiceError
from ..models import DocumentTemplate, StoredFile, User, utcnow

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
KIND_LABELS = {
    "introduction_letter": "Giấy giới thiệu (mẫu 1-213)",
    "evaluation_sheet": "Phiếu nhận xét đảng viên nơi cư trú",
}


def mark_key() -> bytes:
    """The installation's key for the HMAC on each sheet's QR code (derived from the secret key)."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"noicutru/sheet-qr/v1", hashlib.sha256).digest()


_synced: set[str] = set()


def sync_builtin(sess: Session, force: bool = False) -> None:
    """Register every template shipped in templates/ (once per kind and version, once per process)."""
    url = str(sess.get_bind().url)
    if url in _synced and not force:
        return
    insert = pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert
    with db.new_session() as own:  # its own transaction: safe beside any caller's
        for info in docgen.list_templates(TEMPLATES_DIR):
            own.execute(insert(DocumentTemplate).values(
                kind=info.kind, version=info.version, name=info.template_path.name,
                builtin_path=info.template_path.name, definition=docgen.load_definition(info.definition_path),
                active=True, created_at=utcnow()).on_conflict_do_nothing(index_elements=["kind", "version"]))
    _synced.add(url)


def _first(sess: Session, stmt) -> Optional[DocumentTemplate]:
    """The first row of ``stmt``, registering the built-in templates first (again, if they were lost)."""
    sync_builtin(sess)
    row = sess.scalar(stmt)
    if row is None:
        sync_builtin(sess, force=True)
        row = sess.scalar(stmt)
    return row


def active_template(sess: Session, kind: str) -> DocumentTemplate:
    row = _first(sess, select(DocumentTemplate).where(DocumentTemplate.kind == kind, DocumentTemplate.active)
                 .order_by(DocumentTemplate.version.desc()))
    if row is None:
        raise ServiceError("no_template", f"Chưa có mẫu nào cho loại văn bản: {KIND_LABELS.get(kind, kind)}.")
    return row


def template_version(sess: Session, kind: str, version: int) -> DocumentTemplate:
    row = _first(sess, select(DocumentTemplate).where(DocumentTemplate.kind == kind, DocumentTemplate.version == version))
    if row is None:
        raise NotFound(f"Không có mẫu {KIND_LABELS.get(kind, kind)} phiên bản {version}.")
    return row


def template_path(sess: Session, row: DocumentTemplate) -> Path:
    if row.builtin_path:
        return TEMPLATES_DIR / row.builtin_path
    return storage.path_of(sess.get(StoredFile, row.file_id))


@functools.lru_cache(maxsize=16)
def _renderer(path: str, _mtime: float, definition_json: str, key: bytes) -> BulkRenderer:
    import json
    return BulkRenderer(path, json.loads(definition_json), mark_key=key)


def renderer(sess: Session, row: DocumentTemplate) -> BulkRenderer:
    """The template version parsed and compiled once per process, then rendered many times."""
    import json
    path = template_path(sess, row)
    return _renderer(str(path), path.stat().st_mtime, json.dumps(row.definition, sort_keys=True), mark_key())


def upload_template(sess: Session, user: User, kind: str, data: bytes, filename: str,
                    definition: Optional[dict] = None) -> DocumentTemplate:
    """Check an uploaded .docx and store it as the next version of ``kind``. Nothing is stored if it fails."""
    from docgen import validate
    require_write(sess, user, DocumentTemplate(kind=kind), message="Chỉ quản trị viên được thêm mẫu văn bản.")
    if kind not in KIND_LABELS:
        raise ServiceError("invalid_kind", "Loại văn bản không hợp lệ.", {"kinds": list(KIND_LABELS)})
    base = active_template(sess, kind)
    version = (sess.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.kind == kind)) or 0) + 1
    new_def = copy.deepcopy(definition or base.definition)
    new_def["kind"], new_def["version"], new_def["template"] = kind, version, filename
    try:
        new_def = docgen.validate_definition(new_def, source=filename)
    except docgen.DefinitionError as exc:
        raise ServiceError("invalid_definition", exc.message_vi, {"file": filename})
    problems = validate.validate_template(data, new_def, filename=filename)
    if problems:
        details = [{"code": p.code, "message": p.message, "name": p.name, "paragraph": p.paragraph}
                   for p in problems]
        raise ServiceError("invalid_template",
                           f"Mẫu {filename} không dùng được: " + "; ".join(p.message for p in problems), details)
    stored = storage.save(sess, data, filename,
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document", user.id)
    row = DocumentTemplate(kind=kind, version=version, name=filename, file_id=stored.id, definition=new_def,
                           uploaded_by=user.id)
    sess.add(row)
    sess.flush()
    audit.record(sess, "template", row, "upload", None, template_snapshot(row, sha256=stored.sha256), user=user)
    sess.commit()
    return row


def template_snapshot(row: DocumentTemplate, **extra) -> dict:
    return {"kind": row.kind, "version": row.version, "name": row.name, "active": row.active, **extra}


def set_template_active(sess: Session, user: User, row: DocumentTemplate, active: bool) -> DocumentTemplate:
    """Switch a template version on or off (administrators), audited."""
    require_write(sess, user, row, message="Chỉ quản trị viên được bật hoặc tắt mẫu văn bản.")
    before = template_snapshot(row)
    row.active = active
    audit.record(sess, "template", row, "switch", before, template_snapshot(row), user=user)
    sess.commit()
    return row
