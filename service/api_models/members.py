"""Member registry: list filters, the member input and the member as answered.

The member fields, their types, limits and descriptions come from the one vocabulary,
``service.members.fields`` (the form, the import and the export use it too).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, Field, create_model

from ..api_schema import PLAIN_TEXT, Body, Id, Query, text
from ..members.fields import BY_NAME, RECORD_FIELDS, MemberField
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


def _input_type(f: MemberField) -> Any:
    """The JSON type of a member field as the API takes it (the value is then parsed by the registry)."""
    if f.kind == "date":
        return Optional[DateText]
    if f.kind == "gender":
        return Optional[Gender | Literal[""]]
    if f.kind == "status":
        return Status
    if f.kind == "org":
        return Optional[Id]
    return Optional[text(f.max_length or 200)]


def _output_type(f: MemberField) -> Any:
    if f.kind == "status":
        return str
    return Optional[int] if f.kind == "org" else Optional[str]


_PATCH_FIELDS: dict[str, Any] = {name: (_input_type(BY_NAME[name]), Field(None, description=BY_NAME[name].label))
                                 for name in RECORD_FIELDS}
_PATCH_FIELDS["full_name"] = (text(200), Field(None, description=BY_NAME["full_name"].label))
_PATCH_FIELDS["phone"] = (Optional[text(40)], Field(None, description="Số điện thoại; lưu dạng 0xxxxxxxxx "
                                                                      "(+84, dấu chấm, dấu cách được chấp nhận)"))

MemberPatch = create_model("MemberPatch", __base__=Body, __doc__=(
    "Fields to change; null or \"\" clears an optional field (name and status cannot be cleared)."),
    **_PATCH_FIELDS)


class MemberInput(MemberPatch):  # type: ignore[valid-type,misc]
    full_name: text(200)
    card_number: text(32)


_OUT_FIELDS: dict[str, Any] = {"id": (int, ...)}
_OUT_FIELDS.update({name: (_output_type(BY_NAME[name]), ... if BY_NAME[name].kind == "status" else None)
                    for name in RECORD_FIELDS})
_OUT_FIELDS["full_name"] = (str, ...)
_OUT_FIELDS.update(status_label=(str, ...), workplace_org_name=(Optional[str], None),
                   residence_cell_name=(Optional[str], None), residence_address=(str, ...))
MemberOut = create_model("MemberOut", **_OUT_FIELDS)


class MemberPage(BaseModel):
    items: list[MemberOut]
    total: int
    page: int
    per_page: int
