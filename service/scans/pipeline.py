"""The scan batch job: items are pages; each is read by ocr/, stored, and decided on."""
from __future__ import annotations

import functools
import hashlib


from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import db, qrkeys, storage
from ..documents.templates_store import form_definition, template_version
from ..jobs.items import ItemRejected, failures, item_job
from ..models import Member, ScanBatch, ScanFile, ScanPage, StoredFile, User
from ..permissions import scope_members
from . import policy
from .decide import apply_page, initial_status, refuse_if_outside_scope, uploader_of
from .layouts import all_layouts, all_slip_layouts


@functools.lru_cache(maxsize=4)
def _hint(batch_id: int) -> tuple:
    """Members the uploader may see, for proposing who a page we did not print is about."""
    with db.new_session() as sess:
        batch = sess.get(ScanBatch, batch_id)
        user = sess.get(User, batch.created_by)
        stmt = scope_members(sess, user, select(Member)).where(Member.status.in_(("active", "exempt_meetings")))
        return tuple({"id": m.id, "full_name": m.full_name,
                      "date_of_birth": m.date_of_birth.isoformat() if m.date_of_birth else None,
                      "workplace_org_name": m.workplace_org.name if m.workplace_org else None,
                      "residence_cell_name": m.residence_cell.name if m.residence_cell else None}
                     for m in sess.scalars(stmt))


@functools.lru_cache(maxsize=2)
def _file_bytes(sha: str) -> bytes:
    """An uploaded file, kept while this worker reads its pages one after another."""
    return storage.read_sha(sha)


@functools.lru_cache(maxsize=2)
def _layouts(_job_id: int) -> tuple:
    with db.new_session() as sess:
        return tuple(all_layouts(sess)), tuple(all_slip_layouts(sess))


@item_job("scan_batch", "Đọc bản quét")
class ScanBatchJob:
    @staticmethod
    def plan(ctx, params: dict) -> list[dict]:
        with db.new_session() as sess:
            files = sess.scalars(select(ScanFile).where(ScanFile.batch_id == params["batch_id"]).order_by(ScanFile.id))
            return [{"label": f"{f.name}, trang {n}", "file_id": f.id, "page_no": n}
                    for f in files if not f.error for n in range(1, f.page_count + 1)]

    @staticmethod
    def run_item(ctx, params: dict, item: dict) -> dict:
        from ocr import pdfinput, read_page
        with db.new_session() as sess:
            existing = sess.scalar(select(ScanPage).where(ScanPage.scan_file_id == item["file_id"],
                                                          ScanPage.page_no == item["page_no"]))
            if existing is not None:  # read before a crash: do not read or apply it twice
                return {"page_id": existing.id, "status": existing.status}
            sf = sess.get(ScanFile, item["file_id"])
            stored = sess.get(StoredFile, sf.stored_file_id)
            name, file_sha = sf.name, stored.sha256
        data = _file_bytes(file_sha)
        try:
            source = pdfinput.load_page(data, name, item["page_no"] - 1)
        except pdfinput.ScanInputError as exc:
            raise ItemRejected(f"{name}, trang {item['page_no']}: {exc.message_vi}", exc.code)
        sheets, slips = _layouts(ctx.job_id)
        reading = read_page(source.image, layouts=list(sheets), hmac_key=qrkeys.keyring(),
                            members_hint=list(_hint(params["batch_id"])), slip_layouts=list(slips))
        if source.has_text_layer and reading.kind == "evaluation_sheet" and reading.layout_key:
            _use_text_layer(reading, data, item["page_no"] - 1)
        rd = reading.to_dict(include_images=False)
        crops = {k: storage.put_bytes(v) for k, v in reading.crops.items()}
        image_sha = storage.put_bytes(reading.normalised_image) if reading.normalised_image else None
        qr = rd.get("qr") or {}
        proposed = next((f["value"] for f in rd["fields"] if f["name"] == "proposed_member_id"), None)
        with db.new_session() as sess:
            page = ScanPage(batch_id=params["batch_id"], scan_file_id=item["file_id"], page_no=item["page_no"],
                            source_key=hashlib.sha256(f"{file_sha}:{item['page_no']}".encode()).hexdigest()[:64],
                            image_sha=image_sha, kind=rd["kind"], reading=rd, crops=crops,
                            sheet_serial=qr.get("sheet_serial") if rd["qr_valid"] else None,
                            member_id=_member_id(sess, qr.get("member_id") if rd["qr_valid"] else proposed),
                            year=int(qr["year"]) if rd["qr_valid"] and qr.get("year") else None,
                            status="review", problems=list(rd["problems"]))
            sess.add(page)
            try:
                sess.flush()
            except IntegrityError:  # another worker stored this page first
                sess.rollback()
                return {"status": "duplicate_item"}
            uploader = uploader_of(sess, page)
            if refuse_if_outside_scope(sess, page, uploader):
                sess.commit()
                return {"page_id": page.id, "status": page.status, "kind": page.kind}
            status, problems = initial_status(sess, page, rd)
            if status == "review" and not problems and rd["kind"] == "evaluation_sheet" and rd["qr_valid"]:
                problems = policy.review_reasons_for_page(sess, page, rd)
            received_on = None
            if status == "review" and rd["kind"] == "introduction_receipt" and rd["qr_valid"]:
                received_on, date_problems = policy.slip_date(sess, page, rd)
                problems = problems + date_problems
                if received_on is not None and not policy.slip_date_auto():
                    received_on = None  # read with confidence, but a person confirms it (the date pre-filled)
                    problems = problems + [{"code": "received_date_to_confirm", "message_vi":
                                            f"Ngày tiếp nhận máy đọc được trên phiếu báo: {rd_date(rd)}. Người duyệt "
                                            "đối chiếu với ảnh và xác nhận."}]
            page.status, page.problems = status, (page.problems or []) + problems
            sess.commit()
            auto = sess.get(ScanBatch, params["batch_id"]).auto_apply
            if status == "review" and auto and (
                    policy.may_apply_automatically(rd, page.problems)
                    or (rd["kind"] == "introduction_receipt" and rd["qr_valid"] and received_on is not None
                        and not policy.slip_warnings(page.problems))):
                # a receipt slip with any warning of the reader (or of the service) waits for a person, and so
                # does one whose date is not read with confidence: the machine never invents a date
                # done as the uploader (the audit entry names them), through the same checks as a review
                apply_page(sess, page, uploader, rd["answers"], None, job_id=ctx.job_id, received_on=received_on)
            return {"page_id": page.id, "status": page.status, "kind": page.kind}

    @staticmethod
    def finish(ctx, params: dict, items: list) -> dict:
        with db.new_session() as sess:
            counts = dict(sess.execute(select(ScanPage.status, func.count()).where(
                ScanPage.batch_id == params["batch_id"]).group_by(ScanPage.status)).all())
            files = sess.scalars(select(ScanFile).where(ScanFile.batch_id == params["batch_id"])).all()
            file_errors = [f.error for f in files if f.error]  # JSON null is not SQL NULL: filter here
            summary = {"pages": counts, "failed_pages": failures(items), "file_errors": file_errors}
            sess.get(ScanBatch, params["batch_id"]).summary = summary
        return {"batch_id": params["batch_id"], **summary}


def rd_date(rd: dict) -> str:
    f = next((f for f in rd.get("fields") or [] if f.get("name") == policy.SLIP_DATE_FIELD), None) or {}
    return "/".join(reversed(str(f.get("value") or "").split("-")))


def _use_text_layer(reading, data: bytes, index: int) -> None:
    """A sheet filled in on a computer: its answers are read from the PDF's text, not from pixels."""
    from ocr import pdfinput
    kind, version, variant = reading.layout_key
    with db.new_session() as sess:
        definition = form_definition(template_version(sess, kind, int(version)))
    text = pdfinput.read_text_pdf(data, definition, variant=variant, page_number=index)
    if not text or not any(text.get("answers", {}).values()):
        return
    for key, value in text["answers"].items():
        if value is not None:
            reading.answers[key] = value
            reading.answer_confidence[key] = 1.0
            reading.item_status[key] = "ok"
    if all(v is not None for v in reading.answers.values()):
        reading.problems = [p for p in reading.problems if p["code"] != "item_unsure"]
    reading.problems.append({"code": "text_layer", "message_vi": "Phiếu điền trên máy tính: đọc từ lớp chữ của PDF."})


def _member_id(sess, value) -> int | None:
    try:
        member_id = int(value)
    except (TypeError, ValueError):
        return None
    return member_id if sess.get(Member, member_id) is not None else None
