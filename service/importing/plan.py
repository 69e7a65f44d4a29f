"""Planning an import: parsed rows + the current database -> one action per row. Reads only.

Organisations are matched by name (diacritic-free, ignoring a leading "Đảng ủy"/"Chi bộ") within
the right parent and kind; the ones that do not exist yet become *new* organisations in the plan,
each planned once however many rows name it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..members.fields import canonical_card, card_spellings, place_of
from ..models import Member, Organisation, User
from ..permissions import subtree_ids
from ..text import clean, search_key
from .orgnames import WARD_UNIT, NewOrg, OrgRef, core_key, ward_name
from .readiness import readiness
from .workbook import FIELD_LABELS, SKIP_REASONS, ParsedRow, ParsedSheet, row_error

# Member attributes the importer writes directly from a column of the same name.
PLAIN_FIELDS = (
    "full_name", "date_of_birth", "gender", "admission_date", "full_member_date", "party_position",
    "government_position", "mass_org_position", "employer", "house", "residential_group", "neighbourhood", "commune",
    "province", "phone", "status", "notes",
)

@dataclass
class RowPlan:
    row: int
    action: str  # create, update, unchanged, duplicate (likely the same person: not written), rejected
    card_number: Optional[str]
    full_name: Optional[str]
    member_id: Optional[int] = None
    values: dict[str, Any] = field(default_factory=dict)  # attributes to set (plain fields)
    workplace: OrgRef = None
    set_workplace: bool = False
    residence: OrgRef = None
    set_residence: bool = False
    changes: dict[str, list] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    duplicate_of: Optional[dict] = None  # the existing member a "duplicate" row likely is
    documents: dict[str, list[str]] = field(default_factory=dict)  # document -> what is still missing

    def to_json(self) -> dict:
        out = {"row": self.row, "action": self.action, "card_number": self.card_number,
               "full_name": self.full_name, "changes": self.changes, "errors": self.errors}
        if self.duplicate_of:
            out["duplicate_of"] = self.duplicate_of
        if self.documents:
            out["documents"] = self.documents
        return out


@dataclass
class Plan:
    sheet: ParsedSheet
    rows: list[RowPlan]
    new_orgs: list[NewOrg]

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.rows if r.action == "rejected")

    def summary(self) -> dict:
        counts = {a: 0 for a in ("create", "update", "unchanged", "duplicate", "rejected")}
        for r in self.rows:
            counts[r.action] += 1
        used = self.used_new_orgs() if not self.rejected else self.new_orgs
        counts["organisations_created"] = [o.name for o in used]
        counts["organisations_new"] = [{"name": o.name, "kind": o.kind, "parent": o.parent_name,
                                        "place": o.place} for o in used]
        ready = {"letter": 0, "sheet": 0}
        for r in self.rows:
            for doc in ready:
                if r.action in ("create", "update", "unchanged") and r.documents.get(doc) == []:
                    ready[doc] += 1
        counts["documents_ready"] = ready
        return counts

    def used_new_orgs(self) -> list[NewOrg]:
        """Planned organisations a written row needs (with their planned parents), parents first."""
        needed: dict[int, NewOrg] = {}

        def add(ref: OrgRef) -> None:
            if isinstance(ref, NewOrg) and id(ref) not in needed:
                add(ref.parent)
                needed[id(ref)] = ref
        for r in self.rows:
            if r.action in ("create", "update"):
                add(r.workplace if r.set_workplace else None)
                add(r.residence if r.set_residence else None)
        return list(needed.values())

    def to_json(self) -> dict:
        s = self.sheet
        return {"file_name": s.file_name, "sheet": s.sheet, "header_row": s.header_row,
                "header_rows": s.header_rows, "columns": s.columns_json(),
                "all_columns": [c.to_json() for c in s.all_columns], "mapping": s.mapping(),
                "signature": s.signature, "unmapped_columns": s.unmapped,
                "mapping_problems": s.mapping_problems, "summary": self.summary(),
                "rows": [r.to_json() for r in self.rows], "skipped_rows": s.skipped,
                "field_labels": FIELD_LABELS_ALL, "skip_reasons": SKIP_REASONS}


class OrgIndex:
    """All organisations of the kinds an import touches, plus the ones it plans to create."""

    def __init__(self, sess: Session):
        self.by_id: dict[int, Organisation] = {}
        for org in sess.scalars(select(Organisation)):
            self.by_id[org.id] = org
        self.children: dict[tuple[Any, str], list[Any]] = {}  # (parent id or NewOrg id, kind) -> orgs
        for org in self.by_id.values():
            self.children.setdefault((org.parent_id, org.kind), []).append(org)
        self.new: dict[tuple, NewOrg] = {}
        self.new_list: list[NewOrg] = []
        roots = [o for o in self.by_id.values() if o.parent_id is None and o.kind == "party_body"]
        self.default_parent: Optional[int] = roots[0].id if len(roots) == 1 else None

    def of_kind(self, kind: str) -> list[Organisation]:
        return [o for o in self.by_id.values() if o.kind == kind]

    def name_of(self, ref: OrgRef) -> Optional[str]:
        if ref is None:
            return None
        if isinstance(ref, NewOrg):
            return ref.name
        org = self.by_id.get(ref)
        return org.name if org else None

    def plan_new(self, name: str, kind: str, parent: OrgRef) -> NewOrg:
        pkey = id(parent) if isinstance(parent, NewOrg) else parent
        key = (pkey, kind, core_key(name))
        if key not in self.new:
            org = NewOrg(f"{kind}:{len(self.new_list)}", clean(name), kind, parent,
                         place_of(name) if kind == "ward_committee" else None, self.name_of(parent))
            self.new[key] = org
            self.new_list.append(org)
        return self.new[key]

    def find_new(self, kind: str, name: str, parent: OrgRef) -> Optional[NewOrg]:
        pkey = id(parent) if isinstance(parent, NewOrg) else parent
        return self.new.get((pkey, kind, core_key(name)))

    def match(self, candidates: list[Organisation], name: str) -> list[Organisation]:
        key = core_key(name)
        return [o for o in candidates if core_key(o.name) == key]


class Planner:
    def __init__(self, sess: Session, user: Optional[User], sheet: ParsedSheet):
        self.sess, self.user, self.sheet = sess, user, sheet
        self.orgs = OrgIndex(sess)
        self.allowed: Optional[set[int]] = None  # None: any organisation
        if user is not None and user.role != "admin":
            self.allowed = set(subtree_ids(sess, user.organisation_id)) if user.organisation_id else set()
        cards = [r.values.get("card_number") for r in sheet.rows if r.values.get("card_number")]
        self.members: dict[str, Member] = {}  # canonical card number -> member (whatever its stored spelling)
        unique = sorted({s for c in set(cards) for s in card_spellings(c)})
        for i in range(0, len(unique), 500):
            for m in sess.scalars(select(Member).where(Member.card_number.in_(unique[i:i + 500]))):
                self.members[canonical_card(m.card_number) or ""] = m
        # likely duplicates: same name and date of birth, another (or no) card number
        names = sorted({search_key(r.values["full_name"]) for r in sheet.rows if r.values.get("full_name")})
        self.by_name_dob: dict[tuple, list[Member]] = {}
        for i in range(0, len(names), 500):
            for m in sess.scalars(select(Member).where(Member.search_name.in_(names[i:i + 500]))):
                if m.date_of_birth:
                    self.by_name_dob.setdefault((m.search_name, m.date_of_birth), []).append(m)

    # -- organisations ------------------------------------------------------------------------

    def workplace(self, pr: ParsedRow, member: Optional[Member]) -> tuple[OrgRef, bool]:
        cols = self.sheet.columns
        committee_name = pr.values.get("workplace_committee")
        cell_name = pr.values.get("workplace_cell")
        if not committee_name and not cell_name:
            if (member is None and self.user is not None and self.user.role == "workplace_staff"
                    and self.user.organisation_id):
                return self.user.organisation_id, True
            return None, False
        if (member is not None and member.workplace_org_id and committee_name and not cell_name
                and core_key(self.orgs.name_of(member.workplace_org_id) or "") == core_key(committee_name)):
            return member.workplace_org_id, True  # the member's own organisation, whatever its kind
        committee: OrgRef = None
        if committee_name:
            found = self.orgs.match(self.orgs.of_kind("workplace_committee"), committee_name)
            if len(found) > 1 and member is not None and member.workplace_org_id:
                mine = [o for o in found if o.id in (member.workplace_org_id, self._parent(member.workplace_org_id))]
                found = mine or found
            if len(found) > 1:
                pr.errors.append(row_error("ambiguous_organisation", pr.row, "workplace_committee",
                                           cols.get("workplace_committee"), committee_name,
                                           f"Có nhiều đảng ủy nơi công tác cùng tên «{committee_name}»"))
                return None, False
            if found:
                committee = found[0].id
            else:
                parent = self.orgs.default_parent
                committee = self.orgs.find_new("workplace_committee", committee_name, parent) or \
                    self.orgs.plan_new(committee_name, "workplace_committee", parent)
        if not cell_name:
            if (member is not None and isinstance(committee, int) and member.workplace_org_id
                    and self._parent(member.workplace_org_id) == committee):
                return member.workplace_org_id, True  # a blank cell keeps the member's cell in that committee
            return committee, True
        if committee is None:  # a cell without its committee: only an unambiguous existing cell will do
            found = self.orgs.match(self.orgs.of_kind("workplace_cell"), cell_name)
            if len(found) == 1:
                return found[0].id, True
            pr.errors.append(row_error("missing_workplace_committee", pr.row, "workplace_cell",
                                       cols.get("workplace_cell"), cell_name,
                                       f"Chi bộ nơi công tác «{cell_name}» cần ghi kèm đảng ủy nơi công tác"))
            return None, False
        if isinstance(committee, int):
            found = self.orgs.match(self.orgs.children.get((committee, "workplace_cell"), []), cell_name)
            if found:
                return found[0].id, True
        return self.orgs.plan_new(cell_name, "workplace_cell", committee), True

    def _parent(self, org_id: int) -> Optional[int]:
        org = self.orgs.by_id.get(org_id)
        return org.parent_id if org else None

    def residence(self, pr: ParsedRow, member: Optional[Member]) -> tuple[OrgRef, bool]:
        cols = self.sheet.columns
        cell_name = pr.values.get("residence_cell")
        commune = pr.values.get("commune")
        if not cell_name:
            return None, False
        if (member is not None and member.residence_cell_id and (not commune or commune == member.commune)
                and core_key(self.orgs.name_of(member.residence_cell_id) or "") == core_key(cell_name)):
            return member.residence_cell_id, True  # unchanged
        if not commune:
            found = self.orgs.match(self.orgs.of_kind("residence_cell"), cell_name)
            if member is not None and member.residence_cell_id in {o.id for o in found}:
                return member.residence_cell_id, True
            if len(found) == 1:
                return found[0].id, True
            code, msg = ("ambiguous_organisation",
                         f"Có nhiều chi bộ nơi cư trú tên «{cell_name}»; cần ghi Xã/Phường") if found else \
                ("missing_ward", f"Chi bộ nơi cư trú «{cell_name}» chưa có trong hệ thống; cần ghi Xã/Phường")
            pr.errors.append(row_error(code, pr.row, "residence_cell", cols.get("residence_cell"), cell_name, msg))
            return None, False
        wards = self.orgs.of_kind("ward_committee")
        ward_found = self.orgs.match(wards, commune)
        if not ward_found:  # "Hồng Hà" for "Đảng ủy phường Hồng Hà"
            bare = WARD_UNIT.sub("", core_key(commune))
            ward_found = [o for o in wards if WARD_UNIT.sub("", core_key(o.name)) == bare]
            if len(ward_found) > 1:
                ward_found = []
        ward: OrgRef
        if len(ward_found) > 1:
            pr.errors.append(row_error("ambiguous_organisation", pr.row, "commune", cols.get("commune"), commune,
                                       f"Có nhiều đảng ủy xã, phường cùng tên «{commune}»"))
            return None, False
        ward = ward_found[0].id if ward_found else None
        if ward is not None:
            cells = self.orgs.match(self.orgs.children.get((ward, "residence_cell"), []), cell_name)
            if cells:
                return cells[0].id, True
        # not in this ward: a new cell of this ward (cells of other wards often have the same name,
        # "Chi bộ khu phố 1"); the preview lists it for confirmation
        if ward is None:
            ward = self.orgs.find_new("ward_committee", ward_name(commune), self.orgs.default_parent) or \
                self.orgs.plan_new(ward_name(commune), "ward_committee", self.orgs.default_parent)
        return self.orgs.plan_new(cell_name, "residence_cell", ward), True

    def in_scope(self, ref: OrgRef) -> bool:
        if self.allowed is None:
            return True
        while isinstance(ref, NewOrg):  # a new organisation is in scope if its parent is
            ref = ref.parent
        return ref is not None and ref in self.allowed

    # -- rows -----------------------------------------------------------------------------------

    def plan_row(self, pr: ParsedRow) -> RowPlan:
        v = pr.values
        card = v.get("card_number")
        member = self.members.get(card) if card else None
        plan = RowPlan(pr.row, "create", card, v.get("full_name"), errors=pr.errors)
        plan.member_id = member.id if member else None
        cols = self.sheet.columns
        if not pr.errors:
            plan.workplace, plan.set_workplace = self.workplace(pr, member)
            plan.residence, plan.set_residence = self.residence(pr, member)
        if not pr.errors and self.allowed is not None:
            if member is not None and member.workplace_org_id not in self.allowed:
                pr.errors.append(row_error(
                    "member_out_of_scope", pr.row, "card_number", cols.get("card_number"), card,
                    f"Đảng viên số thẻ {card} đang thuộc đơn vị khác, bạn không có quyền cập nhật"))
            elif plan.set_workplace and not self.in_scope(plan.workplace):
                name = self.orgs.name_of(plan.workplace) or ""
                col = "workplace_cell" if v.get("workplace_cell") and not v.get("workplace_committee") \
                    else "workplace_committee"
                pr.errors.append(row_error(
                    "organisation_out_of_scope", pr.row, col, cols.get(col), name,
                    f"Đơn vị «{name}» không thuộc phạm vi quản lý của bạn"))
            elif member is None and not plan.set_workplace:
                pr.errors.append(row_error(
                    "organisation_out_of_scope", pr.row, "workplace_committee", cols.get("workplace_committee"),
                    None, "Cần ghi đơn vị công tác thuộc phạm vi quản lý của bạn"))
        if pr.errors:
            plan.action = "rejected"
            return plan
        if member is None and v.get("full_name") and v.get("date_of_birth"):
            same = self.by_name_dob.get((search_key(v["full_name"]), v["date_of_birth"]), [])
            if same:
                other = same[0]
                plan.action = "duplicate"
                plan.duplicate_of = {"id": other.id, "full_name": other.full_name, "card_number": other.card_number,
                                     "date_of_birth": other.date_of_birth.isoformat()}
                return plan
        for f in PLAIN_FIELDS:
            if f in v and v[f] is not None:
                plan.values[f] = v[f]
        if member is None:
            plan.values.setdefault("status", "active")
            plan.values["card_number"] = card
            plan.changes = {f: [None, _json(val)] for f, val in plan.values.items()}
            if plan.set_workplace and plan.workplace is not None:
                plan.changes["workplace_org"] = [None, self.orgs.name_of(plan.workplace)]
            if plan.set_residence and plan.residence is not None:
                plan.changes["residence_cell"] = [None, self.orgs.name_of(plan.residence)]
            plan.documents = readiness(self.orgs, None, plan)
            return plan
        # update: a blank cell keeps what the registry has; only differences are changes
        for f, new in plan.values.items():
            old = getattr(member, f)
            if old != new:
                plan.changes[f] = [_json(old), _json(new)]
        if plan.set_workplace and plan.workplace != member.workplace_org_id:
            plan.changes["workplace_org"] = [self.orgs.name_of(member.workplace_org_id),
                                             self.orgs.name_of(plan.workplace)]
        else:
            plan.set_workplace = False
        if plan.set_residence and plan.residence != member.residence_cell_id:
            plan.changes["residence_cell"] = [self.orgs.name_of(member.residence_cell_id),
                                              self.orgs.name_of(plan.residence)]
        else:
            plan.set_residence = False
        plan.action = "update" if plan.changes else "unchanged"
        plan.documents = readiness(self.orgs, member, plan)
        return plan


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def make_plan(sess: Session, user: Optional[User], sheet: ParsedSheet,
              progress: Optional[Callable[[int], None]] = None) -> Plan:
    """Plan every row of ``sheet`` against the database. Only reads."""
    planner = Planner(sess, user, sheet)
    # the same card number twice in the file: both rows are rejected, each naming the other
    by_card: dict[str, list[ParsedRow]] = {}
    for pr in sheet.rows:
        card = pr.values.get("card_number")
        if card:
            by_card.setdefault(card, []).append(pr)
    col = sheet.columns.get("card_number")
    for card, rows in by_card.items():
        if len(rows) > 1:
            numbers = [r.row for r in rows]
            listed = ", ".join(str(n) for n in numbers[:-1]) + f" và {numbers[-1]}"
            for pr in rows:
                pr.errors.append(row_error("duplicate_card", pr.row, "card_number", col, card,
                                           f"Số thẻ {card} bị trùng ở các dòng {listed}"))
    rows = []
    for i, pr in enumerate(sheet.rows, 1):
        rows.append(planner.plan_row(pr))
        if progress:
            progress(i)
    _same_person_in_file(sheet, rows)
    return Plan(sheet, rows, planner.orgs.new_list)


def _same_person_in_file(sheet: ParsedSheet, plans: list[RowPlan]) -> None:
    """A new member whose name and date of birth an earlier row of the file already has (another card
    number): likely the same person typed twice, shown as a duplicate of that row and not created."""
    first: dict[tuple, tuple[ParsedRow, RowPlan]] = {}
    for pr, plan in zip(sheet.rows, plans):
        v = pr.values
        if plan.action not in ("create", "update", "unchanged") or not v.get("full_name") or not v.get("date_of_birth"):
            continue
        key = (search_key(v["full_name"]), v["date_of_birth"])
        if key not in first:
            first[key] = (pr, plan)
        elif plan.action == "create":
            earlier, earlier_plan = first[key]
            plan.action = "duplicate"
            plan.duplicate_of = {"row": earlier.row, "full_name": earlier_plan.full_name,
                                 "card_number": earlier_plan.card_number,
                                 "date_of_birth": v["date_of_birth"].isoformat(), "in_file": True}


FIELD_LABELS_ALL = dict(FIELD_LABELS, workplace_org="Đơn vị công tác", residence_cell="Chi bộ nơi cư trú")
