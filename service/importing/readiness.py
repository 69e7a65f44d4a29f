"""Which documents a member of an import can already get, and what is missing for the others.

Mirrors what the letter (mẫu 1-213) and the evaluation sheet need from the registry
(``service/documents/contexts.py`` and the form definitions in ``templates/``), computed on the
member as the import will leave it, with the organisations it will create.
"""
from __future__ import annotations

from typing import Any, Optional

from ..documents.contexts import NOT_IN_SCOPE
from ..models import Member
from .orgnames import NewOrg

ADDRESS_PARTS = ("house", "residential_group", "neighbourhood", "commune", "province")
DOCUMENTS = {"letter": "Giấy giới thiệu", "sheet": "Phiếu nhận xét"}


def _org(orgs, ref) -> Optional[tuple[str, Optional[str], Any]]:
    """(kind, place, parent ref) of an existing or planned organisation."""
    if ref is None:
        return None
    if isinstance(ref, NewOrg):
        return ref.kind, ref.place, ref.parent
    org = orgs.by_id.get(ref)
    return (org.kind, org.place, org.parent_id) if org else None


def _up(orgs, ref, kind: str):
    """The nearest organisation of ``kind`` from ``ref`` upwards (ref itself included), or None."""
    seen = 0
    while ref is not None and seen < 20:
        info = _org(orgs, ref)
        if info is None:
            return None
        if info[0] == kind:
            return ref
        ref, seen = info[2], seen + 1
    return None


def readiness(orgs, member: Optional[Member], plan) -> dict[str, list[str]]:
    """document -> missing items (empty: it can be made now); a status outside 213 says why in one item."""
    def value(f: str) -> Any:
        if f in plan.values:
            return plan.values[f]
        return getattr(member, f) if member is not None else None

    status = value("status") or "active"
    if status in NOT_IN_SCOPE:
        return {doc: [f"Đảng viên {NOT_IN_SCOPE[status]}"] for doc in DOCUMENTS}
    workplace = plan.workplace if plan.set_workplace else (member.workplace_org_id if member else None)
    residence = plan.residence if plan.set_residence else (member.residence_cell_id if member else None)
    committee = _up(orgs, workplace, "workplace_committee")
    ward = _up(orgs, residence, "ward_committee")
    address = any(value(f) for f in ADDRESS_PARTS)
    common = []
    if committee is None:
        common.append("đảng ủy nơi công tác")
    if residence is None:
        common.append("chi bộ nơi cư trú")
    elif ward is None:
        common.append("đảng ủy xã, phường nơi cư trú")
    if not value("date_of_birth"):
        common.append("ngày sinh")
    if not address:
        common.append("nơi cư trú (địa chỉ)")
    letter = list(common)
    if not value("gender"):
        letter.append("giới tính")
    if not value("admission_date"):
        letter.append("ngày vào Đảng")
    if committee is not None:
        info = _org(orgs, committee)
        if not info[1] and not value("province"):
            letter.append("địa danh của đảng ủy nơi công tác (hoặc tỉnh)")
        if info[2] is None and not value("province"):
            letter.append("cấp ủy cấp trên của đảng ủy nơi công tác")
    sheet = list(common)
    if ward is not None:
        ward_place = _org(orgs, ward)[1]
        cell_place = _org(orgs, residence)[1]
        if not (ward_place or cell_place or value("commune") or value("province")):
            sheet.append("địa danh của đảng ủy xã, phường")
    return {"letter": letter, "sheet": sheet}
