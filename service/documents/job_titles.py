"""What a bulk mail-merge job is, said once when it is enqueued ("Phiếu nhận xét 2026 — Đảng ủy …")."""
from __future__ import annotations

from sqlalchemy import select

from ..jobs.record import job_title
from ..models import Member, Organisation
from .contexts import WORKPLACE_COMMITTEE_KINDS

SHORT = {"evaluation_sheet": "Phiếu nhận xét", "introduction_letter": "Giấy giới thiệu"}


def _committee(org):
    while org is not None and org.kind not in WORKPLACE_COMMITTEE_KINDS:
        org = org.parent
    return org


@job_title("bulk_documents")
def bulk_title(sess, params: dict) -> str:
    label = f"{SHORT.get(params.get('kind'), 'Văn bản')} {params.get('year', '')}".strip()
    ids = list(params.get("member_ids") or [])
    org_ids = set(sess.scalars(select(Member.workplace_org_id).where(Member.id.in_(ids[:5000])).distinct())) if ids else set()
    committees = {c.id: c for c in (_committee(sess.get(Organisation, i)) for i in org_ids if i) if c is not None}
    if len(committees) == 1:
        return f"{label} — {next(iter(committees.values())).name}"
    if committees:
        return f"{label} — {len(committees)} đảng ủy nơi công tác, {len(ids)} đảng viên"
    return f"{label} — {len(ids)} đảng viên"


@job_title("document_packets")
def packets_title(sess, params: dict) -> str:
    committee = sess.get(Organisation, params.get("committee_id")) if params.get("committee_id") else None
    cells = len(params.get("cells") or [])
    return (f"Bộ phiếu gửi chi bộ nơi cư trú {params.get('year', '')} — "
            f"{committee.name if committee is not None else 'đảng ủy nơi công tác'} ({cells} chi bộ)")
