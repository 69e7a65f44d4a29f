"""The scan layout of each evaluation-sheet template version: built once when the version is
accepted, kept in the database, only read afterwards.

* A built-in version (``templates/``) gets its layouts when it is registered
  (:func:`service.documents.templates_store.sync_builtin` calls :func:`ensure_builtin_layouts`).
* An uploaded version gets them in :func:`service.documents.templates_store.upload_template`,
  rendered in the same sandbox as every other render of it (:class:`docgen.isolate.IsolatedRenderer`);
  a template whose sample sheet cannot be rendered or read is refused and nothing is stored.
* A scan job only reads the stored layouts (:func:`all_layouts`), of every version, switched off
  or not: sheets printed from a version switched off are still read, and nothing renders it.
"""
from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

import docgen
import ocr
from docgen import samples
from docgen.isolate import IsolatedRenderer
from docgen.pdf import convert_to_pdf
from forms.definition import FormDefinition
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db
from ..errors import ServiceError
from ..models import DocumentTemplate, FormLayout

KIND = "evaluation_sheet"
log = logging.getLogger(__name__)

_built: dict[tuple, dict] = {}


def _variants(definition: FormDefinition) -> list[str]:
    return list(definition.variant_names or ["standard"])


def _layout(definition: FormDefinition, variant: str, render) -> dict:
    # the shortest content: every printed line of the sample fits on one line, so on a real sheet whose
    # longer names or address wrap the items only move down (the reader searches downward shifts)
    data = samples.evaluation_sheet(1, variant=variant, year=dt.date.today().year, sheet_serial="2000-000001-1",
                                    member_id="1", workplace_cell_name="Chi bộ A", workplace_committee_name="Đảng ủy A",
                                    residence_address="Số 1")
    pdf = convert_to_pdf([("layout.docx", render(data))])[0]
    return ocr.build_layout(definition, pdf, variant=variant).to_dict()


def ensure_builtin_layouts(sess: Session, form_definition, template_path, renderer) -> None:
    """Build and store the layouts of the built-in versions that have none yet (a shipped template: fast path).

    The template store calls this after registering its versions and passes its own accessors
    (a version's definition, file and renderer), so this module does not import the store.
    """
    _ensure_builtin(sess, KIND, form_definition, template_path, renderer, _variants, _layout)


def ensure_builtin_slip_layouts(sess: Session, form_definition, template_path, renderer) -> None:
    """Where the receipt slip's QR and date boxes are, for each built-in letter version that has
    date boxes (``date_boxes`` in its definition): built once from a rendered sample letter, kept."""
    _ensure_builtin(sess, SLIP_KIND, form_definition, template_path, renderer,
                    lambda definition: [SLIP_VARIANT] if definition.date_boxes is not None else [],
                    _slip_layout)


def _slip_layout(definition: FormDefinition, _variant: str, render) -> dict:
    from ocr.slip import build_slip_layout
    data = samples.introduction_letter(1, member_id="1", sheet_serial="GGT-1", year=dt.date.today().year)
    pdf = convert_to_pdf([("slip.docx", render(data))])[0]
    return build_slip_layout(definition, pdf).to_dict()


def _ensure_builtin(sess: Session, kind: str, form_definition, template_path, renderer, variants, build) -> None:
    """The one loop behind both: for each built-in version of ``kind`` and each of its ``variants`` without
    a stored layout, ``build(definition, variant, render)`` once per process (cached by file, time and
    definition hash) and store it; a version whose layout cannot be built is logged and skipped."""
    have = {(r.version, r.variant) for r in sess.scalars(select(FormLayout).where(FormLayout.kind == kind))}
    rows = sess.scalars(select(DocumentTemplate).where(DocumentTemplate.kind == kind,
                                                       DocumentTemplate.builtin_path.is_not(None))).all()
    for template in rows:
        definition = form_definition(template)
        for variant in variants(definition):
            if (template.version, variant) in have:
                continue
            path = template_path(sess, template)
            key = (str(path), path.stat().st_mtime, definition.hash, variant)
            try:
                if key not in _built:
                    _built[key] = build(definition, variant, renderer(sess, template).render)
            except (docgen.DocgenError, ocr.LayoutError, ServiceError) as exc:
                log.warning("no scan layout for %s v%s %s: %s", kind, template.version, variant, exc)
                continue
            try:
                with db.new_session() as own:
                    own.add(FormLayout(kind=kind, version=template.version, variant=variant, layout=_built[key]))
            except IntegrityError:
                pass  # stored by another process at the same time: same content


def build_uploaded_layouts(data: bytes, definition: FormDefinition, mark_key,
                           limits: tuple[float, int]) -> dict[str, dict]:
    """Layouts of every variant of an uploaded sheet template, rendered in the sandbox process."""
    with tempfile.TemporaryDirectory(prefix="noicutru-tpl-") as tmp:
        path = Path(tmp, "template.docx")
        path.write_bytes(data)
        seconds, memory_mb = limits
        with IsolatedRenderer(path, definition.to_dict(), mark_key=mark_key, seconds=seconds, memory_mb=memory_mb) as sandboxed:
            out = {}
            for variant in _variants(definition):
                try:
                    out[variant] = _layout(definition, variant, sandboxed.render)
                except docgen.DocgenError as exc:
                    code = getattr(exc, "code", "template_render")
                    raise ServiceError(code if code != "docgen_error" else "template_render",
                                       f"Mẫu {definition.template}: {exc.message_vi}.",
                                       {"variant": variant}) from None
                except ocr.LayoutError as exc:
                    raise ServiceError("layout_failed", f"Mẫu {definition.template}: không tìm được vị trí "
                                                        f"các ô đánh dấu trên phiếu mẫu ({exc}).",
                                       {"variant": variant}) from None
            return out


SLIP_KIND, SLIP_VARIANT = "introduction_letter", "slip"


def all_slip_layouts(sess: Session) -> list[dict]:
    """The stored slip layouts of the introduction letter's versions (never builds one)."""
    rows = sess.scalars(select(FormLayout).where(FormLayout.kind == SLIP_KIND, FormLayout.variant == SLIP_VARIANT)
                        .order_by(FormLayout.version))
    return [r.layout for r in rows]


def all_layouts(sess: Session) -> list[dict]:
    """The stored layouts of every version and variant of the evaluation sheet (never builds one)."""
    rows = sess.scalars(select(FormLayout).where(FormLayout.kind == KIND)
                        .order_by(FormLayout.version, FormLayout.id))  # variants in the definition's order
    return [r.layout for r in rows]
