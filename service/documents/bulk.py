"""Bulk mail-merge as a job: letters or sheets for a selection of members, in the outputs asked for.

Outputs (any of): ``zip`` one .docx per member; ``combined`` one .docx for one print job;
``pdf`` every document in one PDF (``docgen.pdf.convert_to_pdf``); ``cell_bundles`` one packet
per residence cell: for sheets, the committee's numbered request letter (``packets``) then the
sheets in one document; for letters, a list headed by the sending committee. A member whose document cannot be made is reported
by name and the batch goes on.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from typing import Any

import docgen
from docgen.combine import CombinedDocxWriter, with_cover
from docgen.pdf import convert_to_pdf
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db, storage
from ..errors import ServiceError
from ..jobs.items import ItemRejected, failures, item_job
from ..jobs.record import JobFailed, enqueue, notify
from ..models import Member, User
from ..permissions import require_write, scope_members, subtree_ids
from .contexts import issuing_committee, residence_of
from . import packets
from .cover import cover_list
from .letters import issue_introduction, reference
from .render import record_data
from .sheets import ensure_sheet
from .templates_store import renderer, template_version

OUTPUTS = {
    "zip": "Mỗi đảng viên một tệp .docx (nén ZIP)",
    "combined": "Một tệp .docx gộp để in một lần",
    "pdf": "Tệp PDF gộp",
    "cell_bundles": "Mỗi chi bộ nơi cư trú một bộ (phiếu nhận xét: có phiếu xin ý kiến mở đầu)",
}
BULK_KINDS = ("introduction_letter", "evaluation_sheet")
ZIP_MIME = "application/zip"


def resolve_selection(sess: Session, user: User, selection: dict[str, Any]) -> list[int]:
    """Member ids of a selection, within what the user may see, in packet order (cell, then name)."""
    stmt = scope_members(sess, user, select(Member.id, Member.residence_cell_id, Member.sort_name))
    if selection.get("member_ids"):
        stmt = stmt.where(Member.id.in_([int(i) for i in selection["member_ids"]]))
    if selection.get("workplace_org_id"):
        stmt = stmt.where(Member.workplace_org_id.in_(subtree_ids(sess, int(selection["workplace_org_id"]))))
    if selection.get("residence_cell_id"):
        stmt = stmt.where(Member.residence_cell_id == int(selection["residence_cell_id"]))
    if selection.get("ward_id"):
        stmt = stmt.where(Member.residence_cell_id.in_(subtree_ids(sess, int(selection["ward_id"]))))
    stmt = stmt.where(Member.status.in_(("active", "exempt_meetings")))
    rows = sess.execute(stmt).all()
    rows.sort(key=lambda r: (r.residence_cell_id or 0, r.sort_name or "", r.id))
    return [r.id for r in rows]


def start(sess: Session, user: User, kind: str, year: int, selection: dict, outputs: list[str]):
    """Validate a bulk request and enqueue it. Returns the job."""
    if kind not in BULK_KINDS:
        raise ServiceError("invalid_kind", "Loại văn bản không hợp lệ.", {"kinds": list(BULK_KINDS)})
    outputs = [o for o in outputs if o in OUTPUTS]
    if not outputs:
        raise ServiceError("no_outputs", "Cần chọn ít nhất một dạng kết quả.", {"outputs": list(OUTPUTS)})
    if not (2000 <= int(year) <= 2100):
        raise ServiceError("invalid_year", f"Năm không hợp lệ: {year}.")
    member_ids = resolve_selection(sess, user, selection)
    if not member_ids:
        raise ServiceError("no_members", "Không có đảng viên nào trong lựa chọn này (cần đảng viên đang sinh hoạt).",
                           {"selection": selection})
    job = enqueue(sess, "bulk_documents", {"kind": kind, "year": int(year), "member_ids": member_ids,
                                                "outputs": outputs, "user_id": user.id,
                                                "issued_on": dt.date.today().isoformat()},
                       user_id=user.id, total=len(member_ids))
    sess.commit()
    notify()
    return job


@item_job("bulk_documents", "Trộn văn bản hàng loạt")
class BulkDocuments:
    """Items are members: each renders and stores one document; ``finish`` packs the outputs."""

    @staticmethod
    def plan(ctx, params: dict) -> list[dict]:
        with db.new_session() as sess:
            names = dict(sess.execute(select(Member.id, Member.full_name)
                                      .where(Member.id.in_(params["member_ids"]))).all())
        return [{"label": names.get(mid, f"#{mid}"), "member_id": mid} for mid in params["member_ids"]]

    @staticmethod
    def run_item(ctx, params: dict, item: dict) -> dict:
        kind, year = params["kind"], params["year"]
        with db.new_session() as sess:
            member = sess.get(Member, item["member_id"])
            try:
                if member is None:
                    raise ServiceError("member_gone", f"Đảng viên mã {item['member_id']} không còn trong danh sách.")
                user = sess.get(User, params["user_id"]) if params.get("user_id") else None
                if user is not None:  # the one write check, as the user who started the job
                    require_write(sess, user, member, message=f"{member.full_name}: ngoài phạm vi quyền của bạn.")
                # Both are idempotent: a re-run finds the same sheet or letter (and number).
                record = (ensure_sheet(sess, member, year, user=user, job_id=ctx.job_id, source="job")
                          if kind == "evaluation_sheet"
                          else issue_introduction(sess, user, member, dt.date.fromisoformat(params["issued_on"]),
                                                  job_id=ctx.job_id))
                _, data = record_data(record)
                docx = renderer(sess, template_version(sess, kind, record.template_version or 1)).render(data)
                ward, cell = residence_of(member)
                committee = issuing_committee(member)
            except (ServiceError, docgen.DocgenError) as exc:
                message = exc.message if isinstance(exc, ServiceError) else exc.message_vi
                name = member.full_name if member else str(item["member_id"])
                raise ItemRejected(message if name in message else f"{name}: {message}")
            return {
                "sha": storage.put_bytes(docx),
                "file_name": docgen.safe_filename(
                    f"{record.sheet_serial if kind == 'evaluation_sheet' else record.number} {member.full_name}", "docx"),
                "cell_id": cell.id, "cell": cell.name, "ward": ward.name,
                "committee_id": committee.id, "committee": committee.name, "record_id": record.id,
                "row": {"full_name": member.full_name,
                        "date_of_birth": member.date_of_birth.strftime("%d/%m/%Y") if member.date_of_birth else "",
                        "workplace": member.workplace_org.name if member.workplace_org else "",
                        "reference": record.sheet_serial if kind == "evaluation_sheet" else reference(record)},
            }

    @staticmethod
    def finish(ctx, params: dict, items: list) -> dict:
        kind, year, outputs = params["kind"], params["year"], params["outputs"]
        done = [i for i in items if i.state == "done"]
        failed = failures(items)
        if not done:
            raise JobFailed("nothing_rendered", "Không tạo được văn bản nào.", {"failures": failed})
        ctx.set_total(len(items), "Đang đóng gói kết quả…")
        label = "phieu-nhan-xet" if kind == "evaluation_sheet" else "giay-gioi-thieu"
        with tempfile.TemporaryDirectory(prefix="noicutru-bulk-") as workdir:
            result_path = os.path.join(workdir, "result.zip")
            with zipfile.ZipFile(result_path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as result:
                if "zip" in outputs:
                    used: set[str] = set()
                    for i in done:
                        result.writestr(f"tung-dang-vien/{_unique(i.result['file_name'], used)}",
                                        storage.read_sha(i.result["sha"]))
                pdf_items: list[tuple[str, str]] = []
                if "combined" in outputs:
                    result.write(_combine(workdir, "combined", done), f"{label}-{year}-gop.docx")
                if "pdf" in outputs:  # the documents converted in joined chunks on every instance, then
                    ctx.set_total(len(items), "Đang chuyển sang PDF…")  # one PDF (not one huge conversion)
                    gop = os.path.join(workdir, "gop.pdf")
                    convert_to_pdf([(i.result["file_name"], storage.read_sha(i.result["sha"])) for i in done],
                                   merged=gop)
                    result.write(gop, f"{label}-{year}-gop.pdf")
                if "cell_bundles" in outputs:
                    by_cell: dict[tuple, list] = {}
                    for i in done:  # a bundle per sending committee and receiving cell
                        by_cell.setdefault((i.result.get("committee_id"), i.result["cell_id"]), []).append(i)
                    several = len({k[0] for k in by_cell}) > 1
                    for (committee_id, cell_id), cell_items in by_cell.items():
                        first = cell_items[0].result
                        folder = f"theo-chi-bo/{docgen.safe_filename(first['cell'])}"
                        if several:
                            folder += f" - {docgen.safe_filename(first.get('committee', ''))}"
                        bundle = _combine(workdir, f"cell-{committee_id}-{cell_id}", cell_items)
                        if kind == "evaluation_sheet":  # the numbered request letter opens the sheets
                            with db.new_session() as sess:
                                cover = packets.bundle_cover(sess, params, committee_id, cell_id,
                                                             [i.result["record_id"] for i in cell_items])
                            with open(bundle, "rb") as fh:
                                joined = with_cover(cover, fh.read())
                            with open(bundle, "wb") as fh:
                                fh.write(joined)
                        else:
                            cover_path = os.path.join(workdir, f"cover-{committee_id}-{cell_id}.docx")
                            with open(cover_path, "wb") as fh:
                                fh.write(cover_list(kind, year, first.get("committee", ""), first["ward"],
                                                    first["cell"], [i.result["row"] for i in cell_items]))
                            result.write(cover_path, f"{folder}/00-danh-sach.docx")
                            if "pdf" in outputs:
                                pdf_items.append((f"{folder}/00-danh-sach.pdf", cover_path))
                        result.write(bundle, f"{folder}/{label}-{year}.docx")
                        if "pdf" in outputs:
                            pdf_items.append((f"{folder}/{label}-{year}.pdf", bundle))
                if pdf_items:
                    ctx.set_total(len(items), "Đang chuyển sang PDF…")
                    docs = [(name, open(path, "rb").read()) for name, path in pdf_items]
                    for (name, _), pdf in zip(docs, convert_to_pdf(docs)):
                        result.writestr(name, pdf)
                if failed:
                    result.writestr("khong-tao-duoc.txt", "\n".join(f["message"] for f in failed) + "\n")
            with db.new_session() as sess:
                file_id = storage.save_path(sess, result_path, f"{label}-{year}.zip", ZIP_MIME, params.get("user_id")).id
        return {"made": len(done), "failed": len(failed), "failures": failed[:500], "file_id": file_id,
                "kind": kind, "year": year}


def _combine(workdir: str, name: str, items: list) -> str:
    path = os.path.join(workdir, f"{name}.docx")
    with open(path, "wb") as fh:
        writer = CombinedDocxWriter(fh)
        for i in items:
            writer.add(storage.read_sha(i.result["sha"]))
        writer.close()
    return path


def _unique(name: str, used: set[str]) -> str:
    base, dot, ext = name.rpartition(".")
    candidate, k = name, 2
    while candidate.lower() in used:
        candidate = f"{base} ({k}).{ext}"
        k += 1
    used.add(candidate.lower())
    return candidate
