"""Pages of the per-cell packets: choose a workplace committee and year, see who gets a sheet and who is
left out (exempt from residence meetings), start the job. The job page shows progress and the download.

The views are added to the ``documents`` blueprint by ``documents.views`` (endpoints
``documents.packets_start``, ...), so the module imports nothing of it.
"""
from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from .. import db
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import Forbidden, ServiceError
from ..members.fields import ValueProblem, parse_date
from ..members.registry import organisations_for
from ..models import Evaluation
from ..permissions import can_write, require_write
from . import packets


def writable_committees(sess, user) -> list:
    """The workplace committees in whose name ``user`` may send packets."""
    return [o for o in organisations_for(sess, user, ("workplace_committee",)) if can_write(sess, user, o, "documents")]


def _form_date(value: str, what: str, field: str):
    try:
        day = parse_date(value)
    except ValueProblem:
        day = None
    if value.strip() and day is None:
        raise ServiceError("invalid_date", f"{what} không hợp lệ: “{value.strip()}” (cần ngày dạng dd/mm/yyyy).",
                           {"field": field})
    return day


def sheet_ids_from_serials(sess, text: str) -> list[int]:
    """Sheet numbers typed by a person ("2026-000012-1, 2026-000015-1") -> their ids; unknown ones named."""
    serials = [s for s in text.replace(";", ",").replace("\n", ",").replace(" ", ",").split(",") if s.strip()]
    if not serials:
        return []
    found = dict(sess.execute(select(Evaluation.sheet_serial, Evaluation.id)
                              .where(Evaluation.sheet_serial.in_(serials))).all())
    missing = [s for s in serials if s not in found]
    if missing:
        raise ServiceError("unknown_sheets", "Không có phiếu số: " + ", ".join(missing) + ".", {"field": "sheets"})
    return [found[s] for s in serials]


@login_required
def packets_start():
    sess, user = db.session(), current()
    committees = writable_committees(sess, user)
    if not committees:
        raise Forbidden("Chỉ đảng ủy nơi công tác được gửi bộ phiếu về nơi cư trú.")
    today = dt.date.today()
    source = request.form if request.method == "POST" else request.args
    values = {"committee_id": source.get("committee_id", ""), "year": source.get("year", str(today.year)),
              "return_deadline": source.get("return_deadline", ""), "sheets": source.get("sheets", ""),
              "include_exempt": bool(source.get("include_exempt")), "answer_codes": bool(source.get("answer_codes"))}
    run, error = None, None
    try:
        committee_id = int_arg(source, "committee_id") or (committees[0].id if len(committees) == 1 else None)
        year = year_arg(source) or today.year
        if committee_id:
            committee = packets.workplace_committee(sess, committee_id)
            require_write(sess, user, committee, "documents",
                          message=f"Chỉ {committee.name} (hoặc quản trị viên) được gửi bộ phiếu của đảng ủy này.")
            values["committee_id"] = str(committee_id)
            run = packets.members_for_year_run(sess, committee_id, year)
        if request.method == "POST":
            if not committee_id:
                raise ServiceError("no_committee", "Cần chọn đảng ủy nơi công tác.", {"field": "committee_id"})
            deadline = _form_date(values["return_deadline"], "Hạn gửi lại phiếu", "return_deadline")
            job = packets.start(sess, user, committee_id, year, return_deadline=deadline,
                                sheet_ids=sheet_ids_from_serials(sess, values["sheets"]),
                                include_exempt=values["include_exempt"], answer_codes=values["answer_codes"])
            flash(f"Đã bắt đầu lập bộ phiếu cho {job.progress_total} chi bộ nơi cư trú.", "success")
            return redirect(url_for("jobs.detail", job_id=job.id))
    except ServiceError as err:
        if isinstance(err, Forbidden):
            raise
        sess.rollback()
        error = err
    status = error.status if error is not None else 200
    return render_template("documents/packets.html", committees=committees, values=values, run=run, error=error,
                           default_deadline=(today + dt.timedelta(days=packets.DEFAULT_RETURN_DAYS)).strftime("%d/%m/%Y"),
                           ), status


ROUTES = (("/packets", "packets_start", packets_start, ("GET", "POST")),)
