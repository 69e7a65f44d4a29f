"""Undo a confirmed import as one unit, while nothing else has changed its members since.

Members it created are deleted, members it updated get their earlier values back, organisations
it created (and nothing else uses) are deleted. Every change is audited ("Hoàn tác lần nhập #N");
the import's own audit entries are kept.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import Forbidden, ServiceError
from ..models import (Attendance, AuditEntry, Evaluation, ImportBatch, Introduction, Meeting, Member, Organisation,
                      User)
from ..permissions import can_import, require_write


def _refuse(batch: ImportBatch, reason: str, details: dict) -> ServiceError:
    return ServiceError("import_undo_refused",
                        f"Không hoàn tác được lần nhập #{batch.id} ({batch.file_name}): {reason}. Không có gì thay đổi.",
                        {"batch_id": batch.id, **details}, status=409)


def undo_import(sess: Session, user: User, batch: ImportBatch) -> dict[str, int]:
    """Roll back ``batch``. Commits; raises ServiceError (changing nothing) when it cannot."""
    if not can_import(user) or (user.role != "admin" and batch.created_by != user.id):
        raise Forbidden("Bạn không có quyền hoàn tác lần nhập này.")
    if batch.status != "applied" or not batch.applied:
        raise ServiceError("import_not_applied",
                           f"Lần nhập #{batch.id} ({batch.file_name}) chưa được nhập xong hoặc đã được hoàn tác.",
                           {"batch_id": batch.id, "status": batch.status}, status=409)
    done: dict[str, Any] = batch.applied
    created = [int(i) for i in done.get("members_created", [])]
    updated = [int(i) for i in done.get("members_updated", [])]
    entries = {int(k): int(v) for k, v in done.get("audit_entries", {}).items()}
    ids = created + updated
    members = {m.id: m for m in sess.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    # nothing else may have changed these members since: their last audit entry is the import's own
    latest = dict(sess.execute(select(AuditEntry.member_id, func.max(AuditEntry.id))
                               .where(AuditEntry.member_id.in_(ids)).group_by(AuditEntry.member_id)).all()) if ids else {}
    changed = [members[i].full_name if i in members else f"#{i}" for i in ids
               if i not in members or latest.get(i) != entries.get(i)]
    if changed:
        shown = ", ".join(changed[:5]) + (f" và {len(changed) - 5} người khác" if len(changed) > 5 else "")
        raise _refuse(batch, f"hồ sơ của {shown} đã được sửa sau lần nhập này", {"changed": changed[:200]})
    if created:
        for model, col in ((Introduction, Introduction.member_id), (Evaluation, Evaluation.member_id),
                           (Attendance, Attendance.member_id)):
            used = sess.scalar(select(func.count()).select_from(model).where(col.in_(created)))
            if used:
                raise _refuse(batch, "đã có giấy giới thiệu, phiếu nhận xét hoặc điểm danh cho đảng viên được nhập",
                              {"documents": used})
    ref = f"Hoàn tác lần nhập #{batch.id}: {batch.file_name}"[:255]
    by_entry = {e.id: e for e in sess.scalars(select(AuditEntry).where(AuditEntry.id.in_(list(entries.values()))))}
    for mid in updated:
        m, entry = members[mid], by_entry[entries[mid]]
        before = m.snapshot()
        for f, v in (entry.before or {}).items():
            if f == "full_name":
                m.set_name(v)
            elif f in ("date_of_birth", "admission_date", "full_member_date") and isinstance(v, str):
                setattr(m, f, dt.date.fromisoformat(v))
            else:
                setattr(m, f, v)
        require_write(sess, user, m)
        audit.record(sess, "member", m, "update", before, m.snapshot(), user=user, source="import", source_ref=ref)
    for mid in created:
        m = members[mid]
        before = m.snapshot()
        require_write(sess, user, m)
        audit.record(sess, "member", m, "delete", before, None, user=user, source="import", source_ref=ref)
        sess.flush()
        sess.delete(m)
    sess.flush()
    removed_orgs = 0
    for oid in reversed([int(i) for i in done.get("organisations_created", [])]):
        org = sess.get(Organisation, oid)
        if org is None or _org_in_use(sess, oid):
            continue
        sess.delete(org)
        sess.flush()
        removed_orgs += 1
    batch.status = "undone"
    sess.commit()
    return {"members_deleted": len(created), "members_restored": len(updated), "organisations_deleted": removed_orgs}


def _org_in_use(sess: Session, oid: int) -> bool:
    checks = [
        select(func.count()).select_from(Member).where(or_(Member.workplace_org_id == oid,
                                                           Member.residence_cell_id == oid)),
        select(func.count()).select_from(Organisation).where(Organisation.parent_id == oid),
        select(func.count()).select_from(User).where(User.organisation_id == oid),
        select(func.count()).select_from(Meeting).where(Meeting.residence_cell_id == oid),
        select(func.count()).select_from(Introduction).where(or_(Introduction.issuing_org_id == oid,
                                                                 Introduction.ward_org_id == oid,
                                                                 Introduction.residence_cell_id == oid)),
    ]
    return any(sess.scalar(q) for q in checks)
