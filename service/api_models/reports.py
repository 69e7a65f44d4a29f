"""Results for the rating: the per-cell report rows; absence requests."""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel

from ..api_schema import Query, Year


class ReportQuery(Query):
    year: Optional[Year] = None


class ReportAbsence(BaseModel):
    meeting_id: int
    held_on: str
    excused: bool
    reason: Optional[str] = None
    text: str


class ReportRow(BaseModel):
    member_id: int
    full_name: str
    residence_cell: Optional[str] = None
    sheet: str  # "Chưa lập phiếu", "Chưa nhận lại", "Đã nhận lại"
    template_version: Optional[int] = None
    variant: Optional[str] = None
    items: dict[str, Optional[str]]  # item number -> the chosen option's label
    other_remarks: str
    remarks_pending: bool
    source: Optional[str] = None  # scan, digital, hand
    absences: list[ReportAbsence]
    flagged: bool


class ReportOut(BaseModel):
    organisation_id: int
    organisation: str
    year: int
    sent: int
    returned: int
    rows: list[ReportRow]


class AbsenceRequestOut(BaseModel):
    id: int
    meeting_id: int
    member_id: int
    reason: str
    certified: bool
    certified_by: Optional[int] = None
    certified_at: Optional[str] = None
