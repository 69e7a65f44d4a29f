"""JSON API of background jobs (under /api/, registered by service.api)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import login_required

from .. import db
from ..auth import current
from .record import cancel
from ..api_models import misc
from ..api_schema import operation
from .views import job_to_dict, recent_jobs, visible_job

bp = Blueprint("jobs", __name__)


@bp.get("/jobs")
@login_required
@operation("Công việc nền")
def jobs_list():
    return jsonify({"items": [job_to_dict(j) for j in recent_jobs(db.session(), current())]})


@bp.get("/jobs/<int:job_id>")
@login_required
@operation("Một công việc và tiến độ", ok_schema=misc.JobOut)
def job_get(job_id: int):
    return jsonify(job_to_dict(visible_job(db.session(), current(), job_id)))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
@operation("Hủy công việc", ok_schema=misc.JobOut)
def job_cancel(job_id: int):
    sess, user = db.session(), current()
    job = visible_job(sess, user, job_id)
    cancel(sess, job)
    sess.commit()
    return jsonify(job_to_dict(job))
