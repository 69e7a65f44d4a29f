"""Letters, evaluation sheets, bulk merge and previews."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from ..api_schema import Body, Id, Query, Year, text

DocKind = Literal["evaluation_sheet", "introduction_letter"]
Output = Literal["zip", "combined", "pdf", "cell_bundles"]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENT_TYPES = (DOCX, "application/pdf", "image/png")


class FormatQuery(Query):
    format: Optional[Literal["docx", "pdf", "png"]] = None


class PreviewQuery(Query):
    member_id: Id
    kind: Optional[DocKind] = None
    year: Optional[Year] = None
    format: Optional[Literal["docx", "pdf", "png"]] = None


class SheetInput(Body):
    year: Optional[Year] = None


class VoidInput(Body):
    reason: text(500)


class Selection(Body):
    workplace_org_id: Optional[Id] = None
    residence_cell_id: Optional[Id] = None
    ward_id: Optional[Id] = None
    member_ids: Optional[Annotated[list[Id], Field(max_length=10_000)]] = None


class BulkInput(Body):
    kind: DocKind
    year: Year
    selection: Optional[Selection] = None
    outputs: Optional[Annotated[list[Output], Field(min_length=1, max_length=4)]] = None


class IssueWarning(BaseModel):
    code: str
    message: str


class IntroductionOut(BaseModel):
    id: int
    member_id: int
    number: int
    year: int
    reference: str
    issued_on: str
    issuing_org_id: int
    residence_cell_id: Optional[int] = None
    received_on: Optional[str] = None
    template_version: Optional[int] = None
    warnings: list[IssueWarning] = []


class IssueCheckOut(BaseModel):
    """What to know before issuing; an empty list: nothing to add."""
    warnings: list[IssueWarning]


class SheetOut(BaseModel):
    id: int
    member_id: int
    year: int
    sheet_serial: Optional[str] = None
    variant: str
    status: str
    template_version: Optional[int] = None
    replaces_id: Optional[int] = None
    voided_reason: Optional[str] = None


class VoidOut(BaseModel):
    voided: SheetOut
    replacement: SheetOut
