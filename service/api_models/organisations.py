"""Party organisations."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

from ..api_schema import Body, Id, Query, text
from ..models import ORG_KINDS

Kind = Literal[tuple(ORG_KINDS)]  # type: ignore[valid-type]


class OrgQuery(Query):
    kind: Optional[Kind] = None


class OrgInput(Body):
    name: text(255)
    kind: Kind
    parent_id: Optional[Id] = None
    place: Optional[text(120)] = None


class OrgPatch(Body):
    name: Optional[text(255)] = None
    place: Optional[text(120)] = None
    secretary_name: Optional[text(200)] = None
    parent_id: Optional[Id] = None
    upper_body_name: Optional[text(255)] = Field(None, description="Tên cấp ủy cấp trên in ở đầu văn bản (để trống: "
                                                                   "tên tổ chức cấp trên)")
    document_code: Optional[text(20)] = Field(None, description="Ký hiệu sau dấu «/» trong số văn bản, ví dụ ĐU "
                                                                "(để trống: ĐU cho đảng ủy, CB cho chi bộ cơ sở)")


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: Optional[int] = None
    place: Optional[str] = None
    secretary_name: Optional[str] = None
    upper_body_name: Optional[str] = None
    document_code: Optional[str] = None
