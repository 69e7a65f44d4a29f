"""Bulk mail-merge as a job: letters or sheets for a selection of members, in the outputs asked for.

Outputs (any of): ``zip`` one .docx per member; ``combined`` one .docx for one print job;
``pdf`` the combined document as PDF (LibreOffice kept running); ``cell_bundles`` one packet
per residence cell with its cover list. A member whose document cannot be made is reported
by name and the batch goes on.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from typing import Any, Optional

import docgen
from docgen.combine import CombinedDocxWriter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import db, storage
from ..errors import ServiceError
from ..jobs import JobFailed, job_function
from ..models import Member, Organisation, User
from ..permissions import scope_members, subtree_ids
from .contexts import residence_of
from .cover import cover_list
from .letters import issue_introduction
from .render import record_data
from .sheets import ensure_sheet
from .templates_store import KIND_LABELS, renderer, template_version

OUTPUTS = {
    "zip": "Mỗi đảng viên một tệp .docx (nén ZIP)",
    "combined": "Một tệp .docx gộp để in một lần",
    "pdf": "Tệp PDF gộp",
    "cell_bundles": "Mỗi chi bộ nơi cư trú một bộ, có danh sách kèm theo",
}
ZIP_MIME = "application/zip"


def resolve_selection(sess: Session, user: User, selection: dict[str, Any]) -> list[int]:
    """Member ids of a selection, within what the user may see, in packet order (cell, then name)."""
    stmt = scope_members(sess, user, select(Member.id, Member.residence_cell_id, Member.search_name))
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
    rows.sort(key=lambda r: (r.residence_cell_id or 0, r.search_name, r.id))
    return [r.id for r in rows]


def start(sess: Session, user: User, kind: str, year: int, selection: dict, outputs: list[str]):
    """Validate a bulk request and enqueue it. Returns the job."""
    from .. import jobs
    if kind not in KIND_LABELS:
        raise ServiceError("invalid_kind", "Loại văn bản không hợp lệ.", {"kinds": list(KIND_LABELS)})
    outputs = [o for o in outputs if o in OUTPUTS]
    if not outputs:
        raise ServiceError("no_outputs", "Cần chọn ít nhất một dạng kết quả.", {"outputs": list(OUTPUTS)})
    if not (2000 <= int(year) <= 2100):
        raise ServiceError("invalid_year", f"Năm không hợp lệ: {year}.")
    member_ids = resolve_selection(sess, user, selection)
    if not member_ids:
        raise ServiceError("no_members", "Không có đảng viên nào trong lựa chọn này (cần đảng viên đang sinh hoạt).",
                           {"selection": selection})
    job = jobs.enqueue(sess, "bulk_documents", {"kind": kind, "year": int(year), "member_ids": member_ids,
                                                "outputs": outputs, "user_id": user.id,
                                                "issued_on": dt.date.today().isoformat()},
                       user_id=user.id, total=len(member_ids))
    sess.commit()
    jobs.notify()
    return job


class _CellBundles:
    """One combined .docx per residence cell, written as the (cell-ordered) records arrive."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.current: Optional[int] = None
        self.writer: Optional[CombinedDocxWriter] = None
        self.fh = None
        self.done: list[dict] = []
        self.rows: list[dict] = []

    def add(self, cell: Organisation, ward: Organisation, rendered, row: dict) -> None:
        if cell.id != self.current:
            self.close()
            self.current = cell.id
            self.meta = {"cell": cell.name, "ward": ward.name, "path": os.path.join(self.workdir, f"cell-{cell.id}.docx")}
            self.fh = open(self.meta["path"], "wb")
            self.writer = CombinedDocxWriter(self.fh)
            self.rows = []
        self.writer.add(rendered)
        self.rows.append(row)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.fh.close()
            self.done.append({**self.meta, "rows": self.rows})
            self.writer = None


@job_function("bulk_documents", "Trộn văn bản hàng loạt")
def bulk_documents(ctx, params: dict) -> dict:
    kind, year, outputs = params["kind"], params["year"], params["outputs"]
    issued_on = dt.date.fromisoformat(params["issued_on"])
    member_ids: list[int] = params["member_ids"]
    ctx.set_total(len(member_ids), "Đang tạo văn bản…")
    failures: list[dict] = []
    made = 0
    with tempfile.TemporaryDirectory(prefix="noicutru-bulk-") as workdir:
        result_path = os.path.join(workdir, "result.zip")
        combined_path = os.path.join(workdir, "combined.docx")
        with zipfile.ZipFile(result_path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as result, \
                open(combined_path, "wb") as combined_fh:
            combined = CombinedDocxWriter(combined_fh) if {"combined", "pdf"} & set(outputs) else None
            bundles = _CellBundles(workdir) if "cell_bundles" in outputs else None
            used_names: set[str] = set()
            with db.new_session() as sess:
                user = sess.get(User, params["user_id"]) if params.get("user_id") else None
                for i, member_id in enumerate(member_ids):
                    if i % 25 == 0:
                        ctx.check_cancel()
                    member = sess.get(Member, member_id)
                    try:
                        if member is None:
                            raise ServiceError("member_gone", f"Đảng viên mã {member_id} không còn trong danh sách.")
                        record = (ensure_sheet(sess, member, year) if kind == "evaluation_sheet"
                                  else issue_introduction(sess, user, member, issued_on))
                        _, data = record_data(record)
                        br = renderer(sess, template_version(sess, kind, record.template_version or 1))
                        rendered, rctx = br.render_parts(data)
                    except (ServiceError, docgen.DocgenError) as exc:
                        sess.rollback()
                        message = exc.message if isinstance(exc, ServiceError) else exc.message_vi
                        name = member.full_name if member else str(member_id)
                        failures.append({"member_id": member_id, "member": name,
                                         "message": message if name in message else f"{name}: {message}"})
                        ctx.progress(i + 1)
                        continue
                    made += 1
                    if "zip" in outputs:
                        fname = _unique(docgen.safe_filename(
                            f"{record.sheet_serial if kind == 'evaluation_sheet' else record.number} {member.full_name}",
                            "docx"), used_names)
                        result.writestr(f"tung-dang-vien/{fname}", rendered.to_bytes())
                    if combined is not None:
                        combined.add(rendered)
                    if bundles is not None:
                        ward, cell = residence_of(member)
                        bundles.add(cell, ward, rendered, {
                            "full_name": member.full_name,
                            "date_of_birth": member.date_of_birth.strftime("%d/%m/%Y") if member.date_of_birth else "",
                            "workplace": member.workplace_org.name if member.workplace_org else "",
                            "reference": record.sheet_serial if kind == "evaluation_sheet" else f"{record.number}-GGT/ĐU"})
                    if i % 10 == 9 or i == len(member_ids) - 1:
                        ctx.progress(i + 1)
                if combined is not None and made:
                    combined.close()
                if bundles is not None:
                    bundles.close()
            if made == 0:
                raise JobFailed("nothing_rendered", "Không tạo được văn bản nào.", {"failures": failures})
            label = "phieu-nhan-xet" if kind == "evaluation_sheet" else "giay-gioi-thieu"
            ctx.progress(len(member_ids), "Đang đóng gói kết quả…")
            if "combined" in outputs:
                result.write(combined_path, f"{label}-{year}-gop.docx")
            pdf_items = []
            if "pdf" in outputs:
                pdf_items.append((f"{label}-{year}-gop.pdf", combined_path))
            for b in (bundles.done if bundles else []):
                folder = docgen.safe_filename(b["cell"])
                cover = cover_list(kind, year, b["ward"], b["cell"], b["rows"])
                result.writestr(f"theo-chi-bo/{folder}/00-danh-sach.docx", cover)
                result.write(b["path"], f"theo-chi-bo/{folder}/{label}-{year}.docx")
                if "pdf" in outputs:
                    pdf_items.append((f"theo-chi-bo/{folder}/00-danh-sach.pdf", cover))
                    pdf_items.append((f"theo-chi-bo/{folder}/{label}-{year}.pdf", b["path"]))
            if pdf_items:
                ctx.progress(len(member_ids), "Đang chuyển sang PDF…")
                from docgen.pdf import convert_to_pdf
                docs = [(n, p if isinstance(p, bytes) else open(p, "rb").read()) for n, p in pdf_items]
                for (name, _), pdf in zip(docs, convert_to_pdf(docs)):
                    result.writestr(name, pdf)
            if failures:
                result.writestr("khong-tao-duoc.txt", "\n".join(f["message"] for f in failures) + "\n")
        with db.new_session() as sess:
            file_id = storage.save_path(sess, result_path, f"{label}-{year}.zip", ZIP_MIME, params.get("user_id")).id
    return {"made": made, "failed": len(failures), "failures": failures[:500], "file_id": file_id,
            "kind": kind, "year": year}


def _unique(name: str, used: set[str]) -> str:
    base, dot, ext = name.rpartition(".")
    candidate, k = name, 2
    while candidate.lower() in used:
        candidate = f"{base} ({k}).{ext}"
        k += 1
    used.add(candidate.lower())
    return candidate
