"""The year-end campaign."""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel

from ..api_schema import Body, Id, Year, text


class CampaignInput(Body):
    workplace_org_id: Id
    year: Year
    deadline: text(10)  # dd/mm/yyyy or yyyy-mm-dd
    include_exempt: bool = False


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
