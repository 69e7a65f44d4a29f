"""Member registry: list filters, the member input and the member as answered."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from ..api_schema import PLAIN_TEXT, Body, Id, Query, text
from ..models import MEMBER_STATUSES

Status = Literal[tuple(MEMBER_STATUSES)]  # type: ignore[valid-type]
Gender = Literal["male", "female"]
DateText = Annotated[str, Field(max_length=20, pattern=PLAIN_TEXT, description="dd/mm/yyyy hoặc yyyy-mm-dd")]


class MemberFilterQuery(Query):
    q: Optional[text(200)] = Field(None, description="Tìm theo họ tên (không phân biệt dấu, hoa thường), số thẻ, điện thoại")
    workplace_org_id: Optional[Id] = None
    residence_cell_id: Optional[Id] = None
    ward_id: Optional[Id] = None
    status: Optional[Status] = None
    page: Optional[Annotated[int, Field(ge=1, le=1_000_000)]] = None
    per_page: Optional[Annotated[int, Field(ge=1, le=500)]] = None


class MemberPatch(Body):
    """Fields to change; null or "" clears an optional field (name and status cannot be cleared)."""
    full_name: text(200) = None
    card_number: Optional[text(32)] = None
    date_of_birth: Optional[DateText] = None
    gender: Optional[Gender | Literal[""]] = None
    admission_date: Optional[DateText] = None
    full_member_date: Optional[DateText] = None
    workplace_org_id: Optional[Id] = None
    residence_cell_id: Optional[Id] = None
    party_position: Optional[text(200)] = None
    government_position: Optional[text(200)] = None
    mass_org_position: Optional[text(200)] = None
    house: Optional[text(200)] = None
    residential_group: Optional[text(120)] = None
    neighbourhood: Optional[text(120)] = None
    commune: Optional[text(120)] = None
    province: Optional[text(120)] = None
    phone: Optional[text(40)] = None
    status: Status = None
    notes: Optional[text(4000)] = None


class MemberInput(MemberPatch):
    full_name: text(200)
    card_number: text(32)


class MemberOut(BaseModel):
    id: int
    full_name: str
    card_number: Optional[str] = None
    date_of_birth: Optional[str] = None
    gender: Optional[str] = None
    admission_date: Optional[str] = None
    full_member_date: Optional[str] = None
    workplace_org_id: Optional[int] = None
    residence_cell_id: Optional[int] = None
    party_position: Optional[str] = None
    government_position: Optional[str] = None
    mass_org_position: Optional[str] = None
    house: Optional[str] = None
    residential_group: Optional[str] = None
    neighbourhood: Optional[str] = None
    commune: Optional[str] = None
    province: Optional[str] = None
    phone: Optional[str] = None
    status: str
    notes: Optional[str] = None
    status_label: str
    workplace_org_name: Optional[str] = None
    residence_cell_name: Optional[str] = None
    residence_address: str


class MemberPage(BaseModel):
    items: list[MemberOut]
    total: int
    page: int
    per_page: int
