"""The job run record: job kinds and their functions, enqueue, notify, cancel, and the one way a job ends.

A job function is ``fn(ctx: JobContext, params: dict) -> dict | None``. It runs inside an
application context, opens its own sessions, reports progress through ``ctx`` and checks
``ctx.cancelled()`` between items. The embedded default runs jobs in a thread of the web
process (``InProcessWorker``); any other runner only has to call ``run_job(job_id)``.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Callable, Optional

from flask import current_app, g, has_app_context
from sqlalchemy import select, update

from .. import db
from ..models import Job, utcnow

log = logging.getLogger(__name__)

JobFunction = Callable[["JobContext", dict], Optional[dict]]
REGISTRY: dict[str, JobFunction] = {}

JOB_KINDS = {"import_members": "Nhập danh sách đảng viên từ Excel"}
#: kind -> fn(sess, params) -> what this job is, as a person says it ("Phiếu nhận xét 2026 — Đảng ủy Bệnh
#: viện tỉnh"); declared by the feature (``job_title``), kept in ``params["title"]`` when the job is enqueued
JOB_TITLES: dict[str, Callable[[Any, dict], Optional[str]]] = {}


def job_title(kind: str):
    def deco(fn):
        JOB_TITLES[kind] = fn
        return fn
    return deco


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
    if not params.get("title") and kind in JOB_TITLES:
        params = {**params, "title": JOB_TITLES[kind](sess, params)}
    job = Job(kind=kind, params=params, created_by=user_id, state="queued", progress_total=total)
    sess.add(job)
    sess.flush()
    if has_app_context():
        g.setdefault("noicutru_enqueued", []).append(job.id)  # for notify() after the commit
    return job


def notify() -> None:
    """Start what was enqueued (call after the enqueuing transaction commits).

    In-process runner: wake the worker thread. Celery runner: send ``start_job`` for the jobs
    enqueued in this application context (or, if unknown, every queued job); a job whose message
    is lost (broker down) is sent again by the workers' sweep.
    """
    enqueued = g.pop("noicutru_enqueued", None) if has_app_context() else None
    if current_app.config.get("JOB_RUNNER") == "celery":
        dispatch_queued_jobs = current_app.extensions["job_dispatch"]  # set by celery_runner.celery_init_app
        try:
            dispatch_queued_jobs(enqueued)
        except Exception:  # the broker is down: the job stays queued and the sweep sends it later
            log.exception("could not send queued jobs to the broker")
        return
    worker = current_app.extensions.get("job_worker")
    if worker is not None:
        worker.wake()


def cancel(sess, job: Job) -> None:
    if job.state == "queued":
        job.state = "cancelled"
        job.finished_at = utcnow()
    elif job.state == "running":
        job.cancel_requested = True


def run_job(job_id: int) -> None:
    """Run one claimed job to its end state. Call inside an application context."""
    with db.new_session() as sess:
        job = sess.get(Job, job_id)
        kind, params = job.kind, dict(job.params or {})
    fn = REGISTRY.get(kind)

    def step():
        if fn is None:
            raise JobFailed("unknown_job", f"Loại công việc không xác định: {kind}")
        return fn(JobContext(job_id), params)

    conclude(job_id, step)


def conclude(job_id: int, step: Callable[[], Optional[dict]], *, none_is_pending: bool = False) -> Optional[str]:
    """Run ``step`` (a job function, or the last part of one) and close the job with its outcome.

    The one way a job ends, whatever the runner: the result, ``JobFailed`` (its message shown to the
    user), ``Cancelled``, or any other exception (a bug, with its trace). With ``none_is_pending``
    a ``None`` result means "not finished yet" (another worker will close the job) and the job is
    left as it is. Returns the state the job was closed with, or None.
    """
    state, result, error = "done", None, None
    try:
        result = step()
        if result is None and none_is_pending:
            return None
    except Cancelled:
        state = "cancelled"
    except JobFailed as exc:
        state, error = "failed", {"code": exc.code, "message": exc.message, "details": exc.details}
    except Exception as exc:  # a bug: keep the trace for the administrator
        log.exception("job %s failed", job_id)
        state = "failed"
        error = {"code": "internal_error", "message": "Lỗi hệ thống khi chạy công việc.",
                 "details": {"exception": repr(exc), "trace": traceback.format_exc()[-4000:]}}
    return state if close_job(job_id, state, result, error) else None


def close_job(job_id: int, state: str, result: Optional[dict] = None, error: Optional[dict] = None) -> bool:
    """Record a job's end state, once: only a job still 'running' or 'finishing' is closed."""
    with db.new_session() as sess:
        job = sess.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.state not in ("running", "finishing"):
            return False
        job.state, job.error, job.finished_at = state, error, utcnow()
        if result is not None:
            job.result = result
            if isinstance(result, dict) and result.get("file_id"):
                job.result_file_id = result["file_id"]
        if state == "done" and job.progress_total:
            job.progress_done = job.progress_total
    return True
