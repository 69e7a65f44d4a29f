"""The year-end campaign."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from ..api_schema import Body, Id, Year, text


class CampaignInput(Body):
    workplace_org_id: Id
    year: Year
    deadline: text(10)  # dd/mm/yyyy or yyyy-mm-dd
    include_exempt: bool = False
    answer_codes: bool = Field(False, description="In kèm mã trả lời trực tuyến trong phiếu xin ý kiến của từng chi bộ")


class CampaignCell(BaseModel):
    cell_id: Optional[int] = None
    cell: str
    ward: str
    secretary: str
    phone: str
    total: int
    sent: int
    returned: int
    applied: int
    overdue: int


class CampaignWorkplaceCell(BaseModel):
    org_id: Optional[int] = None
    name: str
    total: int
    sent: int
    returned: int
    applied: int
    overdue: int
    percent_returned: int


class CampaignOut(BaseModel):
    id: int
    title: str
    workplace_org_id: int
    year: int
    deadline: str
    job_id: Optional[int] = None
    include_exempt: bool
    totals: dict[str, int]
    cells: list[CampaignCell]
    workplace_cells: list[CampaignWorkplaceCell]


class SentInput(Body):
    sent_on: Optional[text(10)] = Field(None, description="Ngày gửi (dd/mm/yyyy hoặc yyyy-mm-dd); mặc định hôm nay")
    cell_id: Optional[Id] = Field(None, description="Chỉ các phiếu của chi bộ nơi cư trú này; mặc định mọi phiếu đã tạo mà chưa gửi")


class SentOut(BaseModel):
    marked: int
    campaign: CampaignOut


class HandReturnInput(Body):
    answers: Annotated[dict[text(40), text(40)], Field(max_length=20)] = Field(
        default_factory=dict, description="Mục -> lựa chọn (khóa của mẫu phiếu); để trống: chỉ ghi nhận đã nhận phiếu giấy")
    other_remarks: Optional[text(2000)] = None
    received_on: Optional[text(10)] = Field(None, description="Ngày nhận lại (dd/mm/yyyy hoặc yyyy-mm-dd); mặc định hôm nay")
    via: Literal["hand", "digital"] = "hand"


class CampaignSheetOut(BaseModel):
    member_id: int
    full_name: str
    sheet_serial: Optional[str] = None
    residence_cell_id: Optional[int] = None
    state: str
    state_title: str
    method: Optional[str] = None
    sent_on: Optional[str] = None
    returned_on: Optional[str] = None
    applied_on: Optional[str] = None
    overdue: bool
    remark_pending: bool
