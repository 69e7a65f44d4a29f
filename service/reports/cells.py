"""The report for the rating meeting: one workplace cell (or a whole workplace committee) and year.

Each member with the answers of the year's sheet (option labels of the sheet's own form), item 7,
the absences of the year and the absence-rule flag; and the figures the chart page and the Excel
charts draw: return rate per residence cell, distribution of the options per item, members flagged.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Forbidden, NotFound
from ..meetings.logic import RULE_TEXT, Absence, flagged as rule_applies, year_absences
from ..models import Evaluation, Member, Organisation, User
from ..permissions import subtree_ids
from .results import SheetResult, sheet_definition, sheet_result

REPORT_KINDS = ("workplace_committee", "workplace_cell")
#: members a sheet is asked for (the others have left, moved, or are exempt from introduction)
REPORTED_STATUSES = ("active", "exempt_meetings")
ITEM_NUMBERS = (1, 2, 3, 4, 5, 6)


@dataclass
class ReportRow:
    member: Member
    result: Optional[SheetResult]
    absences: list[Absence]
    flag: bool

    @property
    def unexcused(self) -> int:
        return sum(1 for a in self.absences if not a.excused)

    @property
    def flag_text(self) -> str:
        return RULE_TEXT[:1].upper() + RULE_TEXT[1:] if self.flag else ""

    @property
    def absence_text(self) -> str:
        return "\n".join(a.describe() for a in self.absences)

    def answer(self, number: int) -> str:
        """Item ``number`` as printed in the report; items the sheet's form does not have: empty."""
        if self.result is None or not self.result.returned:
            return ""
        for item in self.result.items:
            if item.number == number:
                return item.answer or "—"
        return ""

    @property
    def remarks(self) -> str:
        return self.result.remarks_text if self.result is not None else ""

    @property
    def sheet_state(self) -> str:
        if self.result is None:
            return "Chưa lập phiếu"
        return "Đã nhận lại" if self.result.returned else "Chưa nhận lại"


@dataclass
class CellReport:
    org: Organisation
    year: int
    rule_on: bool
    rows: list[ReportRow] = field(default_factory=list)
    #: (template version, variant) -> the variant of the form definition the sheets were printed with
    variants: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Kết quả nhận xét của chi bộ nơi cư trú năm {self.year} — {self.org.name}"

    @property
    def sent(self) -> int:
        return sum(1 for r in self.rows if r.result is not None)

    @property
    def returned(self) -> int:
        return sum(1 for r in self.rows if r.result is not None and r.result.returned)

    @property
    def by_workplace_cell(self) -> bool:
        """A committee's report also gives the return rate per workplace cell (a cell's report is one cell)."""
        return self.org.kind == "workplace_committee"

    @property
    def flagged(self) -> list[ReportRow]:
        return [r for r in self.rows if r.flag]

    def return_rates(self, by: str = "residence") -> "OrderedDict[str, tuple[int, int]]":
        """Cell name -> (returned, sent), cells by name: per residence cell (``by="residence"``; members
        without a cell apart) or per workplace cell (``by="workplace"``: the member's own workplace
        organisation, the committee itself for members directly under it)."""
        out: dict[str, list[int]] = {}
        for r in self.rows:
            if r.result is None:
                continue
            cell = r.member.residence_cell if by == "residence" else r.member.workplace_org
            name = cell.name if cell is not None else "Chưa có chi bộ nơi cư trú"
            counts = out.setdefault(name, [0, 0])
            counts[1] += 1
            counts[0] += 1 if r.result.returned else 0
        return OrderedDict((k, (v[0], v[1])) for k, v in sorted(out.items()))

    def rate_lines(self, by: str = "workplace") -> list[str]:
        """"Chi bộ X: 4/6 phiếu (67%)" per cell, for the Word report and the report page."""
        return [f"{name}: {back}/{sent} phiếu ({round(100 * back / sent) if sent else 0}%)"
                for name, (back, sent) in self.return_rates(by).items()]

    def distributions(self) -> list[tuple[str, list[tuple[str, int]]]]:
        """Per item of the returned sheets (by number and wording, the variants apart): each option's
        label and how many chose it, in the form's order (best first)."""
        seen: "OrderedDict[tuple[int, str, str], tuple[list[str], Counter]]" = OrderedDict()
        for r in self.rows:
            if r.result is None or not r.result.returned:
                continue
            variant = self.variants[(r.result.version, r.result.variant)]
            for item in variant.choice_items:
                key = (item.number, item.label, r.result.variant)
                options, counts = seen.setdefault(key, ([o.label for o in item.options], Counter()))
                for o in options:  # an option nobody chose still shows, with 0
                    counts[o] += 0
                chosen = next((i.answer for i in r.result.items if i.number == item.number), None)
                if chosen:
                    counts[chosen] += 1
        out = []
        for (number, label, variant), (options, counts) in sorted(seen.items(), key=lambda kv: (kv[0][2] != "standard", kv[0][0])):
            title = f"Mục {number}. {label}" + ("" if variant == "standard" else " (phiếu miễn sinh hoạt)")
            out.append((title, [(o, counts[o]) for o in options]))
        return out


def report_orgs(sess: Session, user: User) -> list[Organisation]:
    """The workplace committees and cells the user may report on."""
    stmt = select(Organisation).where(Organisation.kind.in_(REPORT_KINDS)).order_by(Organisation.search_name)
    if user.role == "admin":
        return list(sess.scalars(stmt))
    if user.role != "workplace_staff" or user.organisation_id is None:
        return []
    return list(sess.scalars(stmt.where(Organisation.id.in_(subtree_ids(sess, user.organisation_id)))))


def report_org(sess: Session, user: User, org_id: int) -> Organisation:
    """A workplace organisation the user may report on: administrators, and the staff of its committee."""
    org = sess.get(Organisation, org_id)
    if org is None or org.kind not in REPORT_KINDS:
        raise NotFound("Không tìm thấy chi bộ nơi công tác.")
    if user.role == "admin":
        return org
    if user.role != "workplace_staff" or user.organisation_id is None \
            or org.id not in set(subtree_ids(sess, user.organisation_id)):
        raise Forbidden("Chỉ đảng ủy nơi công tác xem kết quả nhận xét của đảng viên mình.")
    return org


def build_report(sess: Session, user: User, org: Organisation, year: int, rule_on: bool = True) -> CellReport:
    """The report of ``org`` (a workplace cell, or a committee and all its cells) for ``year``."""
    org = report_org(sess, user, org.id)
    ids = subtree_ids(sess, org.id)
    members = list(sess.scalars(select(Member).where(Member.workplace_org_id.in_(ids),
                                                     Member.status.in_(REPORTED_STATUSES))
                                .order_by(Member.search_name, Member.id)))
    sheets = {ev.member_id: ev for ev in sess.scalars(
        select(Evaluation).where(Evaluation.member_id.in_([m.id for m in members]), Evaluation.year == year,
                                 Evaluation.status != "voided"))} if members else {}
    absences = year_absences(sess, year, [m.id for m in members])
    report = CellReport(org, year, rule_on)
    cache: dict = {}
    for m in members:
        ev = sheets.get(m.id)
        rows = absences.get(m.id, [])
        result = sheet_result(sess, ev, cache) if ev is not None else None
        if result is not None and (result.version, result.variant) not in report.variants:
            report.variants[(result.version, result.variant)] = sheet_definition(sess, ev, cache)[1]
        report.rows.append(ReportRow(m, result, rows, rule_on and rule_applies(rows)))
    return report
