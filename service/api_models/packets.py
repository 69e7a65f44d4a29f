"""The per-cell packets of a workplace committee's year (request letter + sheets)."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Optional

from pydantic import BaseModel, Field

from ..api_schema import Body, Id, Query, Year


class PacketsInput(Body):
    committee_id: Id
    year: Year
    return_deadline: Optional[dt.date] = Field(None, description="Hạn gửi lại phiếu (YYYY-MM-DD); mặc định 30 ngày sau ngày gửi")
    sheet_ids: Optional[Annotated[list[Id], Field(max_length=20_000)]] = None
    include_exempt: Optional[bool] = Field(None, description="Gửi cả đảng viên được miễn sinh hoạt nơi cư trú")
    answer_codes: Optional[bool] = Field(None, description="In kèm mã trả lời trực tuyến (mỗi phiếu một mã mới, mã cũ "
                                                           "chưa dùng bị thu hồi) trong phiếu xin ý kiến")


class YearRunQuery(Query):
    committee_id: Id
    year: Year


class RunMember(BaseModel):
    id: int
    full_name: str
    residence_cell_id: Optional[int] = None
    residence_cell: Optional[str] = None


class RunCell(BaseModel):
    residence_cell_id: Optional[int] = None
    residence_cell: Optional[str] = None
    members: int


class YearRunOut(BaseModel):
    committee_id: int
    year: int
    members: list[RunMember]
    cells: list[RunCell]
    exempt: list[RunMember]
