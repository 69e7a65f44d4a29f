"""Files addressed by content hash in the storage folder; the database keeps references."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Optional

from flask import Flask, current_app
from sqlalchemy.orm import Session

from .models import StoredFile


def init_app(app: Flask) -> None:
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)


def _path(sha: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / sha[:2] / sha


def put_bytes(data: bytes) -> str:
    """Write ``data`` once under its SHA-256 and return the hash."""
    sha = hashlib.sha256(data).hexdigest()
    path = _path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return sha


def save(sess: Session, data: bytes, name: str, content_type: Optional[str] = None,
         user_id: Optional[int] = None) -> StoredFile:
    sha = put_bytes(data)
    row = StoredFile(sha256=sha, name=name, size=len(data), content_type=content_type, uploaded_by=user_id)
    sess.add(row)
    sess.flush()
    return row


def save_path(sess: Session, src: str, name: str, content_type: Optional[str] = None,
              user_id: Optional[int] = None) -> StoredFile:
    """Store a (possibly large) file from disk without holding it in memory."""
    h = hashlib.sha256()
    size = 0
    with open(src, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    sha = h.hexdigest()
    path = _path(sha)
    if not path.exists():
        import shutil
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        os.close(fd)
        shutil.copyfile(src, tmp)
        os.replace(tmp, path)
    row = StoredFile(sha256=sha, name=name, size=size, content_type=content_type, uploaded_by=user_id)
    sess.add(row)
    sess.flush()
    return row


def read(row: StoredFile) -> bytes:
    return _path(row.sha256).read_bytes()


def read_sha(sha: str) -> bytes:
    return _path(sha).read_bytes()


def path_of(row: StoredFile) -> Path:
    return _path(row.sha256)
