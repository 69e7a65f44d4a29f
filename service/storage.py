"""Files addressed by content hash in the storage folder; the database keeps references.

The default store is a folder (``NOICUTRU_STORAGE_DIR``; a shared folder, e.g. NFS, when
workers run on several machines). ``NOICUTRU_STORAGE_URL=s3://bucket/prefix`` keeps the
files in S3-compatible storage instead (boto3, ``pip install 'noicutru[s3]'``; endpoint and
credentials from the usual AWS variables, e.g. ``AWS_ENDPOINT_URL`` for MinIO); ``path_of``
then returns a local copy cached under the storage folder.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from flask import Flask, current_app
from sqlalchemy.orm import Session

from .models import StoredFile


def init_app(app: Flask) -> None:
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)
    url = app.config.get("STORAGE_URL") or ""
    app.extensions["storage"] = S3Store(url, app.config["STORAGE_DIR"]) if url.startswith("s3://") else None


def _path(sha: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / sha[:2] / sha


def _s3() -> Optional["S3Store"]:
    return current_app.extensions.get("storage")


def _place(src: str, sha: str) -> None:
    """Put the file ``src`` (a temporary file, consumed) under ``sha`` unless already there."""
    s3 = _s3()
    if s3 is not None:
        s3.put_file(src, sha)
        os.unlink(src)
        return
    path = _path(sha)
    if path.exists():
        os.unlink(src)
        return
    os.replace(src, path)


def _tempfile(sha_hint: str = "xx") -> tuple[int, str]:
    folder = _path(sha_hint).parent if _s3() is None else Path(current_app.config["STORAGE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=folder, prefix=".incoming-")


def put_bytes(data: bytes) -> str:
    """Write ``data`` once under its SHA-256 and return the hash."""
    sha = hashlib.sha256(data).hexdigest()
    s3 = _s3()
    if s3 is not None:
        s3.put_bytes(data, sha)
        return sha
    path = _path(sha)
    if not path.exists():
        fd, tmp = _tempfile(sha)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _place(tmp, sha)
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
    if _s3() is not None or not _path(sha).exists():
        fd, tmp = _tempfile(sha)
        os.close(fd)
        shutil.copyfile(src, tmp)
        _place(tmp, sha)
    row = StoredFile(sha256=sha, name=name, size=size, content_type=content_type, uploaded_by=user_id)
    sess.add(row)
    sess.flush()
    return row


def read(row: StoredFile) -> bytes:
    return read_sha(row.sha256)


def read_sha(sha: str) -> bytes:
    s3 = _s3()
    return s3.get_bytes(sha) if s3 is not None else _path(sha).read_bytes()


def path_of(row: StoredFile) -> Path:
    """A local path to the file's content (for S3: a copy cached in the storage folder)."""
    s3 = _s3()
    if s3 is None:
        return _path(row.sha256)
    path = _path(row.sha256)
    if not path.exists():
        fd, tmp = _tempfile(row.sha256)
        os.close(fd)
        s3.download(row.sha256, tmp)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
    return path


def _is_sha(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def list_shas() -> list[str]:
    """Every file in the store (its hash), sorted."""
    s3 = _s3()
    if s3 is not None:
        return sorted(s3.list_shas())
    root = Path(current_app.config["STORAGE_DIR"])
    return sorted(p.name for p in root.glob("??/*") if _is_sha(p.name) and p.parent.name == p.name[:2])


def has_sha(sha: str) -> bool:
    s3 = _s3()
    return s3.exists(sha) if s3 is not None else _path(sha).exists()


def copy_to(sha: str, fileobj) -> None:
    """Write the file ``sha`` into an open binary file, without holding it in memory."""
    s3 = _s3()
    if s3 is not None:
        s3.client.download_fileobj(s3.bucket, s3.key(sha), fileobj)
        return
    with open(_path(sha), "rb") as fh:
        shutil.copyfileobj(fh, fileobj, 1 << 20)


def put_stream(fileobj, sha: str) -> None:
    """Store the content of an open binary file under ``sha`` (checked: a wrong hash is refused)."""
    fd, tmp = _tempfile(sha)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: fileobj.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != sha:
            raise ValueError(f"content does not match its hash {sha}")
        _place(tmp, sha)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_sha(sha: str) -> None:
    """Delete a file from the store (only to undo a restore that failed)."""
    s3 = _s3()
    if s3 is not None:
        s3.client.delete_object(Bucket=s3.bucket, Key=s3.key(sha))
    else:
        _path(sha).unlink(missing_ok=True)


class S3Store:
    """Objects ``<prefix>/<sha[:2]>/<sha>`` in an S3-compatible bucket (boto3)."""

    def __init__(self, url: str, cache_dir: str):
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            raise RuntimeError("NOICUTRU_STORAGE_URL=s3://… cần gói boto3: pip install 'noicutru[s3]'") from exc
        rest = url[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        self.cache_dir = cache_dir

    def key(self, sha: str) -> str:
        return "/".join(p for p in (self.prefix, sha[:2], sha) if p)

    def exists(self, sha: str) -> bool:
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def put_bytes(self, data: bytes, sha: str) -> None:
        if not self.exists(sha):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha), Body=data)

    def put_file(self, src: str, sha: str) -> None:
        if not self.exists(sha):
            self.client.upload_file(src, self.bucket, self.key(sha))

    def get_bytes(self, sha: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.key(sha))["Body"].read()

    def download(self, sha: str, dest: str) -> None:
        self.client.download_file(self.bucket, self.key(sha), dest)

    def list_shas(self):
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for obj in page.get("Contents", []):
                parts = obj["Key"].rsplit("/", 2)
                if len(parts) >= 2 and _is_sha(parts[-1]) and parts[-2] == parts[-1][:2]:
                    yield parts[-1]
