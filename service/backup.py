"""``noicutru backup FILE`` / ``noicutru restore FILE``: the database and the file store in one archive.

The archive is a tar file::

    manifest.json                 format, schema revision, tables (rows, sha256), files (size)
    tables/<table>.jsonl          one JSON object per row, every column of the models
    files/<sha[:2]>/<sha>         every file of the store (named by the SHA-256 of its content)

It does not depend on the database engine: a backup of SQLite restores into PostgreSQL and the
other way round.  The QR signing keys are a table like any other, so sheets printed before keep
verifying after a restore; the archive therefore holds secrets and personal data: keep it as
carefully as the database itself.

Restore checks every checksum before touching anything, refuses a target that holds data unless
``force``, refuses a backup of another schema revision, and is all-or-nothing: the rows are
replaced in one transaction, and files it added are removed again if that transaction fails.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from typing import Any, Callable, Optional

from alembic.migration import MigrationContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy import JSON, Date, DateTime, Integer, LargeBinary, func, select, text

from . import db, migrate, storage
from .audit import SQLITE_APPEND_ONLY_TRIGGERS
from .errors import ServiceError
from .models import Base

FORMAT = "noicutru-backup/1"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
# Filled by the software itself on any fresh instance; rows there do not make a target "not empty".
_SELF_FILLED = {"qr_signing_keys", "form_layouts"}


def _tables():
    return list(Base.metadata.sorted_tables)


def schema_revision(conn) -> Optional[str]:
    return MigrationContext.configure(conn).get_current_revision()


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column) -> Callable[[Any], Any]:
    t = column.type
    if isinstance(t, JSON):
        return lambda v: v
    if isinstance(t, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(t, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(t, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: str) -> None:
    info = tar.gettarinfo(path, arcname=name)
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    with open(path, "rb") as fh:
        tar.addfile(info, fh)


def backup(path: str) -> dict:
    """Write the archive to ``path`` (atomically: a temporary file renamed at the end); return the manifest."""
    tmpdir = tempfile.mkdtemp(prefix="noicutru-backup-")
    out_tmp = f"{path}.incomplete"
    try:
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "database": db.engine().dialect.name, "tables": {}, "files": {}}
        with tarfile.open(out_tmp, "w") as tar:
            conn = db.engine().connect()
            if conn.dialect.name == "postgresql":  # one snapshot for every table
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn, conn.begin():
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")  # WAL read snapshot starts here
                manifest["schema_revision"] = schema_revision(conn)
                for table in _tables():
                    local = os.path.join(tmpdir, f"{table.name}.jsonl")
                    h, n = hashlib.sha256(), 0
                    pk = list(table.primary_key.columns)
                    with open(local, "wb") as fh:
                        rows = conn.execute(select(table).order_by(*pk),
                                            execution_options={"stream_results": True, "yield_per": 1000}).mappings()
                        for row in rows:
                            line = json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False,
                                              sort_keys=True).encode("utf-8") + b"\n"
                            h.update(line)
                            fh.write(line)
                            n += 1
                    manifest["tables"][table.name] = {"rows": n, "sha256": h.hexdigest()}
                    _add_file(tar, f"tables/{table.name}.jsonl", local)
                    os.unlink(local)
            # files are stored before the rows that name them are committed: listing after the
            # snapshot holds every file the rows refer to
            for sha in storage.list_shas():
                local = os.path.join(tmpdir, sha)
                with open(local, "wb") as fh:
                    storage.copy_to(sha, fh)
                manifest["files"][sha] = os.path.getsize(local)
                _add_file(tar, f"files/{sha[:2]}/{sha}", local)
                os.unlink(local)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))
        os.replace(out_tmp, path)
        return manifest
    finally:
        if os.path.exists(out_tmp):
            os.unlink(out_tmp)
        for name in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)


def _bad(message_vi: str) -> ServiceError:
    return ServiceError("backup_invalid", message_vi)


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember("manifest.json")
        manifest = json.loads(tar.extractfile(member).read(1 << 24))
    except (KeyError, ValueError, AttributeError):
        raise _bad("Tệp không phải bản sao lưu của noicutru (thiếu hoặc hỏng manifest.json).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(f"Bản sao lưu có định dạng không hỗ trợ: {manifest.get('format') if isinstance(manifest, dict) else '?'}"
                   f" (cần {FORMAT}).")
    return manifest


def _check_archive(tar: tarfile.TarFile, manifest: dict) -> None:
    """Every table and file named in the manifest is there with its checksum; nothing else is."""
    expected = {f"tables/{name}.jsonl": ("table", info["sha256"]) for name, info in manifest["tables"].items()}
    for sha in manifest["files"]:
        if not _SHA_RE.match(sha):
            raise _bad(f"Bản sao lưu có tên tệp không hợp lệ: {sha[:80]}.")
        expected[f"files/{sha[:2]}/{sha}"] = ("file", sha)
    seen = set()
    for member in tar.getmembers():
        if member.name == "manifest.json":
            continue
        if member.name not in expected or not member.isfile():
            raise _bad(f"Bản sao lưu có mục lạ: {member.name[:120]}.")
        h = hashlib.sha256()
        fh = tar.extractfile(member)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
        if h.hexdigest() != expected[member.name][1]:
            raise _bad(f"Bản sao lưu bị hỏng: tổng kiểm tra của {member.name} không khớp.")
        seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise _bad(f"Bản sao lưu thiếu {len(missing)} mục, ví dụ {missing[0]}.")


def _target_content(conn) -> list[str]:
    """What the target already holds (tables with rows, file count); empty for a fresh instance."""
    held = []
    for table in _tables():
        if table.name in _SELF_FILLED:
            continue
        stmt = select(func.count()).select_from(table)
        if table.name == "document_templates":  # the built-in templates register themselves
            stmt = stmt.where(table.c.builtin_path.is_(None))
        n = conn.execute(stmt).scalar()
        if n:
            held.append(f"{table.name} ({n} dòng)")
    files = len(storage.list_shas())
    if files:
        held.append(f"kho tệp ({files} tệp)")
    return held


def restore(path: str, force: bool = False) -> dict:
    """Replace the database rows and add the stored files from the archive at ``path``."""
    try:
        tar = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError):
        raise _bad("Không mở được tệp sao lưu (không phải tệp tar hoặc bị hỏng).") from None
    with tar:
        manifest = _read_manifest(tar)
        _check_archive(tar, manifest)
        migrate.upgrade()
        with db.engine().connect() as conn:
            ours = schema_revision(conn)
            if manifest.get("schema_revision") != ours:
                raise ServiceError(
                    "backup_schema_mismatch",
                    f"Bản sao lưu ở phiên bản cơ sở dữ liệu {manifest.get('schema_revision')}, phần mềm này ở phiên "
                    f"bản {ours}: hãy khôi phục bằng đúng phiên bản phần mềm đã tạo bản sao lưu. Chưa thay đổi gì.",
                    status=409)
            unknown = set(manifest["tables"]) - {t.name for t in _tables()}
            if unknown:
                raise _bad(f"Bản sao lưu có bảng không có trong phần mềm này: {', '.join(sorted(unknown))}.")
            held = _target_content(conn)
        if held and not force:
            raise ServiceError("restore_target_not_empty",
                               "Nơi khôi phục đã có dữ liệu: " + ", ".join(held)
                               + ". Dùng --force để thay toàn bộ bằng bản sao lưu. Chưa thay đổi gì.", status=409)
        added: list[str] = []
        try:
            for sha in manifest["files"]:
                if not storage.has_sha(sha):
                    storage.put_stream(tar.extractfile(f"files/{sha[:2]}/{sha}"), sha)
                    added.append(sha)
            _replace_rows(tar, manifest)
        except BaseException as exc:
            for sha in added:
                storage.remove_sha(sha)
            if isinstance(exc, (SQLAlchemyError, ValueError, KeyError, tarfile.TarError)):
                raise ServiceError("restore_failed", "Không khôi phục được: dữ liệu trong bản sao lưu không ghi được vào "
                                   f"cơ sở dữ liệu ({exc.__class__.__name__}). Chưa thay đổi gì.",
                                   details=str(exc)[:500], status=409) from exc
            raise
    return manifest


def _replace_rows(tar: tarfile.TarFile, manifest: dict) -> None:
    tables = _tables()
    with db.engine().begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for name in SQLITE_APPEND_ONLY_TRIGGERS:  # put back below, in the same transaction
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            for table in reversed(tables):
                conn.execute(table.delete())
        for table in tables:
            if table.name not in manifest["tables"]:
                continue
            decoders = {c.name: _decoder(c) for c in table.columns}
            batch = []
            for line in tar.extractfile(f"tables/{table.name}.jsonl"):
                row = json.loads(line)
                batch.append({k: decoders[k](v) for k, v in row.items() if k in decoders})
                if len(batch) >= 500:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
            if pg and "id" in table.c and table.c.id.primary_key and isinstance(table.c.id.type, Integer):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
        if not pg:
            for sql in SQLITE_APPEND_ONLY_TRIGGERS.values():
                conn.exec_driver_sql(sql)
