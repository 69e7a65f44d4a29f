"""How stored values read on a page: Vietnamese labels, dd/mm/yyyy dates, organisation names."""
from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from . import db
from .models import GENDERS, MEMBER_STATUSES, EvaluationStatus, ImportBatchStatus, Organisation

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def init_app(app: Flask) -> None:
    app.add_template_filter(display_value, "vi")
    # stored states with their Vietnamese titles (one map each, in models)
    app.jinja_env.globals.update(ImportBatchStatus=ImportBatchStatus, EvaluationStatus=EvaluationStatus)
