"""How stored values read on a page: Vietnamese labels, dd/mm/yyyy dates, organisation names."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import Flask

from . import db
from .models import GENDERS, MEMBER_STATUSES, EvaluationStatus, ImportBatchStatus, Organisation

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Stored times are UTC without a zone (models.utcnow); people read them in Vietnam time.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def display_value(value, field: str = "") -> str:
    if value is None or value == "":
        return ""
    if field == "gender":
        return GENDERS.get(value, value)
    if field == "status":
        return MEMBER_STATUSES.get(value, value)
    if field.endswith("_org_id") or field == "residence_cell_id":
        org = db.session().get(Organisation, value) if isinstance(value, int) else None
        return org.name if org else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and ISO_DATE.match(value):
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


def vn_time(value, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A stored UTC time as read in Vietnam (Asia/Ho_Chi_Minh): ``02/01/2026 07:30``; empty for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(VIETNAM).strftime(fmt)


def iso_date(value) -> str:
    """A typed date (d/m/yyyy, d-m-yyyy, yyyy-mm-dd: members.fields.parse_date) as the yyyy-mm-dd value of
    ``<input type=date>``; "" when it is not a date (the form then shows the text as typed)."""
    from .members.fields import ValueProblem, parse_date
    try:
        day = parse_date(value)
    except ValueProblem:
        return ""
    return day.isoformat() if day else ""


def init_app(app: Flask) -> None:
    app.add_template_filter(iso_date, "iso_date")
    from .text import join_clauses
    app.add_template_filter(join_clauses, "clauses")
    app.add_template_filter(display_value, "vi")
    app.add_template_filter(vn_time, "vn_time")
    from .text import vi_name_key
    app.add_template_filter(lambda rows, attr="full_name": sorted(rows, key=lambda r: vi_name_key(getattr(r, attr) or "")),
                            "vi_sort")
    # stored states with their Vietnamese titles (one map each, in models)
    app.jinja_env.globals.update(ImportBatchStatus=ImportBatchStatus, EvaluationStatus=EvaluationStatus)
