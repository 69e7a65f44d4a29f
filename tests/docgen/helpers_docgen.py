"""Shared helpers for the docgen tests."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
LETTER = TEMPLATES / "introduction_letter.v1.docx"
SHEET = TEMPLATES / "evaluation_sheet.v1.docx"


def all_text(docx_bytes: bytes) -> str:
    """Every paragraph's text, tables (nested) included, headers/footers too."""
    doc = Document(io.BytesIO(docx_bytes))
    out: list[str] = []

    def walk(container):
        for block in container.iter_inner_content():
            if hasattr(block, "rows"):
                for row in block.rows:
                    for cell in row.cells:
                        walk(cell)
            else:
                out.append(block.text)

    walk(doc)
    for s in doc.sections:
        walk(s.header)
        walk(s.footer)
    return "\n".join(out)


def member(docx_bytes: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(docx_bytes)).read(name)
