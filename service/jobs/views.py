"""Job pages: list, one job with a live progress bar, cancel, result download."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db, storage
from ..auth import current
from .record import JOB_KINDS, cancel
from ..models import Job, ScanPageStatus, StoredFile, User
from ..permissions import get_owned, own_rows

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def visible_job(sess, user: User, job_id: int) -> Job:
    return get_owned(sess, user, Job, job_id)


def recent_jobs(sess, user: User, limit: int = 100) -> list[Job]:
    return list(sess.scalars(own_rows(user, select(Job), Job).order_by(Job.id.desc()).limit(limit)))


ACTIVE_STATES = ("queued", "running", "finishing")  # the page keeps following the job through these


def job_title(job: Job) -> str:
    """What the job is, as a person says it: the title its feature gave ("Phiếu nhận xét 2026 — Đảng ủy
    Bệnh viện tỉnh"), else its kind (and year)."""
    params = job.params or {}
    if params.get("title"):
        return str(params["title"])
    label = JOB_KINDS.get(job.kind, job.kind)
    return f"{label} {params['year']}" if params.get("year") else label


def describe_result(job: Job) -> tuple[str, list[str]]:
    """What a finished job did, in one Vietnamese sentence, and the problems it met, named."""
    r = job.result or {}
    if r.get("summary"):  # a job that says what it did in Vietnamese itself
        return r["summary"], [str(p) for p in r.get("problems") or []]
    if job.kind == "import_members":
        text = (f"Thêm mới {r.get('created', 0)}, cập nhật {r.get('updated', 0)}, không đổi {r.get('unchanged', 0)}; "
                f"tổ chức đảng tạo mới {r.get('organisations_created', 0)}.")
        return text, []
    if job.kind == "bulk_documents":
        return (f"Đã tạo {r.get('made', 0)} văn bản; {r.get('failed', 0)} đảng viên không tạo được.",
                [f.get("message", "") for f in r.get("failures", [])])
    if job.kind == "scan_batch":
        pages = ", ".join(f"{ScanPageStatus.word_of(k)}: {v}" for k, v in (r.get("pages") or {}).items())
        problems = [e.get("message", "") for e in r.get("file_errors", []) if e]
        problems += [f.get("message", "") for f in r.get("failed_pages", [])]
        return f"Các trang: {pages or 'không có'}.", problems
    return ", ".join(f"{k}: {v}" for k, v in r.items() if k != "file_id"), []


def job_to_dict(job: Job) -> dict:
    return {"id": job.id, "title": job_title(job), "kind": job.kind, "kind_label": JOB_KINDS.get(job.kind, job.kind),
            "state": job.state,
            "state_label": job.state_label, "progress": {"done": job.progress_done, "total": job.progress_total},
            "percent": job.percent, "message": job.message, "result": job.result, "error": job.error,
            "has_file": job.result_file_id is not None,
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@bp.route("/")
@login_required
def index():
    return render_template("jobs/list.html", jobs=recent_jobs(db.session(), current()), kinds=JOB_KINDS)


@bp.route("/<int:job_id>")
@login_required
def detail(job_id: int):
    sess, user = db.session(), current()
    job = visible_job(sess, user, job_id)
    summary, problems = describe_result(job) if job.state == "done" else ("", [])
    return render_template("jobs/detail.html", job=job, kinds=JOB_KINDS, summary=summary, problems=problems,
                           title=job_title(job), active=ACTIVE_STATES)


@bp.route("/<int:job_id>/cancel", methods=["POST"])
@login_required
def cancel_job(job_id: int):
    sess, user = db.session(), current()
    job = visible_job(sess, user, job_id)
    cancel(sess, job)
    sess.commit()
    flash("Đã yêu cầu hủy công việc.", "info")
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/<int:job_id>/result")
@login_required
def result(job_id: int):
    sess, user = db.session(), current()
    job = visible_job(sess, user, job_id)
    if job.result_file_id is None:
        abort(404)
    row = sess.get(StoredFile, job.result_file_id)
    return send_file(io.BytesIO(storage.read(row)), as_attachment=True, download_name=row.name,
                     mimetype=row.content_type or "application/octet-stream")
