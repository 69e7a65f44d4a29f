"""Upload -> preview -> confirm -> job. The job re-plans against the current database and writes
everything in one transaction, so a failure writes nothing."""
from __future__ import annotations

import copy
import time
from typing import Optional

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit, db, storage
from ..errors import Forbidden, ServiceError
from ..jobs.record import Cancelled, Job, JobContext, JobFailed, enqueue, job_function, notify
from ..models import ImportBatch, Member, Organisation, StoredFile, User
from ..permissions import can_import, require_write
from ..members.registry import org_snapshot
from ..text import clean, join_clauses
from .mapping import org_kinds, recall_for, remember
from .orgnames import NewOrg, OrgRef
from .plan import Plan, make_plan
from .workbook import display_name, parse_workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _check_size(data: bytes, filename: str) -> None:
    limit = int(current_app.config.get("IMPORT_MAX_BYTES", 10 * 1024 * 1024))
    if len(data) > limit:
        name = display_name(filename)
        raise ServiceError(
            "file_too_large",
            f"Tệp «{name}» quá lớn ({_mb(len(data))}); dung lượng tối đa cho phép là {_mb(limit)}.",
            {"file_name": name, "size": len(data), "max_bytes": limit}, status=413)


def _mb(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f}".replace(".", ",") + " MB"


def _max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", 20000))


def build_plan(sess: Session, user: Optional[User], data: bytes, filename: str, progress=None,
               mapping: Optional[dict[str, str]] = None, max_rows: Optional[int] = -1) -> Plan:
    """Parse and plan without writing anything (file-level problems raise ServiceError).

    ``mapping`` (column letter -> field, "" to skip) overrides the proposed fields; without it a
    mapping saved for the same headers by the user's organisation is proposed.
    """
    _check_size(data, filename)
    sheet = parse_workbook(data, filename, max_rows=_max_rows() if max_rows == -1 else max_rows,
                           mapping=mapping, recall=recall_for(sess, user), org_kinds=org_kinds(sess))
    return make_plan(sess, user, sheet, progress)


def preview_upload(sess: Session, user: User, data: bytes, filename: str,
                   mapping: Optional[dict[str, str]] = None) -> ImportBatch:
    """Check, parse and plan an uploaded workbook; store it with its preview. Commits.

    File-level problems raise ServiceError and write nothing. Row-level problems are in the
    preview; any rejected row makes the batch "rejected" (it cannot be confirmed).
    """
    if not can_import(user):
        raise Forbidden("Bạn không có quyền nhập danh sách đảng viên.")
    name = display_name(filename)
    plan = build_plan(sess, user, data, name, mapping=mapping)
    preview = plan.to_json()
    sess.commit()  # end the read transaction (nothing pending) so the writes below start a fresh one
    stored = storage.save(sess, data, name, XLSX_TYPE, user.id)
    batch = ImportBatch(file_id=stored.id, file_name=name, preview=preview, created_by=user.id,
                        status=_status(plan))
    sess.add(batch)
    sess.commit()
    return batch


def remap(sess: Session, user: User, batch: ImportBatch, mapping: dict[str, str]) -> ImportBatch:
    """Plan a batch again with the secretary's column mapping (letter -> field). Commits.

    A mapping that cannot be used raises ServiceError("invalid_mapping") and changes nothing."""
    if not can_import(user) or (user.role != "admin" and batch.created_by != user.id):
        raise Forbidden("Bạn không có quyền sửa lần nhập này.")
    if batch.status not in ("previewed", "rejected", "needs_mapping"):
        raise ServiceError("import_already_confirmed",
                           f"Lần nhập #{batch.id} ({batch.file_name}) đã được xác nhận, không đổi cách ghép cột được.",
                           {"batch_id": batch.id, "status": batch.status}, status=409)
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ServiceError("invalid_mapping", "Cách ghép cột phải là các cặp «cột»: «trường».")
    data = storage.read(sess.get(StoredFile, batch.file_id))
    plan = build_plan(sess, user, data, batch.file_name, mapping=mapping)
    batch.preview = plan.to_json()
    batch.status = _status(plan)
    sess.commit()
    return batch


def _status(plan: Plan) -> str:
    if plan.sheet.mapping_problems:
        return "needs_mapping"
    return "rejected" if plan.rejected else "previewed"


def set_places(sess: Session, user: User, batch: ImportBatch, places: dict[str, str]) -> ImportBatch:
    """The place names (địa danh) of the wards a batch will create, where the secretary gives
    another than the one taken from the ward's name. Commits."""
    if not can_import(user) or (user.role != "admin" and batch.created_by != user.id):
        raise Forbidden("Bạn không có quyền sửa lần nhập này.")
    if batch.status not in ("previewed", "rejected"):
        raise ServiceError("import_already_confirmed",
                           f"Lần nhập #{batch.id} ({batch.file_name}) đã được xác nhận, không sửa địa danh được.",
                           {"batch_id": batch.id, "status": batch.status}, status=409)
    preview = copy.deepcopy(batch.preview)
    wards = {o["name"]: o for o in preview["summary"].get("organisations_new", []) if o["kind"] == "ward_committee"}
    unknown = [name for name in places if name not in wards]
    bad = [name for name, place in places.items() if not isinstance(place, str) or len(clean(place)) > 120]
    if unknown or bad:
        raise ServiceError("invalid_place", "Địa danh chỉ ghi cho đảng ủy xã, phường sẽ được tạo mới (tối đa 120 ký tự): "
                           + ", ".join(f"«{n}»" for n in unknown + bad), {"unknown": unknown, "invalid": bad})
    for name, place in places.items():
        wards[name]["place"] = clean(place) or None
    preview["places"] = {name: o["place"] for name, o in wards.items()}
    batch.preview = preview
    sess.commit()
    return batch


def confirm(sess: Session, user: User, batch: ImportBatch) -> Job:
    """Queue the import of a previewed batch (its mapping is saved for the organisation). Commits,
    then wakes the worker."""
    if not can_import(user) or (user.role != "admin" and batch.created_by != user.id):
        raise Forbidden("Bạn không có quyền xác nhận lần nhập này.")
    if batch.status == "rejected":
        raise ServiceError("import_has_errors",
                           f"Lần nhập #{batch.id} ({batch.file_name}) còn dòng bị lỗi nên không thể xác nhận. "
                           "Hãy sửa tệp và tải lên lại.", {"batch_id": batch.id})
    if batch.status == "needs_mapping":
        raise ServiceError("invalid_mapping",
                           f"Lần nhập #{batch.id} ({batch.file_name}) chưa ghép đủ cột: "
                           + join_clauses(batch.preview.get("mapping_problems") or []), {"batch_id": batch.id})
    if batch.status != "previewed":
        raise ServiceError("import_already_confirmed",
                           f"Lần nhập #{batch.id} ({batch.file_name}) đã được xác nhận trước đó.",
                           {"batch_id": batch.id, "status": batch.status, "job_id": batch.job_id}, status=409)
    total = len((batch.preview or {}).get("rows", []))
    remember(sess, user, batch.preview or {})
    job = enqueue(sess, "import_members", {"batch_id": batch.id, "user_id": user.id}, user.id, total)
    batch.status, batch.job_id = "queued", job.id
    sess.commit()
    notify()
    return job


def _source_ref(batch_id: int, file_name: str, row: int) -> str:
    ref = f"Nhập Excel lần #{batch_id}: {file_name}, dòng {row}"
    if len(ref) > 255:
        ref = f"Nhập Excel lần #{batch_id}: {file_name[:200]}…, dòng {row}"
    return ref


def _set_batch(batch_id: int, status: str, preview: Optional[dict] = None) -> None:
    with db.new_session() as s:
        batch = s.get(ImportBatch, batch_id)
        if batch is not None:
            batch.status = status
            if preview is not None:
                batch.preview = preview


@job_function("import_members", "Nhập danh sách đảng viên từ Excel")
def import_members(ctx: JobContext, params: dict) -> dict:
    batch_id = int(params["batch_id"])
    with db.new_session() as s:
        batch = s.get(ImportBatch, batch_id)
        if batch is None:
            raise JobFailed("not_found", f"Không tìm thấy lần nhập #{batch_id}.")
        if batch.status not in ("queued", "previewed"):
            raise JobFailed("import_already_confirmed", f"Lần nhập #{batch_id} đang ở trạng thái {batch.status}.")
        stored = s.get(StoredFile, batch.file_id)
        data = storage.read(stored)
        file_name = batch.file_name
        mapping = (batch.preview or {}).get("mapping")
        places = (batch.preview or {}).get("places") or {}
        user = s.get(User, params.get("user_id")) if params.get("user_id") else None
        if user is not None:
            s.expunge(user)
    try:
        plan = _plan_for_job(ctx, user, data, file_name, mapping)
        if plan.rejected:
            _set_batch(batch_id, "failed", plan.to_json())
            raise JobFailed("import_has_errors",
                            f"Dữ liệu đã thay đổi từ lúc xem trước: {plan.rejected} dòng của tệp «{file_name}» "
                            "nay bị lỗi, nên không ghi gì. Hãy tải tệp lên lại để xem chi tiết.",
                            {"batch_id": batch_id,
                             "rows": [r.to_json() for r in plan.rows if r.action == "rejected"][:200]})
        ctx.check_cancel()
        ctx.progress(len(plan.rows), "Đang ghi dữ liệu…")
        for new in plan.new_orgs:
            if new.kind == "ward_committee" and new.name in places:
                new.place = places[new.name]
        result = _apply(plan, batch_id, file_name, user.id if user else None, ctx.job_id)
    except JobFailed:
        raise
    except ServiceError as exc:  # the stored file no longer parses (should not happen)
        _set_batch(batch_id, "failed")
        raise JobFailed(exc.code, exc.message, exc.details) from None
    except Forbidden as exc:
        _set_batch(batch_id, "failed")
        raise JobFailed("forbidden", exc.message, {"batch_id": batch_id}) from None
    except IntegrityError as exc:
        _set_batch(batch_id, "failed")
        raise JobFailed("import_conflict", "Dữ liệu bị thay đổi đồng thời trong lúc nhập; không ghi gì. "
                        "Hãy thử lại.", {"batch_id": batch_id, "detail": str(exc.orig)[:500]}) from None
    except Cancelled:
        _set_batch(batch_id, "previewed")  # nothing was written: it can be confirmed again
        raise
    except BaseException:
        _set_batch(batch_id, "failed")
        raise
    return result


def _plan_for_job(ctx: JobContext, user: Optional[User], data: bytes, file_name: str,
                  mapping: Optional[dict[str, str]]) -> Plan:
    with db.new_session() as s:
        sheet = parse_workbook(data, file_name, max_rows=None, mapping=mapping, org_kinds=org_kinds(s))
        total = len(sheet.rows)
        ctx.set_total(total, "Đang kiểm tra dữ liệu…")
        last = [time.monotonic()]

        def progress(i: int) -> None:  # each report is a commit: at most a few per second
            now = time.monotonic()
            if now - last[0] >= 0.3 or i == total:
                last[0] = now
                ctx.progress(i)
                ctx.check_cancel()
        plan = make_plan(s, user, sheet, progress)
        s.rollback()  # read only
    return plan


def _apply(plan: Plan, batch_id: int, file_name: str, user_id: Optional[int], job_id: Optional[int] = None) -> dict:
    """Write the plan in one transaction (organisations, members, audit entries, batch status).

    Each member row passes the one write check (``require_write``) as the user who confirmed the
    import, on the member as it is and as it will be; a refusal fails the job and writes nothing."""
    created = updated = unchanged = duplicate = 0
    new_orgs = plan.used_new_orgs()
    applied: dict = {"members_created": [], "members_updated": [], "audit_entries": {},
                     "organisations_created": []}
    with db.new_session() as s:
        user = s.get(User, user_id) if user_id else None
        ids: dict[int, int] = {}

        def resolve(ref: OrgRef) -> Optional[int]:
            if isinstance(ref, NewOrg):
                return ids[id(ref)]
            return ref

        for new in new_orgs:  # parents come first
            org = Organisation(kind=new.kind, parent_id=resolve(new.parent), place=new.place)
            org.set_name(new.name)
            s.add(org)
            s.flush()
            ids[id(new)] = org.id
            audit.record(s, "organisation", org, "create", None, org_snapshot(org), user=user_id, job_id=job_id,
                         source="import", source_ref=f"Nhập Excel lần #{batch_id}: {file_name}"[:255])
            applied["organisations_created"].append(org.id)
        entries: list = []
        existing_ids = [r.member_id for r in plan.rows if r.action == "update"]
        members: dict[int, Member] = {}
        for i in range(0, len(existing_ids), 500):
            for m in s.query(Member).filter(Member.id.in_(existing_ids[i:i + 500])):
                members[m.id] = m
        for r in plan.rows:
            if r.action == "unchanged":
                unchanged += 1
                continue
            if r.action == "duplicate":
                duplicate += 1
                continue
            ref = _source_ref(batch_id, file_name, r.row)
            if r.action == "create":
                m = Member(status="active")
                s.add(m)
                before = None
            else:
                m = members[r.member_id]
                before = m.snapshot()
                if user is not None:
                    require_write(s, user, m)
            for f, value in r.values.items():
                if f == "full_name":
                    m.set_name(value)
                else:
                    setattr(m, f, value)
            if r.set_workplace:
                m.workplace_org_id = resolve(r.workplace)
            if r.set_residence:
                m.residence_cell_id = resolve(r.residence)
            if user is not None:
                require_write(s, user, m)
            entry = audit.record(s, "member", m, r.action, before, m.snapshot(), user=user_id, job_id=job_id,
                                 source="import", source_ref=ref)
            if entry is not None:
                entries.append((m, entry))
            if r.action == "create":
                created += 1
                applied["members_created"].append(m.id)
            else:
                updated += 1
                applied["members_updated"].append(m.id)
        s.flush()
        applied["audit_entries"] = {str(m.id): e.id for m, e in entries}
        batch = s.get(ImportBatch, batch_id)
        batch.status = "applied"
        batch.applied = applied
    result = {"created": created, "updated": updated, "unchanged": unchanged, "organisations_created": len(new_orgs)}
    if duplicate:
        result["duplicate"] = duplicate
    return result
