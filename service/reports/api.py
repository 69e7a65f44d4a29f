"""JSON API of the results: the per-cell report of a year, and certifying an absence request."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, jsonify
from flask_login import login_required

from .. import db
from ..api_models import reports as models
from ..api_schema import operation
from ..auth import current
from ..errors import NotFound
from ..meetings.logic import certify_absence_request
from ..models import AbsenceRequest
from .cells import build_report, report_org

bp = Blueprint("reports", __name__)


@bp.get("/reports/<int:org_id>")
@login_required
@operation("Kết quả nhận xét của một chi bộ (đảng ủy) nơi công tác trong một năm", query=models.ReportQuery,
           ok_schema=models.ReportOut)
def report_get(org_id: int, query: models.ReportQuery):
    sess, user = db.session(), current()
    org = report_org(sess, user, org_id)
    report = build_report(sess, user, org, query.year or dt.date.today().year,
                          current_app.config.get("ABSENCE_RULE", True))
    rows = []
    for r in report.rows:
        res = r.result
        rows.append({
            "member_id": r.member.id, "full_name": r.member.full_name,
            "residence_cell": r.member.residence_cell.name if r.member.residence_cell else None,
            "sheet": r.sheet_state, "template_version": res.version if res else None,
            "variant": res.variant if res else None,
            "items": {str(i.number): i.answer for i in res.items} if res and res.returned else {},
            "other_remarks": res.remarks if res else "", "remarks_pending": bool(res and res.remarks_pending),
            "source": res.source if res else None,
            "absences": [{"meeting_id": a.meeting.id, "held_on": a.meeting.held_on.isoformat(), "excused": a.excused,
                          "reason": a.request.reason if a.request else None, "text": a.describe()}
                         for a in r.absences],
            "flagged": r.flag})
    return jsonify({"organisation_id": org.id, "organisation": org.name, "year": report.year, "sent": report.sent,
                    "returned": report.returned, "rows": rows})


@bp.post("/absence-requests/<int:request_id>/certify")
@login_required
@operation("Đảng ủy nơi công tác xác nhận đơn xin vắng (buổi vắng được tính là có lý do)",
           ok_schema=models.AbsenceRequestOut, errors=(409,))
def absence_certify(request_id: int):
    sess, user = db.session(), current()
    row = sess.get(AbsenceRequest, request_id)
    if row is None:
        raise NotFound("Không tìm thấy đơn xin vắng.")
    certify_absence_request(sess, user, row)
    return jsonify({"id": row.id, "meeting_id": row.meeting_id, "member_id": row.member_id, "reason": row.reason,
                    "certified": row.certified, "certified_by": row.certified_by,
                    "certified_at": row.certified_at.isoformat() if row.certified_at else None})
