"""Party organisations."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel

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


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    parent_id: Optional[int] = None
    place: Optional[str] = None
    secretary_name: Optional[str] = None
