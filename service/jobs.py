"""Background jobs: a database record per job, job functions in a registry, and runners.

A job function is ``fn(ctx: JobContext, params: dict) -> dict | None``. It runs inside an
application context, opens its own sessions, reports progress through ``ctx`` and checks
``ctx.cancelled()`` between items. The embedded default runs jobs in a thread of the web
process (``InProcessWorker``); any other runner only has to call ``run_job(job_id)``.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from typing import Any, Callable, Optional

from flask import Flask, current_app
from sqlalchemy import select, text, update

from . import db
from .models import Job, utcnow

log = logging.getLogger(__name__)

JobFunction = Callable[["JobContext", dict], Optional[dict]]
REGISTRY: dict[str, JobFunction] = {}

JOB_KINDS = {"import_members": "Nhập danh sách đảng viên từ Excel"}


def job_function(kind: str, label: Optional[str] = None):
    def deco(fn: JobFunction) -> JobFunction:
        REGISTRY[kind] = fn
        if label:
            JOB_KINDS[kind] = label
        return fn
    return deco


class Cancelled(Exception):
    pass


class JobFailed(Exception):
    """Raised by a job function for an expected failure: ``message`` is shown to the user."""

    def __init__(self, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


class JobContext:
    def __init__(self, job_id: int):
        self.job_id = job_id

    def set_total(self, total: int, message: Optional[str] = None) -> None:
        values: dict[str, Any] = {"progress_total": total}
        if message is not None:
            values["message"] = message
        self._update(**values)

    def progress(self, done: int, message: Optional[str] = None) -> None:
        values: dict[str, Any] = {"progress_done": done}
        if message is not None:
            values["message"] = message
        self._update(**values)

    def cancelled(self) -> bool:
        with db.new_session() as sess:
            return bool(sess.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))

    def check_cancel(self) -> None:
        if self.cancelled():
            raise Cancelled()

    def _update(self, **values: Any) -> None:
        with db.new_session() as sess:
            sess.execute(update(Job).where(Job.id == self.job_id).values(**values))


def enqueue(sess, kind: str, params: dict, user_id: Optional[int] = None, total: int = 0) -> Job:
    if kind not in REGISTRY:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, params=params, created_by=user_id, state="queued", progress_total=total)
    sess.add(job)
    sess.flush()
    return job


def notify() -> None:
    """Wake the in-process worker (after the enqueuing transaction commits)."""
    worker = current_app.extensions.get("job_worker")
    if worker is not None:
        worker.wake()


def cancel(sess, job: Job) -> None:
    if job.state == "queued":
        job.state = "cancelled"
        job.finished_at = utcnow()
    elif job.state == "running":
        job.cancel_requested = True


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim_next(name: str) -> Optional[int]:
    """Atomically take the oldest queued job (one UPDATE ... RETURNING, safe across processes)."""
    with db.new_session() as sess:
        row = sess.execute(text(
            "UPDATE jobs SET state='running', worker=:w, started_at=:now "
            "WHERE id = (SELECT id FROM jobs WHERE state='queued' ORDER BY id LIMIT 1) AND state='queued' "
            "RETURNING id"), {"w": name, "now": utcnow()}).first()
        return row[0] if row else None


def run_job(job_id: int) -> None:
    """Run one claimed job to its end state. Call inside an application context."""
    with db.new_session() as sess:
        job = sess.get(Job, job_id)
        kind, params = job.kind, dict(job.params or {})
    fn = REGISTRY.get(kind)
    ctx = JobContext(job_id)
    state, result, error = "done", None, None
    try:
        if fn is None:
            raise JobFailed("unknown_job", f"Loại công việc không xác định: {kind}")
        result = fn(ctx, params)
    except Cancelled:
        state = "cancelled"
    except JobFailed as exc:
        state, error = "failed", {"code": exc.code, "message": exc.message, "details": exc.details}
    except Exception as exc:  # a bug: keep the trace for the administrator
        log.exception("job %s failed", job_id)
        state = "failed"
        error = {"code": "internal_error", "message": "Lỗi hệ thống khi chạy công việc.",
                 "details": {"exception": repr(exc), "trace": traceback.format_exc()[-4000:]}}
    with db.new_session() as sess:
        job = sess.get(Job, job_id)
        job.state, job.error, job.finished_at = state, error, utcnow()
        if result is not None:
            job.result = result
            if isinstance(result, dict) and result.get("file_id"):
                job.result_file_id = result["file_id"]
        if state == "done" and job.progress_total:
            job.progress_done = job.progress_total


def run_pending(limit: int = 100) -> int:
    """Run queued jobs in this thread until none are left (CLI and tests). Returns how many ran."""
    name = worker_name()
    count = 0
    while count < limit:
        job_id = claim_next(name)
        if job_id is None:
            break
        run_job(job_id)
        count += 1
    return count


def requeue_orphans() -> int:
    """Jobs left 'running' by a process of this host that no longer exists go back to the queue."""
    host = socket.gethostname()
    n = 0
    with db.new_session() as sess:
        for job in sess.scalars(select(Job).where(Job.state.in_(("running", "finishing")))):
            parts = (job.worker or "").split(":")
            if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not _alive(int(parts[1])):
                job.state, job.worker = "queued", None
                n += 1
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class InProcessWorker(threading.Thread):
    """The embedded default: one thread of the web process takes jobs from the table."""

    def __init__(self, app: Flask, poll_seconds: float = 2.0):
        super().__init__(name="noicutru-worker", daemon=True)
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def run(self) -> None:
        with self.app.app_context():
            requeue_orphans()
        name = worker_name()
        while not self._halt.is_set():
            with self.app.app_context():
                try:
                    job_id = claim_next(name)
                    if job_id is not None:
                        run_job(job_id)
                        continue
                except Exception:  # keep the worker alive; the job row tells the user
                    log.exception("worker loop error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def start_worker(app: Flask) -> InProcessWorker:
    worker = InProcessWorker(app)
    app.extensions["job_worker"] = worker
    worker.start()
    return worker


def init_app(app: Flask) -> None:
    from . import importing  # noqa: F401  registers the import job
    from .documents import bulk  # noqa: F401  registers the bulk mail-merge job
    from .scans import pipeline  # noqa: F401  registers the scan batch job
    if app.config.get("START_WORKER") and app.config.get("JOB_RUNNER") == "inprocess":
        start_worker(app)
