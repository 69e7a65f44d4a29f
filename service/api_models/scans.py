"""Scanned returns: batches and pages under review."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from ..api_schema import Body, Id, Query, Year, text
from ..models import ScanPageStatus

PageStatus = Literal[tuple(s.value for s in ScanPageStatus)]  # type: ignore[valid-type]
Answers = Annotated[dict[text(64), text(64)], Field(max_length=200, description="Mục -> lựa chọn")]

UPLOAD = {"type": "object", "properties": {
    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}, "required": ["files"]}


class UploadForm(Query):
    auto_apply: Optional[Literal["0", "1", "false", "true"]] = Field(
        None, description="Tự động cập nhật trang đọc chắc chắn (mặc định: có)")


class PagesQuery(Query):
    status: Optional[PageStatus] = None


class ApplyInput(Body):
    answers: Optional[Answers] = None
    other_remarks: Optional[text(2000)] = None
    member_id: Optional[Id] = None
    year: Optional[Year] = None
    #: a receipt slip: the date written on it, or ``confirm_today`` when it carries none
    received_on: Optional[dt.date] = None
    confirm_today: bool = False


class RejectInput(Body):
    reason: Optional[text(500)] = None


class TranscriptionInput(Body):
    """The typed text of a handwritten "Nhận xét khác" (line breaks kept; emptiness and length are
    checked by the service: remarks_empty, remarks_too_long)."""
    text: Optional[str] = None


class TranscriptionOut(BaseModel):
    evaluation_id: int
    member_id: int
    member_name: str
    year: int
    sheet_serial: str
    remarks_status: Optional[str] = None
    other_remarks: Optional[str] = None
    source_page_id: Optional[int] = None


class TranscriptionList(BaseModel):
    items: list[TranscriptionOut]
