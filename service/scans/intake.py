"""Uploading a stack of scans: every file checked and counted before any page is read."""
from __future__ import annotations

from typing import Iterable

from flask import current_app
from sqlalchemy.orm import Session

from .. import storage
from ..jobs import record
from ..errors import ServiceError
from ..text import join_clauses
from ..models import ScanBatch, ScanFile, User



def _inspect(data: bytes, name: str) -> int:
    from ocr import pdfinput
    return pdfinput.page_count(data, name)


def start_batch(sess: Session, user: User, files: Iterable[tuple[str, bytes]], auto_apply: bool = True) -> ScanBatch:
    """Store the files, count their pages, and start the reading job.

    A file that cannot be read (corrupt, password-protected, not a scan, too large) is
    recorded with its error and the others go on. A batch over the page limit is refused
    whole, before any work is done.
    """
    from ocr.pdfinput import ScanInputError
    if user.role not in ("admin", "workplace_staff", "cell_secretary"):
        raise ServiceError("forbidden", "Bạn không có quyền tải bản quét lên.", status=403)
    limit = current_app.config["SCAN_MAX_PAGES"]
    checked: list[tuple[str, bytes, int, dict | None]] = []
    for name, data in files:
        try:
            pages = _inspect(data, name)
            if pages > limit:
                raise ScanInputError("too_many_pages", message_vi=f"Tệp có {pages} trang, vượt quá giới hạn {limit} "
                                                                  "trang mỗi lô: không đọc tệp này, hãy chia nhỏ")
            checked.append((name, data, pages, None))
        except ScanInputError as exc:
            checked.append((name, data, 0, {"code": exc.code, "message": f"Tệp {name}: {exc.message_vi}"}))
    if not checked:
        raise ServiceError("no_files", "Chưa chọn tệp bản quét nào.")
    if all(error is not None for _, _, _, error in checked):  # nothing to read: no batch, each file's reason
        errors = [error for _, _, _, error in checked]
        raise ServiceError("no_readable_files", "Không tệp nào đọc được, chưa tạo lô quét: "
                           + join_clauses(e["message"] for e in errors), errors)
    total = sum(p for _, _, p, _ in checked)
    if total > limit:
        raise ServiceError("too_many_pages", f"Lô có {total} trang, vượt quá giới hạn {limit} trang mỗi lần tải lên. "
                                             "Hãy chia thành nhiều lô nhỏ hơn.", {"pages": total, "limit": limit})
    from ..documents.templates_store import sync_builtin
    sync_builtin(sess, force=True)  # the built-in sheets' layouts exist before any page is read
    batch = ScanBatch(created_by=user.id, auto_apply=auto_apply, page_count=total)
    sess.add(batch)
    sess.flush()
    for name, data, pages, error in checked:
        stored = storage.save(sess, data, name, None, user.id) if data else None
        sess.add(ScanFile(batch_id=batch.id, stored_file_id=stored.id if stored else None, name=name,
                          page_count=pages, error=error))
    sess.flush()
    job = record.enqueue(sess, "scan_batch", {"batch_id": batch.id, "user_id": user.id}, user_id=user.id, total=total)
    batch.job_id = job.id
    sess.commit()
    record.notify()
    return batch
