"""What a scan batch job is, said once when it is enqueued ("Đọc bản quét — lô #12, 3 tệp")."""
from __future__ import annotations

from sqlalchemy import func, select

from ..jobs.record import job_title
from ..models import ScanFile


@job_title("scan_batch")
def scan_title(sess, params: dict) -> str:
    batch_id = params.get("batch_id")
    files = sess.scalar(select(func.count()).select_from(ScanFile).where(ScanFile.batch_id == batch_id)) or 0
    return f"Đọc bản quét — lô #{batch_id}, {files} tệp"
