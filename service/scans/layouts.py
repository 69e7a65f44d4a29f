"""The scan layout of each evaluation-sheet template version, built once and kept in the database."""
from __future__ import annotations

import datetime as dt

import ocr
from docgen import samples
from docgen.pdf import convert_to_pdf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db
from ..models import DocumentTemplate, FormLayout
from ..documents.templates_store import form_definition, renderer, sync_builtin, template_path

KIND = "evaluation_sheet"


_built: dict[tuple, dict] = {}


def _build(sess: Session, template: DocumentTemplate, variant: str) -> dict:
    """Render a sample sheet of this version and variant, and find its boxes (kept per process too)."""
    path = template_path(sess, template)
    definition = form_definition(template)
    key = (str(path), path.stat().st_mtime, definition.hash, variant)
    if key not in _built:
        data = samples.evaluation_sheet(1, variant=variant, year=dt.date.today().year, sheet_serial="2000-000001-1",
                                        member_id="1")
        docx = renderer(sess, template).render(data)
        pdf = convert_to_pdf([("layout.docx", docx)])[0]
        _built[key] = ocr.build_layout(definition, pdf, variant=variant).to_dict()
    return _built[key]


def all_layouts(sess: Session) -> list[dict]:
    """Layouts of every version and variant of the evaluation sheet (building the missing ones)."""
    sync_builtin(sess)
    have = {(r.version, r.variant): r.layout for r in sess.scalars(select(FormLayout).where(FormLayout.kind == KIND))}
    out = []
    for template in sess.scalars(select(DocumentTemplate).where(DocumentTemplate.kind == KIND)
                                 .order_by(DocumentTemplate.version)):
        for variant in (form_definition(template).variant_names or ["standard"]):
            layout = have.get((template.version, variant))
            if layout is None:
                layout = _build(sess, template, variant)
                try:
                    with db.new_session() as own:
                        own.add(FormLayout(kind=KIND, version=template.version, variant=variant, layout=layout))
                except IntegrityError:
                    pass  # built by another worker at the same time: same content
            out.append(layout)
    return out
