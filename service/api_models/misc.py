"""Tokens, imports, jobs and templates."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel

from ..api_schema import Body, Query, text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_UPLOAD = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
TEMPLATE_UPLOAD = {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary"},
    "definition": {"type": "string", "format": "binary"}}, "required": ["file"]}


class TemplateForm(Query):
    kind: Literal["evaluation_sheet", "introduction_letter"]


class TokenInput(Body):
    name: Optional[text(100)] = None


class TokenOut(BaseModel):
    token: str


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
    status: Literal["previewed", "rejected", "queued", "applied", "failed"]
    job_id: Optional[int] = None
    preview: object = None
