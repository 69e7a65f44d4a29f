"""Rendering one issued document (letter or sheet) to .docx, PDF or a PNG preview."""
from __future__ import annotations

from typing import Union

import docgen
from docgen.pdf import convert_to_pdf
from docgen.preview import watermark
from forms import qrpayload
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..models import Evaluation, Introduction
from .contexts import evaluation_data, introduction_data
from .templates_store import form_definition, renderer, template_version

Record = Union[Introduction, Evaluation]
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def record_data(record: Record) -> tuple[str, dict]:
    if isinstance(record, Introduction):
        return "introduction_letter", introduction_data(record)
    return "evaluation_sheet", evaluation_data(record)


def render_record(sess: Session, record: Record) -> bytes:
    """The .docx of an issued letter or sheet, with the template version it was issued with."""
    kind, data = record_data(record)
    row = template_version(sess, kind, record.template_version or 1)
    try:
        return renderer(sess, row).render(data)
    except docgen.DocgenError as exc:
        member = record.member.full_name
        code = exc.code if exc.code in ("template_limit", "template_forbidden") else "render_failed"
        raise ServiceError(code, f"Không tạo được văn bản cho đảng viên {member}: {exc.message_vi}.",
                           {"member_id": record.member_id, "member": member})


PREVIEW_SERIAL = "XEM-TRUOC"  # the sheet serial inside a preview's (never valid) QR


def render_preview(sess: Session, record: Record) -> bytes:
    """The .docx of a preview: "BẢN XEM TRƯỚC" across the page, a QR that never verifies (signed under
    the reserved preview key id) and, for a record not issued yet, a gap instead of its number."""
    kind, data = record_data(record)
    row = template_version(sess, kind, record.template_version or 1)
    fd = form_definition(row)
    data["preview"] = True
    if isinstance(record, Introduction) and record.id is None:
        data["letter_number"] = None
    if isinstance(record, Evaluation) and record.id is None:
        data["sheet_serial"] = None
    if fd.marks.qr:
        data["qr_payload"] = qrpayload.sign_preview(fd, PREVIEW_SERIAL, record.member_id or record.member.id,
                                                    record.year)
    try:
        docx = renderer(sess, row).render(data)
    except docgen.DocgenError as exc:
        member = record.member.full_name
        code = exc.code if exc.code in ("template_limit", "template_forbidden") else "render_failed"
        raise ServiceError(code, f"Không tạo được bản xem trước cho đảng viên {member}: "
                           f"{exc.message_vi}.", {"member_id": record.member_id, "member": member})
    return watermark(docx)


def to_pdf(name: str, docx: bytes) -> bytes:
    try:
        return convert_to_pdf([(name, docx)])[0]
    except docgen.PdfConversionError as exc:
        raise ServiceError("pdf_failed", exc.message_vi, status=503)


def file_name(record: Record, ext: str) -> str:
    if isinstance(record, Introduction):
        base = f"Giấy giới thiệu {record.number}-{record.year} {record.member.full_name}"
    else:
        base = f"Phiếu nhận xét {record.year} {record.sheet_serial} {record.member.full_name}"
    return docgen.safe_filename(base, ext)
