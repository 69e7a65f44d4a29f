"""Tokens, imports, jobs and templates."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel

from ..api_schema import Body, Query, text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_UPLOAD = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                               "mapping": {"type": "string", "description": "JSON: {\"A\": \"full_name\", ...}"}},
               "required": ["file"]}
TEMPLATE_UPLOAD = {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary"},
    "definition": {"type": "string", "format": "binary"}}, "required": ["file"]}


class TemplateForm(Query):
    kind: Literal["evaluation_sheet", "introduction_letter"]


class TokenInput(Body):
    name: Optional[text(100)] = None
    expires_in_days: Optional[int] = None  # 1 to 365, default 90 (checked by the service: invalid_token_expiry)


class ApiTokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    created_at: str
    last_used_at: Optional[str] = None
    expires_at: str
    revoked_at: Optional[str] = None
    state: Literal["active", "expired", "revoked"]


class TokenOut(ApiTokenOut):
    token: str


class TokenList(BaseModel):
    items: list[ApiTokenOut]


class Progress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    state_label: str
    progress: Progress
    percent: int
    message: Optional[str] = None
    result: object = None
    error: object = None
    has_file: bool
    created_at: Optional[str] = None
    finished_at: Optional[str] = None


class ImportBatchOut(BaseModel):
    id: int
    file_name: Optional[str] = None
    status: Literal["needs_mapping", "previewed", "rejected", "queued", "applied", "failed", "undone"]
    job_id: Optional[int] = None
    preview: object = None


class ImportUndoOut(ImportBatchOut):
    undo: object = None


class ImportForm(Query):
    """Text fields of the upload: an optional column mapping as JSON {"A": "full_name", "B": "", ...}."""
    mapping: Optional[str] = None


class ImportMapping(Body):
    """Column letter (A, B, ...) -> field (full_name, card_number, ...; "" to skip the column)."""
    mapping: dict[text(3), text(40)]


class ImportPlaces(Body):
    """Name of a ward committee to be created -> its place name (địa danh) printed on documents."""
    places: dict[text(255), text(120)]
