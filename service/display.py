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
    app.jinja_env.globals.update(audit_label=audit_label, audit_value=audit_value)
    from .text import vi_name_key
    app.add_template_filter(lambda rows, attr="full_name": sorted(rows, key=lambda r: vi_name_key(getattr(r, attr) or "")),
                            "vi_sort")
    # stored states with their Vietnamese titles (one map each, in models)
    app.jinja_env.globals.update(ImportBatchStatus=ImportBatchStatus, EvaluationStatus=EvaluationStatus)


# What the member's history says of a change to a record other than the member itself (the keys and
# values are those of the records' snapshot(); a person reads Vietnamese, never a stored key).
AUDIT_FIELDS = {
    "member_id": "Đảng viên", "year": "Năm", "sheet_serial": "Số phiếu", "variant": "Loại phiếu",
    "template_version": "Phiên bản mẫu", "replaces_id": "Thay cho phiếu", "answers": "Trả lời mục 1–6",
    "other_remarks": "Nhận xét khác", "returned_on": "Ngày nhận lại", "source_page_id": "Trang trả lời",
    "remarks_file_id": "Ảnh «Nhận xét khác»", "remarks_status": "«Nhận xét khác» viết tay",
    "voided_reason": "Lý do hủy", "meeting_id": "Buổi sinh hoạt", "note": "Ghi chú", "reason": "Lý do",
    "written_on": "Ngày viết đơn", "certified_by": "Người xác nhận", "certified_at": "Thời điểm xác nhận",
    "answer_code_id": "Mã trả lời trực tuyến", "expires_at": "Hết hạn", "received_on": "Ngày tiếp nhận",
    "number": "Số", "issued_on": "Ngày ký", "definition_hash": "Mã định nghĩa biểu mẫu", "rating": "Xếp loại",
}
VARIANTS = {"standard": "Sinh hoạt nơi cư trú", "exempt": "Miễn sinh hoạt nơi cư trú (HD 33)"}
REMARK_STATES = {"pending": "chờ nhập", "transcribed": "đã nhập", "unreadable": "không đọc được"}


def audit_label(key: str, kind: str, member_labels: dict) -> str:
    if kind == "member":
        return member_labels.get(key, key)
    if key == "status":
        return "Điểm danh" if kind == "attendance" else "Trạng thái"
    return AUDIT_FIELDS.get(key) or member_labels.get(key) or "Thông tin khác"


def audit_value(value, key: str, kind: str) -> str:
    from .models import ATTENDANCE
    if kind == "member":
        return display_value(value, key)
    if value is None or value == "":
        return ""
    if key == "status":
        table = ATTENDANCE if kind == "attendance" else {s.value: s.title for s in EvaluationStatus}
        return table.get(value, display_value(value, key))
    if key == "variant":
        return VARIANTS.get(value, str(value))
    if key == "remarks_status":
        return REMARK_STATES.get(value, str(value))
    if key == "answers":
        return f"{len(value)} mục" if isinstance(value, dict) else str(value)
    if key == "definition_hash":
        return str(value)[:12]
    return display_value(value, key)
