"""Report pages: choose a workplace cell and year; the table, its Excel and Word files, the charts."""
from __future__ import annotations

import datetime as dt
import io

import docgen
from flask import Blueprint, current_app, render_template, request, send_file
from flask_login import login_required

from .. import db
from ..api_schema import int_arg, year_arg
from ..auth import current
from ..errors import Forbidden
from . import charts
from .cells import build_report, report_org, report_orgs
from .excel import report_xlsx
from .word import report_docx

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _report(org_id: int):
    sess, user = db.session(), current()
    org = report_org(sess, user, org_id)
    year = year_arg(request.args) or dt.date.today().year
    return build_report(sess, user, org, year, current_app.config.get("ABSENCE_RULE", True))


@bp.route("/")
@login_required
def index():
    sess, user = db.session(), current()
    orgs = report_orgs(sess, user)
    if not orgs and user.role != "admin":
        raise Forbidden("Báo cáo kết quả nhận xét dành cho đảng ủy nơi công tác.")
    year = year_arg(request.args) or dt.date.today().year
    org_id = int_arg(request.args, "org_id")
    report = _report(org_id) if org_id else None
    return render_template("reports/index.html", orgs=orgs, year=year, report=report,
                           years=range(dt.date.today().year + 1, dt.date.today().year - 6, -1))


def _download(org_id: int, make, ext: str, mimetype: str):
    """The report as a file: "Kết quả nhận xét <year> <organisation>.<ext>"."""
    report = _report(org_id)
    name = docgen.safe_filename(f"Kết quả nhận xét {report.year} {report.org.name}", ext)
    return send_file(io.BytesIO(make(report)), as_attachment=True, mimetype=mimetype, download_name=name)


@bp.route("/<int:org_id>.xlsx")
@login_required
def excel(org_id: int):
    return _download(org_id, report_xlsx, "xlsx", XLSX)


@bp.route("/<int:org_id>.docx")
@login_required
def word(org_id: int):
    return _download(org_id, report_docx, "docx", DOCX)


@bp.route("/<int:org_id>/charts")
@login_required
def chart_page(org_id: int):
    report = _report(org_id)
    rates = report.return_rates()
    rate_svg = charts.return_rate_chart(rates) if rates else ""
    workplace_rates = report.return_rates("workplace") if report.by_workplace_cell else {}
    workplace_svg = charts.return_rate_chart(workplace_rates, "workplace") if workplace_rates else ""
    item_svgs = [charts.distribution_chart(title, counts, f"chart-item-{k}")
                 for k, (title, counts) in enumerate(report.distributions(), 1)]
    return render_template("reports/charts.html", report=report, rate_svg=rate_svg,
                           workplace_svg=workplace_svg, item_svgs=item_svgs)
