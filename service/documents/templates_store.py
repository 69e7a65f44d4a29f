"""Template versions: the built-in ones from templates/, and administrators' uploads."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import docgen
from docgen.isolate import IsolatedRenderer
from docgen.render import BulkRenderer
from flask import current_app
from forms import qrpayload
from forms.definition import FormDefinition
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import audit, db, qrkeys, safe_files, storage
from ..errors import NotFound, ServiceError
from ..text import join_clauses
from ..models import DocumentTemplate, StoredFile, User, utcnow
from ..permissions import require_write

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
KIND_LABELS = {
    "introduction_letter": "Giấy giới thiệu (mẫu 1-213)",
    "evaluation_sheet": "Phiếu nhận xét đảng viên nơi cư trú",
    "cover_letter": "Phiếu xin ý kiến chi ủy nơi cư trú (mẫu 3-213)",
}


_synced: set[str] = set()


class ReleasedVersionChanged(ServiceError):
    """A definition file in templates/ differs from the version of the same number in the database."""

    def __init__(self, kind: str, version: int, path: Path):
        super().__init__(
            "released_definition_changed",
            f"Tệp định nghĩa {path.name} đã bị sửa nhưng vẫn mang số phiên bản {version} của mẫu "
            f"{KIND_LABELS.get(kind, kind)} đã phát hành (đã có trong cơ sở dữ liệu). Một phiên bản đã phát "
            f"hành không được thay đổi: trả tệp về nội dung cũ, và đưa nội dung mới vào một phiên bản mới "
            f"(tệp {kind}.v{version + 1}.form.json cùng mẫu Word của nó).",
            {"kind": kind, "version": version, "file": path.name}, status=500)


def sync_builtin(sess: Session, force: bool = False) -> None:
    """Register every template shipped in templates/ (once per process and database).

    A new version is inserted with its definition's hash.  A version already in the database must have
    the same hash as its file: a changed released version raises :class:`ReleasedVersionChanged` (the
    database is not changed).  Rows from before hashes were kept get theirs filled in.
    """
    url = str(sess.get_bind().url)
    if url in _synced and not force:
        return
    insert = pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert
    with db.new_session() as own:  # its own transaction: safe beside any caller's
        for info in docgen.list_templates(TEMPLATES_DIR):
            fd = info.definition
            own.execute(insert(DocumentTemplate).values(
                kind=fd.kind, version=fd.version, name=info.template_path.name,
                builtin_path=info.template_path.name, definition=fd.to_dict(), definition_hash=fd.hash,
                active=True, created_at=utcnow()).on_conflict_do_nothing(index_elements=["kind", "version"]))
            row = own.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == fd.kind,
                                                            DocumentTemplate.version == fd.version))
            if row.builtin_path is None:
                continue  # an administrator's upload holds this number: the file is not used
            if (row.definition_hash or form_definition(row).hash) != fd.hash:
                raise ReleasedVersionChanged(fd.kind, fd.version, info.definition_path)
            if row.definition_hash is None:
                row.definition_hash = fd.hash
    _synced.add(url)
    from ..scans.layouts import ensure_builtin_layouts, ensure_builtin_slip_layouts
    ensure_builtin_layouts(sess, form_definition, template_path, renderer)
    ensure_builtin_slip_layouts(sess, form_definition, template_path, renderer)


@functools.lru_cache(maxsize=64)
def _parsed(definition_json: str) -> FormDefinition:
    import json
    return FormDefinition.from_dict(json.loads(definition_json))


def form_definition(row: DocumentTemplate) -> FormDefinition:
    """The typed definition of a template version (validated once per process)."""
    import json
    return _parsed(json.dumps(row.definition, sort_keys=True, ensure_ascii=False))


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
def _renderer(path: str, _mtime: float, definition: FormDefinition, key: qrpayload.SigningKey, builtin: bool,
              limits: tuple):
    if builtin:  # shipped with the code: the fast path, still in the sandboxed Jinja environment
        return BulkRenderer(path, definition, mark_key=key)
    seconds, memory_mb = limits
    return IsolatedRenderer(path, definition.to_dict(), mark_key=key, seconds=seconds, memory_mb=memory_mb)


def render_limits() -> tuple[float, int]:
    """(seconds, megabytes) an uploaded template may take for one document."""
    cfg = current_app.config
    return float(cfg.get("TEMPLATE_RENDER_SECONDS", 30)), int(cfg.get("TEMPLATE_RENDER_MEMORY_MB", 512))


def renderer(sess: Session, row: DocumentTemplate) -> BulkRenderer | IsolatedRenderer:
    """The template version compiled once per process, then rendered many times.

    An uploaded template renders in a child process with a memory and time limit
    (:class:`docgen.isolate.IsolatedRenderer`); a switched-off version renders nowhere.
    """
    if not row.active:
        raise ServiceError("template_inactive",
                           f"Mẫu {KIND_LABELS.get(row.kind, row.kind)} phiên bản {row.version} đã bị tắt: "
                           "không tạo văn bản từ mẫu này nữa.", {"kind": row.kind, "version": row.version})
    path = template_path(sess, row)
    return _renderer(str(path), path.stat().st_mtime, form_definition(row), qrkeys.signing_key(),
                     bool(row.builtin_path), render_limits())


def upload_template(sess: Session, user: User, kind: str, data: bytes, filename: str,
                    definition: Optional[dict] = None) -> DocumentTemplate:
    """Check an uploaded .docx and store it as the next version of ``kind``. Nothing is stored if it fails."""
    from docgen import validate
    require_write(sess, user, DocumentTemplate(kind=kind), message="Chỉ quản trị viên được thêm mẫu văn bản.")
    if kind not in KIND_LABELS:
        raise ServiceError("invalid_kind", "Loại văn bản không hợp lệ.", {"kinds": list(KIND_LABELS)})
    base = active_template(sess, kind)
    version = (sess.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.kind == kind)) or 0) + 1
    if definition is not None and not isinstance(definition, dict):
        raise ServiceError("invalid_definition", "Định nghĩa biểu mẫu phải là một đối tượng JSON.", {"file": filename})
    new_def = dict(definition) if definition else form_definition(base).to_dict()
    new_def["kind"], new_def["version"], new_def["template"] = kind, version, filename
    try:
        new_def = docgen.validate_definition(new_def, source=filename)
    except docgen.DefinitionError as exc:
        raise ServiceError("invalid_definition", exc.message_vi, {"file": filename})
    # the container check (docgen.container.check_container) runs first, with this installation's limits
    problems = validate.validate_template(data, new_def, filename=filename, limits=safe_files.limits())
    if problems:
        details = [{"code": p.code, "message": p.message, "name": p.name, "paragraph": p.paragraph, "part": p.part}
                   for p in problems]
        raise ServiceError("invalid_template",
                           f"Mẫu {filename} không dùng được: " + join_clauses(p.message for p in problems), details)
    layouts = {}
    if kind == "evaluation_sheet":  # built now, in the sandbox; a scan never renders a template
        from ..scans.layouts import build_uploaded_layouts
        layouts = build_uploaded_layouts(data, new_def, qrkeys.signing_key(), render_limits())
    stored = storage.save(sess, data, filename,
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document", user.id)
    row = DocumentTemplate(kind=kind, version=version, name=filename, file_id=stored.id,
                           definition=new_def.to_dict(), definition_hash=new_def.hash, uploaded_by=user.id)
    sess.add(row)
    from ..models import FormLayout
    for variant, layout in layouts.items():
        sess.add(FormLayout(kind=kind, version=version, variant=variant, layout=layout))
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
